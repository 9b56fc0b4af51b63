/* A connection's TLS session (tls_internal.h): the bytes conn_posix.c sends
 * and receives once a handshake is done. Sends coalesce small gather pieces
 * into one record and encrypt full records straight from the caller's
 * memory; the records go out through a write buffer, so that one send()
 * carries many 16 KiB records, with MSG_NOSIGNAL (an application using the
 * ICD must never get SIGPIPE). The socket is non-blocking and every SSL call
 * holds a lock only while it runs, so one thread may send while another
 * waits to receive, as conn.h promises. Numbers: docs/PERFORMANCE.md. */
#include "transport/tls_internal.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* One TLS record's plaintext (RFC 8446 5.1): pieces are coalesced up to it. */
#define RECORD_SIZE 16384
/* The most one SSL_write is given: bounds how long the lock is held. */
#define WRITE_CHUNK (256 * 1024)
/* Encrypted records collect here until one send() takes them. */
#define SINK_DEFAULT (256 * 1024)

/* ---- the write side's BIO: a buffer in front of send(MSG_NOSIGNAL) ---- */

struct sink {
	int fd;
	uint8_t *buf;
	size_t cap, head, tail; /* unsent bytes are buf[head..tail) */
};

/* Sends what is buffered. Return: 0 when empty, -EAGAIN, or negative errno. */
static int sink_drain(struct sink *s)
{
	while (s->head < s->tail) {
		ssize_t n = send(s->fd, s->buf + s->head, s->tail - s->head, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		s->head += (size_t)n;
	}
	s->head = s->tail = 0;
	return 0;
}

static int sink_write(BIO *b, const char *data, int len)
{
	struct sink *s = BIO_get_data(b);
	size_t done = 0;
	BIO_clear_retry_flags(b);
	if (!s->cap) {
		/* Unbuffered (for measurements): one send() per record. */
		ssize_t n;
		do
			n = send(s->fd, data, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno == EWOULDBLOCK)
			BIO_set_retry_write(b);
		return n < 0 ? -1 : (int)n;
	}
	while (done < (size_t)len) {
		if (s->tail == s->cap) {
			int err = sink_drain(s);
			if (err == -EAGAIN && s->head > 0) {
				/* Partly sent: make room at the end. */
				memmove(s->buf, s->buf + s->head, s->tail - s->head);
				s->tail -= s->head;
				s->head = 0;
			} else if (err == -EAGAIN) {
				break;
			} else if (err) {
				errno = -err;
				return -1;
			}
		}
		size_t take = (size_t)len - done < s->cap - s->tail ? (size_t)len - done : s->cap - s->tail;
		memcpy(s->buf + s->tail, data + done, take);
		s->tail += take;
		done += take;
	}
	if (!done) {
		BIO_set_retry_write(b);
		return -1;
	}
	return (int)done;
}

static long sink_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sink *s = BIO_get_data(b);
	switch (cmd) {
	case BIO_CTRL_FLUSH: {
		BIO_clear_retry_flags(b);
		int err = sink_drain(s);
		if (err == -EAGAIN)
			BIO_set_retry_write(b);
		else if (err)
			errno = -err;
		return err ? -1 : 1;
	}
	case BIO_CTRL_WPENDING:
		return (long)(s->tail - s->head);
	case BIO_CTRL_PUSH:
	case BIO_CTRL_POP:
		return 0;
	default:
		return 0;
	}
}

static int sink_destroy(BIO *b)
{
	struct sink *s = BIO_get_data(b);
	if (s) {
		free(s->buf);
		free(s);
	}
	BIO_set_data(b, NULL);
	return 1;
}

static BIO_METHOD *sink_method;
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

static void sink_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tether socket writer");
	if (m && BIO_meth_set_write(m, sink_write) && BIO_meth_set_ctrl(m, sink_ctrl) &&
	    BIO_meth_set_destroy(m, sink_destroy))
		sink_method = m;
	else
		BIO_meth_free(m);
}

/* TETHER_TLS_WRITE_BUFFER=BYTES overrides the write buffer (0: none); bench/bench_tls measures it. */
static size_t sink_size(void)
{
	const char *v = tether_getenv("TETHER_TLS_WRITE_BUFFER");
	if (!v || !*v)
		return SINK_DEFAULT;
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	return *end || n > (64u << 20) ? SINK_DEFAULT : (size_t)n;
}

static BIO *sink_new(int fd)
{
	pthread_once(&sink_once, sink_method_init);
	struct sink *s = calloc(1, sizeof(*s));
	BIO *b = sink_method && s ? BIO_new(sink_method) : NULL;
	if (s) {
		s->fd = fd;
		s->cap = sink_size();
		s->buf = s->cap ? malloc(s->cap) : NULL;
	}
	if (!b || (s->cap && !s->buf)) {
		BIO_free(b);
		if (s)
			free(s->buf);
		free(s);
		return NULL;
	}
	BIO_set_data(b, s);
	BIO_set_init(b, 1);
	return b;
}

/* ---- the link ---- */

struct tether_tls_link {
	SSL *ssl;
	int fd;
	struct tether_mutex lock; /* around every call on ssl */
	bool failed;              /* a fatal TLS error: no close_notify at the end */
	bool notified;            /* close_notify sent */
	char peer[128];
	size_t staged;
	uint8_t stage[RECORD_SIZE]; /* small pieces of a send, coalesced */
};

int tether_tls_link_new(SSL *ssl, int fd, const char *peer, struct tether_tls_link **out)
{
	struct tether_tls_link *l = calloc(1, sizeof(*l));
	BIO *rbio = l ? BIO_new_socket(fd, BIO_NOCLOSE) : NULL;
	BIO *wbio = rbio ? sink_new(fd) : NULL;
	if (!wbio) {
		BIO_free(rbio);
		free(l);
		return -ENOMEM;
	}
	SSL_set_bio(ssl, rbio, wbio);
	l->ssl = ssl;
	l->fd = fd;
	snprintf(l->peer, sizeof(l->peer), "%s", peer ? peer : "?");
	tether_mutex_init(&l->lock);
	*out = l;
	return 0;
}

SSL *tether_tls_link_ssl(struct tether_tls_link *l)
{
	return l->ssl;
}

void tether_tls_link_close_notify(struct tether_tls_link *l)
{
	tether_mutex_lock(&l->lock);
	if (!l->failed && !l->notified && SSL_is_init_finished(l->ssl)) {
		/* Best effort: the peer learns the end was intended. */
		ERR_clear_error();
		SSL_shutdown(l->ssl);
		BIO_flush(SSL_get_wbio(l->ssl));
		ERR_clear_error();
		l->notified = true;
	}
	tether_mutex_unlock(&l->lock);
}

void tether_tls_link_free(struct tether_tls_link *l)
{
	if (!l)
		return;
	tether_tls_link_close_notify(l);
	SSL_free(l->ssl);
	tether_mutex_destroy(&l->lock);
	free(l);
}

/* After an SSL call said WANT_READ/WANT_WRITE: wait (@timeout_ms 0: forever).
 * Otherwise: the error it was, as a negative errno. */
static int wait_or_fail(struct tether_tls_link *l, int ssl_err, int sys, int timeout_ms, const atomic_int *shut)
{
	if (ssl_err == SSL_ERROR_WANT_READ || ssl_err == SSL_ERROR_WANT_WRITE) {
		struct pollfd p = {.fd = l->fd, .events = ssl_err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
		int r;
		do
			r = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
		while (r < 0 && errno == EINTR);
		if (atomic_load(shut))
			return -ECONNABORTED;
		if (r == 0)
			return -ETIMEDOUT;
		return r < 0 ? -errno : 0;
	}
	l->failed = true;
	if (atomic_load(shut))
		return -ECONNABORTED;
	if (ssl_err == SSL_ERROR_ZERO_RETURN)
		return -ECONNRESET; /* close_notify: the peer ended the connection */
	if (ssl_err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return sys && sys != EAGAIN ? -sys : -ECONNRESET;
	/* The peer closed without close_notify (it crashed, or was killed):
	 * messages carry their length, so a cut message is still noticed. */
	if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		return -ECONNRESET;
	}
	char why[300];
	tether_tls_log_errors(why, sizeof(why));
	TETHER_LOGW("tls", "%s: TLS error, closing the connection: %s", l->peer, why);
	return -EPROTO;
}

/* Hands @n bytes to SSL_write, in chunks, waiting while the socket is full. */
static int write_all(struct tether_tls_link *l, const uint8_t *p, size_t n, const atomic_int *shut)
{
	while (n) {
		size_t chunk = n < WRITE_CHUNK ? n : WRITE_CHUNK, w = 0;
		tether_mutex_lock(&l->lock);
		ERR_clear_error();
		errno = 0;
		int r = SSL_write_ex(l->ssl, p, chunk, &w);
		int e = r ? SSL_ERROR_NONE : SSL_get_error(l->ssl, r), sys = errno;
		tether_mutex_unlock(&l->lock);
		if (r) {
			p += w;
			n -= w;
			continue;
		}
		int err = wait_or_fail(l, e, sys, 0, shut);
		if (err)
			return err;
	}
	return 0;
}

static int flush(struct tether_tls_link *l, const atomic_int *shut)
{
	for (;;) {
		tether_mutex_lock(&l->lock);
		BIO *w = SSL_get_wbio(l->ssl);
		errno = 0;
		long r = BIO_flush(w);
		bool retry = r <= 0 && BIO_should_retry(w);
		int sys = errno;
		tether_mutex_unlock(&l->lock);
		if (r > 0)
			return 0;
		if (!retry) {
			l->failed = true;
			return atomic_load(shut) ? -ECONNABORTED : (sys ? -sys : -EPIPE);
		}
		int err = wait_or_fail(l, SSL_ERROR_WANT_WRITE, 0, 0, shut);
		if (err)
			return err;
	}
}

int tether_tls_link_send(struct tether_tls_link *l, const struct tether_iovec *iov, int iovcnt,
			 const atomic_int *shut)
{
	int err = 0;
	for (int i = 0; i < iovcnt && !err; i++) {
		const uint8_t *p = iov[i].base;
		size_t n = iov[i].len;
		while (n && !err) {
			if (l->staged || n < RECORD_SIZE) {
				size_t room = RECORD_SIZE - l->staged, take = n < room ? n : room;
				memcpy(l->stage + l->staged, p, take);
				l->staged += take;
				p += take;
				n -= take;
				if (l->staged == RECORD_SIZE) {
					err = write_all(l, l->stage, RECORD_SIZE, shut);
					l->staged = 0;
				}
			} else {
				/* Whole records straight from the caller's memory; the
				 * tail joins the next piece. */
				size_t direct = n - n % RECORD_SIZE;
				err = write_all(l, p, direct, shut);
				p += direct;
				n -= direct;
			}
		}
	}
	if (!err && l->staged)
		err = write_all(l, l->stage, l->staged, shut);
	l->staged = 0;
	if (!err)
		err = flush(l, shut);
	return err;
}

int tether_tls_link_read(struct tether_tls_link *l, void *buf, size_t len, int timeout_ms,
			 const atomic_int *shut, size_t *got)
{
	for (;;) {
		if (atomic_load(shut))
			return -ECONNABORTED;
		size_t n = 0;
		tether_mutex_lock(&l->lock);
		ERR_clear_error();
		errno = 0;
		int r = SSL_read_ex(l->ssl, buf, len, &n);
		int e = r ? SSL_ERROR_NONE : SSL_get_error(l->ssl, r), sys = errno;
		tether_mutex_unlock(&l->lock);
		if (r) {
			*got = n;
			return 0;
		}
		int err = wait_or_fail(l, e, sys, timeout_ms, shut);
		if (err)
			return err;
	}
}
