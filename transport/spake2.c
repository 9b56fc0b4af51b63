/* SPAKE2 on P-256 (spake2.h), after RFC 9382 sections 3 and 4:
 *   A: x random, pA = x*G + w*M    B: y random, pB = y*G + w*N
 *   A: K = x*(pB - w*N)            B: K = y*(pA - w*M)     (cofactor 1)
 *   TT = len||A || len||B || len||pA || len||pB || len||K || len||w
 *        (len: 8 bytes little endian)
 *   Ke || Ka = SHA256(TT);  KcA || KcB = HKDF(Ka, info "ConfirmationKeys" || AAD)
 *   cA = HMAC(KcA, TT), cB = HMAC(KcB, TT)
 * Scalar multiplications are done one point at a time, which OpenSSL runs in
 * constant time, never as a combined x*G + w*M (a variable-time path). */
#include "transport/spake2.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9382 section 4: M and N for P-256, compressed. */
static const uint8_t point_m[33] = {
	0x02, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d, 0xd7, 0x24, 0x25, 0x79, 0xf2, 0x99,
	0x3b, 0x64, 0xe1, 0x6e, 0xf3, 0xdc, 0xab, 0x95, 0xaf, 0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f};
static const uint8_t point_n[33] = {
	0x03, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d, 0x99, 0x7f, 0x38, 0xc3, 0x77, 0x07,
	0x19, 0xc6, 0x29, 0xd7, 0x01, 0x4d, 0x49, 0xa2, 0x4b, 0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49};

struct tether_spake2 {
	enum tether_spake2_role role;
	EC_GROUP *group;
	BN_CTX *bn;
	BIGNUM *w, *secret;
	EC_POINT *mine_mask, *peer_mask; /* M and N, in our role's order */
	uint8_t share[TETHER_SPAKE2_SHARE_SIZE];
	uint8_t *id_a, *id_b, *aad;
	size_t id_a_len, id_b_len, aad_len;
};

static int hkdf(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len, const void *info,
		size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	int ok = k && EVP_KDF_derive(k, out, out_len, params) == 1;
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(kdf);
	return ok ? 0 : -ENOMEM;
}

int tether_spake2_password(const char *pin, const void *salt, size_t salt_len, const void *info, size_t info_len,
			   uint8_t w[TETHER_SPAKE2_SCALAR_SIZE])
{
	uint8_t wide[TETHER_SPAKE2_SCALAR_SIZE + 8];
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BN_CTX *bn = BN_CTX_new();
	BIGNUM *v = BN_new();
	int err = g && bn && v ? hkdf(pin, strlen(pin), salt, salt_len, info, info_len, wide, sizeof(wide)) : -ENOMEM;
	if (!err && (!BN_bin2bn(wide, sizeof(wide), v) || !BN_nnmod(v, v, EC_GROUP_get0_order(g), bn) ||
		     BN_bn2binpad(v, w, TETHER_SPAKE2_SCALAR_SIZE) != TETHER_SPAKE2_SCALAR_SIZE))
		err = -ENOMEM;
	OPENSSL_cleanse(wide, sizeof(wide));
	BN_clear_free(v);
	BN_CTX_free(bn);
	EC_GROUP_free(g);
	return err;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* A scalar in [1, order). */
static BIGNUM *scalar(const uint8_t bytes[TETHER_SPAKE2_SCALAR_SIZE], const BIGNUM *order)
{
	BIGNUM *v = BN_bin2bn(bytes, TETHER_SPAKE2_SCALAR_SIZE, NULL);
	if (v && (BN_is_zero(v) || BN_cmp(v, order) >= 0)) {
		BN_clear_free(v);
		return NULL;
	}
	return v;
}

static EC_POINT *point(const EC_GROUP *g, const uint8_t *bytes, size_t len, BN_CTX *bn)
{
	EC_POINT *p = EC_POINT_new(g);
	if (p && !EC_POINT_oct2point(g, p, bytes, len, bn)) {
		EC_POINT_free(p);
		return NULL;
	}
	return p;
}

/* The share: secret*G + w*mask. */
static int make_share(struct tether_spake2 *s)
{
	EC_POINT *a = EC_POINT_new(s->group), *b = EC_POINT_new(s->group);
	int ok = a && b && EC_POINT_mul(s->group, a, s->secret, NULL, NULL, s->bn) &&
		 EC_POINT_mul(s->group, b, NULL, s->mine_mask, s->w, s->bn) && EC_POINT_add(s->group, a, a, b, s->bn) &&
		 !EC_POINT_is_at_infinity(s->group, a) &&
		 EC_POINT_point2oct(s->group, a, POINT_CONVERSION_UNCOMPRESSED, s->share, sizeof(s->share), s->bn) ==
			 sizeof(s->share);
	EC_POINT_free(a);
	EC_POINT_free(b);
	return ok ? 0 : -ENOMEM;
}

int tether_spake2_new(enum tether_spake2_role role, const uint8_t w[TETHER_SPAKE2_SCALAR_SIZE],
		      const uint8_t *secret, const struct tether_spake2_context *ctx, struct tether_spake2 **out)
{
	struct tether_spake2 *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->role = role;
	s->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	s->bn = BN_CTX_new();
	s->id_a = dup_bytes(ctx->id_a, ctx->id_a_len);
	s->id_b = dup_bytes(ctx->id_b, ctx->id_b_len);
	s->aad = dup_bytes(ctx->aad, ctx->aad_len);
	s->id_a_len = ctx->id_a_len;
	s->id_b_len = ctx->id_b_len;
	s->aad_len = ctx->aad_len;
	int err = s->group && s->bn && s->id_a && s->id_b && s->aad ? 0 : -ENOMEM;
	if (!err) {
		const BIGNUM *order = EC_GROUP_get0_order(s->group);
		EC_POINT *m = point(s->group, point_m, sizeof(point_m), s->bn);
		EC_POINT *n = point(s->group, point_n, sizeof(point_n), s->bn);
		s->mine_mask = role == TETHER_SPAKE2_A ? m : n;
		s->peer_mask = role == TETHER_SPAKE2_A ? n : m;
		s->w = scalar(w, order);
		if (secret) {
			s->secret = scalar(secret, order);
		} else if ((s->secret = BN_new()) != NULL) {
			do {
				if (!BN_priv_rand_range_ex(s->secret, order, 0, s->bn)) {
					BN_free(s->secret);
					s->secret = NULL;
					break;
				}
			} while (BN_is_zero(s->secret));
		}
		if (!m || !n)
			err = -ENOMEM;
		else if (!s->w || !s->secret)
			err = -EINVAL;
		else
			err = make_share(s);
	}
	if (err) {
		tether_spake2_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void tether_spake2_share(const struct tether_spake2 *s, uint8_t out[TETHER_SPAKE2_SHARE_SIZE])
{
	memcpy(out, s->share, TETHER_SPAKE2_SHARE_SIZE);
}

/* Appends an 8-byte little-endian length and the bytes. */
static size_t tt_put(uint8_t *tt, size_t at, const void *p, size_t n)
{
	for (int i = 0; i < 8; i++)
		tt[at + i] = (uint8_t)((uint64_t)n >> (8 * i));
	if (n)
		memcpy(tt + at + 8, p, n);
	return at + 8 + n;
}

/* K = secret * (peer - w*peer_mask), encoded. */
static int shared_point(struct tether_spake2 *s, const uint8_t peer[TETHER_SPAKE2_SHARE_SIZE],
			uint8_t k[TETHER_SPAKE2_SHARE_SIZE])
{
	if (peer[0] != 0x04) /* uncompressed only, as we send */
		return -EPROTO;
	EC_POINT *p = point(s->group, peer, TETHER_SPAKE2_SHARE_SIZE, s->bn);
	EC_POINT *t = EC_POINT_new(s->group);
	int ok = p && t && !EC_POINT_is_at_infinity(s->group, p) &&
		 EC_POINT_mul(s->group, t, NULL, s->peer_mask, s->w, s->bn) && EC_POINT_invert(s->group, t, s->bn) &&
		 EC_POINT_add(s->group, t, p, t, s->bn) && EC_POINT_mul(s->group, t, NULL, t, s->secret, s->bn) &&
		 !EC_POINT_is_at_infinity(s->group, t) &&
		 EC_POINT_point2oct(s->group, t, POINT_CONVERSION_UNCOMPRESSED, k, TETHER_SPAKE2_SHARE_SIZE, s->bn) ==
			 TETHER_SPAKE2_SHARE_SIZE;
	EC_POINT_free(p);
	EC_POINT_clear_free(t);
	return ok ? 0 : -EPROTO;
}

int tether_spake2_finish(struct tether_spake2 *s, const uint8_t peer[TETHER_SPAKE2_SHARE_SIZE],
			 uint8_t confirm[TETHER_SPAKE2_CONFIRM_SIZE], uint8_t expect[TETHER_SPAKE2_CONFIRM_SIZE],
			 uint8_t key[TETHER_SPAKE2_KEY_SIZE])
{
	uint8_t k[TETHER_SPAKE2_SHARE_SIZE], w[TETHER_SPAKE2_SCALAR_SIZE], hash[32], kc[32];
	int err = shared_point(s, peer, k);
	if (err)
		return err;
	if (BN_bn2binpad(s->w, w, sizeof(w)) != sizeof(w))
		return -ENOMEM;
	size_t cap = 6 * 8 + s->id_a_len + s->id_b_len + 3 * TETHER_SPAKE2_SHARE_SIZE + sizeof(w);
	uint8_t *tt = malloc(cap), *info = malloc(16 + s->aad_len);
	if (!tt || !info) {
		free(tt);
		free(info);
		return -ENOMEM;
	}
	const uint8_t *pa = s->role == TETHER_SPAKE2_A ? s->share : peer;
	const uint8_t *pb = s->role == TETHER_SPAKE2_A ? peer : s->share;
	size_t n = tt_put(tt, 0, s->id_a, s->id_a_len);
	n = tt_put(tt, n, s->id_b, s->id_b_len);
	n = tt_put(tt, n, pa, TETHER_SPAKE2_SHARE_SIZE);
	n = tt_put(tt, n, pb, TETHER_SPAKE2_SHARE_SIZE);
	n = tt_put(tt, n, k, sizeof(k));
	n = tt_put(tt, n, w, sizeof(w));
	memcpy(info, "ConfirmationKeys", 16);
	if (s->aad_len)
		memcpy(info + 16, s->aad, s->aad_len);
	unsigned int hn = 0, ca = 0, cb = 0;
	uint8_t mac_a[32], mac_b[32];
	if (!EVP_Digest(tt, n, hash, &hn, EVP_sha256(), NULL) || hn != 32 ||
	    hkdf(hash + 16, 16, NULL, 0, info, 16 + s->aad_len, kc, sizeof(kc)) ||
	    !HMAC(EVP_sha256(), kc, 16, tt, n, mac_a, &ca) || !HMAC(EVP_sha256(), kc + 16, 16, tt, n, mac_b, &cb))
		err = -ENOMEM;
	if (!err) {
		memcpy(confirm, s->role == TETHER_SPAKE2_A ? mac_a : mac_b, TETHER_SPAKE2_CONFIRM_SIZE);
		memcpy(expect, s->role == TETHER_SPAKE2_A ? mac_b : mac_a, TETHER_SPAKE2_CONFIRM_SIZE);
		if (key)
			memcpy(key, hash, TETHER_SPAKE2_KEY_SIZE);
	}
	OPENSSL_cleanse(tt, n);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(w, sizeof(w));
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(kc, sizeof(kc));
	free(tt);
	free(info);
	return err;
}

bool tether_spake2_confirm_equal(const uint8_t a[TETHER_SPAKE2_CONFIRM_SIZE], const uint8_t b[TETHER_SPAKE2_CONFIRM_SIZE])
{
	return CRYPTO_memcmp(a, b, TETHER_SPAKE2_CONFIRM_SIZE) == 0;
}

void tether_spake2_free(struct tether_spake2 *s)
{
	if (!s)
		return;
	BN_clear_free(s->w);
	BN_clear_free(s->secret);
	EC_POINT_free(s->mine_mask);
	EC_POINT_free(s->peer_mask);
	BN_CTX_free(s->bn);
	EC_GROUP_free(s->group);
	free(s->id_a);
	free(s->id_b);
	free(s->aad);
	free(s);
}
