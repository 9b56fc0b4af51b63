/*
 * Who tetherd serves (docs/SECURITY.md). A TCP connection must be TLS 1.3
 * from a client whose certificate is in the paired-clients list, unless
 * tetherd runs with --insecure; a Unix socket relies on its file permissions.
 * Admission decides this for every connection before any tether message is
 * read: it peeks at the first byte (0x16 a TLS ClientHello, 0x01 a plaintext
 * HELLO's header, 'T' a frame channel's routing preamble), runs the TLS
 * handshake, checks the pairing, and refuses everyone else with a log line
 * and, where the client can read it, a WELCOME saying why.
 */
#ifndef TETHER_SERVER_SECURITY_H
#define TETHER_SERVER_SECURITY_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/conn.h"
#include "transport/tls.h"
#include "transport/trust.h"

struct tether_srv_frame_link;
struct tether_tls_context;

/* tetherd's settings, made once at start and inherited by every connection's process. */
struct tether_srv_security {
	const char *state_dir;          /* identity, paired clients, pairing state */
	const char *server_name;        /* shown to clients that pair */
	bool insecure;                  /* --insecure: plaintext TCP sessions are served */
	bool pairing;                   /* pairing requests are answered (not with --no-pairing) */
	const char *pin_file;           /* --pairing-pin-file: every new PIN is written there */
	struct tether_tls_context *tls; /* NULL for a Unix listener: no TLS at all */
	struct tether_fingerprint fingerprint; /* our certificate's */
};

/* Who is on the other end of an admitted connection. */
struct tether_srv_client {
	bool paired; /* TLS with a certificate of the paired-clients list */
	struct tether_fingerprint fingerprint;
	char name[TETHER_PEER_NAME_MAX + 1];
};

/* What the first byte of a connection says it is. */
enum tether_srv_conn_kind {
	TETHER_SRV_CONN_CLOSED,   /* the peer closed before sending anything */
	TETHER_SRV_CONN_TLS,      /* a TLS ClientHello */
	TETHER_SRV_CONN_PREAMBLE, /* a frame channel's plaintext routing preamble */
	TETHER_SRV_CONN_PLAIN,    /* a plaintext tether message header */
	TETHER_SRV_CONN_OTHER,    /* none of these */
};

/**
 * tether_srv_peek() - what @c is, from its first byte, which stays unread
 * Return: an enum tether_srv_conn_kind, -ETIMEDOUT when nothing came within
 * @timeout_ms, or negative errno.
 */
int tether_srv_peek(struct tether_conn *c, int timeout_ms);

/**
 * tether_srv_read_preamble() - read a frame channel's routing preamble
 * Exactly TETHER_FRAME_PREAMBLE_SIZE bytes are read from the socket itself,
 * so that the TLS handshake behind them stays unread for the session.
 * Return: 0 with @route, -EPROTO (bad magic), -ETIMEDOUT or negative errno.
 */
int tether_srv_read_preamble(struct tether_conn *c, uint8_t route[TETHER_FRAME_ROUTE_SIZE]);

/**
 * tether_srv_admit() - let a new connection in, or deal with it here
 * @frames: this process's frame link, to hand a routed frame channel to its session
 * @client: who it is, when the connection goes on
 *
 * Pairing attempts (server/pairing.c) and frame channels routed to another
 * session end here; so do refusals, each with a log line naming the peer.
 * Return: 1 when the caller goes on with the HELLO, 0 when done here (close
 * the connection).
 */
int tether_srv_admit(struct tether_conn *c, const struct tether_srv_security *sec,
		     const struct tether_srv_frame_link *frames, struct tether_srv_client *client);

/**
 * tether_srv_client_paired() - whether @fp is in the paired-clients list now
 * @name: its name when it is (may be NULL)
 * Return: 1 paired, 0 not, negative errno when the list cannot be read
 * (treated as not paired by every caller).
 */
int tether_srv_client_paired(const struct tether_srv_security *sec, const struct tether_fingerprint *fp,
			     char name[TETHER_PEER_NAME_MAX + 1]);

/**
 * tether_srv_refuse() - refuse @c with a WELCOME saying @text, then let it go
 * The WELCOME layout is the same for every protocol version, so it is sent
 * without reading the client's HELLO; our side is then closed for writing
 * and what the client still sends is read and dropped for a moment, so that
 * closing does not reset the connection before the client has read why.
 */
void tether_srv_refuse(struct tether_conn *c, const char *text);

/* ---- pairing (server/pairing.c) ---- */

/**
 * tether_srv_pairing_serve() - a pairing attempt on @c (TLS, ALPN TETHER_ALPN_PAIRING)
 * @peer: the client's certificate, from the handshake
 * Issues a PIN (log line, --pairing-pin-file), runs the PIN exchange and
 * records the client in the paired-clients list when it proved the PIN.
 * Each PIN is good for one attempt and TETHER_PAIRING_PIN_VALID_S seconds;
 * each wrong PIN locks pairing for a time that doubles with every failure in
 * a row (docs/SECURITY.md).
 */
void tether_srv_pairing_serve(struct tether_conn *c, const struct tether_srv_security *sec,
			      const struct tether_tls_peer *peer);

/* ---- revocation (server/revocation.c) ---- */

struct tether_srv_revocation;

/**
 * tether_srv_revocation_start() - end the session of @client once it is revoked
 * Watches the paired-clients list (inotify on the state directory); when
 * @client's fingerprint leaves it, @conn is shut down, which ends the
 * session. Return: 0 or negative errno (the session then runs unwatched).
 */
int tether_srv_revocation_start(const struct tether_srv_security *sec, const struct tether_srv_client *client,
				struct tether_conn *conn, struct tether_srv_revocation **out);

/** tether_srv_revocation_stop() - stop watching; NULL is ignored. */
void tether_srv_revocation_stop(struct tether_srv_revocation *r);

#endif /* TETHER_SERVER_SECURITY_H */
