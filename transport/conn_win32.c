/* tether connections on Windows (Winsock2, mingw-w64): TCP only, WSASend
 * gather sends, select()-based receive timeouts (a timed-out SO_RCVTIMEO
 * leaves a Winsock socket in an undefined state). API and semantics: conn.h. */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <windows.h>

#include "transport/conn.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RBUF_SIZE (64 * 1024)
#define BUFFERED_MAX (RBUF_SIZE / 2) /* see conn_posix.c */
#define SEND_IOV_BATCH 64
#define WSABUF_MAX (1u << 30)         /* WSABUF.len is a ULONG */
#define WANT_SOCKBUF (4 << 20)
#define PEER_MAX 80

struct tether_conn {
	SOCKET s;
	int timeout_ms;
	int broken;
	atomic_int shut;
	size_t rpos, rlen;
	char peer[PEER_MAX];
	uint8_t rbuf[RBUF_SIZE];
};

struct tether_listener {
	SOCKET s;
};

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_status;

static BOOL CALLBACK wsa_init(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
	WSADATA data;
	(void)once, (void)param, (void)ctx;
	wsa_status = WSAStartup(MAKEWORD(2, 2), &data);
	return TRUE;
}

/* Winsock must be started once per process before any socket call. */
static int wsa_ready(void)
{
	InitOnceExecuteOnce(&wsa_once, wsa_init, NULL, NULL);
	if (wsa_status)
		return TETHER_ERR("transport", -EIO, "WSAStartup failed: %d", wsa_status);
	return 0;
}

/* WSAGetLastError() as a negative errno; Winsock's codes are not errno's. */
static int wsa_errno(int e)
{
	switch (e) {
	case WSAECONNRESET: return -ECONNRESET;
	case WSAECONNREFUSED: return -ECONNREFUSED;
	case WSAECONNABORTED: return -ECONNABORTED;
	case WSAETIMEDOUT: return -ETIMEDOUT;
	case WSAEWOULDBLOCK: return -EAGAIN;
	case WSAEADDRINUSE: return -EADDRINUSE;
	case WSAEADDRNOTAVAIL: return -EADDRNOTAVAIL;
	case WSAEHOSTUNREACH: return -EHOSTUNREACH;
	case WSAENETUNREACH: return -ENETUNREACH;
	case WSAENETDOWN: return -ENETDOWN;
	case WSAESHUTDOWN: return -EPIPE;
	case WSAENOBUFS: return -ENOMEM;
	case WSAEINVAL: return -EINVAL;
	case WSAEINTR: return -EINTR;
	default: return -EIO;
	}
}

static int last_err(void)
{
	return wsa_errno(WSAGetLastError());
}

#ifndef TCP_MAXRT
#define TCP_MAXRT 5 /* ws2ipdef.h (Windows Vista and later); older MinGW headers lack it */
#endif

static void tune_socket(SOCKET s)
{
	BOOL one = TRUE;
	int size = WANT_SOCKBUF;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, (const char *)&size, sizeof(size));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, (const char *)&size, sizeof(size));
	/* A dead peer is found within the link timeout (conn.h): keep-alive
	 * probes every second once idle for one (Windows sends 10 before it
	 * gives up), and retransmissions for no longer than the timeout. */
	int timeout_ms = tether_link_timeout_ms();
	struct tcp_keepalive ka = {.onoff = 1, .keepalivetime = 1000, .keepaliveinterval = 1000};
	DWORD bytes = 0;
	WSAIoctl(s, SIO_KEEPALIVE_VALS, &ka, sizeof(ka), NULL, 0, &bytes, NULL, NULL);
	DWORD max_rt = (DWORD)(timeout_ms + 999) / 1000;
	setsockopt(s, IPPROTO_TCP, TCP_MAXRT, (const char *)&max_rt, sizeof(max_rt));
}

static void format_inet(const struct sockaddr *sa, int len, char *buf, size_t size)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static int conn_new(SOCKET s, const char *peer, struct tether_conn **out)
{
	struct tether_conn *c = malloc(sizeof(*c));
	if (!c) {
		closesocket(s);
		return -ENOMEM;
	}
	c->s = s;
	c->timeout_ms = 0;
	c->broken = 0;
	atomic_init(&c->shut, 0);
	c->rpos = c->rlen = 0;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	tune_socket(s);
	*out = c;
	return 0;
}

static SOCKET new_socket(const struct addrinfo *ai)
{
	/* Not inherited by child processes the application may spawn. */
	return WSASocketW(ai->ai_family, ai->ai_socktype, ai->ai_protocol, NULL, 0,
			  WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
}

static int parse_tcp(const char *addr, struct tether_address *a, int passive, struct addrinfo **res)
{
	int err = tether_address_parse(addr, a);
	if (err)
		return err;
	if (a->kind != TETHER_ADDRESS_TCP)
		return TETHER_ERR("transport", -ENOTSUP, "%s: unix sockets are not supported on Windows", addr);
	err = wsa_ready();
	if (err)
		return err;
	struct addrinfo hints = { 0 };
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	err = getaddrinfo(a->host, a->port, &hints, res);
	if (!err)
		return 0;
	TETHER_LOGW("transport", "cannot resolve %s: error %d", a->host, err);
	return err == WSA_NOT_ENOUGH_MEMORY ? -ENOMEM : -EHOSTUNREACH;
}

/* Non-blocking connect bounded by @timeout_ms, then back to blocking. */
static int connect_timed(SOCKET s, const struct sockaddr *sa, int len, int timeout_ms)
{
	u_long nb = 1;
	ioctlsocket(s, FIONBIO, &nb);
	int err = connect(s, sa, len) ? WSAGetLastError() : 0;
	if (err == WSAEWOULDBLOCK) {
		fd_set wr, ex;
		FD_ZERO(&wr);
		FD_ZERO(&ex);
		FD_SET(s, &wr);
		FD_SET(s, &ex);
		struct timeval tv = { timeout_ms / 1000, timeout_ms % 1000 * 1000 };
		int r = select(0, NULL, &wr, &ex, &tv);
		if (r == 0) {
			err = WSAETIMEDOUT;
		} else if (r < 0) {
			err = WSAGetLastError();
		} else {
			int soerr = 0, sl = sizeof(soerr);
			getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&soerr, &sl);
			err = soerr;
		}
	}
	nb = 0;
	ioctlsocket(s, FIONBIO, &nb);
	return err ? wsa_errno(err) : 0;
}

int tether_conn_connect(const char *addr, struct tether_conn **out)
{
	return tether_conn_connect_timeout(addr, 0, out);
}

int tether_conn_connect_timeout(const char *addr, int timeout_ms, struct tether_conn **out)
{
	struct tether_address a;
	if (timeout_ms <= 0)
		timeout_ms = TETHER_CONNECT_TIMEOUT_MS;
	struct addrinfo *res;
	int err = parse_tcp(addr, &a, 0, &res);
	if (err)
		return err;
	err = -EHOSTUNREACH;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		SOCKET s = new_socket(ai);
		if (s == INVALID_SOCKET) {
			err = last_err();
			continue;
		}
		err = connect_timed(s, ai->ai_addr, (int)ai->ai_addrlen, timeout_ms);
		if (!err) {
			char peer[PEER_MAX];
			format_inet(ai->ai_addr, (int)ai->ai_addrlen, peer, sizeof(peer));
			freeaddrinfo(res);
			return conn_new(s, peer, out);
		}
		TETHER_LOGD("transport", "connect %s:%s: error %d", a.host, a.port, err);
		closesocket(s);
	}
	freeaddrinfo(res);
	return err;
}

int tether_listener_open(const char *addr, struct tether_listener **out)
{
	struct tether_address a;
	struct addrinfo *res;
	int err = parse_tcp(addr, &a, 1, &res);
	if (err)
		return err;
	err = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		SOCKET s = new_socket(ai);
		if (s == INVALID_SOCKET) {
			err = last_err();
			continue;
		}
		/* Windows' SO_REUSEADDR lets another process steal a bound port;
		 * SO_EXCLUSIVEADDRUSE is the safe default there and TIME_WAIT
		 * does not block rebinding a listener on Windows anyway. */
		BOOL one = TRUE;
		setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof(one));
		if (!bind(s, ai->ai_addr, (int)ai->ai_addrlen) && !listen(s, SOMAXCONN)) {
			struct tether_listener *l = malloc(sizeof(*l));
			freeaddrinfo(res);
			if (!l) {
				closesocket(s);
				return -ENOMEM;
			}
			l->s = s;
			*out = l;
			return 0;
		}
		err = last_err();
		closesocket(s);
	}
	freeaddrinfo(res);
	return TETHER_ERR("transport", err, "cannot listen on %s", addr);
}

int tether_listener_address(struct tether_listener *l, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	char s[PEER_MAX];
	if (getsockname(l->s, (struct sockaddr *)&ss, &sl))
		return last_err();
	format_inet((struct sockaddr *)&ss, sl, s, sizeof(s));
	if (strlen(s) >= len)
		return -ENOSPC;
	strcpy(buf, s);
	return 0;
}

int tether_listener_accept(struct tether_listener *l, struct tether_conn **out)
{
	for (;;) {
		struct sockaddr_storage ss;
		int sl = sizeof(ss);
		SOCKET s = accept(l->s, (struct sockaddr *)&ss, &sl);
		if (s != INVALID_SOCKET) {
			char peer[PEER_MAX];
			format_inet((struct sockaddr *)&ss, sl, peer, sizeof(peer));
			return conn_new(s, peer, out);
		}
		int e = WSAGetLastError();
		if (e != WSAECONNRESET && e != WSAEINTR)
			return wsa_errno(e);
	}
}

void tether_listener_close(struct tether_listener *l)
{
	if (!l)
		return;
	closesocket(l->s);
	free(l);
}

int tether_conn_send(struct tether_conn *c, const struct tether_iovec *iov, int iovcnt)
{
	WSABUF v[SEND_IOV_BATCH];
	int i = 0;
	size_t off = 0; /* bytes of iov[i] already sent */

	for (;;) {
		while (i < iovcnt && iov[i].len == off) {
			i++;
			off = 0;
		}
		if (i == iovcnt)
			return 0;
		DWORD n = 0;
		size_t skip = off;
		for (int j = i; j < iovcnt && n < SEND_IOV_BATCH; j++, skip = 0) {
			size_t rem = iov[j].len - skip;
			if (!rem)
				continue;
			v[n].buf = (char *)(uintptr_t)iov[j].base + skip;
			v[n].len = rem > WSABUF_MAX ? WSABUF_MAX : (ULONG)rem;
			n++;
			if (rem > WSABUF_MAX)
				break; /* the rest of this piece goes in the next round */
		}
		DWORD sent = 0;
		if (WSASend(c->s, v, n, &sent, 0, NULL, NULL))
			return atomic_load(&c->shut) ? -ECONNABORTED : last_err();
		for (size_t left = sent; left;) {
			size_t rem = iov[i].len - off;
			if (left < rem) {
				off += left;
				break;
			}
			left -= rem;
			i++;
			off = 0;
		}
	}
}

/* One recv(), preceded by a select() when a timeout is set. */
static int read_some(struct tether_conn *c, void *p, size_t n, size_t *got)
{
	if (c->timeout_ms > 0) {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(c->s, &rd);
		struct timeval tv = { c->timeout_ms / 1000, c->timeout_ms % 1000 * 1000 };
		int r = select(0, &rd, NULL, NULL, &tv);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return atomic_load(&c->shut) ? -ECONNABORTED : last_err();
	}
	int r = recv(c->s, (char *)p, n > INT_MAX ? INT_MAX : (int)n, 0);
	if (r > 0) {
		*got = (size_t)r;
		return 0;
	}
	if (atomic_load(&c->shut))
		return -ECONNABORTED;
	return r == 0 ? -ECONNRESET : last_err();
}

int tether_conn_recv(struct tether_conn *c, void *buf, size_t len)
{
	size_t avail = c->rlen - c->rpos, got = 0;
	int err;

	if (c->broken)
		return c->broken;
	if (len <= avail) {
		memcpy(buf, c->rbuf + c->rpos, len);
		c->rpos += len;
		return 0;
	}
	if (len <= BUFFERED_MAX) {
		/* Nothing is consumed until the whole request is buffered. */
		if (c->rpos + len > RBUF_SIZE) {
			memmove(c->rbuf, c->rbuf + c->rpos, avail);
			c->rpos = 0;
			c->rlen = avail;
		}
		while (c->rlen - c->rpos < len) {
			err = read_some(c, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, &got);
			if (err)
				return err;
			c->rlen += got;
		}
		memcpy(buf, c->rbuf + c->rpos, len);
		c->rpos += len;
		return 0;
	}
	memcpy(buf, c->rbuf + c->rpos, avail);
	c->rpos = c->rlen = 0;
	for (size_t done = avail; done < len; done += got) {
		err = read_some(c, (uint8_t *)buf + done, len - done, &got);
		if (err) {
			if (err == -ETIMEDOUT && done > 0)
				c->broken = -EIO;
			return err;
		}
	}
	return 0;
}

int tether_conn_set_timeout(struct tether_conn *c, int timeout_ms)
{
	if (timeout_ms < 0)
		return -EINVAL;
	c->timeout_ms = timeout_ms;
	return 0;
}

void tether_conn_close_write(struct tether_conn *c)
{
	shutdown(c->s, SD_SEND);
}

void tether_conn_shutdown(struct tether_conn *c)
{
	atomic_store(&c->shut, 1);
	shutdown(c->s, SD_BOTH);
}

void tether_conn_close(struct tether_conn *c)
{
	if (!c)
		return;
	closesocket(c->s);
	free(c);
}

const char *tether_conn_peer(const struct tether_conn *c)
{
	return c ? c->peer : "(no connection)";
}
