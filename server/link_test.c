/*
 * The link-test channel on tetherd (link_test.h): requests are checked
 * before anything is read or allocated for them, one fixed buffer serves all
 * transfers, and the connection's time is bounded three ways: a whole-life
 * deadline checked between requests and between chunks, and send and receive
 * timeouts so that a client that stops reading or writing cannot hold the
 * process.
 */
#include "server/link_test.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "protocol/link_test.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

/* Transfers move through this buffer, a chunk at a time. */
#define CHUNK_SIZE (1u << 20)
/* After a refusal: how long and how much of what the client already sent
 * is read and dropped, so that closing does not reset the connection
 * before the refusal has reached the client. */
#define DRAIN_MS 200
#define DRAIN_MAX (4u << 20)

struct link_test {
	struct tether_conn *c;
	struct tether_srv_link_limits lim;
	uint64_t deadline;
	uint8_t *buf; /* CHUNK_SIZE */
};

static bool expired(const struct link_test *t)
{
	return tether_time_ns() >= t->deadline;
}

static int respond(struct link_test *t, uint32_t status, uint64_t value, const char *text)
{
	uint8_t h[TETHER_LINK_HEADER_SIZE];
	size_t n = text ? strlen(text) : 0;
	if (n > TETHER_LINK_TEXT_MAX)
		n = TETHER_LINK_TEXT_MAX;
	struct tether_link_response r = {status, (uint32_t)n, value};
	tether_link_response_encode(&r, h);
	struct tether_iovec iov[2] = {{h, sizeof(h)}, {text, n}};
	return tether_conn_send(t->c, iov, n ? 2 : 1);
}

/* Says why, then stops reading and drains briefly (see DRAIN_MS). */
static int refuse(struct link_test *t, uint32_t status, const char *why, int err)
{
	TETHER_LOGW("link-test", "%s: refused: %s", tether_conn_peer(t->c), why);
	if (respond(t, status, 0, why) < 0)
		return err;
	int fd = tether_conn_fd(t->c);
	shutdown(fd, SHUT_WR);
	tether_conn_set_timeout(t->c, DRAIN_MS);
	for (size_t drained = 0; drained < DRAIN_MAX; drained += 1024)
		if (tether_conn_recv(t->c, t->buf, 1024) < 0)
			break;
	return err;
}

static int serve_echo(struct link_test *t, size_t n)
{
	int err = tether_conn_recv(t->c, t->buf, n);
	if (!err)
		err = respond(t, TETHER_LINK_OK, n, NULL);
	if (!err) {
		struct tether_iovec iov = {t->buf, n};
		err = tether_conn_send(t->c, &iov, 1);
	}
	return err;
}

static int serve_sink(struct link_test *t, uint64_t size)
{
	int err = respond(t, TETHER_LINK_OK, 0, NULL);
	uint64_t t0 = tether_time_ns();
	for (uint64_t done = 0; !err && done < size;) {
		size_t n = size - done < CHUNK_SIZE ? (size_t)(size - done) : CHUNK_SIZE;
		if (expired(t))
			return -ETIMEDOUT;
		err = tether_conn_recv(t->c, t->buf, n);
		done += n;
	}
	if (!err)
		err = respond(t, TETHER_LINK_OK, tether_time_ns() - t0, NULL);
	return err;
}

static int serve_source(struct link_test *t, uint64_t size)
{
	int err = respond(t, TETHER_LINK_OK, size, NULL);
	for (uint64_t done = 0; !err && done < size;) {
		size_t n = size - done < CHUNK_SIZE ? (size_t)(size - done) : CHUNK_SIZE;
		if (expired(t))
			return -ETIMEDOUT;
		struct tether_iovec iov = {t->buf, n};
		err = tether_conn_send(t->c, &iov, 1);
		done += n;
	}
	return err;
}

/* One request: read, checked, served. */
static int serve_one(struct link_test *t)
{
	uint8_t h[TETHER_LINK_HEADER_SIZE];
	struct tether_link_request r;
	char why[TETHER_LINK_TEXT_MAX];
	int err = tether_conn_recv(t->c, h, sizeof(h));
	if (err)
		return err;
	tether_link_request_decode(h, &r);
	if (tether_link_request_check(&r, t->lim.transfer_max, why, sizeof(why)))
		return refuse(t, TETHER_LINK_REFUSED, why, -EINVAL);
	if (expired(t)) {
		snprintf(why, sizeof(why), "this link test has had its %.1f s", t->lim.max_ns / 1e9);
		return refuse(t, TETHER_LINK_EXPIRED, why, -ETIMEDOUT);
	}
	switch (r.op) {
	case TETHER_LINK_ECHO:
		return serve_echo(t, (size_t)r.size);
	case TETHER_LINK_SINK:
		return serve_sink(t, r.size);
	default:
		return serve_source(t, r.size);
	}
}

/* Sends must not wait forever on a client that stopped reading. */
static void set_send_timeout(struct tether_conn *c, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	setsockopt(tether_conn_fd(c), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int tether_srv_link_test_serve(struct tether_conn *c, const struct tether_srv_link_limits *limits)
{
	static const struct tether_srv_link_limits defaults = {
		(uint64_t)TETHER_LINK_MAX_SECONDS * 1000000000u, TETHER_LINK_IDLE_MS, TETHER_LINK_TRANSFER_MAX};
	struct link_test t = {.c = c, .lim = limits ? *limits : defaults};
	if (t.lim.transfer_max > TETHER_LINK_TRANSFER_MAX)
		t.lim.transfer_max = TETHER_LINK_TRANSFER_MAX;
	t.buf = malloc(CHUNK_SIZE);
	if (!t.buf)
		return -ENOMEM;
	/* Random bytes: nothing on the path can make a transfer cheaper by compressing it. */
	for (size_t i = 0; i < CHUNK_SIZE; i += 4) {
		uint32_t x = (uint32_t)(i * 2654435761u) ^ 0x9e3779b9u;
		memcpy(t.buf + i, &x, 4);
	}
	t.deadline = tether_time_ns() + t.lim.max_ns;
	tether_conn_set_timeout(c, t.lim.idle_ms);
	set_send_timeout(c, t.lim.idle_ms);
	uint64_t requests = 0;
	int err;
	while (!(err = serve_one(&t)))
		requests++;
	if (err == -ECONNRESET)
		err = 0; /* the client is done */
	TETHER_LOGI("link-test", "%s: link test ended after %llu requests (%s)", tether_conn_peer(c),
		    (unsigned long long)requests, err ? strerror(-err) : "client left");
	free(t.buf);
	return err;
}

int tether_srv_link_test_run(struct tether_conn *c, const struct tether_handshake_result *hello,
			     const char *server_name)
{
	int err = tether_handshake_server_accept(c, server_name, hello, NULL);
	if (err)
		return err;
	TETHER_LOGI("link-test", "%s: link test for \"%s\"", tether_conn_peer(c), hello->peer_name);
	return tether_srv_link_test_serve(c, NULL);
}
