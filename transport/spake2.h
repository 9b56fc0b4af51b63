/* SPAKE2 (RFC 9382), P256-SHA256-HKDF-HMAC-SHA256: the password-authenticated
 * key exchange behind pairing (protocol/pairing.h). Two parties who share a
 * PIN each send one point and one confirmation MAC; each learns whether the
 * other knew the PIN, and an active attacker, whichever side it plays, tests
 * exactly one PIN guess per run: nothing it sees lets it check other PINs
 * offline. That is why pairing uses it rather than a hash of the PIN
 * (docs/SECURITY.md). Checked against RFC 9382 Appendix B in tests. */
#ifndef TETHER_SPAKE2_H
#define TETHER_SPAKE2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TETHER_SPAKE2_SHARE_SIZE 65   /* pA or pB: an uncompressed P-256 point */
#define TETHER_SPAKE2_CONFIRM_SIZE 32 /* cA or cB: HMAC-SHA256 of the transcript */
#define TETHER_SPAKE2_KEY_SIZE 16     /* Ke, the shared key */
#define TETHER_SPAKE2_SCALAR_SIZE 32  /* w, x, y: big-endian, below the group order */

enum tether_spake2_role {
	TETHER_SPAKE2_A = 0, /* sends pA = x*G + w*M */
	TETHER_SPAKE2_B = 1, /* sends pB = y*G + w*N */
};

struct tether_spake2;

/* What both parties must agree on besides the password. */
struct tether_spake2_context {
	const void *id_a, *id_b; /* identities of A and B (may be empty) */
	size_t id_a_len, id_b_len;
	const void *aad; /* bound into the confirmation keys (may be empty) */
	size_t aad_len;
};

/**
 * tether_spake2_password() - the password scalar w for a PIN
 * w = HKDF-SHA256(IKM @pin, salt @salt, info @info), 40 bytes, reduced
 * modulo the order (the extra 64 bits keep the bias below 2^-64).
 * Return: 0 or -ENOMEM.
 */
int tether_spake2_password(const char *pin, const void *salt, size_t salt_len, const void *info, size_t info_len,
			   uint8_t w[TETHER_SPAKE2_SCALAR_SIZE]);

/**
 * tether_spake2_new() - start a run as @role with password scalar @w
 * @secret: x or y; NULL draws a random one (only tests pass one)
 * @ctx: copied
 * Return: 0, -EINVAL (a scalar not below the order, or zero) or -ENOMEM.
 */
int tether_spake2_new(enum tether_spake2_role role, const uint8_t w[TETHER_SPAKE2_SCALAR_SIZE],
		      const uint8_t *secret, const struct tether_spake2_context *ctx, struct tether_spake2 **out);

/** tether_spake2_share() - our point, to send to the peer. */
void tether_spake2_share(const struct tether_spake2 *s, uint8_t out[TETHER_SPAKE2_SHARE_SIZE]);

/**
 * tether_spake2_finish() - combine the peer's point with ours
 * @peer: the peer's point, as received (hostile: checked to be a point of
 *        the curve other than the identity)
 * @confirm: our confirmation MAC, to send
 * @expect: the MAC the peer must send if it used the same password,
 *          compare with tether_spake2_confirm_equal()
 * @key: Ke (may be NULL)
 * Return: 0 or -EPROTO (an invalid point).
 */
int tether_spake2_finish(struct tether_spake2 *s, const uint8_t peer[TETHER_SPAKE2_SHARE_SIZE],
			 uint8_t confirm[TETHER_SPAKE2_CONFIRM_SIZE], uint8_t expect[TETHER_SPAKE2_CONFIRM_SIZE],
			 uint8_t key[TETHER_SPAKE2_KEY_SIZE]);

/** tether_spake2_confirm_equal() - compare two MACs in constant time. */
bool tether_spake2_confirm_equal(const uint8_t a[TETHER_SPAKE2_CONFIRM_SIZE], const uint8_t b[TETHER_SPAKE2_CONFIRM_SIZE]);

/** tether_spake2_free() - wipe and free; NULL is ignored. */
void tether_spake2_free(struct tether_spake2 *s);

#endif /* TETHER_SPAKE2_H */
