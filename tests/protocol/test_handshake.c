/* tests for protocol/message.h and protocol/handshake.h over loopback TCP:
 * framing checks, an accepted handshake with its extension intersection,
 * version mismatch refusals on both sides, hostile HELLOs, and the 1.1
 * fields: the session token in WELCOME, frame-channel HELLOs, 1.0 peers,
 * and the link-test channel.
 * Run one test per CTest entry: test_handshake <test name>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"

#include "protocol/buffer.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "transport/conn.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

struct pair {
	struct tether_listener *l;
	struct tether_conn *client, *server;
};

static void pair_open(struct pair *p)
{
	char addr[64];
	memset(p, 0, sizeof(*p));
	assert_int_equal(tether_listener_open("127.0.0.1:0", &p->l), 0);
	assert_int_equal(tether_listener_address(p->l, addr, sizeof(addr)), 0);
	assert_int_equal(tether_conn_connect(addr, &p->client), 0);
	assert_int_equal(tether_listener_accept(p->l, &p->server), 0);
	/* A test bug must fail, not hang. */
	tether_conn_set_timeout(p->client, 5000);
	tether_conn_set_timeout(p->server, 5000);
}

static void pair_close(struct pair *p)
{
	tether_conn_close(p->client);
	tether_conn_close(p->server);
	tether_listener_close(p->l);
}

/* ---- a raw byte writer, to build messages the real client never sends ---- */

static void put_u32(struct tether_buffer *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	assert_int_equal(tether_buffer_append(b, p, 4), 0);
}

static void put_str(struct tether_buffer *b, const char *s)
{
	put_u32(b, (uint32_t)strlen(s));
	assert_int_equal(tether_buffer_append(b, s, strlen(s)), 0);
}

/* A HELLO as a client of @minor sends it: 1.1 adds the channel (commands). */
static void build_hello(struct tether_buffer *b, uint32_t major, uint32_t minor)
{
	b->size = 0;
	assert_int_equal(tether_buffer_append(b, TETHER_HANDSHAKE_MAGIC, 8), 0);
	put_u32(b, major);
	put_u32(b, minor);
	put_u32(b, 0x403000);
	put_str(b, "raw client");
	put_u32(b, 2);
	put_str(b, "VK_KHR_swapchain");
	put_str(b, "VK_EXT_debug_utils");
	if (minor >= 1)
		put_u32(b, TETHER_CHANNEL_COMMANDS);
}

static const uint8_t test_token[TETHER_SESSION_TOKEN_SIZE] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
};

/* What tetherd does with a command connection: check HELLO, accept it with @token. */
static int server_handshake(struct tether_conn *c, const char *name, const char *const *exts,
			    uint32_t ext_count, const uint8_t *token, struct tether_handshake_result *r)
{
	int err = tether_handshake_server_hello(c, exts, ext_count, r);
	if (err)
		return err;
	err = tether_handshake_server_accept(c, name, r, token);
	if (err)
		tether_handshake_result_free(r);
	return err;
}

static void send_raw(struct tether_conn *c, uint32_t type, const struct tether_buffer *b)
{
	struct tether_iovec iov = { b->data, b->size };
	assert_int_equal(tether_msg_send(c, type, &iov, 1), 0);
}

static void send_header(struct tether_conn *c, uint32_t type, uint32_t flags, uint64_t size)
{
	uint8_t hdr[TETHER_MSG_HEADER_SIZE];
	tether_msg_header_encode(&(struct tether_msg_header){ type, flags, size }, hdr);
	struct tether_iovec iov = { hdr, sizeof(hdr) };
	assert_int_equal(tether_conn_send(c, &iov, 1), 0);
}

/* Read the WELCOME a refused client gets: status and text. */
static void expect_welcome(struct tether_conn *c, uint32_t status, const char *text)
{
	struct tether_msg_header h;
	struct tether_buffer b = { 0 };
	assert_int_equal(tether_msg_recv(c, &h, &b), 0);
	assert_int_equal(h.type, TETHER_MSG_WELCOME);
	assert_true(b.size >= 20);
	uint32_t got = b.data[0] | b.data[1] << 8 | b.data[2] << 16 | (uint32_t)b.data[3] << 24;
	assert_int_equal(got, status);
	uint32_t len = b.data[16] | b.data[17] << 8 | b.data[18] << 16 | (uint32_t)b.data[19] << 24;
	assert_true(20 + (size_t)len <= b.size);
	if (text) {
		assert_int_equal(len, strlen(text));
		assert_memory_equal(b.data + 20, text, len);
	}
	tether_buffer_free(&b);
}

/* ---- framing ---- */

static void message_roundtrip_gather(void **state)
{
	struct pair p;
	struct tether_iovec iov[40]; /* more than the stack array in tether_msg_send() */
	uint8_t src[40 * 50];
	struct tether_msg_header h;
	struct tether_buffer b = { 0 };
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7);
	for (int i = 0; i < 40; i++)
		iov[i] = (struct tether_iovec){ src + i * 50, 50 };
	pair_open(&p);
	assert_int_equal(tether_msg_send(p.client, TETHER_MSG_COMMANDS, iov, 40), 0);
	assert_int_equal(tether_msg_send(p.client, TETHER_MSG_REPLY, NULL, 0), 0);
	assert_int_equal(tether_msg_recv(p.server, &h, &b), 0);
	assert_int_equal(h.type, TETHER_MSG_COMMANDS);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.size, sizeof(src));
	assert_int_equal(b.size, sizeof(src));
	assert_memory_equal(b.data, src, sizeof(src));
	assert_int_equal(tether_msg_recv(p.server, &h, &b), 0);
	assert_int_equal(h.type, TETHER_MSG_REPLY);
	assert_int_equal(b.size, 0);
	tether_buffer_free(&b);
	pair_close(&p);
}

static void message_bad_headers_rejected(void **state)
{
	static const struct tether_msg_header bad[] = {
		{ 0, 0, 0 },                                  /* type 0 */
		{ TETHER_MSG_TYPE_END, 0, 0 },                /* unknown type */
		{ 0xffffffffu, 0, 0 },
		{ TETHER_MSG_COMMANDS, 1, 0 },                /* flags */
		{ TETHER_MSG_COMMANDS, 0, TETHER_MSG_MAX_SIZE + 1ull },
		{ TETHER_MSG_COMMANDS, 0, UINT64_MAX },
	};
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pair p;
		struct tether_msg_header h;
		struct tether_buffer b = { 0 };
		pair_open(&p);
		send_header(p.client, bad[i].type, bad[i].flags, bad[i].size);
		assert_int_equal(tether_msg_recv(p.server, &h, &b), -EPROTO);
		assert_null(b.data); /* nothing allocated for a rejected header */
		pair_close(&p);
	}
	/* The sender refuses too. */
	struct pair p;
	pair_open(&p);
	struct tether_iovec big[2] = { { "", TETHER_MSG_MAX_SIZE }, { "", 1 } };
	assert_int_equal(tether_msg_send(p.client, TETHER_MSG_COMMANDS, big, 2), -EMSGSIZE);
	pair_close(&p);
}

/* ---- handshake ---- */

struct server_run {
	struct tether_conn *c;
	const char *const *exts;
	uint32_t ext_count;
	const uint8_t *token;
	struct tether_handshake_result result;
	int err;
};

static void *run_server(void *arg)
{
	struct server_run *s = arg;
	s->err = server_handshake(s->c, "test server", s->exts, s->ext_count, s->token, &s->result);
	return NULL;
}

static void handshake_accepted_common_extensions(void **state)
{
	static const char *const client_exts[] = { "VK_KHR_a", "VK_KHR_b", "VK_KHR_c", "VK_KHR_d" };
	static const char *const server_exts[] = { "VK_KHR_d", "VK_EXT_x", "VK_KHR_b" };
	struct pair p;
	struct tether_thread *t;
	struct tether_handshake_result r;
	pair_open(&p);
	struct server_run s = { p.server, server_exts, 3 };
	assert_int_equal(tether_thread_create(&t, run_server, &s), 0);
	/* A non-ASCII application name is cleaned up, not refused. */
	assert_int_equal(tether_handshake_client(p.client, "vkcube \xc3\xa9", client_exts, 4, &r), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(s.err, 0);

	assert_int_equal(r.peer_major, TETHER_PROTOCOL_MAJOR);
	assert_int_equal(r.minor, TETHER_PROTOCOL_MINOR);
	assert_string_equal(r.peer_name, "test server");
	assert_int_equal(r.ext_count, 2);
	assert_string_equal(r.exts[0], "VK_KHR_d"); /* server order */
	assert_string_equal(r.exts[1], "VK_KHR_b");
	assert_string_equal(r.error, "");

	assert_string_equal(s.result.peer_name, "vkcube ??");
	assert_int_equal(s.result.ext_count, 2);
	assert_string_equal(s.result.exts[0], "VK_KHR_d");
	assert_string_equal(s.result.exts[1], "VK_KHR_b");
	assert_int_not_equal(s.result.peer_vk_header_version, 0);
	tether_handshake_result_free(&r);
	tether_handshake_result_free(&s.result);
	pair_close(&p);
}

static void handshake_no_common_extensions(void **state)
{
	static const char *const server_exts[] = { "VK_EXT_x" };
	struct pair p;
	struct tether_thread *t;
	struct tether_handshake_result r;
	pair_open(&p);
	struct server_run s = { p.server, server_exts, 1 };
	assert_int_equal(tether_thread_create(&t, run_server, &s), 0);
	assert_int_equal(tether_handshake_client(p.client, NULL, NULL, 0, &r), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(s.err, 0);
	assert_int_equal(r.ext_count, 0);
	assert_string_equal(s.result.peer_name, "");
	tether_handshake_result_free(&r);
	tether_handshake_result_free(&s.result);
	pair_close(&p);
}

static void handshake_version_mismatch_refused(void **state)
{
	struct pair p;
	struct tether_buffer b = { 0 };
	struct tether_handshake_result r;
	static const char text[] = "protocol version mismatch: server speaks 1.2, client speaks 2.0";
	_Static_assert(TETHER_PROTOCOL_MAJOR == 1 && TETHER_PROTOCOL_MINOR == 2, "update the text");
	pair_open(&p);
	build_hello(&b, 2, 0);
	send_raw(p.client, TETHER_MSG_HELLO, &b);
	assert_int_equal(server_handshake(p.server, "srv", NULL, 0, NULL, &r), -EPROTONOSUPPORT);
	assert_int_equal(r.peer_major, 2);
	assert_string_equal(r.error, text);
	assert_null(r.peer_name);
	expect_welcome(p.client, TETHER_HANDSHAKE_VERSION_MISMATCH, text);
	tether_buffer_free(&b);
	pair_close(&p);
}

/* The client side of a mismatch: a (fake) newer server refuses us. */
static void handshake_client_refused_by_newer_server(void **state)
{
	static const char text[] = "protocol version mismatch: server speaks 2.0, client speaks 1.2";
	struct pair p;
	struct tether_buffer b = { 0 };
	struct tether_handshake_result r;
	pair_open(&p);
	put_u32(&b, TETHER_HANDSHAKE_VERSION_MISMATCH);
	put_u32(&b, 2);
	put_u32(&b, 0);
	put_u32(&b, 0);
	put_str(&b, text);
	put_u32(&b, 0);
	send_raw(p.server, TETHER_MSG_WELCOME, &b); /* queued before the HELLO is read */
	assert_int_equal(tether_handshake_client(p.client, "app", NULL, 0, &r), -EPROTONOSUPPORT);
	assert_string_equal(r.error, text);
	assert_null(r.peer_name);

	/* A server that says "accepted" but speaks another major is refused too. */
	struct pair q;
	pair_open(&q);
	b.size = 0;
	put_u32(&b, TETHER_HANDSHAKE_ACCEPTED);
	put_u32(&b, 3);
	put_u32(&b, 0);
	put_u32(&b, 0);
	put_str(&b, "future server");
	put_u32(&b, 0);
	send_raw(q.server, TETHER_MSG_WELCOME, &b);
	assert_int_equal(tether_handshake_client(q.client, "app", NULL, 0, &r), -EPROTONOSUPPORT);
	assert_string_equal(r.error, "protocol version mismatch: server speaks 3.0, client speaks 1.2");
	tether_buffer_free(&b);
	pair_close(&p);
	pair_close(&q);
}

static void handshake_client_rejects_unoffered_extension(void **state)
{
	static const char *const exts[] = { "VK_KHR_a" };
	struct pair p;
	struct tether_buffer b = { 0 };
	struct tether_handshake_result r;
	pair_open(&p);
	put_u32(&b, TETHER_HANDSHAKE_ACCEPTED);
	put_u32(&b, TETHER_PROTOCOL_MAJOR);
	put_u32(&b, TETHER_PROTOCOL_MINOR);
	put_u32(&b, 0);
	put_str(&b, "evil server");
	put_u32(&b, 2);
	put_str(&b, "VK_KHR_a");
	put_str(&b, "VK_EVIL_ext");
	assert_int_equal(tether_buffer_append(&b, test_token, sizeof(test_token)), 0);
	send_raw(p.server, TETHER_MSG_WELCOME, &b);
	assert_int_equal(tether_handshake_client(p.client, "app", exts, 1, &r), -EPROTO);
	assert_null(r.exts);
	tether_buffer_free(&b);
	pair_close(&p);
}

static void handshake_minor_version_negotiates_down(void **state)
{
	struct pair p;
	struct tether_buffer b = { 0 };
	struct tether_handshake_result r;
	static const char *const exts[] = { "VK_EXT_debug_utils" };
	pair_open(&p);
	build_hello(&b, TETHER_PROTOCOL_MAJOR, 7); /* with the 1.1 fields */
	/* Trailing bytes are room for later minor versions: ignored. */
	assert_int_equal(tether_buffer_append(&b, "future", 6), 0);
	send_raw(p.client, TETHER_MSG_HELLO, &b);
	assert_int_equal(server_handshake(p.server, "srv", exts, 1, test_token, &r), 0);
	assert_int_equal(r.peer_minor, 7);
	assert_int_equal(r.minor, TETHER_PROTOCOL_MINOR);
	assert_int_equal(r.ext_count, 1);
	assert_string_equal(r.peer_name, "raw client");
	expect_welcome(p.client, TETHER_HANDSHAKE_ACCEPTED, "srv");
	tether_handshake_result_free(&r);
	tether_buffer_free(&b);
	pair_close(&p);
}

/* Send @payload as HELLO; the server must refuse it with BAD_HELLO. */
static void expect_bad_hello(const uint8_t *payload, size_t len)
{
	struct pair p;
	struct tether_handshake_result r;
	struct tether_iovec iov = { payload, len };
	pair_open(&p);
	assert_int_equal(tether_msg_send(p.client, TETHER_MSG_HELLO, &iov, 1), 0);
	assert_int_equal(server_handshake(p.server, "srv", NULL, 0, NULL, &r), -EPROTO);
	assert_null(r.peer_name);
	assert_null(r.exts);
	assert_true(!strncmp(r.error, "bad HELLO: ", 11));
	expect_welcome(p.client, TETHER_HANDSHAKE_BAD_HELLO, r.error);
	pair_close(&p);
}

static void handshake_garbage_hello_rejected(void **state)
{
	struct tether_buffer good = { 0 }, b = { 0 };
	tether_log_set_level(TETHER_LOG_ERROR - 1); /* hundreds of expected refusals */
	build_hello(&good, 1, 0);

	/* Every truncation of a valid HELLO. */
	for (size_t n = 0; n < good.size; n++)
		expect_bad_hello(good.data, n);

	/* Wrong magic. */
	memcpy(good.data, "TETHEX\r\n", 8);
	expect_bad_hello(good.data, good.size);

	/* Header fields then a hostile rest. */
#define HEAD() (b.size = 0, tether_buffer_append(&b, TETHER_HANDSHAKE_MAGIC, 8), put_u32(&b, 1), \
		put_u32(&b, 0), put_u32(&b, 0))
	HEAD(); put_u32(&b, 0xffffffffu); /* name length */
	expect_bad_hello(b.data, b.size);
	HEAD(); put_u32(&b, 257);
	for (int i = 0; i < 257; i++)
		tether_buffer_append(&b, "a", 1);
	put_u32(&b, 0);
	expect_bad_hello(b.data, b.size);
	HEAD(); put_str(&b, "bad\x01name"); put_u32(&b, 0);
	expect_bad_hello(b.data, b.size);
	HEAD(); put_u32(&b, 3); tether_buffer_append(&b, "a\0b", 3); put_u32(&b, 0); /* NUL */
	expect_bad_hello(b.data, b.size);
	HEAD(); put_str(&b, "x"); put_u32(&b, 4097); /* count over the limit */
	expect_bad_hello(b.data, b.size);
	HEAD(); put_str(&b, "x"); put_u32(&b, 4000); /* count beyond the payload */
	put_str(&b, "VK_a");
	expect_bad_hello(b.data, b.size);
	HEAD(); put_str(&b, "x"); put_u32(&b, 1); put_u32(&b, 0); /* empty extension name */
	expect_bad_hello(b.data, b.size);
	HEAD(); put_str(&b, "x"); put_u32(&b, 1); put_str(&b, "VK_\x7f"); /* DEL */
	expect_bad_hello(b.data, b.size);

	/* Random bytes after a valid magic and version, fixed seed. */
	uint32_t x = 1;
	for (int round = 0; round < 300; round++) {
		HEAD();
		size_t n = 1 + round % 97;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			uint8_t byte = (uint8_t)(x >> 16);
			/* Mostly small lengths so the reader gets deep into the message. */
			if (i % 4 == 1 || i % 4 == 2 || i % 4 == 3)
				byte = (uint8_t)(round & 1 ? 0 : byte);
			tether_buffer_append(&b, &byte, 1);
		}
		struct pair p;
		struct tether_handshake_result r;
		struct tether_iovec iov = { b.data, b.size };
		pair_open(&p);
		assert_int_equal(tether_msg_send(p.client, TETHER_MSG_HELLO, &iov, 1), 0);
		int err = server_handshake(p.server, "srv", NULL, 0, NULL, &r);
		assert_true(err == 0 || err == -EPROTO);
		if (!err)
			tether_handshake_result_free(&r);
		pair_close(&p);
	}
	tether_buffer_free(&good);
	tether_buffer_free(&b);
}

static void handshake_oversized_header_rejected(void **state)
{
	struct tether_handshake_result r;
	struct pair p;
	tether_log_set_level(TETHER_LOG_ERROR - 1);

	/* Over the handshake's own limit: refused before a byte of payload. */
	pair_open(&p);
	send_header(p.client, TETHER_MSG_HELLO, 0, TETHER_HANDSHAKE_MAX_SIZE + 1ull);
	assert_int_equal(server_handshake(p.server, "srv", NULL, 0, NULL, &r), -EPROTO);
	expect_welcome(p.client, TETHER_HANDSHAKE_BAD_HELLO, NULL);
	pair_close(&p);

	/* Over the framing limit. */
	pair_open(&p);
	send_header(p.client, TETHER_MSG_HELLO, 0, (uint64_t)TETHER_MSG_MAX_SIZE * 16);
	assert_int_equal(server_handshake(p.server, "srv", NULL, 0, NULL, &r), -EPROTO);
	expect_welcome(p.client, TETHER_HANDSHAKE_BAD_HELLO, NULL);
	pair_close(&p);
}

static void handshake_wrong_first_message_rejected(void **state)
{
	struct tether_handshake_result r;
	struct tether_buffer b = { 0 };
	struct pair p;
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	pair_open(&p);
	build_hello(&b, 1, 0);
	send_raw(p.client, TETHER_MSG_COMMANDS, &b);
	assert_int_equal(server_handshake(p.server, "srv", NULL, 0, NULL, &r), -EPROTO);
	expect_welcome(p.client, TETHER_HANDSHAKE_BAD_HELLO, "bad HELLO: expected message type 1, got 3");
	tether_buffer_free(&b);
	pair_close(&p);
}

static void handshake_peer_gone_midway(void **state)
{
	struct tether_handshake_result r;
	struct pair p;
	pair_open(&p);
	send_header(p.client, TETHER_MSG_HELLO, 0, 100);
	struct tether_iovec iov = { "TETHER\r\n", 8 };
	assert_int_equal(tether_conn_send(p.client, &iov, 1), 0);
	tether_conn_close(p.client);
	p.client = NULL;
	assert_int_equal(server_handshake(p.server, "srv", NULL, 0, NULL, &r), -ECONNRESET);

	/* And a client whose server hangs up without WELCOME. */
	struct pair q;
	pair_open(&q);
	tether_conn_close(q.server);
	q.server = NULL;
	int err = tether_handshake_client(q.client, "app", NULL, 0, &r);
	assert_true(err == -ECONNRESET || err == -EPIPE);
	pair_close(&p);
	pair_close(&q);
}

/* ---- 1.1: session token, frame channels, 1.0 peers ---- */

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Receive a WELCOME; *tail is where its bytes after the extension list start. */
static void recv_welcome(struct tether_conn *c, struct tether_buffer *b, size_t *tail)
{
	struct tether_msg_header h;
	assert_int_equal(tether_msg_recv(c, &h, b), 0);
	assert_int_equal(h.type, TETHER_MSG_WELCOME);
	size_t at = 16;
	assert_true(b->size >= at + 4);
	at += 4 + get_u32(b->data + at); /* name */
	assert_true(b->size >= at + 4);
	uint32_t n = get_u32(b->data + at);
	at += 4;
	for (uint32_t i = 0; i < n; i++) {
		assert_true(b->size >= at + 4);
		at += 4 + get_u32(b->data + at);
	}
	assert_true(b->size >= at);
	*tail = at;
}

/* A 1.1 WELCOME built by hand: accepted, no extensions, then @tail. */
static void build_welcome(struct tether_buffer *b, uint32_t minor, const void *tail, size_t tail_len)
{
	b->size = 0;
	put_u32(b, TETHER_HANDSHAKE_ACCEPTED);
	put_u32(b, TETHER_PROTOCOL_MAJOR);
	put_u32(b, minor);
	put_u32(b, 0);
	put_str(b, "hand-made server");
	put_u32(b, 0);
	assert_int_equal(tether_buffer_append(b, tail, tail_len), 0);
}

static void handshake_welcome_carries_session_token(void **state)
{
	struct pair p;
	struct tether_thread *t;
	struct tether_handshake_result r;
	pair_open(&p);
	struct server_run s = { p.server, NULL, 0, test_token };
	assert_int_equal(tether_thread_create(&t, run_server, &s), 0);
	assert_int_equal(tether_handshake_client(p.client, "app", NULL, 0, &r), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.result.channel, TETHER_CHANNEL_COMMANDS);
	assert_false(s.result.has_token);
	assert_int_equal(r.channel, TETHER_CHANNEL_COMMANDS);
	assert_int_equal(r.minor, TETHER_PROTOCOL_MINOR);
	assert_true(r.has_token);
	assert_memory_equal(r.token, test_token, sizeof(test_token));
	tether_handshake_result_free(&r);
	tether_handshake_result_free(&s.result);
	pair_close(&p);

	/* A session without a frame channel sends zeros: no token. */
	pair_open(&p);
	s = (struct server_run){ p.server, NULL, 0, NULL };
	assert_int_equal(tether_thread_create(&t, run_server, &s), 0);
	assert_int_equal(tether_handshake_client(p.client, "app", NULL, 0, &r), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(s.err, 0);
	assert_false(r.has_token);
	tether_handshake_result_free(&r);
	tether_handshake_result_free(&s.result);
	pair_close(&p);
}

/* A 1.0 client neither sends the channel nor gets a token: the session goes on as before. */
static void handshake_old_client_gets_no_token(void **state)
{
	static const char *const exts[] = { "VK_KHR_swapchain" };
	struct pair p;
	struct tether_buffer b = { 0 };
	struct tether_handshake_result r;
	size_t tail;
	pair_open(&p);
	build_hello(&b, TETHER_PROTOCOL_MAJOR, 0);
	send_raw(p.client, TETHER_MSG_HELLO, &b);
	assert_int_equal(server_handshake(p.server, "srv", exts, 1, test_token, &r), 0);
	assert_int_equal(r.minor, 0);
	assert_int_equal(r.channel, TETHER_CHANNEL_COMMANDS);
	assert_false(r.has_token);
	recv_welcome(p.client, &b, &tail);
	assert_int_equal(get_u32(b.data + 8), TETHER_PROTOCOL_MINOR);
	assert_int_equal(tail, b.size); /* nothing a 1.0 client would not expect */
	tether_handshake_result_free(&r);
	tether_buffer_free(&b);
	pair_close(&p);
}

/* WELCOMEs from 1.0, 1.1 and later servers, and a 1.1 one cut short. */
static void handshake_old_server_gives_no_token(void **state)
{
	struct pair p;
	struct tether_buffer b = { 0 };
	struct tether_handshake_result r;
	uint8_t later[TETHER_SESSION_TOKEN_SIZE + 5];
	memcpy(later, test_token, sizeof(test_token));
	memcpy(later + sizeof(test_token), "later", 5);

	pair_open(&p);
	build_welcome(&b, 0, NULL, 0); /* 1.0: ends after the extensions */
	send_raw(p.server, TETHER_MSG_WELCOME, &b);
	assert_int_equal(tether_handshake_client(p.client, "app", NULL, 0, &r), 0);
	assert_int_equal(r.minor, 0);
	assert_false(r.has_token);
	tether_handshake_result_free(&r);
	pair_close(&p);

	pair_open(&p);
	build_welcome(&b, 2, later, sizeof(later)); /* 1.2: token, then what we do not know */
	send_raw(p.server, TETHER_MSG_WELCOME, &b);
	assert_int_equal(tether_handshake_client(p.client, "app", NULL, 0, &r), 0);
	assert_int_equal(r.minor, TETHER_PROTOCOL_MINOR);
	assert_true(r.has_token);
	assert_memory_equal(r.token, test_token, sizeof(test_token));
	tether_handshake_result_free(&r);
	pair_close(&p);

	tether_log_set_level(TETHER_LOG_ERROR - 1);
	for (size_t n = 0; n < TETHER_SESSION_TOKEN_SIZE; n++) {
		pair_open(&p);
		build_welcome(&b, 1, test_token, n); /* token cut short */
		send_raw(p.server, TETHER_MSG_WELCOME, &b);
		assert_int_equal(tether_handshake_client(p.client, "app", NULL, 0, &r), -EPROTO);
		assert_false(r.has_token);
		assert_null(r.peer_name);
		pair_close(&p);
	}
	tether_buffer_free(&b);
}

struct attach_run {
	struct tether_conn *c;
	struct tether_handshake_result result;
	int err;
};

static void *run_attach(void *arg)
{
	struct attach_run *a = arg;
	a->err = tether_handshake_client_attach(a->c, "frames", test_token, &a->result);
	return NULL;
}

static void handshake_attach_hello_carries_token(void **state)
{
	static const char *const exts[] = { "VK_KHR_swapchain" };
	struct pair p;
	struct tether_thread *t;
	struct tether_handshake_result r;
	pair_open(&p);
	struct attach_run a = { p.client };
	assert_int_equal(tether_thread_create(&t, run_attach, &a), 0);
	assert_int_equal(tether_handshake_server_hello(p.server, exts, 1, &r), 0);
	assert_int_equal(r.channel, TETHER_CHANNEL_FRAMES);
	assert_true(r.has_token);
	assert_memory_equal(r.token, test_token, sizeof(test_token));
	assert_string_equal(r.peer_name, "frames");
	assert_int_equal(tether_handshake_server_accept(p.server, "session", &r, test_token), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.result.channel, TETHER_CHANNEL_FRAMES);
	assert_int_equal(a.result.ext_count, 0); /* a frame channel agrees on none */
	assert_string_equal(a.result.peer_name, "session");
	tether_handshake_result_free(&a.result);
	tether_handshake_result_free(&r);
	pair_close(&p);
}

static void handshake_attach_refused_with_reason(void **state)
{
	static const char why[] = "no live session has this token";
	struct pair p;
	struct tether_thread *t;
	struct tether_handshake_result r;
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	pair_open(&p);
	struct attach_run a = { p.client };
	assert_int_equal(tether_thread_create(&t, run_attach, &a), 0);
	assert_int_equal(tether_handshake_server_hello(p.server, NULL, 0, &r), 0);
	assert_int_equal(tether_handshake_server_refuse(p.server, TETHER_HANDSHAKE_REFUSED, why), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(a.err, -ECONNREFUSED);
	assert_string_equal(a.result.error, why);
	assert_null(a.result.peer_name);
	tether_handshake_result_free(&r);
	pair_close(&p);

	/* Accepted, but by someone without the session's token: not our session. */
	static const uint8_t other[TETHER_SESSION_TOKEN_SIZE] = { 9 };
	pair_open(&p);
	a = (struct attach_run){ p.client };
	assert_int_equal(tether_thread_create(&t, run_attach, &a), 0);
	assert_int_equal(tether_handshake_server_hello(p.server, NULL, 0, &r), 0);
	assert_int_equal(tether_handshake_server_accept(p.server, "srv", &r, other), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(a.err, -EPROTO);
	assert_null(a.result.peer_name);
	tether_handshake_result_free(&r);
	pair_close(&p);
}

/* 1.1 HELLOs whose channel fields are wrong: refused, nothing kept. */
static void handshake_malformed_attach_hello_rejected(void **state)
{
	struct tether_buffer b = { 0 };
	tether_log_set_level(TETHER_LOG_ERROR - 1);
#define HEAD11() (b.size = 0, tether_buffer_append(&b, TETHER_HANDSHAKE_MAGIC, 8), put_u32(&b, 1), \
		  put_u32(&b, 1), put_u32(&b, 0), put_str(&b, "x"), put_u32(&b, 0))
	HEAD11(); /* no channel */
	expect_bad_hello(b.data, b.size);
	HEAD11(); put_u32(&b, 3); /* unknown channel */
	expect_bad_hello(b.data, b.size);
	HEAD11(); put_u32(&b, 0xffffffffu);
	expect_bad_hello(b.data, b.size);
	HEAD11(); tether_buffer_append(&b, "\x01\x00", 2); /* channel cut short */
	expect_bad_hello(b.data, b.size);
	for (size_t n = 0; n < TETHER_SESSION_TOKEN_SIZE; n++) { /* token cut short */
		HEAD11(); put_u32(&b, TETHER_CHANNEL_FRAMES);
		tether_buffer_append(&b, test_token, n);
		expect_bad_hello(b.data, b.size);
	}

	/* Random bytes after an attach's magic, version and channel, fixed seed:
	 * refused or, with a whole token, accepted, never more. */
	uint32_t x = 7;
	for (int round = 0; round < 300; round++) {
		b.size = 0;
		tether_buffer_append(&b, TETHER_HANDSHAKE_MAGIC, 8);
		put_u32(&b, 1);
		put_u32(&b, 1 + round % 3);
		size_t n = (size_t)(round % 61);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			uint8_t byte = (uint8_t)(x >> 16);
			if (round & 1 && i % 4)
				byte = i == 8 ? 1 : 0; /* small lengths, then channel 1 */
			tether_buffer_append(&b, &byte, 1);
		}
		struct pair p;
		struct tether_handshake_result r;
		struct tether_iovec iov = { b.data, b.size };
		pair_open(&p);
		assert_int_equal(tether_msg_send(p.client, TETHER_MSG_HELLO, &iov, 1), 0);
		int err = tether_handshake_server_hello(p.server, NULL, 0, &r);
		assert_true(err == 0 || err == -EPROTO);
		if (err) {
			assert_false(r.has_token);
			assert_null(r.peer_name);
		} else {
			assert_true(r.channel <= TETHER_CHANNEL_FRAMES);
			assert_int_equal(r.has_token, r.channel == TETHER_CHANNEL_FRAMES);
			tether_handshake_result_free(&r);
		}
		pair_close(&p);
	}
#undef HEAD11

	/* A good attach HELLO with bytes of a later minor version after it. */
	struct pair p;
	struct tether_handshake_result r;
	b.size = 0;
	tether_buffer_append(&b, TETHER_HANDSHAKE_MAGIC, 8);
	put_u32(&b, 1);
	put_u32(&b, 5);
	put_u32(&b, 0);
	put_str(&b, "frames");
	put_u32(&b, 0);
	put_u32(&b, TETHER_CHANNEL_FRAMES);
	tether_buffer_append(&b, test_token, sizeof(test_token));
	tether_buffer_append(&b, "later", 5);
	pair_open(&p);
	send_raw(p.client, TETHER_MSG_HELLO, &b);
	assert_int_equal(tether_handshake_server_hello(p.server, NULL, 0, &r), 0);
	assert_int_equal(r.channel, TETHER_CHANNEL_FRAMES);
	assert_memory_equal(r.token, test_token, sizeof(test_token));
	tether_handshake_result_free(&r);
	pair_close(&p);
	tether_buffer_free(&b);
}

/* A link-test HELLO: accepted with neither extensions nor a token, and the
 * server learns what the connection is for. */
static void handshake_link_test_channel(void **state)
{
	static const char *const server_exts[] = { "VK_KHR_swapchain" };
	struct pair p;
	struct tether_thread *t;
	struct tether_handshake_result r;
	pair_open(&p);
	struct server_run s = { p.server, server_exts, 1, NULL };
	assert_int_equal(tether_thread_create(&t, run_server, &s), 0);
	assert_int_equal(tether_handshake_client_link_test(p.client, "bench-link", &r), 0);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.result.channel, TETHER_CHANNEL_LINK_TEST);
	assert_string_equal(s.result.peer_name, "bench-link");
	assert_int_equal(s.result.ext_count, 0); /* the client offered none */
	assert_false(s.result.has_token);
	assert_int_equal(r.channel, TETHER_CHANNEL_LINK_TEST);
	assert_string_equal(r.peer_name, "test server");
	assert_int_equal(r.ext_count, 0);
	assert_false(r.has_token);
	tether_handshake_result_free(&r);
	tether_handshake_result_free(&s.result);
	pair_close(&p);
}

static void session_token_compare(void **state)
{
	uint8_t a[TETHER_SESSION_TOKEN_SIZE], b[TETHER_SESSION_TOKEN_SIZE];
	memcpy(a, test_token, sizeof(a));
	memcpy(b, test_token, sizeof(b));
	assert_true(tether_session_token_equal(a, b));
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		assert_false(tether_session_token_equal(a, b));
		b[i] ^= 0x80;
	}
}

#define TEST(fn) cmocka_unit_test(fn)
static const struct CMUnitTest tests[] = {
	TEST(message_roundtrip_gather),
	TEST(message_bad_headers_rejected),
	TEST(handshake_accepted_common_extensions),
	TEST(handshake_no_common_extensions),
	TEST(handshake_version_mismatch_refused),
	TEST(handshake_client_refused_by_newer_server),
	TEST(handshake_client_rejects_unoffered_extension),
	TEST(handshake_minor_version_negotiates_down),
	TEST(handshake_garbage_hello_rejected),
	TEST(handshake_oversized_header_rejected),
	TEST(handshake_wrong_first_message_rejected),
	TEST(handshake_peer_gone_midway),
	TEST(handshake_welcome_carries_session_token),
	TEST(handshake_old_client_gets_no_token),
	TEST(handshake_old_server_gives_no_token),
	TEST(handshake_attach_hello_carries_token),
	TEST(handshake_attach_refused_with_reason),
	TEST(handshake_malformed_attach_hello_rejected),
	TEST(handshake_link_test_channel),
	TEST(session_token_compare),
};

TETHER_CMOCKA_MAIN(tests)
