/*
 * tether frame codec (frame_codec.h): frames cut into strips of rows that a
 * work pool compresses on tetherd and decompresses on the client, with LZ4 or
 * zstd when the build has them (TETHER_HAVE_LZ4, TETHER_HAVE_ZSTD) and raw
 * always. The payload layout is in frame_codec.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef TETHER_HAVE_LZ4
#include <lz4.h>
#endif
#ifdef TETHER_HAVE_ZSTD
#include <zstd.h>
#endif

#include "protocol/frame_codec.h"
#include "protocol/byte_order.h"
#include "protocol/work_pool.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

/*
 * Strips of about this many bytes. Measured with bench/bench_frame_codec.c's
 * game-like frames on a 16-core Xeon: 32-64 KiB strips decode LZ4 at 1.9
 * GB/s a thread against 2.7 and compress 6 % worse (LZ4 2.35x against 2.50x);
 * 256 KiB gains 1-3 % of ratio but leaves a 720p frame fewer strips than
 * threads; 1 MiB strips starve 16 threads at 1080p (LZ4 encode 1.5 GB/s
 * against 3.8).
 */
#define STRIP_TARGET_BYTES (128u << 10)

/*
 * zstd level 1. On the same frames level -1 encoded at most 1.4x faster but
 * compressed 3.5x -> 2.9x, close to LZ4's 2.5x at a third of its speed:
 * smaller frames are why zstd is chosen at all. Level 3 gained 4 % of ratio
 * for 1.6x the encode time. LZ4 stays at its default acceleration for the
 * same reason.
 */
#define ZSTD_LEVEL 1

static const char *const codec_names[TETHER_CODEC_COUNT] = {"raw", "lz4", "zstd"};

uint32_t tether_frame_codecs_supported(void)
{
	uint32_t mask = 1u << TETHER_CODEC_RAW;
#ifdef TETHER_HAVE_LZ4
	mask |= 1u << TETHER_CODEC_LZ4;
#endif
#ifdef TETHER_HAVE_ZSTD
	mask |= 1u << TETHER_CODEC_ZSTD;
#endif
	return mask;
}

const char *tether_frame_codec_name(uint32_t codec)
{
	return codec < TETHER_CODEC_COUNT ? codec_names[codec] : "?";
}

int tether_frame_codec_parse(const char *name, enum tether_frame_codec *out)
{
	for (uint32_t c = 0; name && c < TETHER_CODEC_COUNT; c++) {
		if (!strcmp(name, codec_names[c])) {
			*out = (enum tether_frame_codec)c;
			return 0;
		}
	}
	return -EINVAL;
}

static bool codec_supported(uint32_t codec)
{
	return codec < TETHER_CODEC_COUNT && (tether_frame_codecs_supported() >> codec & 1);
}

static void copy_rows(uint8_t *dst, size_t dst_stride, const uint8_t *src, size_t src_stride,
		      size_t row_bytes, uint32_t rows)
{
	if (dst_stride == row_bytes && src_stride == row_bytes) {
		memcpy(dst, src, row_bytes * rows);
		return;
	}
	for (uint32_t r = 0; r < rows; r++)
		memcpy(dst + r * dst_stride, src + r * src_stride, row_bytes);
}

/* Makes *@buf hold at least @need bytes; its old contents are not kept. */
static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	free(*buf);
	*buf = malloc(need);
	*cap = *buf ? need : 0;
	return *buf ? 0 : -ENOMEM;
}

/* Per-worker codec state (zstd contexts), one slot per pool worker. */
static void **contexts_create(unsigned n, bool decode)
{
	void **ctx = calloc(n, sizeof(*ctx));
	if (!ctx)
		return NULL;
#ifdef TETHER_HAVE_ZSTD
	for (unsigned i = 0; i < n; i++) {
		if (decode) {
			ctx[i] = ZSTD_createDCtx();
		} else {
			ctx[i] = ZSTD_createCCtx();
			if (ctx[i])
				ZSTD_CCtx_setParameter(ctx[i], ZSTD_c_compressionLevel, ZSTD_LEVEL);
		}
		if (!ctx[i]) {
			for (unsigned j = 0; j < i; j++)
				decode ? ZSTD_freeDCtx(ctx[j]) : ZSTD_freeCCtx(ctx[j]);
			free(ctx);
			return NULL;
		}
	}
#else
	(void)decode;
#endif
	return ctx;
}

static void contexts_destroy(void **ctx, unsigned n, bool decode)
{
	if (!ctx)
		return;
#ifdef TETHER_HAVE_ZSTD
	for (unsigned i = 0; i < n; i++)
		decode ? ZSTD_freeDCtx(ctx[i]) : ZSTD_freeCCtx(ctx[i]);
#else
	(void)n;
	(void)decode;
#endif
	free(ctx);
}

/* --- encoder ---------------------------------------------------------------- */

struct enc_strip {
	uint32_t row0, rows;
	size_t out_off, out_cap; /* its room in packet->out */
	const uint8_t *data;     /* result: what is sent, size bytes */
	size_t size;
};

struct tether_frame_encoder {
	struct tether_work_pool *pool;
	void **zstd; /* ZSTD_CCtx per worker */
	struct enc_strip strips[TETHER_FRAME_MAX_STRIPS];
	/* the frame being encoded */
	enum tether_frame_codec codec;
	const uint8_t *pixels;
	uint32_t row_bytes, src_stride;
	struct tether_frame_packet *pkt;
};

unsigned tether_frame_threads(void)
{
	const char *env = tether_getenv("TETHER_FRAME_THREADS");
	long n = env ? strtol(env, NULL, 10) : 0;
#if defined(_SC_NPROCESSORS_ONLN)
	if (n <= 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN) / 2;
		if (n > 8)
			n = 8;
	}
#endif
	return n < 1 ? 1 : (unsigned)n;
}

int tether_frame_encoder_create(unsigned threads, struct tether_frame_encoder **out)
{
	struct tether_frame_encoder *enc = calloc(1, sizeof(*enc));
	int r;

	*out = NULL;
	if (!enc)
		return -ENOMEM;
	r = tether_work_pool_create(threads, &enc->pool);
	if (r) {
		free(enc);
		return r;
	}
	enc->zstd = contexts_create(tether_work_pool_threads(enc->pool), false);
	if (!enc->zstd) {
		tether_frame_encoder_destroy(enc);
		return -ENOMEM;
	}
	*out = enc;
	return 0;
}

void tether_frame_encoder_destroy(struct tether_frame_encoder *enc)
{
	if (!enc)
		return;
	contexts_destroy(enc->zstd, tether_work_pool_threads(enc->pool), false);
	tether_work_pool_destroy(enc->pool);
	free(enc);
}

/* Worst-case compressed size of @raw bytes: the room a strip gets. */
static size_t compress_bound(enum tether_frame_codec codec, size_t raw)
{
	switch (codec) {
#ifdef TETHER_HAVE_LZ4
	case TETHER_CODEC_LZ4:
		return (size_t)LZ4_compressBound((int)raw);
#endif
#ifdef TETHER_HAVE_ZSTD
	case TETHER_CODEC_ZSTD:
		return ZSTD_compressBound(raw);
#endif
	default:
		return 0;
	}
}

/* Return: the compressed size, or 0 when compression failed. */
static size_t strip_compress(struct tether_frame_encoder *enc, unsigned worker, uint8_t *dst, size_t cap,
		       const uint8_t *src, size_t len)
{
	switch (enc->codec) {
#ifdef TETHER_HAVE_LZ4
	case TETHER_CODEC_LZ4: {
		int n = LZ4_compress_default((const char *)src, (char *)dst, (int)len, (int)cap);
		return n > 0 ? (size_t)n : 0;
	}
#endif
#ifdef TETHER_HAVE_ZSTD
	case TETHER_CODEC_ZSTD: {
		size_t n = ZSTD_compress2(enc->zstd[worker], dst, cap, src, len);
		return ZSTD_isError(n) ? 0 : n;
	}
#endif
	default:
		(void)worker;
		(void)dst;
		(void)cap;
		(void)src;
		return 0;
	}
}

/* Pool job: pack strip @job's rows if the source is padded, then compress them. */
static void encode_strip(void *ctx, unsigned job, unsigned worker)
{
	struct tether_frame_encoder *enc = ctx;
	struct enc_strip *s = &enc->strips[job];
	size_t raw = (size_t)s->rows * enc->row_bytes;
	const uint8_t *src = enc->pixels + (size_t)s->row0 * enc->src_stride;

	if (enc->src_stride != enc->row_bytes) {
		uint8_t *packed = enc->pkt->packed + (size_t)s->row0 * enc->row_bytes;
		copy_rows(packed, enc->row_bytes, src, enc->src_stride, enc->row_bytes, s->rows);
		src = packed;
	}
	s->data = src;
	s->size = raw;
	if (enc->codec == TETHER_CODEC_RAW)
		return;
	size_t n = strip_compress(enc, worker, enc->pkt->out + s->out_off, s->out_cap, src, raw);
	if (n && n < raw) {
		s->data = enc->pkt->out + s->out_off;
		s->size = n;
	}
}

/*
 * Cuts @rows into strips of about STRIP_TARGET_BYTES, evenly, and gives each
 * its worst-case room in the output buffer. Return: the strip count.
 */
static uint32_t plan_strips(struct tether_frame_encoder *enc, uint32_t rows, size_t *out_total)
{
	uint32_t strip_rows = STRIP_TARGET_BYTES / enc->row_bytes;
	if (strip_rows == 0)
		strip_rows = 1;
	uint32_t n = (rows + strip_rows - 1) / strip_rows;
	if (n > TETHER_FRAME_MAX_STRIPS)
		n = TETHER_FRAME_MAX_STRIPS;
	size_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct enc_strip *s = &enc->strips[i];
		s->row0 = (uint32_t)((uint64_t)rows * i / n);
		s->rows = (uint32_t)((uint64_t)rows * (i + 1) / n) - s->row0;
		s->out_off = off;
		s->out_cap = compress_bound(enc->codec, (size_t)s->rows * enc->row_bytes);
		off += s->out_cap;
	}
	*out_total = off;
	return n;
}

static int packet_reserve(struct tether_frame_packet *pkt, uint32_t strips, size_t packed, size_t out)
{
	if (!pkt->header) {
		pkt->header = malloc(TETHER_FRAME_CODEC_HEADER_SIZE(TETHER_FRAME_MAX_STRIPS));
		if (!pkt->header)
			return -ENOMEM;
	}
	if (pkt->iov_cap < (size_t)strips + 1) {
		free(pkt->iov_buf);
		pkt->iov_buf = malloc(((size_t)strips + 1) * sizeof(*pkt->iov_buf));
		pkt->iov_cap = pkt->iov_buf ? (size_t)strips + 1 : 0;
		if (!pkt->iov_buf)
			return -ENOMEM;
	}
	if (grow(&pkt->packed, &pkt->packed_cap, packed))
		return -ENOMEM;
	return grow(&pkt->out, &pkt->out_cap, out);
}

/* Writes the header and the iovecs, merging strips that lie end to end. */
static void packet_assemble(struct tether_frame_encoder *enc, uint32_t rows, uint32_t n)
{
	struct tether_frame_packet *pkt = enc->pkt;
	uint8_t *h = pkt->header;
	struct tether_iovec *iov = pkt->iov_buf;
	int cnt = 1;

	tether_le32_put(h, enc->codec);
	tether_le32_put(h + 4, enc->row_bytes);
	tether_le32_put(h + 8, rows);
	tether_le32_put(h + 12, n);
	iov[0] = (struct tether_iovec){h, TETHER_FRAME_CODEC_HEADER_SIZE(n)};
	pkt->size = iov[0].len;
	for (uint32_t i = 0; i < n; i++) {
		const struct enc_strip *s = &enc->strips[i];
		struct tether_iovec *last = &iov[cnt - 1];
		tether_le32_put(h + 16 + 8 * i, s->rows);
		tether_le32_put(h + 20 + 8 * i, (uint32_t)s->size);
		if (cnt > 1 && (const uint8_t *)last->base + last->len == s->data)
			last->len += s->size;
		else
			iov[cnt++] = (struct tether_iovec){s->data, s->size};
		pkt->size += s->size;
	}
	pkt->iov = iov;
	pkt->iovcnt = cnt;
}

int tether_frame_encode(struct tether_frame_encoder *enc, enum tether_frame_codec codec,
			const uint8_t *pixels, uint32_t row_bytes, uint32_t rows, uint32_t src_stride,
			struct tether_frame_packet *out)
{
	size_t out_total;
	uint32_t n;

	out->iov = NULL;
	out->iovcnt = 0;
	out->size = 0;
	if (!pixels || row_bytes == 0 || row_bytes > TETHER_FRAME_MAX_ROW_BYTES || rows == 0 ||
	    rows > TETHER_FRAME_MAX_ROWS || src_stride < row_bytes)
		return TETHER_ERR("frame", -EINVAL, "cannot encode %u rows of %u bytes, stride %u",
				  rows, row_bytes, src_stride);
	if (!codec_supported(codec))
		return TETHER_ERR("frame", -ENOTSUP, "codec %s (%u) is not in this build",
				  tether_frame_codec_name(codec), (unsigned)codec);
	enc->codec = codec;
	enc->pixels = pixels;
	enc->row_bytes = row_bytes;
	enc->src_stride = src_stride;
	enc->pkt = out;
	n = plan_strips(enc, rows, &out_total);
	if (packet_reserve(out, n, src_stride != row_bytes ? (size_t)row_bytes * rows : 0, out_total))
		return TETHER_ERR("frame", -ENOMEM, "no memory for a %ux%u frame", row_bytes, rows);
	if (codec == TETHER_CODEC_RAW && src_stride == row_bytes) {
		/* Nothing to copy: waking the pool would cost more. */
		for (uint32_t i = 0; i < n; i++)
			encode_strip(enc, i, 0);
	} else {
		tether_work_pool_run(enc->pool, n, encode_strip, enc);
	}
	packet_assemble(enc, rows, n);
	return 0;
}

void tether_frame_packet_release(struct tether_frame_packet *pkt)
{
	free(pkt->iov_buf);
	free(pkt->header);
	free(pkt->packed);
	free(pkt->out);
	memset(pkt, 0, sizeof(*pkt));
}

/* --- decoder ---------------------------------------------------------------- */

struct dec_strip {
	uint32_t row0, rows;
	const uint8_t *data;
	uint32_t size;
	int result;    /* 0, -EPROTO or -ENOMEM */
	size_t got;    /* with -EPROTO: what it decompressed to (SIZE_MAX: an error) */
};

/* A worker's room for a strip when the destination rows are padded. */
struct dec_scratch {
	uint8_t *data;
	size_t cap;
};

struct tether_frame_decoder {
	struct tether_work_pool *pool;
	void **zstd; /* ZSTD_DCtx per worker */
	struct dec_scratch *scratch;
	struct dec_strip strips[TETHER_FRAME_MAX_STRIPS];
	/* the frame being decoded */
	uint32_t codec, row_bytes, dst_stride;
	uint8_t *dst;
};

int tether_frame_decoder_create(unsigned threads, struct tether_frame_decoder **out)
{
	struct tether_frame_decoder *dec = calloc(1, sizeof(*dec));
	int r;

	*out = NULL;
	if (!dec)
		return -ENOMEM;
	r = tether_work_pool_create(threads, &dec->pool);
	if (r) {
		free(dec);
		return r;
	}
	unsigned n = tether_work_pool_threads(dec->pool);
	dec->zstd = contexts_create(n, true);
	dec->scratch = calloc(n, sizeof(*dec->scratch));
	if (!dec->zstd || !dec->scratch) {
		tether_frame_decoder_destroy(dec);
		return -ENOMEM;
	}
	*out = dec;
	return 0;
}

void tether_frame_decoder_destroy(struct tether_frame_decoder *dec)
{
	if (!dec)
		return;
	unsigned n = tether_work_pool_threads(dec->pool);
	contexts_destroy(dec->zstd, n, true);
	for (unsigned i = 0; dec->scratch && i < n; i++)
		free(dec->scratch[i].data);
	free(dec->scratch);
	tether_work_pool_destroy(dec->pool);
	free(dec);
}

/*
 * Checks the header against the expected image and the payload's size and
 * fills dec->strips. Return: the strip count, or negative errno (logged).
 */
static int parse_header(struct tether_frame_decoder *dec, const uint8_t *p, size_t size,
			uint32_t expect_row_bytes, uint32_t expect_rows)
{
	if (size < TETHER_FRAME_CODEC_HEADER_SIZE(0))
		return TETHER_ERR("frame", -EPROTO, "payload of %zu bytes is shorter than a header", size);
	uint32_t codec = tether_le32_get(p), row_bytes = tether_le32_get(p + 4), rows = tether_le32_get(p + 8);
	uint32_t n = tether_le32_get(p + 12);
	if (codec >= TETHER_CODEC_COUNT)
		return TETHER_ERR("frame", -EPROTO, "unknown codec %u", codec);
	if (!codec_supported(codec))
		return TETHER_ERR("frame", -ENOTSUP, "codec %s is not in this build", codec_names[codec]);
	if (row_bytes != expect_row_bytes || rows != expect_rows)
		return TETHER_ERR("frame", -EPROTO, "frame of %u rows of %u bytes, expected %u of %u",
				  rows, row_bytes, expect_rows, expect_row_bytes);
	if (n == 0 || n > rows || n > TETHER_FRAME_MAX_STRIPS)
		return TETHER_ERR("frame", -EPROTO, "%u strips for %u rows", n, rows);
	if (size < TETHER_FRAME_CODEC_HEADER_SIZE(n))
		return TETHER_ERR("frame", -EPROTO, "payload of %zu bytes is shorter than its %u strips' header",
				  size, n);

	uint64_t row0 = 0, off = TETHER_FRAME_CODEC_HEADER_SIZE(n);
	for (uint32_t i = 0; i < n; i++) {
		struct dec_strip *s = &dec->strips[i];
		s->rows = tether_le32_get(p + 16 + 8 * i);
		s->size = tether_le32_get(p + 20 + 8 * i);
		if (s->rows == 0 || s->rows > rows - row0)
			return TETHER_ERR("frame", -EPROTO, "strip %u: %u rows from row %llu of %u",
					  i, s->rows, (unsigned long long)row0, rows);
		uint64_t raw = (uint64_t)s->rows * row_bytes;
		if (s->size == 0 || s->size > raw || (codec == TETHER_CODEC_RAW && s->size != raw))
			return TETHER_ERR("frame", -EPROTO, "strip %u: %u bytes for %llu raw (%s)", i,
					  s->size, (unsigned long long)raw, codec_names[codec]);
		if (s->size > size - off)
			return TETHER_ERR("frame", -EPROTO, "strip %u: %u bytes at %llu overrun the %zu-byte payload",
					  i, s->size, (unsigned long long)off, size);
		s->row0 = (uint32_t)row0;
		s->data = p + off;
		s->result = 0;
		row0 += s->rows;
		off += s->size;
	}
	if (row0 != rows)
		return TETHER_ERR("frame", -EPROTO, "strips hold %llu rows of %u", (unsigned long long)row0, rows);
	if (off != size)
		return TETHER_ERR("frame", -EPROTO, "%zu bytes after the last strip", size - (size_t)off);
	dec->codec = codec;
	return (int)n;
}

/* Return: what @src decompressed to in @dst (at most @cap), or SIZE_MAX on an error. */
static size_t strip_decompress(struct tether_frame_decoder *dec, unsigned worker, uint8_t *dst, size_t cap,
			 const uint8_t *src, size_t len)
{
	switch (dec->codec) {
#ifdef TETHER_HAVE_LZ4
	case TETHER_CODEC_LZ4: {
		/* LZ4_decompress_safe: never reads past @len nor writes past @cap. */
		int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)len, (int)cap);
		return n < 0 ? SIZE_MAX : (size_t)n;
	}
#endif
#ifdef TETHER_HAVE_ZSTD
	case TETHER_CODEC_ZSTD: {
		size_t n = ZSTD_decompressDCtx(dec->zstd[worker], dst, cap, src, len);
		return ZSTD_isError(n) ? SIZE_MAX : n;
	}
#endif
	default:
		(void)worker;
		(void)dst;
		(void)cap;
		(void)src;
		(void)len;
		return SIZE_MAX;
	}
}

/* Pool job: strip @job into its rows of the destination. */
static void decode_strip(void *ctx, unsigned job, unsigned worker)
{
	struct tether_frame_decoder *dec = ctx;
	struct dec_strip *s = &dec->strips[job];
	size_t raw = (size_t)s->rows * dec->row_bytes;
	uint8_t *dst = dec->dst + (size_t)s->row0 * dec->dst_stride;
	uint8_t *out = dst;

	if (s->size == raw) {
		copy_rows(dst, dec->dst_stride, s->data, dec->row_bytes, dec->row_bytes, s->rows);
		return;
	}
	if (dec->dst_stride != dec->row_bytes) {
		struct dec_scratch *sc = &dec->scratch[worker];
		if (grow(&sc->data, &sc->cap, raw)) {
			s->result = -ENOMEM;
			return;
		}
		out = sc->data;
	}
	s->got = strip_decompress(dec, worker, out, raw, s->data, s->size);
	if (s->got != raw) {
		s->result = -EPROTO;
		return;
	}
	if (out != dst)
		copy_rows(dst, dec->dst_stride, out, dec->row_bytes, dec->row_bytes, s->rows);
}

int tether_frame_decode(struct tether_frame_decoder *dec, const uint8_t *payload, size_t size,
			uint8_t *dst, uint32_t dst_stride, uint32_t expect_row_bytes,
			uint32_t expect_rows)
{
	if (!dst || expect_row_bytes == 0 || expect_row_bytes > TETHER_FRAME_MAX_ROW_BYTES ||
	    expect_rows == 0 || expect_rows > TETHER_FRAME_MAX_ROWS || dst_stride < expect_row_bytes)
		return TETHER_ERR("frame", -EINVAL, "cannot decode into %u rows of %u bytes, stride %u",
				  expect_rows, expect_row_bytes, dst_stride);
	if (!payload && size)
		return TETHER_ERR("frame", -EINVAL, "no payload");
	int n = parse_header(dec, payload, size, expect_row_bytes, expect_rows);
	if (n < 0)
		return n;
	dec->row_bytes = expect_row_bytes;
	dec->dst_stride = dst_stride;
	dec->dst = dst;
	tether_work_pool_run(dec->pool, (unsigned)n, decode_strip, dec);
	for (int i = 0; i < n; i++) {
		const struct dec_strip *s = &dec->strips[i];
		if (s->result == -ENOMEM)
			return TETHER_ERR("frame", -ENOMEM, "no memory to decode strip %d", i);
		if (s->result)
			return TETHER_ERR("frame", -EPROTO, "strip %d of %d: %u %s bytes %s, expected %llu rows of %u",
					  i, n, s->size, codec_names[dec->codec],
					  s->got == SIZE_MAX ? "do not decompress" : "decompress to another size",
					  (unsigned long long)s->rows, dec->row_bytes);
	}
	return 0;
}
