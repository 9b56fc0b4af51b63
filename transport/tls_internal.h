/* What transport/'s TLS files share and nobody else sees: the identity's
 * OpenSSL objects, the per-connection TLS state that conn_posix.c drives,
 * and the hooks between the two. */
#ifndef TETHER_TLS_INTERNAL_H
#define TETHER_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdatomic.h>

#include "transport/tls.h"

struct tether_tls_identity {
	EVP_PKEY *key;
	X509 *cert;
	struct tether_fingerprint fingerprint;
};

/** tether_tls_cert_fingerprint() - SHA-256 of @cert's DER encoding. Return: 0 or -EPROTO. */
int tether_tls_cert_fingerprint(X509 *cert, struct tether_fingerprint *out);

/** tether_tls_log_errors() - the OpenSSL error queue as one line in @buf, and empty it. */
void tether_tls_log_errors(char *buf, size_t len);

/* A connection's TLS session (tls_link.c), owned by its struct tether_conn. */
struct tether_tls_link;

/**
 * tether_tls_link_new() - wrap @fd (non-blocking from now on) in a TLS session
 * @ssl: an SSL whose handshake is done on @fd; the link owns it
 * @peer: for log lines
 */
int tether_tls_link_new(SSL *ssl, int fd, const char *peer, struct tether_tls_link **out);
void tether_tls_link_free(struct tether_tls_link *l);
/* Sends close_notify (best effort); receiving goes on. */
void tether_tls_link_close_notify(struct tether_tls_link *l);
SSL *tether_tls_link_ssl(struct tether_tls_link *l);

/* conn.h semantics, on the link: @shut is the connection's shutdown flag. */
int tether_tls_link_send(struct tether_tls_link *l, const struct tether_iovec *iov, int iovcnt,
			 const atomic_int *shut);
int tether_tls_link_read(struct tether_tls_link *l, void *buf, size_t len, int timeout_ms,
			 const atomic_int *shut, size_t *got);

/* ---- hooks in conn_posix.c ---- */

/** tether_conn_attach_tls() - from now on @c's bytes go through @l; -EPROTO if bytes were already buffered. */
int tether_conn_attach_tls(struct tether_conn *c, struct tether_tls_link *l);

/** tether_conn_tls_link() - @c's TLS session, or NULL. */
struct tether_tls_link *tether_conn_tls_link(const struct tether_conn *c);

#endif /* TETHER_TLS_INTERNAL_H */
