/* tether connections: stream sockets (TCP, Unix) between the ICD and tetherd,
 * with gather sends and buffered exact-length receives. conn_posix.c and
 * conn_win32.c implement it; address.c parses the address strings for both. */
#ifndef TETHER_CONN_H
#define TETHER_CONN_H

#include <stddef.h>
#include <stdint.h>

/* Where tetherd listens when nothing else is configured. */
#define TETHER_DEFAULT_PORT 7380
#define TETHER_DEFAULT_LISTEN "127.0.0.1:7380"

/* A connect that gets no answer gives up after this long (an ICD must not hang
 * an application's vkCreateInstance on a dead link). */
#define TETHER_CONNECT_TIMEOUT_MS 5000

/* A TCP peer that stops answering (cable pulled, link down, host gone) is
 * given up after about this long: keep-alive probes find it while the
 * connection is idle, a limit on unacknowledged data while it is not. A
 * blocked receive then fails with -ETIMEDOUT and a send with -ETIMEDOUT or
 * -EPIPE, so nothing waits on a dead link for ever. The environment variable
 * TETHER_LINK_TIMEOUT_MS overrides it (1000 to 600000). */
#define TETHER_LINK_TIMEOUT_MS 5000

/** tether_link_timeout_ms() - TETHER_LINK_TIMEOUT_MS, or the environment's value */
int tether_link_timeout_ms(void);

/* One piece of a gather send. */
struct tether_iovec {
	const void *base;
	size_t len;
};

struct tether_conn;
struct tether_listener;

/*
 * Address strings:
 *   HOST:PORT     IPv4 literal or host name (resolved with getaddrinfo)
 *   [IPV6]:PORT   IPv6 literal, e.g. "[::1]:7380"
 *   HOST          HOST:TETHER_DEFAULT_PORT
 *   unix:PATH     Unix-domain stream socket (POSIX only)
 */
enum tether_address_kind {
	TETHER_ADDRESS_TCP = 1,
	TETHER_ADDRESS_UNIX = 2,
};

#define TETHER_ADDRESS_MAX_HOST 255
#define TETHER_ADDRESS_MAX_PATH 107 /* sizeof(sockaddr_un.sun_path) - 1 on Linux */

struct tether_address {
	enum tether_address_kind kind;
	char host[TETHER_ADDRESS_MAX_HOST + 1]; /* TCP: without brackets */
	char port[6];                           /* TCP: decimal, 0-65535 */
	char path[TETHER_ADDRESS_MAX_PATH + 1]; /* UNIX */
};

/**
 * tether_address_parse() - split an address string into its parts
 * Only the syntax is checked; nothing is resolved.
 * Return: 0, or -EINVAL for a malformed address.
 */
int tether_address_parse(const char *str, struct tether_address *out);

/**
 * tether_address_normalize() - the one spelling of an address, to compare two
 * "host" becomes "host:7380"; "[::1]:80" and "unix:PATH" stay as they are.
 * Return: 0, -EINVAL (malformed) or -ENOSPC (@len too small).
 */
int tether_address_normalize(const char *str, char *buf, size_t len);

/**
 * tether_conn_connect() - open a connection to @addr
 * Tries every address the name resolves to, each for at most
 * TETHER_CONNECT_TIMEOUT_MS. TCP connections get TCP_NODELAY.
 * Return: 0, -EINVAL (bad address), -EHOSTUNREACH (name not resolved),
 * -ENOTSUP (unix: on Windows), -ECONNREFUSED, -ETIMEDOUT or another negative errno.
 */
int tether_conn_connect(const char *addr, struct tether_conn **out);

/**
 * tether_conn_connect_timeout() - tether_conn_connect() with its own connect timeout
 * @timeout_ms: for each address the name resolves to; 0 or less:
 *              TETHER_CONNECT_TIMEOUT_MS. A cached address that may be stale
 *              is tried briefly before falling back to discovery.
 * Return: as tether_conn_connect().
 */
int tether_conn_connect_timeout(const char *addr, int timeout_ms, struct tether_conn **out);

/**
 * tether_listener_open() - listen on @addr
 * TCP listeners set SO_REUSEADDR; port 0 picks a free port (see
 * tether_listener_address()). A unix: socket file left by a dead server is
 * replaced, one a live server answers on is not (-EADDRINUSE).
 * Return: 0 or negative errno.
 */
int tether_listener_open(const char *addr, struct tether_listener **out);

/**
 * tether_listener_address() - the address actually bound, as a string that
 * tether_conn_connect() accepts ("127.0.0.1:41234", "[::1]:7380", "unix:/run/x")
 * Return: 0, or -ENOSPC when @len is too small.
 */
int tether_listener_address(struct tether_listener *l, char *buf, size_t len);

/**
 * tether_listener_accept() - wait for and accept one connection
 * Return: 0 or negative errno (-ECONNABORTED after tether_listener_close()
 * from another thread is not supported: close only when no accept runs).
 */
int tether_listener_accept(struct tether_listener *l, struct tether_conn **out);

/** tether_listener_close() - stop listening, remove a unix: socket file; NULL is ignored. */
void tether_listener_close(struct tether_listener *l);

/**
 * tether_conn_send() - send all bytes of @iov[0..iovcnt) in order
 * Uses gather writes and loops over partial writes; never raises SIGPIPE.
 * One thread may send while another receives; two concurrent senders must
 * lock around the call.
 * Return: 0 once everything is handed to the kernel, or negative errno
 * (-EPIPE / -ECONNRESET when the peer is gone).
 */
int tether_conn_send(struct tether_conn *c, const struct tether_iovec *iov, int iovcnt);

/**
 * tether_conn_recv() - receive exactly @len bytes
 * Small reads are served from a 64 KiB internal buffer (a 16-byte header
 * costs no syscall when its message is already buffered); large reads go
 * straight into @buf.
 * Return: 0, -ECONNRESET when the peer closed (also mid-read),
 * -ECONNABORTED after tether_conn_shutdown(), -ETIMEDOUT when no data
 * came for the timeout set with tether_conn_set_timeout(), or negative errno.
 * A timed-out read of at most 32 KiB consumes nothing and may be retried; a
 * larger one that timed out part way leaves the connection unusable.
 */
int tether_conn_recv(struct tether_conn *c, void *buf, size_t len);

/**
 * tether_conn_set_timeout() - limit how long tether_conn_recv() waits for data
 * @timeout_ms: 0 waits forever.
 * Return: 0 or negative errno.
 */
int tether_conn_set_timeout(struct tether_conn *c, int timeout_ms);

/**
 * tether_conn_shutdown() - end both directions without freeing
 * Safe to call from another thread: a reader blocked in tether_conn_recv()
 * wakes and returns -ECONNABORTED. tether_conn_close() must still follow.
 */
void tether_conn_shutdown(struct tether_conn *c);

/**
 * tether_conn_close_write() - say we will send nothing more; keep receiving
 * A TLS connection sends its close_notify first. For a server that refuses a
 * client: the client reads the refusal and then end of stream.
 */
void tether_conn_close_write(struct tether_conn *c);

/** tether_conn_close() - close and free the connection; NULL is ignored. */
void tether_conn_close(struct tether_conn *c);

/** tether_conn_peer() - the peer's address for log lines ("10.0.0.2:50412", "unix:/path"); NULL gives "(no connection)". */
const char *tether_conn_peer(const struct tether_conn *c);

#ifndef _WIN32
/* Sockets as file descriptors, for tetherd to hand a connection from one
 * process to another (SCM_RIGHTS) and to poll its listener. POSIX only. */

/**
 * tether_conn_from_fd() - make a connection of a connected stream socket
 * @fd: a connected TCP or Unix stream socket, e.g. received with SCM_RIGHTS;
 *      the connection owns it from now on (it is closed on failure too)
 *
 * The peer name is worked out from the socket as tether_listener_accept()
 * would have named it, and the socket is tuned the same way.
 * Return: 0, -ENOTSOCK / -EINVAL when @fd is not a connected stream socket,
 * or -ENOMEM.
 */
int tether_conn_from_fd(int fd, struct tether_conn **out);

/**
 * tether_conn_fd() - the socket under @c, to send to another process
 * @c keeps owning it: the receiver gets its own descriptor.
 */
int tether_conn_fd(const struct tether_conn *c);

/**
 * tether_listener_fd() - the listening socket, to poll() for POLLIN
 * When poll() says a connection is pending and no other thread accepts on
 * @l, tether_listener_accept() returns it without blocking.
 */
int tether_listener_fd(const struct tether_listener *l);
#endif

#endif /* TETHER_CONN_H */
