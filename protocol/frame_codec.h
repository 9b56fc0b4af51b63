/*
 * tether frame codec: the images tetherd renders (BGRA8, 4 bytes a pixel, up
 * to 7680x4320) travel to the client compressed, in horizontal strips that a
 * thread pool compresses and decompresses in parallel. The encoder hands the
 * payload out as iovecs for a gather send; the decoder checks every field of
 * a payload from the network and writes straight into the destination image.
 * struct tether_codec_chooser picks the codec the link is best served by.
 *
 * Payload (little-endian):
 *   u32 codec       enum tether_frame_codec
 *   u32 row_bytes   bytes of pixels in a row (no padding)
 *   u32 rows
 *   u32 strips      1..TETHER_FRAME_MAX_STRIPS, at most rows
 *   strips x { u32 rows; u32 size; }   rows >= 1, summing to rows
 *   strip data, in order, each exactly size bytes
 * A strip's data is its rows compressed with the codec, or, when that did
 * not shrink them (size == rows * row_bytes), the rows themselves. With
 * TETHER_CODEC_RAW every strip is stored so.
 */
#ifndef TETHER_PROTOCOL_FRAME_CODEC_H
#define TETHER_PROTOCOL_FRAME_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "transport/conn.h"

enum tether_frame_codec {
	TETHER_CODEC_RAW = 0,
	TETHER_CODEC_LZ4 = 1,
	TETHER_CODEC_ZSTD = 2,
};
#define TETHER_CODEC_COUNT 3

/* Bounds of what a payload may describe: 16384 BGRA8 pixels a row (Vulkan's
 * usual maxImageDimension2D) and as many rows, so a frame is at most 1 GiB
 * and every size fits the codecs' int lengths. 1024 strips of 128 KiB cover
 * 7680x4320. */
#define TETHER_FRAME_MAX_ROW_BYTES (16384u * 4)
#define TETHER_FRAME_MAX_ROWS 16384u
#define TETHER_FRAME_MAX_STRIPS 1024u
/* Bytes of the payload's own header (not the FRAME message's, present.h). */
#define TETHER_FRAME_CODEC_HEADER_SIZE(strips) (16u + 8u * (strips))
/* Most iovecs a packet has: its header and one per strip. */
#define TETHER_FRAME_MAX_IOV (TETHER_FRAME_MAX_STRIPS + 1)

/**
 * tether_frame_codecs_supported() - the codecs this build encodes and decodes
 * Return: a mask of (1u << enum tether_frame_codec); RAW is always in it,
 * LZ4 and ZSTD when the build found liblz4 / libzstd.
 */
uint32_t tether_frame_codecs_supported(void);

/** tether_frame_codec_name() - "raw", "lz4", "zstd", or "?" for anything else. */
const char *tether_frame_codec_name(uint32_t codec);

/**
 * tether_frame_codec_parse() - the codec named @name ("raw", "lz4", "zstd")
 * Return: 0, or -EINVAL for another name (@out is unchanged then).
 */
int tether_frame_codec_parse(const char *name, enum tether_frame_codec *out);

/**
 * tether_frame_threads() - workers for an encoder or decoder: the
 * TETHER_FRAME_THREADS environment variable, else half this machine's
 * logical CPUs, at most 8 (at least 1 either way)
 */
unsigned tether_frame_threads(void);

/* --- encoding (tetherd) ---------------------------------------------------- */

struct tether_frame_encoder;

/*
 * One encoded frame: send iov[0..iovcnt) in order, size bytes in all. Start
 * from a zeroed struct and reuse it for the next frame: its buffers grow to
 * what the largest frame needed and are kept. The iovecs point into the
 * packet's buffers and, for rows stored raw, into the caller's pixels, so
 * both must stay untouched until the send is done.
 */
struct tether_frame_packet {
	const struct tether_iovec *iov;
	int iovcnt;
	size_t size;
	/* private to frame_codec.c */
	struct tether_iovec *iov_buf;
	size_t iov_cap;
	uint8_t *header;   /* TETHER_FRAME_CODEC_HEADER_SIZE(TETHER_FRAME_MAX_STRIPS) bytes */
	uint8_t *packed;   /* the pixels without row padding, when the source has some */
	size_t packed_cap;
	uint8_t *out;      /* compressed strips, each at its worst-case offset */
	size_t out_cap;
};

/**
 * tether_frame_encoder_create() - an encoder with a pool of @threads
 * @threads: workers in all, the calling thread included (0 means 1)
 * Return: 0 or negative errno.
 */
int tether_frame_encoder_create(unsigned threads, struct tether_frame_encoder **out);

/** tether_frame_encoder_destroy() - stop its threads and free it; NULL is ignored. */
void tether_frame_encoder_destroy(struct tether_frame_encoder *enc);

/**
 * tether_frame_encode() - compress one frame into @out
 * @codec: one of tether_frame_codecs_supported()
 * @pixels: @rows rows of @row_bytes bytes, @src_stride bytes apart
 * @out: a zeroed or previously used packet; replaced by this frame
 *
 * Strips of about 128 KiB are compressed in parallel; a strip that does not
 * shrink is stored raw. TETHER_CODEC_RAW with @src_stride == @row_bytes copies
 * nothing: the payload is the header and one iovec over @pixels. One call at
 * a time per encoder.
 *
 * Return: 0; -EINVAL for sizes outside the TETHER_FRAME_MAX_* bounds or
 * @src_stride < @row_bytes; -ENOTSUP for a codec this build lacks; -ENOMEM.
 * @out holds no frame (iovcnt 0) after an error.
 */
int tether_frame_encode(struct tether_frame_encoder *enc, enum tether_frame_codec codec,
			const uint8_t *pixels, uint32_t row_bytes, uint32_t rows, uint32_t src_stride,
			struct tether_frame_packet *out);

/** tether_frame_packet_release() - free a packet's buffers and zero it. */
void tether_frame_packet_release(struct tether_frame_packet *pkt);

/* --- decoding (the ICD) ---------------------------------------------------- */

struct tether_frame_decoder;

/**
 * tether_frame_decoder_create() - a decoder with a pool of @threads
 * @threads: workers in all, the calling thread included (0 means 1)
 * Return: 0 or negative errno.
 */
int tether_frame_decoder_create(unsigned threads, struct tether_frame_decoder **out);

/** tether_frame_decoder_destroy() - stop its threads and free it; NULL is ignored. */
void tether_frame_decoder_destroy(struct tether_frame_decoder *dec);

/**
 * tether_frame_decode() - check a payload and decompress it into @dst
 * @payload: @size bytes from the network, trusted in nothing
 * @dst: @expect_rows rows of @dst_stride bytes; only the first
 *       @expect_row_bytes of each row are written
 * @expect_row_bytes, @expect_rows: the image the caller expects; a payload
 *       describing another is refused
 *
 * Strips are decompressed in parallel, straight into @dst when
 * @dst_stride == @expect_row_bytes. Every count, size and offset is checked
 * before use and every strip must decompress to exactly its rows. Nothing
 * outside the payload and the rows' bytes of @dst is touched. One call at a
 * time per decoder.
 *
 * Return: 0; -EPROTO for a malformed payload (logged; @dst holds a mix of
 * old and new rows then); -ENOTSUP for a codec this build lacks; -EINVAL for
 * bad arguments; -ENOMEM.
 */
int tether_frame_decode(struct tether_frame_decoder *dec, const uint8_t *payload, size_t size,
			uint8_t *dst, uint32_t dst_stride, uint32_t expect_row_bytes,
			uint32_t expect_rows);

/* --- choosing a codec (codec_chooser.c) ------------------------------------ */

/*
 * Chooses, frame by frame, the codec with the least estimated time per frame,
 * from moving averages of the observations below. Not thread-safe: one
 * chooser per stream; callers on several threads lock around it.
 */
struct tether_codec_chooser;

/* A codec is tried again after this many frames, to follow changes of the
 * content and of the link. */
#define TETHER_CODEC_EXPLORE_EVERY 64u

/**
 * tether_codec_chooser_create() - a chooser with no observations yet
 * Reads TETHER_CODEC=raw|lz4|zstd: a codec named there is chosen for every
 * frame whose peer decodes it (another value is logged and ignored).
 * Return: 0 or -ENOMEM.
 */
int tether_codec_chooser_create(struct tether_codec_chooser **out);

/** tether_codec_chooser_destroy() - free it; NULL is ignored. */
void tether_codec_chooser_destroy(struct tether_codec_chooser *ch);

/**
 * tether_codec_observe_encode() - record one tether_frame_encode()
 * @raw_bytes: row_bytes * rows; @encoded_bytes: the packet's size;
 * @encode_ns: its wall time
 */
void tether_codec_observe_encode(struct tether_codec_chooser *ch, enum tether_frame_codec codec,
				 uint64_t raw_bytes, uint64_t encoded_bytes, uint64_t encode_ns);

/**
 * tether_codec_observe_decode() - record one tether_frame_decode() the peer reported
 * Optional: until called, what 4 decoder threads did in
 * bench/bench_frame_codec.c on a server CPU stands in.
 */
void tether_codec_observe_decode(struct tether_codec_chooser *ch, enum tether_frame_codec codec,
				 uint64_t raw_bytes, uint64_t decode_ns);

/**
 * tether_codec_observe_link() - record one send of @bytes that took @send_ns
 * A send that took long (over 1 ms: the socket buffer was full) tells the
 * link's rate. A short one only raises the estimate to what it proves: the
 * bytes a socket buffer cannot hold went out in that time, and, when no long
 * send came for a while, the link took all of them that fast.
 */
void tether_codec_observe_link(struct tether_codec_chooser *ch, uint64_t bytes, uint64_t send_ns);

/**
 * tether_codec_estimate_ns() - estimated time per frame of @raw_bytes with @codec
 * max(encode, encoded bytes / link rate), since encoding a frame and sending
 * the previous one overlap, plus decoding. Return: ns, or HUGE_VAL for a
 * codec never observed.
 */
double tether_codec_estimate_ns(const struct tether_codec_chooser *ch, enum tether_frame_codec codec,
				uint64_t raw_bytes);

/**
 * tether_codec_choose() - the codec for the next frame
 * @allowed_mask: codecs the peer decodes (1u << codec); RAW is always allowed
 * Return: the forced codec when allowed; else a codec never observed; else
 * one not chosen for TETHER_CODEC_EXPLORE_EVERY frames (unless the link is
 * known to make it over 2x slower than the best: a raw frame over a slow
 * link would stall); else the one with the least tether_codec_estimate_ns().
 */
enum tether_frame_codec tether_codec_choose(struct tether_codec_chooser *ch, uint32_t allowed_mask);

#endif /* TETHER_PROTOCOL_FRAME_CODEC_H */
