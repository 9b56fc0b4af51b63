/* tests for transport/conn.h: TCP and Unix loopback connections, 64 MiB gather
 * transfers compared byte for byte, EOF, timeouts, shutdown and bad addresses.
 * Run one test per CTest entry: test_conn <test name>. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"

#include "transport/conn.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#define BIG (64u << 20)

struct pair {
	struct tether_listener *l;
	struct tether_conn *client, *server;
	char addr[128];
};

/* Listen on @listen_addr, connect to what was bound, accept. */
static void pair_open(struct pair *p, const char *listen_addr)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(tether_listener_open(listen_addr, &p->l), 0);
	assert_int_equal(tether_listener_address(p->l, p->addr, sizeof(p->addr)), 0);
	assert_int_equal(tether_conn_connect(p->addr, &p->client), 0);
	assert_int_equal(tether_listener_accept(p->l, &p->server), 0);
}

static void pair_close(struct pair *p)
{
	tether_conn_close(p->client);
	tether_conn_close(p->server);
	tether_listener_close(p->l);
}

static void unix_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "unix:/tmp/tether-test-%d-%s.sock", (int)getpid(), name);
}

static void transport_tcp_connect_accept(void **state)
{
	struct pair p;
	char buf[4];
	pair_open(&p, "127.0.0.1:0");
	assert_true(!strncmp(p.addr, "127.0.0.1:", 10));
	assert_string_not_equal(p.addr, "127.0.0.1:0");
	assert_string_equal(tether_conn_peer(p.client), p.addr);
	assert_true(!strncmp(tether_conn_peer(p.server), "127.0.0.1:", 10));

	struct tether_iovec ping = { "ping", 4 }, pong = { "pong", 4 };
	assert_int_equal(tether_conn_send(p.client, &ping, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, buf, 4), 0);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(tether_conn_send(p.server, &pong, 1), 0);
	assert_int_equal(tether_conn_recv(p.client, buf, 4), 0);
	assert_memory_equal(buf, "pong", 4);
	pair_close(&p);
}

static void transport_ipv6_loopback(void **state)
{
	struct tether_listener *l;
	if (tether_listener_open("[::1]:0", &l)) {
		skip(); /* no IPv6 in this sandbox */
	}
	tether_listener_close(l);
	struct pair p;
	char buf[2];
	pair_open(&p, "[::1]:0");
	assert_true(!strncmp(p.addr, "[::1]:", 6));
	struct tether_iovec v = { "v6", 2 };
	assert_int_equal(tether_conn_send(p.client, &v, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, buf, 2), 0);
	assert_memory_equal(buf, "v6", 2);
	pair_close(&p);
}

/* ---- 64 MiB transfer: gather sends of odd-sized pieces, mixed-size reads ---- */

struct bulk {
	struct tether_conn *c;
	const uint8_t *src;
	int err;
};

static void *bulk_sender(void *arg)
{
	static const size_t sizes[] = { 1, 7, 16, 3, 4096, 100000, 1 << 20, 13, 65536, 32769, 5 << 20 };
	struct bulk *b = arg;
	struct tether_iovec iov[100]; /* more than one sendmsg batch */
	size_t off = 0, k = 0;
	while (off < BIG && !b->err) {
		int n = 0;
		while (n < 99 && off < BIG) { /* room for one empty piece */
			size_t len = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
			if (len > BIG - off)
				len = BIG - off;
			iov[n++] = (struct tether_iovec){ b->src + off, len };
			if (k % 5 == 0)
				iov[n++] = (struct tether_iovec){ b->src, 0 }; /* empty pieces are skipped */
			off += len;
		}
		b->err = tether_conn_send(b->c, iov, n);
	}
	return NULL;
}

static void roundtrip_64MiB(const char *listen_addr)
{
	static const size_t reads[] = { 16, 3, 40000, 1 << 20, 16, 32768, 32769, 7 << 20, 1, 65536 };
	struct pair p;
	struct tether_thread *t;
	uint8_t *src = tether_pages_alloc(BIG), *dst = tether_pages_alloc(BIG);
	assert_non_null(src);
	assert_non_null(dst);
	uint32_t x = 12345;
	for (size_t i = 0; i < BIG; i++) {
		x = x * 1103515245u + 12345u;
		src[i] = (uint8_t)(x >> 16);
	}
	pair_open(&p, listen_addr);
	struct bulk b = { p.client, src, 0 };
	uint64_t t0 = tether_time_ns();
	assert_int_equal(tether_thread_create(&t, bulk_sender, &b), 0);
	size_t off = 0, k = 0;
	while (off < BIG) {
		size_t len = reads[k++ % (sizeof(reads) / sizeof(reads[0]))];
		if (len > BIG - off)
			len = BIG - off;
		assert_int_equal(tether_conn_recv(p.server, dst + off, len), 0);
		off += len;
	}
	assert_int_equal(tether_thread_join(t), 0);
	double s = (double)(tether_time_ns() - t0) / 1e9;
	printf("# %s: 64 MiB in %.3f s (%.0f MiB/s)\n", listen_addr, s, 64 / s);
	assert_int_equal(b.err, 0);
	assert_true(memcmp(src, dst, BIG) == 0);
	pair_close(&p);
	tether_pages_free(src, BIG);
	tether_pages_free(dst, BIG);
}

static void transport_tcp_roundtrip_64MiB(void **state)
{
	roundtrip_64MiB("127.0.0.1:0");
}

static void transport_unix_roundtrip_64MiB(void **state)
{
	char addr[128];
	unix_path(addr, sizeof(addr), "bulk");
	roundtrip_64MiB(addr);
}

/* ---- errors ---- */

static void transport_recv_after_peer_close_fails(void **state)
{
	struct pair p;
	static char buf[1 << 16];
	pair_open(&p, "127.0.0.1:0");
	struct tether_iovec v = { "0123456789", 10 };
	assert_int_equal(tether_conn_send(p.client, &v, 1), 0);
	tether_conn_close(p.client);
	p.client = NULL;
	assert_int_equal(tether_conn_recv(p.server, buf, 4), 0); /* buffered data still arrives */
	assert_int_equal(tether_conn_recv(p.server, buf, 100), -ECONNRESET); /* 6 bytes then EOF */
	/* A failed small read consumed nothing: the 6 bytes are still there. */
	assert_int_equal(tether_conn_recv(p.server, buf, 6), 0);
	assert_memory_equal(buf, "456789", 6);
	assert_int_equal(tether_conn_recv(p.server, buf, 1), -ECONNRESET);
	assert_int_equal(tether_conn_recv(p.server, buf, 1 << 16), -ECONNRESET); /* large read too */
	pair_close(&p);
}

static void transport_send_to_closed_peer_fails(void **state)
{
	struct pair p;
	pair_open(&p, "127.0.0.1:0");
	tether_conn_close(p.server);
	p.server = NULL;
	size_t len = 8 << 20;
	void *junk = calloc(1, len);
	struct tether_iovec v = { junk, len };
	int err = 0;
	/* The first send may land in buffers; a reset peer must show up soon, without SIGPIPE. */
	for (int i = 0; i < 20 && !err; i++)
		err = tether_conn_send(p.client, &v, 1);
	assert_true(err == -EPIPE || err == -ECONNRESET);
	free(junk);
	pair_close(&p);
}

static void transport_recv_timeout_returns_etimedout(void **state)
{
	struct pair p;
	uint8_t buf[16], *big = malloc(1 << 20);
	pair_open(&p, "127.0.0.1:0");
	assert_int_equal(tether_conn_set_timeout(p.server, 100), 0);
	uint64_t t0 = tether_time_ns();
	assert_int_equal(tether_conn_recv(p.server, buf, 16), -ETIMEDOUT);
	uint64_t ms = (tether_time_ns() - t0) / 1000000;
	assert_true(ms >= 90 && ms < 2000);

	/* A small read that timed out half way consumed nothing: retry works. */
	struct tether_iovec half = { "01234567", 8 }, rest = { "89abcdef", 8 };
	assert_int_equal(tether_conn_send(p.client, &half, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, buf, 16), -ETIMEDOUT);
	assert_int_equal(tether_conn_send(p.client, &rest, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, buf, 16), 0);
	assert_memory_equal(buf, "0123456789abcdef", 16);

	/* A large read that timed out part way breaks the connection. */
	assert_int_equal(tether_conn_send(p.client, &half, 1), 0);
	assert_int_equal(tether_conn_recv(p.server, big, 1 << 20), -ETIMEDOUT);
	assert_int_equal(tether_conn_recv(p.server, buf, 1), -EIO);

	/* 0 turns the timeout off again. */
	assert_int_equal(tether_conn_set_timeout(p.client, 0), 0);
	pair_close(&p);
	free(big);
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

static void transport_shutdown_wakes_blocked_reader(void **state)
{
	struct pair p;
	struct tether_thread *t;
	pair_open(&p, "127.0.0.1:0");
	struct blocked b = { p.server, 1 };
	assert_int_equal(tether_thread_create(&t, blocked_reader, &b), 0);
	tether_sleep_ns(50 * 1000000u);
	tether_conn_shutdown(p.server);
	assert_int_equal(tether_thread_join(t), 0);
	assert_int_equal(b.err, -ECONNABORTED);
	pair_close(&p);
}

static void transport_connect_refused(void **state)
{
	struct tether_listener *l;
	struct tether_conn *c = NULL;
	char addr[64];
	assert_int_equal(tether_listener_open("127.0.0.1:0", &l), 0);
	assert_int_equal(tether_listener_address(l, addr, sizeof(addr)), 0);
	assert_int_equal(tether_listener_address(l, addr, 5), -ENOSPC);
	assert_int_equal(tether_listener_address(l, addr, sizeof(addr)), 0);
	tether_listener_close(l);
	assert_int_equal(tether_conn_connect(addr, &c), -ECONNREFUSED);
	assert_null(c);
}

static void transport_bad_addresses_rejected(void **state)
{
	static const char *const bad[] = {
		"", ":", ":7380", "host:", "host:port", "host:65536", "host:123456", "host:-1",
		"host:1:2", "::1", "::1:7380", "[::1", "[::1]7380", "[]:7380", "[::1]:", "unix:",
		"bad host:1", "host/x:1", "h\n:1",
	};
	static const char *const good[] = {
		"127.0.0.1:7380", "[::1]:0", "localhost", "host-name.example:65535", "unix:/tmp/x.sock",
		"[fe80::1%eth0]:7380",
	};
	struct tether_address a;
	struct tether_conn *c = NULL;
	struct tether_listener *l = NULL;
	char huge[600];

	tether_log_set_level(TETHER_LOG_ERROR); /* the rejections warn; keep the output short */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tether_address_parse(bad[i], &a) != -EINVAL)
			fail_msg("accepted bad address \"%s\"", bad[i]);
		assert_int_equal(tether_conn_connect(bad[i], &c), -EINVAL);
		assert_int_equal(tether_listener_open(bad[i], &l), -EINVAL);
	}
	memset(huge, 'a', sizeof(huge));
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(tether_address_parse(huge, &a), -EINVAL);
	memcpy(huge, "unix:", 5);
	assert_int_equal(tether_address_parse(huge, &a), -EINVAL);
	assert_int_equal(tether_address_parse(NULL, &a), -EINVAL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (tether_address_parse(good[i], &a))
			fail_msg("rejected good address \"%s\"", good[i]);
	assert_int_equal(tether_address_parse("localhost", &a), 0);
	assert_string_equal(a.port, "7380");
	assert_int_equal(tether_address_parse("[::1]:99", &a), 0);
	assert_string_equal(a.host, "::1");
	assert_string_equal(a.port, "99");
	assert_int_equal(tether_conn_connect("no-such-host.invalid:1", &c), -EHOSTUNREACH);
	assert_null(c);
	assert_null(l);
}

static void transport_unix_stale_socket_replaced(void **state)
{
	char addr[100];
	struct tether_listener *l, *l2 = NULL;
	unix_path(addr, sizeof(addr), "stale");

	/* A socket file whose server died without removing it. */
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
	unlink(sun.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(tether_listener_open(addr, &l), 0);

	/* A live one is not taken over. */
	assert_int_equal(tether_listener_open(addr, &l2), -EADDRINUSE);
	assert_null(l2);
	tether_listener_close(l);
	assert_int_equal(access(sun.sun_path, F_OK), -1); /* removed at close */
}

/* A Unix socket admits whoever may write its file (no TLS, no pairing):
 * it is made 0660 whatever the umask. */
static void transport_unix_socket_mode_0660(void **state)
{
	char addr[100];
	struct tether_listener *l;
	struct stat st;
	static const mode_t umasks[] = {0, 022, 077};
	for (size_t i = 0; i < sizeof(umasks) / sizeof(umasks[0]); i++) {
		unix_path(addr, sizeof(addr), "mode");
		mode_t old = umask(umasks[i]);
		assert_int_equal(tether_listener_open(addr, &l), 0);
		umask(old);
		assert_int_equal(stat(addr + 5, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0660);
		tether_listener_close(l);
	}
}

#define TEST(fn) cmocka_unit_test(fn)
static const struct CMUnitTest tests[] = {
	TEST(transport_tcp_connect_accept),
	TEST(transport_ipv6_loopback),
	TEST(transport_tcp_roundtrip_64MiB),
	TEST(transport_unix_roundtrip_64MiB),
	TEST(transport_recv_after_peer_close_fails),
	TEST(transport_send_to_closed_peer_fails),
	TEST(transport_recv_timeout_returns_etimedout),
	TEST(transport_shutdown_wakes_blocked_reader),
	TEST(transport_connect_refused),
	TEST(transport_bad_addresses_rejected),
	TEST(transport_unix_stale_socket_replaced),
	TEST(transport_unix_socket_mode_0660),
};

TETHER_CMOCKA_MAIN(tests)
