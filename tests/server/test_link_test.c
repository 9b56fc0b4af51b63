/* tests for the link-test channel (protocol/link_test.h, server/link_test.h):
 * tetherd's serve loop in a thread on one end of a socket pair, the client
 * functions or raw bytes on the other. Every limit is exercised: sizes, the
 * reserved field, unknown requests, the connection's time and idleness.
 * Run one test per CTest entry: test_link_test <test name>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "protocol/link_test.h"
#include "server/link_test.h"
#include "tests/cmocka_named.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

struct served {
	struct tether_conn *conn;
	struct tether_srv_link_limits limits;
	bool use_limits;
	int result;
	uint64_t took_ns;
	struct tether_thread *thread;
};

static void *serve_thread(void *arg)
{
	struct served *s = arg;
	uint64_t t0 = tether_time_ns();
	s->result = tether_srv_link_test_serve(s->conn, s->use_limits ? &s->limits : NULL);
	s->took_ns = tether_time_ns() - t0;
	tether_conn_close(s->conn);
	return NULL;
}

/* A server on one end of a socket pair; returns the client's end. */
static struct tether_conn *start(struct served *s, const struct tether_srv_link_limits *limits)
{
	int sv[2];
	struct tether_conn *client;
	memset(s, 0, sizeof(*s));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(tether_conn_from_fd(sv[0], &s->conn), 0);
	assert_int_equal(tether_conn_from_fd(sv[1], &client), 0);
	if (limits) {
		s->limits = *limits;
		s->use_limits = true;
	}
	assert_int_equal(tether_thread_create(&s->thread, serve_thread, s), 0);
	return client;
}

static int finish(struct served *s, struct tether_conn *client)
{
	tether_conn_close(client);
	assert_int_equal(tether_thread_join(s->thread), 0);
	return s->result;
}

static void link_request_checks(void **state)
{
	char why[TETHER_LINK_TEXT_MAX];
	uint8_t h[TETHER_LINK_HEADER_SIZE];
	struct tether_link_request r = {TETHER_LINK_SINK, 0, 0x0102030405060708ull}, back;
	tether_link_request_encode(&r, h);
	static const uint8_t want[] = {2, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	assert_memory_equal(h, want, sizeof(want));
	tether_link_request_decode(h, &back);
	assert_int_equal(back.op, r.op);
	assert_int_equal(back.size, r.size);
	struct tether_link_response resp = {1, 5, 42}, rback;
	tether_link_response_encode(&resp, h);
	tether_link_response_decode(h, &rback);
	assert_int_equal(rback.status, 1);
	assert_int_equal(rback.text_len, 5);
	assert_int_equal(rback.value, 42);

	const struct {
		struct tether_link_request r;
		const char *why; /* NULL: served */
	} cases[] = {
		{{TETHER_LINK_ECHO, 0, 1}, NULL},
		{{TETHER_LINK_ECHO, 0, TETHER_LINK_ECHO_MAX}, NULL},
		{{TETHER_LINK_ECHO, 0, 0}, "echo of 0 bytes: must be 1..65536"},
		{{TETHER_LINK_ECHO, 0, TETHER_LINK_ECHO_MAX + 1}, "echo of 65537 bytes: must be 1..65536"},
		{{TETHER_LINK_SINK, 0, 1 << 20}, NULL},
		{{TETHER_LINK_SINK, 0, (1 << 20) + 1},
		 "upload of 1048577 bytes: must be 1..1048576 (the server's limit per request)"},
		{{TETHER_LINK_SOURCE, 0, 0}, "download of 0 bytes: must be 1..1048576 (the server's limit per request)"},
		{{TETHER_LINK_SOURCE, 0, UINT64_MAX},
		 "download of 18446744073709551615 bytes: must be 1..1048576 (the server's limit per request)"},
		{{TETHER_LINK_ECHO, 7, 1}, "reserved field is 7, must be 0"},
		{{0, 0, 1}, "unknown request 0 (1 echo, 2 upload, 3 download)"},
		{{0xffffffffu, 0, 1}, "unknown request 4294967295 (1 echo, 2 upload, 3 download)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		int err = tether_link_request_check(&cases[i].r, 1 << 20, why, sizeof(why));
		if (!cases[i].why) {
			assert_int_equal(err, 0);
		} else {
			assert_int_equal(err, -EINVAL);
			assert_string_equal(why, cases[i].why);
		}
	}
}

static void link_echo_sink_source_move_every_byte(void **state)
{
	struct served s;
	struct tether_conn *c = start(&s, NULL);
	char why[TETHER_LINK_TEXT_MAX] = "";
	size_t sizes[] = {1, 32, 4096, TETHER_LINK_ECHO_MAX};
	uint8_t *out = malloc(TETHER_LINK_ECHO_MAX), *back = malloc(TETHER_LINK_ECHO_MAX);
	for (size_t i = 0; i < TETHER_LINK_ECHO_MAX; i++)
		out[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(back, 0, TETHER_LINK_ECHO_MAX);
		assert_int_equal(tether_link_echo(c, out, sizes[i], back, why, sizeof(why)), 0);
		assert_memory_equal(out, back, sizes[i]);
	}
	/* Sizes that are no multiple of the server's or the client's chunk. */
	uint64_t server_ns = 0;
	assert_int_equal(tether_link_sink(c, (10u << 20) + 1, out, 40000, &server_ns, why, sizeof(why)), 0);
	assert_true(server_ns > 0);
	assert_int_equal(tether_link_source(c, (5u << 20) + 3, back, 50000, why, sizeof(why)), 0);
	/* Still in step: one more echo. */
	assert_int_equal(tether_link_echo(c, out, 100, back, why, sizeof(why)), 0);
	assert_int_equal(finish(&s, c), 0);
	free(out);
	free(back);
}

/* A raw request header, then the refusal's text. */
static void expect_refusal(const struct tether_link_request *r, const char *text, uint32_t status)
{
	struct served s;
	struct tether_srv_link_limits lim = {10ull * 1000000000u, 5000, 1 << 20};
	struct tether_conn *c = start(&s, &lim);
	uint8_t h[TETHER_LINK_HEADER_SIZE];
	tether_link_request_encode(r, h);
	struct tether_iovec iov = {h, sizeof(h)};
	assert_int_equal(tether_conn_send(c, &iov, 1), 0);
	struct tether_link_response resp;
	assert_int_equal(tether_conn_recv(c, h, sizeof(h)), 0);
	tether_link_response_decode(h, &resp);
	assert_int_equal(resp.status, status);
	assert_int_equal(resp.text_len, strlen(text));
	char got[TETHER_LINK_TEXT_MAX + 1] = "";
	assert_int_equal(tether_conn_recv(c, got, resp.text_len), 0);
	assert_string_equal(got, text);
	/* Then the server closes. */
	uint8_t more;
	assert_int_equal(tether_conn_recv(c, &more, 1), -ECONNRESET);
	assert_int_equal(finish(&s, c), status == TETHER_LINK_EXPIRED ? -ETIMEDOUT : -EINVAL);
}

static void link_bad_requests_refused_with_reason(void **state)
{
	tether_log_set_level(TETHER_LOG_ERROR);
	struct tether_link_request unknown = {9, 0, 16}, reserved = {TETHER_LINK_ECHO, 1, 16},
				   empty = {TETHER_LINK_ECHO, 0, 0}, big_echo = {TETHER_LINK_ECHO, 0, 1 << 17},
				   big_sink = {TETHER_LINK_SINK, 0, 1ull << 40};
	expect_refusal(&unknown, "unknown request 9 (1 echo, 2 upload, 3 download)", TETHER_LINK_REFUSED);
	expect_refusal(&reserved, "reserved field is 1, must be 0", TETHER_LINK_REFUSED);
	expect_refusal(&empty, "echo of 0 bytes: must be 1..65536", TETHER_LINK_REFUSED);
	expect_refusal(&big_echo, "echo of 131072 bytes: must be 1..65536", TETHER_LINK_REFUSED);
	expect_refusal(&big_sink, "upload of 1099511627776 bytes: must be 1..1048576 (the server's limit per request)",
		       TETHER_LINK_REFUSED);
	/* Through the client functions: -ECONNREFUSED with the server's words. */
	struct served s;
	struct tether_srv_link_limits lim = {10ull * 1000000000u, 5000, 1 << 20};
	struct tether_conn *c = start(&s, &lim);
	char why[TETHER_LINK_TEXT_MAX] = "";
	uint8_t chunk[4096] = {0};
	uint64_t ns;
	assert_int_equal(tether_link_sink(c, 2u << 20, chunk, sizeof(chunk), &ns, why, sizeof(why)), -ECONNREFUSED);
	assert_string_equal(why, "upload of 2097152 bytes: must be 1..1048576 (the server's limit per request)");
	assert_int_equal(finish(&s, c), -EINVAL);
	/* The protocol's own limit holds even when a caller asks for more. */
	lim.transfer_max = UINT64_MAX;
	c = start(&s, &lim);
	assert_int_equal(tether_link_source(c, TETHER_LINK_TRANSFER_MAX + 1, chunk, sizeof(chunk), why, sizeof(why)),
			 -ECONNREFUSED);
	assert_string_equal(why, "download of 1073741825 bytes: must be 1..1073741824 (the server's limit per request)");
	assert_int_equal(finish(&s, c), -EINVAL);
}

static void link_time_limit_ends_connection(void **state)
{
	tether_log_set_level(TETHER_LOG_ERROR);
	struct served s;
	struct tether_srv_link_limits lim = {200ull * 1000000u, 5000, TETHER_LINK_TRANSFER_MAX};
	struct tether_conn *c = start(&s, &lim);
	char why[TETHER_LINK_TEXT_MAX] = "";
	uint8_t out[64] = {1, 2, 3}, back[64];
	assert_int_equal(tether_link_echo(c, out, sizeof(out), back, why, sizeof(why)), 0);
	tether_sleep_ns(300ull * 1000000u);
	assert_int_equal(tether_link_echo(c, out, sizeof(out), back, why, sizeof(why)), -ECONNREFUSED);
	assert_string_equal(why, "time is up: this link test has had its 0.2 s");
	assert_int_equal(finish(&s, c), -ETIMEDOUT);

	/* A transfer running past the deadline is cut: a slow reader of a
	 * 1 GiB download is dropped after about the limit, not after 1 GiB. */
	c = start(&s, &lim);
	uint8_t *chunk = malloc(1 << 20);
	struct tether_link_request r = {TETHER_LINK_SOURCE, 0, TETHER_LINK_TRANSFER_MAX};
	uint8_t h[TETHER_LINK_HEADER_SIZE];
	tether_link_request_encode(&r, h);
	struct tether_iovec iov = {h, sizeof(h)};
	assert_int_equal(tether_conn_send(c, &iov, 1), 0);
	int err = 0;
	for (int i = 0; i < 1000 && !err; i++) {
		err = tether_conn_recv(c, chunk, 1 << 20);
		tether_sleep_ns(20ull * 1000000u);
	}
	assert_int_equal(err, -ECONNRESET);
	assert_int_equal(finish(&s, c), -ETIMEDOUT);
	assert_true(s.took_ns < 3000ull * 1000000u);
	free(chunk);
}

static void link_idle_client_dropped(void **state)
{
	tether_log_set_level(TETHER_LOG_ERROR);
	struct served s;
	struct tether_srv_link_limits lim = {60ull * 1000000000u, 200, TETHER_LINK_TRANSFER_MAX};
	struct tether_conn *c = start(&s, &lim);
	/* Half a request, then silence. */
	uint8_t half[8] = {1};
	struct tether_iovec iov = {half, sizeof(half)};
	assert_int_equal(tether_conn_send(c, &iov, 1), 0);
	assert_int_equal(tether_thread_join(s.thread), 0);
	assert_int_equal(s.result, -ETIMEDOUT);
	assert_true(s.took_ns >= 150ull * 1000000u && s.took_ns < 2000ull * 1000000u);
	tether_conn_close(c);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(link_request_checks),
	cmocka_unit_test(link_echo_sink_source_move_every_byte),
	cmocka_unit_test(link_bad_requests_refused_with_reason),
	cmocka_unit_test(link_time_limit_ends_connection),
	cmocka_unit_test(link_idle_client_dropped),
};

TETHER_CMOCKA_MAIN(tests)
