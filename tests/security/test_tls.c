/*
 * tests for transport/tls.h and identity.c: identities made private and
 * reloaded, refused when others can read them; TLS 1.3 connections through
 * the ordinary conn API (64 MiB of odd-sized gather pieces compared byte for
 * byte, many small messages, both directions at once), pinning, the
 * exporter, timeouts, shutdown and the peer going away.
 * Run one test per CTest entry: test_tls <test name>.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "tests/security/tls_pair.h"

#include "transport/conn.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"
#include "transport/tls.h"
#include "transport/trust.h"

#define BIG (64u << 20)

struct fixture {
	char dir[200];
	struct tether_tls_identity *client, *server;
};

static void fixture_open(struct fixture *f)
{
	scratch_dir(f->dir, sizeof(f->dir), "tls");
	f->client = make_identity(f->dir, "client");
	f->server = make_identity(f->dir, "server");
}

static void fixture_close(struct fixture *f)
{
	tether_tls_identity_free(f->client);
	tether_tls_identity_free(f->server);
	scratch_remove(f->dir);
}

/* A pair pinned to the right server, with both handshakes done. */
static void open_ok(struct fixture *f, struct tls_pair *p)
{
	tls_pair_open(p, f->client, f->server, TETHER_ALPN_SESSION, tether_tls_identity_fingerprint(f->server));
	assert_int_equal(p->client_err, 0);
	assert_int_equal(p->server_err, 0);
	assert_true(tether_conn_is_tls(p->client));
	assert_true(tether_conn_is_tls(p->server));
}

/* ---- identities ---- */

static void tls_identity_private_and_reloaded(void **state)
{
	char dir[200], path[300];
	struct stat st;
	struct tether_tls_identity *a, *b, *c;
	scratch_dir(dir, sizeof(dir), "identity");
	char sub[260];
	snprintf(sub, sizeof(sub), "%s/nested/config", dir);
	assert_int_equal(tether_tls_identity_load(sub, "one", false, &a), -ENOENT);
	assert_int_equal(tether_tls_identity_load(sub, "one", true, &a), 0);
	snprintf(path, sizeof(path), "%s/%s", sub, TETHER_IDENTITY_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Loaded again, it is the same certificate. */
	assert_int_equal(tether_tls_identity_load(sub, "ignored", true, &b), 0);
	assert_true(tether_fingerprint_equal(tether_tls_identity_fingerprint(a), tether_tls_identity_fingerprint(b)));
	/* Another directory, another identity. */
	c = make_identity(dir, "other");
	assert_false(tether_fingerprint_equal(tether_tls_identity_fingerprint(a), tether_tls_identity_fingerprint(c)));
	tether_tls_identity_free(a);
	tether_tls_identity_free(b);
	tether_tls_identity_free(c);
	scratch_remove(dir);
}

static void tls_identity_readable_by_others_refused(void **state)
{
	char dir[200], path[300];
	struct tether_tls_identity *id;
	scratch_dir(dir, sizeof(dir), "identity");
	tether_tls_identity_free(make_identity(dir, "x"));
	snprintf(path, sizeof(path), "%s/x/%s", dir, TETHER_IDENTITY_FILE);
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	assert_int_equal(chmod(path, 0640), 0);
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(tether_tls_identity_load(path, "x", true, &id), -EPERM);
	snprintf(path, sizeof(path), "%s/x/%s", dir, TETHER_IDENTITY_FILE);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(tether_tls_identity_load(path, "x", true, &id), 0);
	tether_tls_identity_free(id);
	/* A damaged file is refused, not replaced. */
	snprintf(path, sizeof(path), "%s/x/%s", dir, TETHER_IDENTITY_FILE);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(tether_tls_identity_load(path, "x", true, &id), -EPROTO);
	scratch_remove(dir);
}

struct creator {
	const char *dir;
	struct tether_fingerprint fp;
	int err;
};

static void *create_identity(void *arg)
{
	struct creator *c = arg;
	struct tether_tls_identity *id;
	c->err = tether_tls_identity_load(c->dir, "racer", true, &id);
	if (!c->err) {
		c->fp = *tether_tls_identity_fingerprint(id);
		tether_tls_identity_free(id);
	}
	return NULL;
}

/* Eight first uses at once end with one identity, the same for all. */
static void tls_identity_concurrent_creation_one_wins(void **state)
{
	char dir[200], sub[260];
	struct tether_thread *t[8];
	struct creator c[8];
	scratch_dir(dir, sizeof(dir), "identity");
	snprintf(sub, sizeof(sub), "%s/shared", dir);
	for (int i = 0; i < 8; i++) {
		c[i] = (struct creator){.dir = sub};
		assert_int_equal(tether_thread_create(&t[i], create_identity, &c[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(tether_thread_join(t[i]), 0);
		assert_int_equal(c[i].err, 0);
		assert_true(tether_fingerprint_equal(&c[i].fp, &c[0].fp));
	}
	scratch_remove(dir);
}

static void tls_fingerprint_text_roundtrip(void **state)
{
	struct tether_fingerprint f, g;
	char text[TETHER_FINGERPRINT_TEXT_SIZE], shrt[TETHER_FINGERPRINT_SHORT_SIZE];
	for (int i = 0; i < TETHER_FINGERPRINT_SIZE; i++)
		f.b[i] = (uint8_t)(i * 37 + 1);
	tether_fingerprint_format(&f, text);
	assert_int_equal(strlen(text), 71);
	assert_true(!strncmp(text, "SHA256:01264b", 13));
	assert_int_equal(tether_fingerprint_parse(text, &g), 0);
	assert_true(tether_fingerprint_equal(&f, &g));
	assert_int_equal(tether_fingerprint_parse(text + 7, &g), 0); /* without the prefix */
	for (char *p = text; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
	assert_int_equal(tether_fingerprint_parse(text + 7, &g), 0); /* upper case */
	assert_true(tether_fingerprint_equal(&f, &g));
	tether_fingerprint_short(&f, shrt);
	assert_true(!strncmp(shrt, "SHA256:0126", 11));
	assert_int_equal(strlen(shrt), 7 + 16 + 3);
	static const char *const bad[] = {"", "SHA256:", "SHA256:00", "MD5:00", "zz", "SHA256:0g"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tether_fingerprint_parse(bad[i], &g), -EINVAL);
	text[20] = 'x';
	assert_int_equal(tether_fingerprint_parse(text, &g), -EINVAL);
	g = f;
	g.b[31] ^= 1;
	assert_false(tether_fingerprint_equal(&f, &g));
}

/* ---- connections ---- */

/* The server's certificate is pinned: another one fails the handshake on
 * both sides, and the client says whose it saw. */
static void tls_pinned_fingerprint_mismatch_refused(void **state)
{
	struct fixture f;
	struct tls_pair p;
	fixture_open(&f);
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	open_ok(&f, &p);
	assert_true(tether_fingerprint_equal(&p.client_saw.fingerprint, tether_tls_identity_fingerprint(f.server)));
	assert_true(tether_fingerprint_equal(&p.server_saw.fingerprint, tether_tls_identity_fingerprint(f.client)));
	assert_string_equal(p.client_saw.alpn, TETHER_ALPN_SESSION);
	assert_string_equal(p.server_saw.alpn, TETHER_ALPN_SESSION);
	tls_pair_close(&p);

	struct tether_tls_identity *impostor = make_identity(f.dir, "impostor");
	tls_pair_open(&p, f.client, impostor, TETHER_ALPN_SESSION, tether_tls_identity_fingerprint(f.server));
	assert_int_equal(p.client_err, -EACCES);
	assert_int_not_equal(p.server_err, 0);
	assert_true(tether_fingerprint_equal(&p.client_saw.fingerprint, tether_tls_identity_fingerprint(impostor)));
	assert_false(tether_conn_is_tls(p.client));
	tls_pair_close(&p);
	/* Unpinned (pairing), any server certificate is accepted and reported. */
	tls_pair_open(&p, f.client, impostor, TETHER_ALPN_PAIRING, NULL);
	assert_int_equal(p.client_err, 0);
	assert_string_equal(p.server_saw.alpn, TETHER_ALPN_PAIRING);
	assert_true(tether_fingerprint_equal(&p.client_saw.fingerprint, tether_tls_identity_fingerprint(impostor)));
	tls_pair_close(&p);
	tether_tls_identity_free(impostor);
	fixture_close(&f);
}

struct bulk {
	struct tether_conn *c;
	const uint8_t *src;
	size_t len;
	int err;
};

/* Odd-sized gather pieces, empty ones, more than one batch per send. */
static void *bulk_sender(void *arg)
{
	static const size_t sizes[] = {1, 7, 16, 3, 4096, 100000, 1 << 20, 13, 16384, 16383, 16385, 5 << 20};
	struct bulk *b = arg;
	struct tether_iovec iov[100];
	size_t off = 0, k = 0;
	while (off < b->len && !b->err) {
		int n = 0;
		while (n < 99 && off < b->len) {
			size_t len = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
			if (len > b->len - off)
				len = b->len - off;
			iov[n++] = (struct tether_iovec){b->src + off, len};
			if (k % 5 == 0)
				iov[n++] = (struct tether_iovec){b->src, 0};
			off += len;
		}
		b->err = tether_conn_send(b->c, iov, n);
	}
	return NULL;
}

static uint8_t *pattern(size_t len, uint32_t seed)
{
	uint8_t *p = tether_pages_alloc(len);
	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
	return p;
}

/* Receives @len bytes in reads of mixed sizes (buffered and straight). */
static void receive_mixed(struct tether_conn *c, uint8_t *dst, size_t len)
{
	static const size_t reads[] = {16, 3, 40000, 1 << 20, 16, 32768, 32769, 7 << 20, 1, 65536};
	for (size_t off = 0, k = 0; off < len;) {
		size_t n = reads[k++ % (sizeof(reads) / sizeof(reads[0]))];
		if (n > len - off)
			n = len - off;
		assert_int_equal(tether_conn_recv(c, dst + off, n), 0);
		off += n;
	}
}

static void tls_roundtrip_64MiB_gather(void **state)
{
	struct fixture f;
	struct tls_pair p;
	struct tether_thread *t;
	fixture_open(&f);
	open_ok(&f, &p);
	uint8_t *src = pattern(BIG, 12345), *dst = tether_pages_alloc(BIG);
	struct bulk b = {p.client, src, BIG, 0};
	uint64_t t0 = tether_time_ns();
	assert_int_equal(tether_thread_create(&t, bulk_sender, &b), 0);
	receive_mixed(p.server, dst, BIG);
	assert_int_equal(tether_thread_join(t), 0);
	double s = (double)(tether_time_ns() - t0) / 1e9;
	printf("# TLS (%s): 64 MiB in %.3f s (%.0f MiB/s)\n", p.client_saw.cipher, s, 64 / s);
	assert_int_equal(b.err, 0);
	assert_true(memcmp(src, dst, BIG) == 0);
	tether_pages_free(src, BIG);
	tether_pages_free(dst, BIG);
	tls_pair_close(&p);
	fixture_close(&f);
}

/* Messages as the protocol sends them (a header and a small payload per
 * send), many of them, answered one by one. */
static void tls_many_small_messages(void **state)
{
	struct fixture f;
	struct tls_pair p;
	fixture_open(&f);
	open_ok(&f, &p);
	uint8_t payload[300], got[300];
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t len = i % sizeof(payload);
		uint8_t head[8];
		memcpy(head, &i, 4);
		memcpy(head + 4, &len, 4);
		for (uint32_t k = 0; k < len; k++)
			payload[k] = (uint8_t)(i + k);
		struct tether_iovec iov[2] = {{head, sizeof(head)}, {payload, len}};
		assert_int_equal(tether_conn_send(p.client, iov, 2), 0);
		uint8_t rhead[8];
		assert_int_equal(tether_conn_recv(p.server, rhead, sizeof(rhead)), 0);
		assert_memory_equal(rhead, head, sizeof(head));
		if (len) {
			assert_int_equal(tether_conn_recv(p.server, got, len), 0);
			assert_memory_equal(got, payload, len);
		}
		struct tether_iovec ack = {head, 4};
		assert_int_equal(tether_conn_send(p.server, &ack, 1), 0);
		assert_int_equal(tether_conn_recv(p.client, rhead, 4), 0);
		assert_memory_equal(rhead, head, 4);
	}
	tls_pair_close(&p);
	fixture_close(&f);
}

/* conn.h: one thread may send while another receives. Both directions
 * carry 16 MiB at once, each end sending and receiving in two threads. */
static void tls_send_while_receiving(void **state)
{
	struct fixture f;
	struct tls_pair p;
	struct tether_thread *a, *b;
	const size_t len = 16u << 20;
	fixture_open(&f);
	open_ok(&f, &p);
	uint8_t *up = pattern(len, 1), *down = pattern(len, 2);
	uint8_t *up_got = tether_pages_alloc(len), *down_got = tether_pages_alloc(len);
	struct bulk ub = {p.client, up, len, 0}, db = {p.server, down, len, 0};
	assert_int_equal(tether_thread_create(&a, bulk_sender, &ub), 0);
	assert_int_equal(tether_thread_create(&b, bulk_sender, &db), 0);
	receive_mixed(p.server, up_got, len);
	receive_mixed(p.client, down_got, len);
	assert_int_equal(tether_thread_join(a), 0);
	assert_int_equal(tether_thread_join(b), 0);
	assert_int_equal(ub.err, 0);
	assert_int_equal(db.err, 0);
	assert_true(memcmp(up, up_got, len) == 0);
	assert_true(memcmp(down, down_got, len) == 0);
	tether_pages_free(up, len);
	tether_pages_free(down, len);
	tether_pages_free(up_got, len);
	tether_pages_free(down_got, len);
	tls_pair_close(&p);
	fixture_close(&f);
}

/* Both ends of one session export the same bytes; another session, other bytes. */
static void tls_exporter_binds_the_session(void **state)
{
	struct fixture f;
	struct tls_pair p, q;
	uint8_t a[32], b[32], c[32];
	fixture_open(&f);
	open_ok(&f, &p);
	open_ok(&f, &q);
	assert_int_equal(tether_tls_export(p.client, "EXPORTER-test", a, sizeof(a)), 0);
	assert_int_equal(tether_tls_export(p.server, "EXPORTER-test", b, sizeof(b)), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(tether_tls_export(q.client, "EXPORTER-test", c, sizeof(c)), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	assert_int_equal(tether_tls_export(p.client, "EXPORTER-other", c, sizeof(c)), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	tls_pair_close(&p);
	tls_pair_close(&q);
	fixture_close(&f);
}

/* conn.h's timeout rules hold over TLS: a timed-out small read consumed
 * nothing; a large one that timed out part way breaks the connection. */
static void tls_recv_timeout_and_retry(void **state)
{
	struct fixture f;
	struct tls_pair p;
	uint8_t buf[16], *big = malloc(1 << 20);
	fixture_open(&f);
	open_ok(&f, &p);
	assert_int_equal(tether_conn_set_timeout(p.server, 100), 0);
	uint64_t t0 = tether_time_ns();
	assert_int_equal(tether_conn_recv(p.server, buf, 16), -ETIMEDOUT);
	uint64_t ms = (tether_time_ns() - t0) / 1000000;
	assert_true(ms >= 90 && ms < 2000);
	struct tether_iovec half = {"01234567", 8}, rest = {"89abcdef", 8};
	assert_int_equal(tether_conn_send(p.client, &half, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, buf, 16), -ETIMEDOUT);
	assert_int_equal(tether_conn_send(p.client, &rest, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, buf, 16), 0);
	assert_memory_equal(buf, "0123456789abcdef", 16);
	assert_int_equal(tether_conn_send(p.client, &half, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, big, 1 << 20), -ETIMEDOUT);
	assert_int_equal(tether_conn_recv(p.server, buf, 1), -EIO);
	free(big);
	tls_pair_close(&p);
	fixture_close(&f);
}

struct blocked {
	struct tether_conn *c;
	int err;
};

static void *blocked_reader(void *arg)
{
	struct blocked *b = arg;
	char buf[16];
	b->err = tether_conn_recv(b->c, buf, sizeof(buf));
	return NULL;
}

static void tls_shutdown_wakes_blocked_reader(void **state)
{
	struct fixture f;
	struct tls_pair p;
	struct tether_thread *t;
	fixture_open(&f);
	open_ok(&f, &p);
	struct blocked b = {p.server, 1};
	assert_int_equal(tether_thread_create(&t, blocked_reader, &b), 0);
	tether_sleep_ns(50 * 1000000u);
	tether_conn_shutdown(p.server);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(b.err, -ECONNABORTED);
	tls_pair_close(&p);
	fixture_close(&f);
}

/* The peer closing (with close_notify) or vanishing reads as -ECONNRESET,
 * after what it sent; sending to it fails without SIGPIPE. */
static void tls_peer_gone_reported(void **state)
{
	struct fixture f;
	struct tls_pair p;
	char buf[64];
	fixture_open(&f);
	open_ok(&f, &p);
	struct tether_iovec v = {"0123456789", 10};
	assert_int_equal(tether_conn_send(p.client, &v, 1), 0);
	tether_conn_close(p.client);
	p.client = NULL;
	assert_int_equal(tether_conn_recv(p.server, buf, 4), 0);
	assert_int_equal(tether_conn_recv(p.server, buf, 100), -ECONNRESET);
	assert_int_equal(tether_conn_recv(p.server, buf, 6), 0);
	assert_memory_equal(buf, "456789", 6);
	assert_int_equal(tether_conn_recv(p.server, buf, 1), -ECONNRESET);
	size_t len = 8 << 20;
	void *junk = calloc(1, len);
	struct tether_iovec big = {junk, len};
	int err = 0;
	for (int i = 0; i < 20 && !err; i++)
		err = tether_conn_send(p.server, &big, 1);
	assert_true(err == -EPIPE || err == -ECONNRESET);
	free(junk);
	tls_pair_close(&p);
	fixture_close(&f);
}

#define TEST(fn) cmocka_unit_test(fn)
static const struct CMUnitTest tests[] = {
	TEST(tls_identity_private_and_reloaded),
	TEST(tls_identity_readable_by_others_refused),
	TEST(tls_identity_concurrent_creation_one_wins),
	TEST(tls_fingerprint_text_roundtrip),
	TEST(tls_pinned_fingerprint_mismatch_refused),
	TEST(tls_roundtrip_64MiB_gather),
	TEST(tls_many_small_messages),
	TEST(tls_send_while_receiving),
	TEST(tls_exporter_binds_the_session),
	TEST(tls_recv_timeout_and_retry),
	TEST(tls_shutdown_wakes_blocked_reader),
	TEST(tls_peer_gone_reported),
};

TETHER_CMOCKA_MAIN(tests)
