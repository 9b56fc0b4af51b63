/* How a client (the ICD, the tether tool) reaches tetherd: through TLS pinned
 * to the server it paired with at that address (`tether pair`), or in
 * plaintext when it has no pairing for it (Unix sockets always; a TCP server
 * then refuses unless it runs with --insecure). A frame channel over TLS
 * first names its session in a plaintext preamble (transport/tls.h). Built
 * on every platform; on Windows there is no TLS yet and every connection is
 * plaintext. */
#ifndef TETHER_CLIENT_CONNECT_H
#define TETHER_CLIENT_CONNECT_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/conn.h"
#include "transport/tls.h"

#define TETHER_CLIENT_NAME_MAX 64

struct tether_tls_context;

/* What a client knows about the server at one address. */
struct tether_client_security {
	bool tls;                           /* paired: connect with TLS, pinned to @server */
	struct tether_fingerprint server;   /* the certificate paired with */
	char server_name[TETHER_CLIENT_NAME_MAX + 1];
	struct tether_tls_context *ctx;     /* our identity, as a TLS client */
	/* No pairing names this address (a server found on DNS-SD at another
	 * of its addresses, say): any server this client paired with is
	 * accepted, recognised by its certificate after the handshake. */
	bool any_paired;
	struct tether_peer_list *paired;
};

/* How a connection went. */
struct tether_client_info {
	char cipher[64];  /* the TLS suite, "" for plaintext */
	char error[512];  /* why it failed, in words a user can act on */
};

struct tether_peer_list;

/**
 * tether_client_security_load() - look up the pairing for @addr
 * Reads the paired-servers list in the client's configuration directory
 * (transport/trust.h). When no pairing names @addr but some exist, TLS is
 * still used and the server must present the certificate of one of them
 * (pairings pin a server's certificate, not its address). A pairing that exists but cannot be used (our
 * identity is missing or unreadable) is an error, never a silent fall back
 * to plaintext. Unix addresses and builds without TLS get sec->tls false.
 * Return: 0, or negative errno with @why filled.
 */
int tether_client_security_load(const char *addr, struct tether_client_security *sec, char *why, size_t why_len);

/** tether_client_security_release() - free what the load made; safe on a zeroed struct. */
void tether_client_security_release(struct tether_client_security *sec);

/**
 * tether_client_connect() - connect to @addr the way @sec says
 * @route: NULL for a new session; a frame channel's route
 *         (tether_tls_frame_route()) when @sec->tls, sent before TLS
 * @info: the suite, or why it failed
 * Return: 0; -EACCES when the server is not the one paired with; the errors
 * of tether_conn_connect() and tether_tls_client_start().
 */
int tether_client_connect(const char *addr, const struct tether_client_security *sec, const uint8_t *route,
			  struct tether_conn **out, struct tether_client_info *info);
/* tether_client_connect() giving up a connect after @connect_timeout_ms
 * (0: TETHER_CONNECT_TIMEOUT_MS), for addresses tried one after another. */
int tether_client_connect_timeout(const char *addr, const struct tether_client_security *sec, const uint8_t *route,
				  int connect_timeout_ms, struct tether_conn **out, struct tether_client_info *info);

#endif /* TETHER_CLIENT_CONNECT_H */
