/* tether connections on POSIX: TCP and Unix stream sockets, sendmsg gather
 * sends with MSG_NOSIGNAL, and a 64 KiB read buffer so that message headers
 * and small replies cost no extra syscall. API and semantics: conn.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC */
#endif
#include "transport/conn.h"
#include "transport/platform/log.h"
#ifdef TETHER_HAVE_TLS
#include "transport/tls_internal.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RBUF_SIZE (64 * 1024)
/* Reads up to this size go through the buffer (and can be retried after a
 * timeout); larger ones go straight to the caller's memory. */
#define BUFFERED_MAX (RBUF_SIZE / 2)
#define SEND_IOV_BATCH 64
#define WANT_SOCKBUF (4 << 20)
#define PEER_MAX (TETHER_ADDRESS_MAX_PATH + 8)

struct tether_conn {
	int fd;
	int broken;       /* sticky negative errno after a half-done large read */
	atomic_int shut;  /* tether_conn_shutdown() was called */
	int timeout_ms;   /* tether_conn_set_timeout(); TLS waits in poll() with it */
#ifdef TETHER_HAVE_TLS
	struct tether_tls_link *tls; /* after a TLS handshake: every byte goes through it */
#endif
	size_t rpos, rlen; /* unread bytes are rbuf[rpos..rlen) */
	char peer[PEER_MAX];
	uint8_t rbuf[RBUF_SIZE];
};

struct tether_listener {
	int fd;
	enum tether_address_kind kind;
	char path[TETHER_ADDRESS_MAX_PATH + 1]; /* unix: file to remove at close */
};

/* Value of a net.core sysctl, or 0 when unreadable. */
static long read_sysctl(const char *path)
{
	long v = 0;
	FILE *f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void tune_socket(int fd, enum tether_address_kind kind)
{
	int one = 1, size = WANT_SOCKBUF;

	if (kind == TETHER_ADDRESS_TCP) {
		/* Commands are batched by the ICD already; Nagle would only add latency. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* Setting SO_*BUF switches off Linux's TCP buffer autotuning (which
		 * grows to tcp_rmem's max, 6 MiB by default), and the kernel caps the
		 * request at net.core.*mem_max (208 KiB by default). Only ask when
		 * the cap lets us have the full 4 MiB. */
		if (read_sysctl("/proc/sys/net/core/wmem_max") >= size)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		if (read_sysctl("/proc/sys/net/core/rmem_max") >= size)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		/* A dead peer is found within the link timeout (conn.h): probes
		 * every second once idle for one, unacknowledged data for no longer. */
		int timeout_ms = tether_link_timeout_ms();
		int idle = 1, interval = 1, probes = timeout_ms / 1000 - 1;
		if (probes < 1)
			probes = 1;
		unsigned user_timeout = (unsigned)timeout_ms;
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	} else {
		/* Unix sockets do not autotune: larger is always better, up to the cap. */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
}

/* "1.2.3.4:80" or "[::1]:80" for a TCP socket address. */
static void format_inet(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static int conn_new(int fd, enum tether_address_kind kind, const char *peer, struct tether_conn **out)
{
	struct tether_conn *c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->broken = 0;
	c->timeout_ms = 0;
#ifdef TETHER_HAVE_TLS
	c->tls = NULL;
#endif
	atomic_init(&c->shut, 0);
	c->rpos = c->rlen = 0;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	tune_socket(fd, kind);
	*out = c;
	return 0;
}

static int resolve(const struct tether_address *a, int passive, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG,
	};
	int err = getaddrinfo(a->host, a->port, &hints, res);
	if (!err)
		return 0;
	TETHER_LOGW("transport", "cannot resolve %s: %s", a->host, gai_strerror(err));
	if (err == EAI_MEMORY)
		return -ENOMEM;
	if (err == EAI_SYSTEM)
		return errno ? -errno : -EIO;
	return -EHOSTUNREACH;
}

static int unix_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* Non-blocking connect bounded by @timeout_ms, then back to blocking. */
static int connect_timed(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	int err = connect(fd, sa, len) ? -errno : 0;
	if (err == -EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			err = -ETIMEDOUT;
		} else {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			err = -soerr;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return err;
}

static int connect_unix(const struct tether_address *a, struct tether_conn **out)
{
	struct sockaddr_un sun;
	int err = unix_sockaddr(a->path, &sun);
	if (err)
		return err;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		close(fd);
		TETHER_LOGD("transport", "connect unix:%s: %s", a->path, strerror(-err));
		return err;
	}
	char peer[PEER_MAX];
	snprintf(peer, sizeof(peer), "unix:%s", a->path);
	return conn_new(fd, TETHER_ADDRESS_UNIX, peer, out);
}

static int connect_tcp(const struct tether_address *a, int timeout_ms, struct tether_conn **out)
{
	struct addrinfo *res;
	int err = resolve(a, 0, &res);
	if (err)
		return err;
	err = -EHOSTUNREACH;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		err = connect_timed(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
		if (!err) {
			char peer[PEER_MAX];
			format_inet(ai->ai_addr, ai->ai_addrlen, peer, sizeof(peer));
			freeaddrinfo(res);
			return conn_new(fd, TETHER_ADDRESS_TCP, peer, out);
		}
		TETHER_LOGD("transport", "connect %s:%s: %s", a->host, a->port, strerror(-err));
		close(fd);
	}
	freeaddrinfo(res);
	return err;
}

int tether_conn_connect(const char *addr, struct tether_conn **out)
{
	return tether_conn_connect_timeout(addr, 0, out);
}

int tether_conn_connect_timeout(const char *addr, int timeout_ms, struct tether_conn **out)
{
	struct tether_address a;
	int err = tether_address_parse(addr, &a);
	if (err)
		return err;
	if (timeout_ms <= 0)
		timeout_ms = TETHER_CONNECT_TIMEOUT_MS;
	return a.kind == TETHER_ADDRESS_UNIX ? connect_unix(&a, out) : connect_tcp(&a, timeout_ms, out);
}

/* A socket file is stale when nobody answers on it (its server died). */
static int remove_stale_socket(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return TETHER_ERR("transport", -EADDRINUSE, "%s exists and is not a socket", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 || errno != ECONNREFUSED;
	close(fd);
	if (live)
		return TETHER_ERR("transport", -EADDRINUSE, "unix:%s: another server is listening", path);
	TETHER_LOGI("transport", "removing stale socket %s", path);
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

static int listen_unix(const struct tether_address *a, struct tether_listener *l)
{
	struct sockaddr_un sun;
	int err = unix_sockaddr(a->path, &sun);
	if (!err)
		err = remove_stale_socket(a->path, &sun);
	if (err)
		return err;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Unix sockets are not encrypted or paired: who may connect is who may
	 * write the socket file. 0660 whatever the umask: the owner and the
	 * owner's group (docs/SECURITY.md). Set before listen(), so no
	 * connection can come in under looser permissions. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(a->path, 0660) || listen(fd, SOMAXCONN)) {
		err = -errno;
		close(fd);
		return err;
	}
	l->fd = fd;
	snprintf(l->path, sizeof(l->path), "%s", a->path);
	return 0;
}

static int listen_tcp(const struct tether_address *a, struct tether_listener *l)
{
	struct addrinfo *res;
	int err = resolve(a, 1, &res);
	if (err)
		return err;
	err = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int one = 1;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		/* A restarted tetherd must not wait out TIME_WAIT of its old sessions. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, SOMAXCONN)) {
			l->fd = fd;
			freeaddrinfo(res);
			return 0;
		}
		err = -errno;
		close(fd);
	}
	freeaddrinfo(res);
	return err;
}

int tether_listener_open(const char *addr, struct tether_listener **out)
{
	struct tether_address a;
	int err = tether_address_parse(addr, &a);
	if (err)
		return err;
	struct tether_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->kind = a.kind;
	err = a.kind == TETHER_ADDRESS_UNIX ? listen_unix(&a, l) : listen_tcp(&a, l);
	if (err) {
		free(l);
		return TETHER_ERR("transport", err, "cannot listen on %s: %s", addr, strerror(-err));
	}
	*out = l;
	return 0;
}

int tether_listener_address(struct tether_listener *l, char *buf, size_t len)
{
	char s[PEER_MAX];
	if (l->kind == TETHER_ADDRESS_UNIX) {
		snprintf(s, sizeof(s), "unix:%s", l->path);
	} else {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getsockname(l->fd, (struct sockaddr *)&ss, &sl))
			return -errno;
		format_inet((struct sockaddr *)&ss, sl, s, sizeof(s));
	}
	if (strlen(s) >= len)
		return -ENOSPC;
	strcpy(buf, s);
	return 0;
}

int tether_listener_accept(struct tether_listener *l, struct tether_conn **out)
{
	struct sockaddr_storage ss;
	for (;;) {
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd >= 0) {
			char peer[PEER_MAX];
			if (l->kind == TETHER_ADDRESS_UNIX)
				snprintf(peer, sizeof(peer), "unix:%s", l->path);
			else
				format_inet((struct sockaddr *)&ss, sl, peer, sizeof(peer));
			return conn_new(fd, l->kind, peer, out);
		}
		/* The client gave up between SYN and accept: wait for the next. */
		if (errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
}

void tether_listener_close(struct tether_listener *l)
{
	if (!l)
		return;
	close(l->fd);
	if (l->kind == TETHER_ADDRESS_UNIX)
		unlink(l->path);
	free(l);
}

int tether_conn_send(struct tether_conn *c, const struct tether_iovec *iov, int iovcnt)
{
	struct iovec v[SEND_IOV_BATCH];
	int i = 0;
	size_t off = 0; /* bytes of iov[i] already sent */

#ifdef TETHER_HAVE_TLS
	if (c->tls)
		return tether_tls_link_send(c->tls, iov, iovcnt, &c->shut);
#endif
	for (;;) {
		while (i < iovcnt && iov[i].len == off) {
			i++;
			off = 0;
		}
		if (i == iovcnt)
			return 0;
		int n = 0;
		for (int j = i; j < iovcnt && n < SEND_IOV_BATCH; j++) {
			size_t skip = j == i ? off : 0;
			if (iov[j].len == skip)
				continue;
			v[n].iov_base = (char *)(uintptr_t)iov[j].base + skip;
			v[n].iov_len = iov[j].len - skip;
			n++;
		}
		struct msghdr mh = { .msg_iov = v, .msg_iovlen = (size_t)n };
		ssize_t r = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return atomic_load(&c->shut) ? -ECONNABORTED : -errno;
		}
		for (size_t left = (size_t)r; left;) {
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

/* One recv(); EOF and timeouts turned into errors. */
static int read_some(struct tether_conn *c, void *p, size_t n, int flags, size_t *got)
{
#ifdef TETHER_HAVE_TLS
	if (c->tls)
		return tether_tls_link_read(c->tls, p, n, c->timeout_ms, &c->shut, got);
#endif
	for (;;) {
		ssize_t r = recv(c->fd, p, n, flags);
		if (r > 0) {
			*got = (size_t)r;
			return 0;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (atomic_load(&c->shut))
			return -ECONNABORTED;
		if (r == 0)
			return -ECONNRESET;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	}
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
		/* Fill the buffer until the whole request is there; nothing is
		 * consumed before that, so a timeout can be retried. */
		if (c->rpos + len > RBUF_SIZE) {
			memmove(c->rbuf, c->rbuf + c->rpos, avail);
			c->rpos = 0;
			c->rlen = avail;
		}
		while (c->rlen - c->rpos < len) {
			err = read_some(c, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0, &got);
			if (err)
				return err;
			c->rlen += got;
		}
		memcpy(buf, c->rbuf + c->rpos, len);
		c->rpos += len;
		return 0;
	}
	/* Large read: drain what is buffered, then read in place. */
	memcpy(buf, c->rbuf + c->rpos, avail);
	c->rpos = c->rlen = 0;
	for (size_t done = avail; done < len; done += got) {
		err = read_some(c, (uint8_t *)buf + done, len - done, MSG_WAITALL, &got);
		if (err) {
			if (err == -ETIMEDOUT && done > 0)
				c->broken = -EIO; /* the stream is now mid-message */
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
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	return setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ? -errno : 0;
}

void tether_conn_shutdown(struct tether_conn *c)
{
	atomic_store(&c->shut, 1);
	shutdown(c->fd, SHUT_RDWR);
}

void tether_conn_close_write(struct tether_conn *c)
{
#ifdef TETHER_HAVE_TLS
	if (c->tls)
		tether_tls_link_close_notify(c->tls);
#endif
	shutdown(c->fd, SHUT_WR);
}

void tether_conn_close(struct tether_conn *c)
{
	if (!c)
		return;
#ifdef TETHER_HAVE_TLS
	tether_tls_link_free(c->tls);
#endif
	close(c->fd);
	free(c);
}

const char *tether_conn_peer(const struct tether_conn *c)
{
	return c ? c->peer : "(no connection)";
}

int tether_conn_from_fd(int fd, struct tether_conn **out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int type = 0, err = 0;
	socklen_t tl = sizeof(type);
	char peer[PEER_MAX];

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) || getsockname(fd, (struct sockaddr *)&ss, &sl))
		err = -errno;
	else if (type != SOCK_STREAM ||
		 (ss.ss_family != AF_UNIX && ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	if (ss.ss_family == AF_UNIX) {
		/* The accepted end's own name is the listener's path, which is
		 * how tether_listener_accept() names its peers. */
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
		size_t n = sl > offsetof(struct sockaddr_un, sun_path) ? sl - offsetof(struct sockaddr_un, sun_path) : 0;
		snprintf(peer, sizeof(peer), "unix:%.*s", (int)strnlen(sun->sun_path, n), sun->sun_path);
		return conn_new(fd, TETHER_ADDRESS_UNIX, peer, out);
	}
	sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl)) {
		err = -errno;
		close(fd);
		return err;
	}
	format_inet((struct sockaddr *)&ss, sl, peer, sizeof(peer));
	return conn_new(fd, TETHER_ADDRESS_TCP, peer, out);
}

int tether_conn_fd(const struct tether_conn *c)
{
	return c->fd;
}

int tether_listener_fd(const struct tether_listener *l)
{
	return l->fd;
}

#ifdef TETHER_HAVE_TLS
int tether_conn_attach_tls(struct tether_conn *c, struct tether_tls_link *l)
{
	/* Bytes read before the handshake would be plaintext the peer sent
	 * ahead of TLS: nothing may be buffered. */
	if (c->rpos != c->rlen || c->tls)
		return -EPROTO;
	c->tls = l;
	return 0;
}

struct tether_tls_link *tether_conn_tls_link(const struct tether_conn *c)
{
	return c->tls;
}
#endif
