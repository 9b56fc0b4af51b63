/* tether pairing: how a new client and tetherd come to trust each other's
 * certificates, once, with a PIN tetherd shows. It runs on a TLS connection
 * whose ALPN is TETHER_ALPN_PAIRING, where neither certificate is trusted
 * yet; both sides then run SPAKE2 (transport/spake2.h) on the PIN, bound to
 * both certificates' fingerprints and to this TLS session's exporter value,
 * so that each learns the other knew the PIN and a machine in the middle
 * (two TLS sessions) gets nothing it can check a PIN against offline.
 * tetherd decides when a PIN exists and for whom (server/pairing.c); this
 * file is the exchange. Messages (tether framing, payload little endian):
 *
 *   client                                  tetherd
 *   PAIR_REQUEST u32 version, string name  ->
 *                                          <- PAIR_PIN u32 status, u32 seconds, string name/why
 *   (the user types the PIN tetherd shows)
 *   PAIR_SHARE pA[65]                      ->
 *                                          <- PAIR_SERVER_PROOF pB[65], cB[32]
 *   (client checks cB: a wrong one ends here)
 *   PAIR_CLIENT_PROOF cA[32]               ->
 *                                          <- PAIR_RESULT u32 status, string text
 *
 * tetherd may answer any client message with PAIR_RESULT (a refusal). */
#ifndef TETHER_PAIRING_H
#define TETHER_PAIRING_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/conn.h"
#include "transport/spake2.h"
#include "transport/tls.h"

#define TETHER_PAIRING_VERSION 1
#define TETHER_PIN_DIGITS 6
/* How long a PIN tetherd shows stays good (and how long it waits for it). */
#define TETHER_PAIRING_PIN_VALID_S 120
#define TETHER_PAIRING_NAME_MAX 64
#define TETHER_PAIRING_TEXT_MAX 256
/* SSL_export_keying_material label: the exporter value binds the PIN proof to this TLS session. */
#define TETHER_PAIRING_EXPORTER_LABEL "EXPORTER-tether-pairing-v1"

enum tether_pairing_status {
	TETHER_PAIRING_OK = 0,
	TETHER_PAIRING_REFUSED = 1,   /* not now: disabled, too many failures, PIN expired; text says why */
	TETHER_PAIRING_WRONG_PIN = 2, /* the proofs did not match */
};

/* Who is pairing with whom on this connection: the two certificates. */
struct tether_pairing_peers {
	struct tether_fingerprint client, server;
};

/**
 * tether_pairing_valid_pin() - whether @pin is TETHER_PIN_DIGITS decimal digits
 */
bool tether_pairing_valid_pin(const char *pin);

/* ---- client ---- */

/* Asks the user for the PIN tetherd shows now; fills @pin and returns 0, or
 * returns a negative errno to give up. */
typedef int (*tether_pairing_pin_fn)(void *ctx, const char *server_name, unsigned valid_s,
				     char pin[TETHER_PIN_DIGITS + 1]);

struct tether_pairing_outcome {
	enum tether_pairing_status status;
	char server_name[TETHER_PAIRING_NAME_MAX + 1];
	char text[TETHER_PAIRING_TEXT_MAX + 1]; /* what went wrong, in words; "" when paired */
};

/**
 * tether_pairing_client() - pair over @c (TLS, ALPN TETHER_ALPN_PAIRING)
 * @peers: our certificate's fingerprint and the server's, from the handshake
 * @name: how tetherd will list this client
 * @get_pin: asked once, after tetherd has shown a PIN
 *
 * Return: 0 when both sides proved the PIN and tetherd recorded us (then
 * pin @peers->server); -EACCES for a wrong PIN (or someone in the middle);
 * -ECONNREFUSED when tetherd refused (out->text says why); -EPROTO,
 * -ECANCELED (no PIN given) or a transport error.
 */
int tether_pairing_client(struct tether_conn *c, const struct tether_pairing_peers *peers, const char *name,
			  tether_pairing_pin_fn get_pin, void *ctx, struct tether_pairing_outcome *out);

/* ---- tetherd: the exchange in steps, so the PIN can be issued and spent between them ---- */

/** tether_pairing_read_request() - PAIR_REQUEST; @name gets the client's name (sanitised). */
int tether_pairing_read_request(struct tether_conn *c, char name[TETHER_PAIRING_NAME_MAX + 1]);

/** tether_pairing_send_pin() - tell the client a PIN is shown, valid for @valid_s seconds. */
int tether_pairing_send_pin(struct tether_conn *c, const char *server_name, unsigned valid_s);

/** tether_pairing_send_result() - PAIR_RESULT: the outcome, or a refusal at any step. */
int tether_pairing_send_result(struct tether_conn *c, enum tether_pairing_status status, const char *text);

/** tether_pairing_read_share() - the client's PAIR_SHARE (waits as long as the receive timeout says). */
int tether_pairing_read_share(struct tether_conn *c, uint8_t share[TETHER_SPAKE2_SHARE_SIZE]);

/**
 * tether_pairing_server_prove() - answer @share with our proof and check the client's
 * @pin: the PIN this attempt spends
 * @right: whether the client proved the same PIN
 * Return: 0 (see @right), -EPROTO for a malformed message or point, or a
 * transport error (a client that leaves after our proof counts as wrong).
 */
int tether_pairing_server_prove(struct tether_conn *c, const struct tether_pairing_peers *peers, const char *pin,
				const uint8_t share[TETHER_SPAKE2_SHARE_SIZE], bool *right);

/* ---- shared with tests ---- */

/**
 * tether_pairing_spake2() - the SPAKE2 run of one side of this connection
 * The password scalar is derived from @pin, the TLS exporter value of @c and
 * both fingerprints; A is the client, B tetherd; the identities are the two
 * fingerprints and the exporter value is the AAD.
 */
int tether_pairing_spake2(struct tether_conn *c, const struct tether_pairing_peers *peers, const char *pin,
			  enum tether_spake2_role role, struct tether_spake2 **out);

#endif /* TETHER_PAIRING_H */
