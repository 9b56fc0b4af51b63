/* tether TLS: every TCP connection between a paired client and tetherd is
 * TLS 1.3 with both sides authenticated by a self-signed certificate pinned
 * by its SHA-256 fingerprint (no CA chains). The TLS session lives inside a
 * struct tether_conn, so tether_conn_send()/tether_conn_recv() are unchanged
 * for callers. OpenSSL 3 on Linux (tls_*.c, identity.c); not built on
 * Windows yet (TETHER_HAVE_TLS undefined). See docs/SECURITY.md. */
#ifndef TETHER_TLS_H
#define TETHER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/conn.h"

#define TETHER_FINGERPRINT_SIZE 32
/* "SHA256:" + 64 lowercase hex digits + NUL */
#define TETHER_FINGERPRINT_TEXT_SIZE (7 + 2 * TETHER_FINGERPRINT_SIZE + 1)
/* The short form used in log lines: "SHA256:" + 16 hex digits + "..." + NUL */
#define TETHER_FINGERPRINT_SHORT_SIZE (7 + 16 + 3 + 1)

/* ALPN protocol names: what a TLS connection is for is known when the
 * handshake ends, before any application byte is read. */
#define TETHER_ALPN_SESSION "tether/1"     /* commands or a frame channel of a paired client */
#define TETHER_ALPN_PAIRING "tether-pair/1" /* a pairing attempt (protocol/pairing.h) */

/* How long a TLS handshake may take before the connection is dropped. */
#define TETHER_TLS_HANDSHAKE_TIMEOUT_MS 10000

/* SHA-256 of a certificate's DER encoding: how peers are pinned. */
struct tether_fingerprint {
	uint8_t b[TETHER_FINGERPRINT_SIZE];
};

/** tether_fingerprint_format() - "SHA256:" and 64 hex digits. */
void tether_fingerprint_format(const struct tether_fingerprint *f, char out[TETHER_FINGERPRINT_TEXT_SIZE]);

/** tether_fingerprint_short() - "SHA256:" and the first 16 hex digits, for log lines. */
void tether_fingerprint_short(const struct tether_fingerprint *f, char out[TETHER_FINGERPRINT_SHORT_SIZE]);

/**
 * tether_fingerprint_parse() - read a full fingerprint
 * @s: "SHA256:" followed by 64 hex digits (either case); the prefix may be left out
 * Return: 0 or -EINVAL.
 */
int tether_fingerprint_parse(const char *s, struct tether_fingerprint *out);

/** tether_fingerprint_equal() - compare in constant time. */
bool tether_fingerprint_equal(const struct tether_fingerprint *a, const struct tether_fingerprint *b);

#ifdef TETHER_HAVE_TLS

/* One side's long-term identity: an EC P-256 key and a self-signed certificate. */
struct tether_tls_identity;

/* The file in an identity directory that holds the key and the certificate (0600). */
#define TETHER_IDENTITY_FILE "identity.pem"

/**
 * tether_tls_identity_load() - load the identity kept in @dir, creating it on first use
 * @dir: created (0700) if missing; its TETHER_IDENTITY_FILE holds the private
 *       key and the certificate and must be private (mode 0600, our owner):
 *       a key others can read is refused, as ssh does
 * @common_name: the certificate's subject when one is created (shown, never trusted)
 * @create: false: only load (-ENOENT when there is none)
 *
 * Creation is atomic (a complete file appears under its name or nothing), so
 * two processes creating at once end with one identity.
 * Return: 0, -ENOENT, -EPERM (permissions too open), -EPROTO (unreadable
 * file) or another negative errno; the reason is logged.
 */
int tether_tls_identity_load(const char *dir, const char *common_name, bool create,
			     struct tether_tls_identity **out);

/** tether_tls_identity_free() - NULL is ignored. */
void tether_tls_identity_free(struct tether_tls_identity *id);

/** tether_tls_identity_fingerprint() - what the peer pins us by. */
const struct tether_fingerprint *tether_tls_identity_fingerprint(const struct tether_tls_identity *id);

enum tether_tls_role {
	TETHER_TLS_CLIENT = 0,
	TETHER_TLS_SERVER = 1,
};

/* An SSL_CTX for one role and identity: TLS 1.3 only, mutual certificates,
 * no session tickets or resumption (so no 0-RTT data that could be replayed). */
struct tether_tls_context;

/**
 * tether_tls_context_new() - a context presenting @id
 * @id: the context takes its own references to the key and certificate
 * @ciphersuites: TLS 1.3 suites in preference order ("TLS_AES_128_GCM_SHA256:...");
 *                NULL for tether's default (docs/PERFORMANCE.md says why)
 * Return: 0, -EINVAL (bad suites) or -ENOMEM; logged.
 */
int tether_tls_context_new(struct tether_tls_identity *id, enum tether_tls_role role, const char *ciphersuites,
			   struct tether_tls_context **out);

/** tether_tls_context_free() - NULL is ignored. */
void tether_tls_context_free(struct tether_tls_context *ctx);

/* What a finished handshake says about the peer. */
struct tether_tls_peer {
	struct tether_fingerprint fingerprint; /* of the peer's certificate */
	char alpn[32];                         /* protocol agreed (TETHER_ALPN_*) */
	char cipher[64];                       /* e.g. "TLS_AES_128_GCM_SHA256" */
	char common_name[64];                  /* the certificate's subject CN, for display only */
	char error[256];                       /* why the handshake failed, "" after success */
};

/**
 * tether_tls_client_start() - turn @c, freshly connected, into a TLS client connection
 * @alpn: TETHER_ALPN_SESSION or TETHER_ALPN_PAIRING
 * @expect: the pinned server fingerprint; NULL accepts any server certificate
 *          (pairing only: the PIN exchange then authenticates it)
 * @peer: filled in both cases (error says why it failed)
 *
 * Nothing may have been received on @c yet. Bounded by
 * TETHER_TLS_HANDSHAKE_TIMEOUT_MS.
 * Return: 0; -EACCES when the server's certificate is not the pinned one;
 * -ECONNREFUSED when the server refused us in the handshake; -ETIMEDOUT,
 * -ECONNRESET, -EPROTO or another negative errno.
 */
int tether_tls_client_start(struct tether_conn *c, struct tether_tls_context *ctx, const char *alpn,
			    const struct tether_fingerprint *expect, struct tether_tls_peer *peer);

/**
 * tether_tls_server_start() - turn @c, freshly accepted, into a TLS server connection
 * The client must present a certificate (any: the caller checks its
 * fingerprint against the paired clients) and offer TETHER_ALPN_SESSION or
 * TETHER_ALPN_PAIRING. Nothing may have been received on @c yet (a peek
 * is fine). Bounded by TETHER_TLS_HANDSHAKE_TIMEOUT_MS.
 * Return: 0, or -ETIMEDOUT, -ECONNRESET, -EPROTO (peer->error says why).
 */
int tether_tls_server_start(struct tether_conn *c, struct tether_tls_context *ctx, struct tether_tls_peer *peer);

/**
 * tether_tls_export() - keying material bound to this TLS session (RFC 8446 7.5)
 * Both ends of one session get the same bytes; a machine in the middle,
 * which runs two sessions, gets different ones on each side.
 * Return: 0, or -EINVAL when @c is not a TLS connection.
 */
int tether_tls_export(struct tether_conn *c, const char *label, uint8_t *out, size_t len);

/** tether_conn_is_tls() - whether @c is encrypted. */
bool tether_conn_is_tls(const struct tether_conn *c);

/**
 * tether_tls_frame_route() - the plaintext routing id of a session's frame channel
 * @token: the session's secret token (protocol/handshake.h)
 * @route: SHA-256("tether frame route" || token), first 8 bytes: names the
 *         session to tetherd before TLS, and says nothing about the token
 */
void tether_tls_frame_route(const uint8_t token[16], uint8_t route[8]);

#endif /* TETHER_HAVE_TLS */

/* The plaintext preamble a client sends before TLS on a frame channel, so
 * that the tetherd process that accepts it can hand the still-unencrypted
 * socket to the right session process, which runs the TLS handshake itself
 * (docs/SECURITY.md "Frame channels"): magic then the 8-byte route. */
#define TETHER_FRAME_ROUTE_MAGIC "TFRAME\r\n"
#define TETHER_FRAME_ROUTE_MAGIC_SIZE 8
#define TETHER_FRAME_ROUTE_SIZE 8
#define TETHER_FRAME_PREAMBLE_SIZE (TETHER_FRAME_ROUTE_MAGIC_SIZE + TETHER_FRAME_ROUTE_SIZE)

#endif /* TETHER_TLS_H */
