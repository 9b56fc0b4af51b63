/*
 * tests for protocol/pairing.h over real TLS connections: the right PIN
 * pairs both sides; a wrong PIN is caught by the client before anything of
 * its own depending on the PIN leaves; a machine in the middle that relays
 * every pairing message between two TLS sessions fails even with the right
 * PIN on both ends; swapped fingerprints fail; hostile messages are refused.
 * Run one test per CTest entry: test_pairing <test name>.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "tests/security/tls_pair.h"

#include "protocol/message.h"
#include "protocol/pairing.h"
#include "transport/platform/log.h"

#define WAIT_MS 10000

/* tetherd's half of the exchange, in a thread (as server/pairing.c runs it). */
struct server_side {
	struct tether_conn *c;
	struct tether_pairing_peers peers;
	const char *pin;
	char name[TETHER_PAIRING_NAME_MAX + 1];
	bool right;
	int err;
};

static void *server_main(void *arg)
{
	struct server_side *s = arg;
	uint8_t share[TETHER_SPAKE2_SHARE_SIZE];
	tether_conn_set_timeout(s->c, WAIT_MS);
	s->err = tether_pairing_read_request(s->c, s->name);
	if (!s->err)
		s->err = tether_pairing_send_pin(s->c, "test server", 120);
	if (!s->err)
		s->err = tether_pairing_read_share(s->c, share);
	if (!s->err)
		s->err = tether_pairing_server_prove(s->c, &s->peers, s->pin, share, &s->right);
	if (!s->err)
		s->err = tether_pairing_send_result(s->c, s->right ? TETHER_PAIRING_OK : TETHER_PAIRING_WRONG_PIN,
						    s->right ? "paired" : "wrong PIN");
	return NULL;
}

static int give_pin(void *ctx, const char *server_name, unsigned valid_s, char pin[TETHER_PIN_DIGITS + 1])
{
	assert_string_equal(server_name, "test server");
	assert_int_equal(valid_s, 120);
	snprintf(pin, TETHER_PIN_DIGITS + 1, "%s", (const char *)ctx);
	return 0;
}

struct fixture {
	char dir[200];
	struct tether_tls_identity *client, *server;
	struct tls_pair p;
};

static void fixture_open(struct fixture *f)
{
	scratch_dir(f->dir, sizeof(f->dir), "pairing");
	f->client = make_identity(f->dir, "client");
	f->server = make_identity(f->dir, "server");
	tls_pair_open(&f->p, f->client, f->server, TETHER_ALPN_PAIRING, NULL);
	assert_int_equal(f->p.client_err, 0);
	assert_int_equal(f->p.server_err, 0);
	tether_conn_set_timeout(f->p.client, WAIT_MS);
}

static void fixture_close(struct fixture *f)
{
	tls_pair_close(&f->p);
	tether_tls_identity_free(f->client);
	tether_tls_identity_free(f->server);
	scratch_remove(f->dir);
}

/* Runs both halves; the client's peers as given, the server's as it sees them. */
static int run(struct fixture *f, const char *client_pin, const char *server_pin,
	       const struct tether_pairing_peers *client_peers, struct server_side *s,
	       struct tether_pairing_outcome *out)
{
	struct tether_thread *t;
	*s = (struct server_side){.c = f->p.server, .pin = server_pin};
	s->peers.client = f->p.server_saw.fingerprint;
	s->peers.server = *tether_tls_identity_fingerprint(f->server);
	assert_int_equal(tether_thread_create(&t, server_main, s), 0);
	int err = tether_pairing_client(f->p.client, client_peers, "test client", give_pin, (void *)client_pin, out);
	if (err)
		tether_conn_shutdown(f->p.client); /* as `tether pair` closes: the server stops waiting */
	assert_int_equal(tether_thread_join(t), 0);
	return err;
}

static struct tether_pairing_peers client_view(struct fixture *f)
{
	return (struct tether_pairing_peers){.client = *tether_tls_identity_fingerprint(f->client),
					     .server = f->p.client_saw.fingerprint};
}

static void pairing_right_pin_pairs(void **state)
{
	struct fixture f;
	struct server_side s;
	struct tether_pairing_outcome out;
	fixture_open(&f);
	struct tether_pairing_peers peers = client_view(&f);
	assert_int_equal(run(&f, "048213", "048213", &peers, &s, &out), 0);
	assert_int_equal(out.status, TETHER_PAIRING_OK);
	assert_string_equal(out.server_name, "test server");
	assert_int_equal(s.err, 0);
	assert_true(s.right);
	assert_string_equal(s.name, "test client");
	fixture_close(&f);
}

/* The server proves first: a client with another PIN finds the proof wrong
 * and stops, sending nothing that depends on its PIN after its share. */
static void pairing_wrong_pin_refused_both_sides(void **state)
{
	struct fixture f;
	struct server_side s;
	struct tether_pairing_outcome out;
	fixture_open(&f);
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	struct tether_pairing_peers peers = client_view(&f);
	assert_int_equal(run(&f, "111111", "222222", &peers, &s, &out), -EACCES);
	assert_int_equal(out.status, TETHER_PAIRING_WRONG_PIN);
	assert_false(s.right);
	assert_int_not_equal(s.err, 0); /* the client left without its proof */
	fixture_close(&f);
}

/* Each side binds its proof to the fingerprints it sees: a client that has
 * them the other way round does not pair, even with the right PIN. */
static void pairing_swapped_fingerprints_fail(void **state)
{
	struct fixture f;
	struct server_side s;
	struct tether_pairing_outcome out;
	fixture_open(&f);
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	struct tether_pairing_peers peers = client_view(&f), swapped = {.client = peers.server, .server = peers.client};
	assert_int_equal(run(&f, "555555", "555555", &swapped, &s, &out), -EACCES);
	assert_false(s.right);
	fixture_close(&f);
}

/* ---- a machine in the middle ---- */

struct relay {
	struct tether_conn *from_client, *to_server;
	int messages;
};

/* Forwards each message unchanged, turn by turn, until either side stops. */
static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct tether_buffer b = {0};
	struct tether_msg_header h;
	struct tether_conn *src = r->from_client, *dst = r->to_server;
	while (!tether_msg_recv(src, &h, &b)) {
		struct tether_iovec iov = {b.data, b.size};
		if (tether_msg_send(dst, h.type, &iov, 1))
			break;
		r->messages++;
		struct tether_conn *t = src;
		src = dst;
		dst = t;
	}
	tether_conn_shutdown(r->from_client);
	tether_conn_shutdown(r->to_server);
	tether_buffer_free(&b);
	return NULL;
}

/* The man in the middle terminates TLS on both sides, with its own
 * certificate towards each, and relays the pairing messages verbatim. Both
 * ends type the right PIN; neither pairs, because each proof is bound to
 * the certificates and the TLS session it was made on. */
static void pairing_relay_in_the_middle_fails(void **state)
{
	char dir[200];
	struct tls_pair front, back;
	struct tether_thread *relay_thread, *server_thread;
	struct tether_pairing_outcome out;
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	scratch_dir(dir, sizeof(dir), "pairing");
	struct tether_tls_identity *client = make_identity(dir, "client"), *server = make_identity(dir, "server");
	struct tether_tls_identity *mitm = make_identity(dir, "mitm");
	tls_pair_open(&front, client, mitm, TETHER_ALPN_PAIRING, NULL);
	tls_pair_open(&back, mitm, server, TETHER_ALPN_PAIRING, NULL);
	assert_int_equal(front.client_err | front.server_err | back.client_err | back.server_err, 0);
	struct relay r = {front.server, back.client, 0};
	assert_int_equal(tether_thread_create(&relay_thread, relay_main, &r), 0);
	struct server_side s = {.c = back.server, .pin = "314159"};
	s.peers.client = back.server_saw.fingerprint;
	s.peers.server = *tether_tls_identity_fingerprint(server);
	assert_int_equal(tether_thread_create(&server_thread, server_main, &s), 0);
	struct tether_pairing_peers peers = {.client = *tether_tls_identity_fingerprint(client),
					     .server = front.client_saw.fingerprint};
	tether_conn_set_timeout(front.client, WAIT_MS);
	int err = tether_pairing_client(front.client, &peers, "victim", give_pin, "314159", &out);
	assert_int_equal(err, -EACCES);
	tether_conn_shutdown(front.client);
	assert_int_equal(tether_thread_join(server_thread), 0);
	assert_int_equal(tether_thread_join(relay_thread), 0);
	assert_false(s.right);
	assert_true(r.messages >= 4); /* request, PIN notice, share, server proof all went through */
	tls_pair_close(&front);
	tls_pair_close(&back);
	tether_tls_identity_free(client);
	tether_tls_identity_free(server);
	tether_tls_identity_free(mitm);
	scratch_remove(dir);
}

/* ---- hostile messages ---- */

static void put_u32(struct tether_buffer *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	assert_int_equal(tether_buffer_append(b, p, 4), 0);
}

/* tetherd reads @payload as a PAIR_REQUEST (type @type): Return its verdict. */
static int read_request_of(struct fixture *f, uint32_t type, const struct tether_buffer *payload, char *name)
{
	struct tether_iovec iov = {payload->data, payload->size};
	assert_int_equal(tether_msg_send(f->p.client, type, &iov, 1), 0);
	tether_conn_set_timeout(f->p.server, WAIT_MS);
	return tether_pairing_read_request(f->p.server, name);
}

static void pairing_hostile_requests_refused(void **state)
{
	char name[TETHER_PAIRING_NAME_MAX + 1];
	struct tether_buffer b = {0};
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	struct {
		uint32_t type, version, name_len;
		const char *name;
		int want;
	} cases[] = {
		{TETHER_MSG_PAIR_REQUEST, 1, 4, "name", 0},
		{TETHER_MSG_HELLO, 1, 4, "name", -EPROTO},              /* not a pairing message */
		{TETHER_MSG_PAIR_SHARE, 1, 4, "name", -EPROTO},         /* out of turn */
		{TETHER_MSG_PAIR_REQUEST, 0, 4, "name", -EPROTO},       /* no such version */
		{TETHER_MSG_PAIR_REQUEST, 1, 9, "name", -EPROTO},       /* length past the end */
		{TETHER_MSG_PAIR_REQUEST, 1, 65, "", -EPROTO},          /* longer than a name may be */
		{TETHER_MSG_PAIR_REQUEST, 1, 0xffffffffu, "", -EPROTO}, /* absurd length */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		fixture_open(&f);
		b.size = 0;
		put_u32(&b, cases[i].version);
		put_u32(&b, cases[i].name_len);
		assert_int_equal(tether_buffer_append(&b, cases[i].name, strlen(cases[i].name)), 0);
		assert_int_equal(read_request_of(&f, cases[i].type, &b, name), cases[i].want);
		if (!cases[i].want)
			assert_string_equal(name, "name");
		fixture_close(&f);
	}
	/* A name with control characters is shown with them replaced. */
	struct fixture f;
	fixture_open(&f);
	b.size = 0;
	put_u32(&b, 1);
	put_u32(&b, 5);
	assert_int_equal(tether_buffer_append(&b, "a\nb\033c", 5), 0);
	assert_int_equal(read_request_of(&f, TETHER_MSG_PAIR_REQUEST, &b, name), 0);
	assert_string_equal(name, "a?b?c");
	/* Trailing bytes after a version-1 request are refused. */
	put_u32(&b, 0);
	assert_int_equal(read_request_of(&f, TETHER_MSG_PAIR_REQUEST, &b, name), -EPROTO);
	fixture_close(&f);
	/* A share that is not a point is refused by the proof, not trusted. */
	fixture_open(&f);
	uint8_t share[TETHER_SPAKE2_SHARE_SIZE];
	bool right = true;
	memset(share, 0x04, sizeof(share));
	struct tether_pairing_peers peers = {.client = f.p.server_saw.fingerprint,
					     .server = *tether_tls_identity_fingerprint(f.server)};
	assert_int_equal(tether_pairing_server_prove(f.p.server, &peers, "123456", share, &right), -EPROTO);
	assert_false(right);
	fixture_close(&f);
	tether_buffer_free(&b);
}

static void pairing_pin_format(void **state)
{
	assert_true(tether_pairing_valid_pin("000000"));
	assert_true(tether_pairing_valid_pin("987654"));
	assert_false(tether_pairing_valid_pin("12345"));
	assert_false(tether_pairing_valid_pin("1234567"));
	assert_false(tether_pairing_valid_pin("12345a"));
	assert_false(tether_pairing_valid_pin(" 12345"));
	assert_false(tether_pairing_valid_pin(""));
	assert_false(tether_pairing_valid_pin(NULL));
}

#define TEST(fn) cmocka_unit_test(fn)
static const struct CMUnitTest tests[] = {
	TEST(pairing_right_pin_pairs),
	TEST(pairing_wrong_pin_refused_both_sides),
	TEST(pairing_swapped_fingerprints_fail),
	TEST(pairing_relay_in_the_middle_fails),
	TEST(pairing_hostile_requests_refused),
	TEST(pairing_pin_format),
};

TETHER_CMOCKA_MAIN(tests)
