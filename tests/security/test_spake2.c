/*
 * tests for transport/spake2.h: RFC 9382 Appendix B (the P-256 vector with
 * A='server', B='client'), agreement with the same password, and failure
 * with another password, swapped identities, other AAD or a hostile point.
 * Run one test per CTest entry: test_spake2 <test name>.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "tests/cmocka_named.h"

#include "transport/spake2.h"

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void expect_hex(const uint8_t *got, const char *hex, size_t n)
{
	uint8_t want[128];
	unhex(hex, want, n);
	assert_memory_equal(got, want, n);
}

/* RFC 9382, Appendix B: SPAKE2(A='server', B='client'), P-256, SHA-256, no AAD. */
static void spake2_rfc9382_vector(void **state)
{
	uint8_t w[32], x[32], y[32], pa[65], pb[65], ca[32], cb[32], ea[32], eb[32], ka[16], kb[16];
	unhex("2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f", w, 32);
	unhex("43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729", x, 32);
	unhex("dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be", y, 32);
	struct tether_spake2_context ctx = {.id_a = "server", .id_a_len = 6, .id_b = "client", .id_b_len = 6};
	struct tether_spake2 *a, *b;
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_A, w, x, &ctx, &a), 0);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_B, w, y, &ctx, &b), 0);
	tether_spake2_share(a, pa);
	tether_spake2_share(b, pb);
	expect_hex(pa,
		   "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42"
		   "c9b4e6be662766e1eeb4116988ede5f912c",
		   65);
	expect_hex(pb,
		   "0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed"
		   "6e4a1155cf8f1543ceca528afb591a1e0b7",
		   65);
	assert_int_equal(tether_spake2_finish(a, pb, ca, ea, ka), 0);
	assert_int_equal(tether_spake2_finish(b, pa, cb, eb, kb), 0);
	expect_hex(ka, "0e0672dc86f8e45565d338b0540abe69", 16);
	assert_memory_equal(ka, kb, 16);
	expect_hex(ca, "58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0", 32);
	expect_hex(cb, "d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b", 32);
	/* What each expects of the other is what the other sends. */
	assert_true(tether_spake2_confirm_equal(ea, cb));
	assert_true(tether_spake2_confirm_equal(eb, ca));
	tether_spake2_free(a);
	tether_spake2_free(b);
}

struct run {
	uint8_t ca[32], cb[32], ea[32], eb[32];
	int err_a, err_b;
};

/* A full exchange with random secrets, each side with its own settings. */
static void exchange(const char *pin_a, const struct tether_spake2_context *ctx_a, const char *pin_b,
		     const struct tether_spake2_context *ctx_b, struct run *r)
{
	uint8_t wa[32], wb[32], pa[65], pb[65];
	struct tether_spake2 *a, *b;
	assert_int_equal(tether_spake2_password(pin_a, "salt", 4, "info", 4, wa), 0);
	assert_int_equal(tether_spake2_password(pin_b, "salt", 4, "info", 4, wb), 0);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_A, wa, NULL, ctx_a, &a), 0);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_B, wb, NULL, ctx_b, &b), 0);
	tether_spake2_share(a, pa);
	tether_spake2_share(b, pb);
	r->err_a = tether_spake2_finish(a, pb, r->ca, r->ea, NULL);
	r->err_b = tether_spake2_finish(b, pa, r->cb, r->eb, NULL);
	tether_spake2_free(a);
	tether_spake2_free(b);
}

static bool agreed(const struct run *r)
{
	return !r->err_a && !r->err_b && tether_spake2_confirm_equal(r->ea, r->cb) &&
	       tether_spake2_confirm_equal(r->eb, r->ca);
}

static const struct tether_spake2_context ctx = {
	.id_a = "client fp", .id_a_len = 9, .id_b = "server fp", .id_b_len = 9, .aad = "exporter", .aad_len = 8};

static void spake2_same_pin_agrees(void **state)
{
	struct run r;
	for (int i = 0; i < 4; i++) {
		exchange("123456", &ctx, "123456", &ctx, &r);
		assert_true(agreed(&r));
	}
}

/* Neither side's confirmation matches: each learns the PIN was wrong. */
static void spake2_wrong_pin_fails_both_ways(void **state)
{
	struct run r;
	exchange("123456", &ctx, "123457", &ctx, &r);
	assert_int_equal(r.err_a, 0);
	assert_int_equal(r.err_b, 0);
	assert_false(tether_spake2_confirm_equal(r.ea, r.cb));
	assert_false(tether_spake2_confirm_equal(r.eb, r.ca));
}

/* The identities are the two certificates' fingerprints: a side that sees
 * them the other way round (or different ones) does not agree. */
static void spake2_swapped_identities_fail(void **state)
{
	struct tether_spake2_context swapped = ctx;
	swapped.id_a = ctx.id_b;
	swapped.id_b = ctx.id_a;
	struct run r;
	exchange("123456", &ctx, "123456", &swapped, &r);
	assert_false(agreed(&r));
	struct tether_spake2_context other = ctx;
	other.id_b = "server fX";
	exchange("123456", &ctx, "123456", &other, &r);
	assert_false(agreed(&r));
	other = ctx;
	other.aad = "exportes";
	exchange("123456", &ctx, "123456", &other, &r);
	assert_false(agreed(&r));
}

/* Points that are not on the curve, the identity, compressed points and
 * w*M itself (which would make K the identity) are refused. */
static void spake2_hostile_points_refused(void **state)
{
	uint8_t w[32], share[65], bad[65], c[32], e[32];
	struct tether_spake2 *a, *b;
	assert_int_equal(tether_spake2_password("000000", NULL, 0, NULL, 0, w), 0);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_A, w, NULL, &ctx, &a), 0);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_B, w, NULL, &ctx, &b), 0);
	tether_spake2_share(b, share);
	memcpy(bad, share, 65);
	bad[64] ^= 1; /* off the curve */
	assert_int_equal(tether_spake2_finish(a, bad, c, e, NULL), -EPROTO);
	memset(bad, 0, 65); /* the identity's encoding, padded */
	assert_int_equal(tether_spake2_finish(a, bad, c, e, NULL), -EPROTO);
	memcpy(bad, share, 65);
	bad[0] = 0x02; /* claims to be compressed */
	assert_int_equal(tether_spake2_finish(a, bad, c, e, NULL), -EPROTO);
	/* pB = w*N: then pB - w*N is the identity, and so is K; such a share
	 * would let a peer force a known key. */
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *n = EC_POINT_new(grp);
	BIGNUM *wb = BN_bin2bn(w, 32, NULL);
	uint8_t n_bytes[33];
	unhex("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49", n_bytes, 33);
	assert_int_equal(EC_POINT_oct2point(grp, n, n_bytes, 33, NULL), 1);
	assert_int_equal(EC_POINT_mul(grp, n, NULL, n, wb, NULL), 1);
	assert_int_equal(EC_POINT_point2oct(grp, n, POINT_CONVERSION_UNCOMPRESSED, bad, 65, NULL), 65);
	assert_int_equal(tether_spake2_finish(a, bad, c, e, NULL), -EPROTO);
	BN_free(wb);
	EC_POINT_free(n);
	EC_GROUP_free(grp);
	assert_int_equal(tether_spake2_finish(a, share, c, e, NULL), 0); /* the honest share still works */
	struct tether_spake2 *g;
	/* Scalars out of range are refused. */
	uint8_t order[32];
	unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", order, 32);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_A, order, NULL, &ctx, &g), -EINVAL);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_A, w, order, &ctx, &g), -EINVAL);
	memset(order, 0, 32);
	assert_int_equal(tether_spake2_new(TETHER_SPAKE2_A, w, order, &ctx, &g), -EINVAL);
	tether_spake2_free(a);
	tether_spake2_free(b);
}

/* w depends on every input of the derivation. */
static void spake2_password_derivation(void **state)
{
	uint8_t a[32], b[32];
	assert_int_equal(tether_spake2_password("123456", "salt", 4, "info", 4, a), 0);
	assert_int_equal(tether_spake2_password("123456", "salt", 4, "info", 4, b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(tether_spake2_password("123457", "salt", 4, "info", 4, b), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(tether_spake2_password("123456", "salT", 4, "info", 4, b), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(tether_spake2_password("123456", "salt", 4, "infO", 4, b), 0);
	assert_memory_not_equal(a, b, 32);
}

#define TEST(fn) cmocka_unit_test(fn)
static const struct CMUnitTest tests[] = {
	TEST(spake2_rfc9382_vector),
	TEST(spake2_same_pin_agrees),
	TEST(spake2_wrong_pin_fails_both_ways),
	TEST(spake2_swapped_identities_fail),
	TEST(spake2_hostile_points_refused),
	TEST(spake2_password_derivation),
};

TETHER_CMOCKA_MAIN(tests)
