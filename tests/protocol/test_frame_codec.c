/*
 * Frame codec tests (protocol/frame_codec.h): byte-exact round trips of
 * real-looking images with every codec this build has, the raw codec's
 * zero-copy payload, hostile payloads (every truncation, every header byte,
 * thousands of random corruptions: refused, never a crash; run under ASan
 * with the sanitize label), and the codec chooser's decisions on synthetic
 * observations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "protocol/frame_codec.h"

#define PAD_BYTE 0xA5

/* --- images ----------------------------------------------------------------- */

static uint32_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic across runs and platforms */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545F4914F6CDD1DULL) >> 32);
}

enum pattern { GRADIENT, NOISE, SOLID, GAME };

/* An image of @rows rows of @row_bytes, @stride bytes apart; padding is PAD_BYTE. */
static uint8_t *make_image(enum pattern pat, uint32_t row_bytes, uint32_t rows, uint32_t stride, uint64_t seed)
{
	uint8_t *img = malloc((size_t)stride * rows);
	uint64_t s = seed | 1;

	assert_non_null(img);
	memset(img, PAD_BYTE, (size_t)stride * rows);
	for (uint32_t y = 0; y < rows; y++) {
		uint8_t *row = img + (size_t)y * stride;
		for (uint32_t x = 0; x < row_bytes; x++) {
			uint32_t px = x / 4, c = x % 4, n = rng_next(&s);
			uint8_t v;
			switch (pat) {
			case GRADIENT:
				/* smooth: a step every few pixels, as across a screen */
				v = c == 3 ? 255 : (uint8_t)(px / 6 * (c + 1) + y / 4 * (3 - c));
				break;
			case NOISE:
				v = (uint8_t)n;
				break;
			case SOLID:
				v = c == 3 ? 255 : (uint8_t)(40 * (c + 1));
				break;
			default: /* smooth gradient, fine noise, a flat panel */
				v = c == 3 ? 255 : (uint8_t)(px / 3 + y / 2 + (n & 3));
				if (y > rows * 3 / 4 && px < row_bytes / 8)
					v = 30;
				break;
			}
			row[x] = v;
		}
	}
	return img;
}

/* Concatenates a packet's iovecs: what the peer receives. */
static uint8_t *flatten(const struct tether_frame_packet *pkt)
{
	uint8_t *p = malloc(pkt->size ? pkt->size : 1), *at = p;
	size_t total = 0;

	assert_non_null(p);
	for (int i = 0; i < pkt->iovcnt; i++) {
		memcpy(at, pkt->iov[i].base, pkt->iov[i].len);
		at += pkt->iov[i].len;
		total += pkt->iov[i].len;
	}
	assert_int_equal(total, pkt->size);
	return p;
}

static uint32_t supported_codecs(void)
{
	return tether_frame_codecs_supported();
}

/* Encodes, flattens and decodes into a padded destination; compares bytes. */
static void roundtrip(struct tether_frame_encoder *enc, struct tether_frame_decoder *dec,
		      enum tether_frame_codec codec, enum pattern pat, uint32_t row_bytes, uint32_t rows,
		      uint32_t src_stride, uint32_t dst_stride)
{
	struct tether_frame_packet pkt = {0};
	uint8_t *src = make_image(pat, row_bytes, rows, src_stride, row_bytes * 31 + rows);
	size_t dst_size = (size_t)dst_stride * rows;
	uint8_t *dst = malloc(dst_size);

	assert_non_null(dst);
	memset(dst, PAD_BYTE, dst_size);
	assert_int_equal(tether_frame_encode(enc, codec, src, row_bytes, rows, src_stride, &pkt), 0);
	assert_true(pkt.iovcnt >= 2 && pkt.iovcnt <= (int)TETHER_FRAME_MAX_IOV);
	uint8_t *payload = flatten(&pkt);
	assert_int_equal(tether_frame_decode(dec, payload, pkt.size, dst, dst_stride, row_bytes, rows), 0);
	for (uint32_t y = 0; y < rows; y++) {
		assert_memory_equal(dst + (size_t)y * dst_stride, src + (size_t)y * src_stride, row_bytes);
		for (uint32_t x = row_bytes; x < dst_stride; x++)
			assert_int_equal(dst[(size_t)y * dst_stride + x], PAD_BYTE);
	}
	free(payload);
	free(dst);
	free(src);
	tether_frame_packet_release(&pkt);
}

/* Runs @fn for every supported codec with (encoder, decoder) threads 1/1 and 4/3. */
static void for_each_codec(void (*fn)(struct tether_frame_encoder *, struct tether_frame_decoder *,
				      enum tether_frame_codec))
{
	static const unsigned threads[][2] = {{1, 1}, {4, 3}};
	for (size_t t = 0; t < 2; t++) {
		struct tether_frame_encoder *enc;
		struct tether_frame_decoder *dec;
		assert_int_equal(tether_frame_encoder_create(threads[t][0], &enc), 0);
		assert_int_equal(tether_frame_decoder_create(threads[t][1], &dec), 0);
		for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++)
			if (supported_codecs() >> c & 1)
				fn(enc, dec, (enum tether_frame_codec)c);
		tether_frame_decoder_destroy(dec);
		tether_frame_encoder_destroy(enc);
	}
}

/* --- round trips ------------------------------------------------------------ */

static void frame_codecs_supported_mask(void **state)
{
	(void)state;
	uint32_t mask = tether_frame_codecs_supported();
	enum tether_frame_codec c;
	assert_true(mask & 1u << TETHER_CODEC_RAW);
	assert_int_equal(mask >> TETHER_CODEC_COUNT, 0);
	for (uint32_t i = 0; i < TETHER_CODEC_COUNT; i++) {
		assert_int_equal(tether_frame_codec_parse(tether_frame_codec_name(i), &c), 0);
		assert_int_equal(c, i);
	}
	assert_int_equal(tether_frame_codec_parse("lzma", &c), -EINVAL);
	assert_string_equal(tether_frame_codec_name(7), "?");
}

static void patterns_body(struct tether_frame_encoder *enc, struct tether_frame_decoder *dec,
			  enum tether_frame_codec codec)
{
	roundtrip(enc, dec, codec, GRADIENT, 256 * 4, 256, 256 * 4, 256 * 4);
	roundtrip(enc, dec, codec, NOISE, 300 * 4, 200, 300 * 4, 300 * 4);
	roundtrip(enc, dec, codec, SOLID, 640 * 4, 480, 640 * 4, 640 * 4);
	roundtrip(enc, dec, codec, GAME, 1920 * 4, 1080, 1920 * 4, 1920 * 4);
}

static void frame_roundtrip_patterns(void **state)
{
	(void)state;
	for_each_codec(patterns_body);
}

static void odd_sizes_body(struct tether_frame_encoder *enc, struct tether_frame_decoder *dec,
			   enum tether_frame_codec codec)
{
	static const uint32_t widths[] = {1, 3, 17, 333, 1001};
	static const uint32_t heights[] = {1, 2, 7, 129, 515};
	for (size_t w = 0; w < 5; w++)
		for (size_t h = 0; h < 5; h++)
			roundtrip(enc, dec, codec, (w + h) % 2 ? GAME : NOISE, widths[w] * 4, heights[h],
				  widths[w] * 4, widths[w] * 4);
}

static void frame_roundtrip_odd_sizes(void **state)
{
	(void)state;
	for_each_codec(odd_sizes_body);
}

static void strides_body(struct tether_frame_encoder *enc, struct tether_frame_decoder *dec,
			 enum tether_frame_codec codec)
{
	/* Padded source (a linear image's rowPitch), padded destination (an
	 * X11 image's bytes_per_line), and both. */
	roundtrip(enc, dec, codec, GAME, 1000 * 4, 300, 1024 * 4, 1000 * 4);
	roundtrip(enc, dec, codec, GAME, 1000 * 4, 300, 1000 * 4, 1000 * 4 + 12);
	roundtrip(enc, dec, codec, NOISE, 77 * 4, 301, 77 * 4 + 60, 80 * 4);
	roundtrip(enc, dec, codec, SOLID, 4096 * 4, 64, 4096 * 4 + 256, 4096 * 4 + 4);
}

static void frame_roundtrip_padded_strides(void **state)
{
	(void)state;
	for_each_codec(strides_body);
}

static void extremes_body(struct tether_frame_encoder *enc, struct tether_frame_decoder *dec,
			  enum tether_frame_codec codec)
{
	roundtrip(enc, dec, codec, GRADIENT, 4, 1, 4, 4);
	roundtrip(enc, dec, codec, NOISE, 4, 1, 8, 8);
	roundtrip(enc, dec, codec, GAME, 7680 * 4, 16, 7680 * 4, 7680 * 4);
	roundtrip(enc, dec, codec, GRADIENT, 4, 4320, 4, 4);
}

static void frame_roundtrip_1x1_and_7680x16(void **state)
{
	(void)state;
	for_each_codec(extremes_body);
}

static void frame_raw_is_zero_copy(void **state)
{
	(void)state;
	struct tether_frame_encoder *enc;
	struct tether_frame_packet pkt = {0};
	uint32_t row_bytes = 1920 * 4, rows = 1080;
	uint8_t *img = make_image(GAME, row_bytes, rows, row_bytes, 5);

	assert_int_equal(tether_frame_encoder_create(4, &enc), 0);
	assert_int_equal(tether_frame_encode(enc, TETHER_CODEC_RAW, img, row_bytes, rows, row_bytes, &pkt), 0);
	/* The header, then one iovec over the caller's pixels: nothing copied. */
	assert_int_equal(pkt.iovcnt, 2);
	assert_ptr_equal(pkt.iov[1].base, img);
	assert_int_equal(pkt.iov[1].len, (size_t)row_bytes * rows);
	assert_int_equal(pkt.size, pkt.iov[0].len + (size_t)row_bytes * rows);
	assert_null(pkt.packed);
	assert_null(pkt.out);
	tether_frame_packet_release(&pkt);
	tether_frame_encoder_destroy(enc);
	free(img);
}

static void frame_incompressible_strips_stored_raw(void **state)
{
	(void)state;
	struct tether_frame_encoder *enc;
	struct tether_frame_packet pkt = {0};
	uint32_t row_bytes = 512 * 4, rows = 512;
	uint8_t *img = make_image(NOISE, row_bytes, rows, row_bytes, 9);

	assert_int_equal(tether_frame_encoder_create(2, &enc), 0);
	for (uint32_t c = 1; c < TETHER_CODEC_COUNT; c++) {
		if (!(supported_codecs() >> c & 1))
			continue;
		assert_int_equal(tether_frame_encode(enc, c, img, row_bytes, rows, row_bytes, &pkt), 0);
		/* Noise does not shrink: every strip is the caller's rows. */
		assert_int_equal(pkt.iovcnt, 2);
		assert_ptr_equal(pkt.iov[1].base, img);
		assert_int_equal(pkt.size, pkt.iov[0].len + (size_t)row_bytes * rows);
	}
	tether_frame_packet_release(&pkt);
	tether_frame_encoder_destroy(enc);
	free(img);
}

static void frame_packet_reused_across_frames(void **state)
{
	(void)state;
	struct tether_frame_encoder *enc;
	struct tether_frame_decoder *dec;
	struct tether_frame_packet pkt = {0};
	static const uint32_t sizes[][2] = {{1920, 1080}, {64, 64}, {2560, 1600}, {3, 5}, {1920, 1080}};

	assert_int_equal(tether_frame_encoder_create(3, &enc), 0);
	assert_int_equal(tether_frame_decoder_create(2, &dec), 0);
	for (size_t i = 0; i < 5 * TETHER_CODEC_COUNT; i++) {
		enum tether_frame_codec codec = (enum tether_frame_codec)(i % TETHER_CODEC_COUNT);
		uint32_t rb = sizes[i % 5][0] * 4, rows = sizes[i % 5][1];
		if (!(supported_codecs() >> codec & 1))
			continue;
		uint8_t *img = make_image(GAME, rb, rows, rb, i);
		uint8_t *dst = malloc((size_t)rb * rows);
		assert_int_equal(tether_frame_encode(enc, codec, img, rb, rows, rb, &pkt), 0);
		uint8_t *payload = flatten(&pkt);
		assert_int_equal(tether_frame_decode(dec, payload, pkt.size, dst, rb, rb, rows), 0);
		assert_memory_equal(dst, img, (size_t)rb * rows);
		free(payload);
		free(dst);
		free(img);
	}
	tether_frame_packet_release(&pkt);
	tether_frame_decoder_destroy(dec);
	tether_frame_encoder_destroy(enc);
}

static void frame_encode_bad_arguments_refused(void **state)
{
	(void)state;
	struct tether_frame_encoder *enc;
	struct tether_frame_packet pkt = {0};
	uint8_t img[64] = {0};

	assert_int_equal(tether_frame_encoder_create(1, &enc), 0);
	assert_int_equal(tether_frame_encode(enc, TETHER_CODEC_RAW, img, 16, 0, 16, &pkt), -EINVAL);
	assert_int_equal(tether_frame_encode(enc, TETHER_CODEC_RAW, img, 0, 4, 16, &pkt), -EINVAL);
	assert_int_equal(tether_frame_encode(enc, TETHER_CODEC_RAW, img, 16, 4, 8, &pkt), -EINVAL);
	assert_int_equal(tether_frame_encode(enc, TETHER_CODEC_RAW, NULL, 16, 4, 16, &pkt), -EINVAL);
	assert_int_equal(tether_frame_encode(enc, TETHER_CODEC_RAW, img, TETHER_FRAME_MAX_ROW_BYTES + 4,
					     1, TETHER_FRAME_MAX_ROW_BYTES + 4, &pkt), -EINVAL);
	assert_int_equal(tether_frame_encode(enc, (enum tether_frame_codec)9, img, 16, 4, 16, &pkt), -ENOTSUP);
	assert_int_equal(pkt.iovcnt, 0);
	tether_frame_packet_release(&pkt);
	tether_frame_encoder_destroy(enc);
}

/* --- hostile payloads ------------------------------------------------------- */

static uint32_t payload_u32(const uint8_t *p, size_t at)
{
	return (uint32_t)p[at] | (uint32_t)p[at + 1] << 8 | (uint32_t)p[at + 2] << 16 | (uint32_t)p[at + 3] << 24;
}

/* Whether every strip of a payload is stored raw. */
static bool all_strips_raw(const uint8_t *p, uint32_t row_bytes)
{
	for (uint32_t i = 0; i < payload_u32(p, 12); i++)
		if (payload_u32(p, 20 + 8 * i) != payload_u32(p, 16 + 8 * i) * row_bytes)
			return false;
	return true;
}

/* Strips of the small payloads below: uneven, one of a single row. */
static const uint32_t small_strips[] = {7, 1, 12, 10, 20};
#define SMALL_ROWS 50u
#define SMALL_ROW_BYTES (40u * 4)

/*
 * A small payload of several strips (the encoder cuts only frames over
 * 128 KiB): each strip is a frame of its own rows encoded alone, and their
 * data goes under one header, as the encoder would have written it. Rows
 * are a gradient, but for strip 3's noise: compressed strips and one stored
 * raw.
 */
static uint8_t *small_payload(enum tether_frame_codec codec, size_t *size)
{
	struct tether_frame_encoder *enc;
	struct tether_frame_packet pkt = {0};
	uint32_t n = sizeof(small_strips) / sizeof(small_strips[0]), row0 = 0;
	uint8_t *img = make_image(GRADIENT, SMALL_ROW_BYTES, SMALL_ROWS, SMALL_ROW_BYTES, 77);
	uint8_t *noise = make_image(NOISE, SMALL_ROW_BYTES, 10, SMALL_ROW_BYTES, 78);
	memcpy(img + 20 * SMALL_ROW_BYTES, noise, 10 * SMALL_ROW_BYTES); /* strip 3: stored raw */
	free(noise);
	uint8_t *p = malloc(TETHER_FRAME_CODEC_HEADER_SIZE(n) + SMALL_ROW_BYTES * SMALL_ROWS);
	size_t at = TETHER_FRAME_CODEC_HEADER_SIZE(n);
	uint32_t head[4] = {codec, SMALL_ROW_BYTES, SMALL_ROWS, n};

	assert_int_equal(tether_frame_encoder_create(1, &enc), 0);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(tether_frame_encode(enc, codec, img + row0 * SMALL_ROW_BYTES, SMALL_ROW_BYTES,
						     small_strips[i], SMALL_ROW_BYTES, &pkt), 0);
		uint8_t *one = flatten(&pkt);
		assert_int_equal(payload_u32(one, 12), 1);
		uint32_t len = payload_u32(one, 20);
		memcpy(p + 16 + 8 * i, one + 16, 8);
		memcpy(p + at, one + TETHER_FRAME_CODEC_HEADER_SIZE(1), len);
		at += len;
		row0 += small_strips[i];
		free(one);
	}
	assert_int_equal(row0, SMALL_ROWS);
	if (codec != TETHER_CODEC_RAW) {
		assert_int_equal(payload_u32(p, 16 + 3 * 8 + 4), 10 * SMALL_ROW_BYTES);
		assert_true(payload_u32(p, 16 + 2 * 8 + 4) < 12 * SMALL_ROW_BYTES);
	}
	for (int k = 0; k < 4; k++)
		memcpy(p + 4 * k, &head[k], 4); /* little-endian hosts only, as tether */
	*size = at;
	tether_frame_packet_release(&pkt);
	tether_frame_encoder_destroy(enc);
	free(img);
	return p;
}

/* Decodes @size bytes copied to an exact-size heap block (so ASan sees an
 * overread) into an exact-size destination; checks the padding. */
static int decode_exact(struct tether_frame_decoder *dec, const uint8_t *payload, size_t size,
			uint32_t row_bytes, uint32_t rows, uint32_t dst_stride)
{
	uint8_t *copy = malloc(size ? size : 1);
	uint8_t *dst = malloc((size_t)dst_stride * rows);
	assert_non_null(copy);
	assert_non_null(dst);
	memcpy(copy, payload, size);
	memset(dst, PAD_BYTE, (size_t)dst_stride * rows);
	int r = tether_frame_decode(dec, copy, size, dst, dst_stride, row_bytes, rows);
	for (uint32_t y = 0; y < rows; y++)
		for (uint32_t x = row_bytes; x < dst_stride; x++)
			assert_int_equal(dst[(size_t)y * dst_stride + x], PAD_BYTE);
	free(dst);
	free(copy);
	return r;
}

static void frame_decode_every_truncation_rejected(void **state)
{
	(void)state;
	struct tether_frame_decoder *dec;
	uint32_t rb = SMALL_ROW_BYTES, rows = SMALL_ROWS;

	assert_int_equal(tether_frame_decoder_create(2, &dec), 0);
	for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++) {
		if (!(supported_codecs() >> c & 1))
			continue;
		size_t size;
		uint8_t *p = small_payload(c, &size);
		assert_int_equal(decode_exact(dec, p, size, rb, rows, rb), 0);
		assert_int_equal(decode_exact(dec, p, size, rb, rows, rb + 8), 0);
		for (size_t len = 0; len < size; len++) {
			assert_int_equal(decode_exact(dec, p, len, rb, rows, rb), -EPROTO);
			assert_int_equal(decode_exact(dec, p, len, rb, rows, rb + 8), -EPROTO);
		}
		/* One byte too many is refused as well. */
		uint8_t *longer = calloc(1, size + 1);
		memcpy(longer, p, size);
		assert_int_equal(decode_exact(dec, longer, size + 1, rb, rows, rb), -EPROTO);
		free(longer);
		free(p);
	}
	tether_frame_decoder_destroy(dec);
}

static void frame_decode_header_corruptions_rejected(void **state)
{
	(void)state;
	struct tether_frame_decoder *dec;
	uint32_t rb = SMALL_ROW_BYTES, rows = SMALL_ROWS;
	static const uint8_t flips[] = {0x01, 0x02, 0x10, 0x80, 0xff};

	assert_int_equal(tether_frame_decoder_create(2, &dec), 0);
	for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++) {
		if (!(supported_codecs() >> c & 1))
			continue;
		size_t size;
		uint8_t *p = small_payload(c, &size);
		size_t header = TETHER_FRAME_CODEC_HEADER_SIZE(payload_u32(p, 12));
		bool raw = all_strips_raw(p, rb);
		for (size_t at = 0; at < header; at++) {
			for (size_t f = 0; f < sizeof(flips); f++) {
				p[at] ^= flips[f];
				int r = decode_exact(dec, p, size, rb, rows, rb);
				/* Any other field breaks a sum or a size; only the
				 * codec of an all-raw payload may change harmlessly. */
				if (at < 4 && raw && payload_u32(p, 0) < TETHER_CODEC_COUNT)
					assert_true(r == 0 || r == -ENOTSUP);
				else
					assert_int_equal(r, -EPROTO);
				p[at] ^= flips[f];
			}
		}
		free(p);
	}
	tether_frame_decoder_destroy(dec);
}

static void frame_decode_random_corruptions_safe(void **state)
{
	(void)state;
	struct tether_frame_decoder *dec;
	uint32_t rb = SMALL_ROW_BYTES, rows = SMALL_ROWS;
	uint64_t seed = 0x1234567;
	unsigned refused = 0, runs = 0;

	assert_int_equal(tether_frame_decoder_create(3, &dec), 0);
	for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++) {
		if (!(supported_codecs() >> c & 1))
			continue;
		size_t size;
		uint8_t *p = small_payload(c, &size);
		uint8_t *bad = malloc(size);
		for (unsigned i = 0; i < 5000; i++, runs++) {
			memcpy(bad, p, size);
			/* 1-4 random bytes, anywhere; every fourth run one
			 * of them is in the header. */
			unsigned n = 1 + rng_next(&seed) % 4;
			for (unsigned k = 0; k < n; k++) {
				size_t at = rng_next(&seed) % size;
				if (k == 0 && i % 4 == 0)
					at %= TETHER_FRAME_CODEC_HEADER_SIZE(payload_u32(p, 12));
				bad[at] = (uint8_t)rng_next(&seed);
			}
			size_t len = i % 5 == 0 ? rng_next(&seed) % (size + 1) : size;
			int r = decode_exact(dec, bad, len, rb, rows, i % 2 ? rb : rb + 4);
			/* Pixels are not checksummed: a changed literal decodes. */
			assert_true(r == 0 || r == -EPROTO || r == -ENOTSUP);
			refused += r != 0;
		}
		free(bad);
		free(p);
	}
	/* Random bytes where a header is expected. */
	for (unsigned i = 0; i < 2000; i++, runs++) {
		uint8_t junk[256];
		size_t len = rng_next(&seed) % sizeof(junk);
		for (size_t k = 0; k < len; k++)
			junk[k] = (uint8_t)rng_next(&seed);
		if (len >= 16 && i % 2) {
			/* Plausible fields, so the checks past them run too. */
			uint32_t fields[4] = {i % TETHER_CODEC_COUNT, rb, rows, 1 + i % 5};
			for (int k = 0; k < 4; k++)
				for (int b = 0; b < 4; b++)
					junk[4 * k + b] = (uint8_t)(fields[k] >> (8 * b));
		}
		assert_int_equal(decode_exact(dec, junk, len, rb, rows, rb), -EPROTO);
		refused++;
	}
	assert_true(refused > runs / 2);
	tether_frame_decoder_destroy(dec);
}

static void frame_decode_wrong_size_rejected(void **state)
{
	(void)state;
	struct tether_frame_decoder *dec;
	uint32_t rb = SMALL_ROW_BYTES, rows = SMALL_ROWS;
	size_t size;
	uint8_t *p = small_payload(TETHER_CODEC_RAW, &size);
	uint8_t *dst = malloc((size_t)(rb + 64) * (rows + 8));

	assert_int_equal(tether_frame_decoder_create(1, &dec), 0);
	assert_int_equal(tether_frame_decode(dec, p, size, dst, rb + 4, rb + 4, rows), -EPROTO);
	assert_int_equal(tether_frame_decode(dec, p, size, dst, rb, rb, rows + 1), -EPROTO);
	assert_int_equal(tether_frame_decode(dec, p, size, dst, rb, rb, rows - 1), -EPROTO);
	assert_int_equal(tether_frame_decode(dec, p, size, dst, rb - 4, rb, rows), -EINVAL);
	assert_int_equal(tether_frame_decode(dec, p, size, NULL, rb, rb, rows), -EINVAL);
	assert_int_equal(tether_frame_decode(dec, p, size, dst, rb, rb, 0), -EINVAL);
	assert_int_equal(tether_frame_decode(dec, NULL, 0, dst, rb, rb, rows), -EPROTO);
	assert_int_equal(tether_frame_decode(dec, p, size, dst, rb, rb, rows), 0);
	tether_frame_decoder_destroy(dec);
	free(dst);
	free(p);
}

/* --- the codec chooser ------------------------------------------------------ */

#define FRAME_BYTES (1920u * 1080 * 4)

/* Synthetic observations of a 1080p frame: encode times with a few threads
 * and ratios like bench_frame_codec's, and a link of @bytes_per_s. */
static void observe_frame(struct tether_codec_chooser *ch, enum tether_frame_codec c, double bytes_per_s)
{
	static const double ratio[] = {1.0, 0.40, 0.28};
	static const uint64_t encode_ns[] = {20000, 2000000, 4000000};
	uint64_t encoded = (uint64_t)(ratio[c] * FRAME_BYTES);
	tether_codec_observe_encode(ch, c, FRAME_BYTES, encoded, encode_ns[c]);
	tether_codec_observe_link(ch, encoded, (uint64_t)((double)encoded / bytes_per_s * 1e9));
}

/* Lets the chooser pick @frames frames on a link of @bytes_per_s; counts its picks. */
static void run_frames(struct tether_codec_chooser *ch, uint32_t allowed, double bytes_per_s, unsigned frames,
		       unsigned counts[TETHER_CODEC_COUNT])
{
	memset(counts, 0, TETHER_CODEC_COUNT * sizeof(*counts));
	for (unsigned i = 0; i < frames; i++) {
		enum tether_frame_codec c = tether_codec_choose(ch, allowed);
		assert_true((allowed | 1u) >> c & 1);
		counts[c]++;
		observe_frame(ch, c, bytes_per_s);
	}
}

static uint32_t all_codecs(void)
{
	return (1u << TETHER_CODEC_COUNT) - 1;
}

static void codec_chooser_fast_link_picks_raw(void **state)
{
	(void)state;
	struct tether_codec_chooser *ch;
	unsigned n[TETHER_CODEC_COUNT];

	unsetenv("TETHER_CODEC");
	assert_int_equal(tether_codec_chooser_create(&ch), 0);
	run_frames(ch, all_codecs(), 10e9, 20, n); /* learn */
	run_frames(ch, all_codecs(), 10e9, 200, n);
	/* 8.3 MB at 10 GB/s is 0.8 ms: less than compressing it. */
	assert_true(n[TETHER_CODEC_RAW] >= 190);
	tether_codec_chooser_destroy(ch);
}

static void codec_chooser_slow_link_picks_compression(void **state)
{
	(void)state;
	struct tether_codec_chooser *ch;
	unsigned n[TETHER_CODEC_COUNT];
	uint32_t have = supported_codecs();

	if (have == 1u << TETHER_CODEC_RAW)
		skip();
	unsetenv("TETHER_CODEC");
	assert_int_equal(tether_codec_chooser_create(&ch), 0);
	run_frames(ch, all_codecs(), 50e6, 20, n);
	run_frames(ch, all_codecs(), 50e6, 200, n);
	/* 50 MB/s: the smallest frame wins, zstd when it exists. */
	enum tether_frame_codec want = have >> TETHER_CODEC_ZSTD & 1 ? TETHER_CODEC_ZSTD : TETHER_CODEC_LZ4;
	assert_true(n[want] >= 190);
	assert_int_equal(n[TETHER_CODEC_RAW], 0); /* never explored: 3.5x slower */
	/* The peer decodes only LZ4 (and raw). */
	if (have >> TETHER_CODEC_LZ4 & 1) {
		run_frames(ch, 1u << TETHER_CODEC_LZ4, 50e6, 100, n);
		assert_int_equal(n[TETHER_CODEC_LZ4], 100);
	}
	tether_codec_chooser_destroy(ch);
}

static void codec_chooser_explores(void **state)
{
	(void)state;
	struct tether_codec_chooser *ch;
	unsigned n[TETHER_CODEC_COUNT];
	uint32_t have = supported_codecs();

	unsetenv("TETHER_CODEC");
	assert_int_equal(tether_codec_chooser_create(&ch), 0);
	/* Codecs never observed are tried first. */
	for (uint32_t c = 1; c < TETHER_CODEC_COUNT; c++) {
		if (!(have >> c & 1))
			continue;
		assert_int_equal(tether_codec_choose(ch, all_codecs()), c);
		observe_frame(ch, c, 1e9);
	}
	/* On a 2 GB/s link, with decoding equally fast, all three are within
	 * 2x of each other: every one is tried again about every
	 * TETHER_CODEC_EXPLORE_EVERY frames. */
	for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++)
		tether_codec_observe_decode(ch, c, FRAME_BYTES, FRAME_BYTES / 20);
	run_frames(ch, all_codecs(), 2e9, 10 * TETHER_CODEC_EXPLORE_EVERY, n);
	for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++)
		if (have >> c & 1)
			assert_true(n[c] >= 9);
	/* At 50 MB/s raw is 3.5x slower than zstd: never tried. */
	run_frames(ch, all_codecs(), 50e6, 10, n);
	run_frames(ch, all_codecs(), 50e6, 10 * TETHER_CODEC_EXPLORE_EVERY, n);
	if (have != 1u << TETHER_CODEC_RAW)
		assert_int_equal(n[TETHER_CODEC_RAW], 0);
	/* A codec chosen but never observed is tried again, not every frame. */
	struct tether_codec_chooser *fresh;
	assert_int_equal(tether_codec_chooser_create(&fresh), 0);
	if (have >> TETHER_CODEC_LZ4 & 1) {
		unsigned lz4 = 0;
		for (unsigned i = 0; i < 3 * TETHER_CODEC_EXPLORE_EVERY; i++)
			lz4 += tether_codec_choose(fresh, 1u << TETHER_CODEC_LZ4) == TETHER_CODEC_LZ4;
		assert_true(lz4 >= 3 && lz4 <= 4);
	}
	tether_codec_chooser_destroy(fresh);
	tether_codec_chooser_destroy(ch);
}

static void codec_chooser_follows_link_changes(void **state)
{
	(void)state;
	struct tether_codec_chooser *ch;
	unsigned n[TETHER_CODEC_COUNT];

	if (supported_codecs() == 1u << TETHER_CODEC_RAW)
		skip();
	unsetenv("TETHER_CODEC");
	assert_int_equal(tether_codec_chooser_create(&ch), 0);
	run_frames(ch, all_codecs(), 10e9, 100, n);
	assert_true(n[TETHER_CODEC_RAW] >= 90);
	/* The link drops to 100 MB/s: long raw sends tell at once. */
	run_frames(ch, all_codecs(), 100e6, 100, n);
	assert_true(n[TETHER_CODEC_RAW] <= 3);
	/* Back to 10 GB/s: compressed sends are short now, and the estimate
	 * climbs until raw is tried and measured again. */
	run_frames(ch, all_codecs(), 10e9, 400, n);
	run_frames(ch, all_codecs(), 10e9, 100, n);
	assert_true(n[TETHER_CODEC_RAW] >= 90);
	tether_codec_chooser_destroy(ch);
}

static void codec_chooser_env_forces_codec(void **state)
{
	(void)state;
	struct tether_codec_chooser *ch;
	unsigned n[TETHER_CODEC_COUNT];
	uint32_t have = supported_codecs();
	enum tether_frame_codec forced = have >> TETHER_CODEC_ZSTD & 1 ? TETHER_CODEC_ZSTD : TETHER_CODEC_RAW;

	setenv("TETHER_CODEC", tether_frame_codec_name(forced), 1);
	assert_int_equal(tether_codec_chooser_create(&ch), 0);
	/* Forced even where the link would choose another... */
	run_frames(ch, all_codecs(), forced == TETHER_CODEC_RAW ? 1e6 : 100e9, 100, n);
	assert_int_equal(n[forced], 100);
	/* ...unless the peer cannot decode it. */
	if (forced != TETHER_CODEC_RAW) {
		run_frames(ch, 1u << TETHER_CODEC_RAW, 1e9, 10, n);
		assert_int_equal(n[TETHER_CODEC_RAW], 10);
	}
	tether_codec_chooser_destroy(ch);
	/* A name that is no codec is ignored. */
	setenv("TETHER_CODEC", "lzma", 1);
	assert_int_equal(tether_codec_chooser_create(&ch), 0);
	run_frames(ch, all_codecs(), 10e9, 200, n);
	assert_true(n[TETHER_CODEC_RAW] >= 180);
	tether_codec_chooser_destroy(ch);
	unsetenv("TETHER_CODEC");
}

static void codec_chooser_estimate(void **state)
{
	(void)state;
	struct tether_codec_chooser *ch;

	unsetenv("TETHER_CODEC");
	assert_int_equal(tether_codec_chooser_create(&ch), 0);
	/* Nothing known of LZ4 yet; raw is priced from the link alone. */
	assert_true(tether_codec_estimate_ns(ch, TETHER_CODEC_LZ4, FRAME_BYTES) > 1e300);
	tether_codec_observe_link(ch, 100000000, 1000000000); /* 100 MB/s */
	tether_codec_observe_encode(ch, TETHER_CODEC_LZ4, 1000000, 400000, 5000000);
	/* max(5 ms encode, 4 ms send) + decode. */
	double lz4 = tether_codec_estimate_ns(ch, TETHER_CODEC_LZ4, 1000000);
	assert_true(lz4 >= 5e6 && lz4 < 5.5e6);
	double raw = tether_codec_estimate_ns(ch, TETHER_CODEC_RAW, 1000000);
	assert_true(raw >= 10e6 && raw < 10.5e6);
	tether_codec_chooser_destroy(ch);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(frame_codecs_supported_mask),
	cmocka_unit_test(frame_roundtrip_patterns),
	cmocka_unit_test(frame_roundtrip_odd_sizes),
	cmocka_unit_test(frame_roundtrip_padded_strides),
	cmocka_unit_test(frame_roundtrip_1x1_and_7680x16),
	cmocka_unit_test(frame_raw_is_zero_copy),
	cmocka_unit_test(frame_incompressible_strips_stored_raw),
	cmocka_unit_test(frame_packet_reused_across_frames),
	cmocka_unit_test(frame_encode_bad_arguments_refused),
	cmocka_unit_test(frame_decode_every_truncation_rejected),
	cmocka_unit_test(frame_decode_header_corruptions_rejected),
	cmocka_unit_test(frame_decode_random_corruptions_safe),
	cmocka_unit_test(frame_decode_wrong_size_rejected),
	cmocka_unit_test(codec_chooser_fast_link_picks_raw),
	cmocka_unit_test(codec_chooser_slow_link_picks_compression),
	cmocka_unit_test(codec_chooser_explores),
	cmocka_unit_test(codec_chooser_follows_link_changes),
	cmocka_unit_test(codec_chooser_env_forces_codec),
	cmocka_unit_test(codec_chooser_estimate),
};

TETHER_CMOCKA_MAIN(tests)
