/*
 * libFuzzer target: one frame payload (protocol/frame_codec.h) as the ICD
 * receives it from tetherd, decoded by a 2-thread decoder into an
 * exact-size image twice: rows packed, and rows padded like an X11 image's.
 * The image's size comes from the payload's own header when it is small
 * (so the fuzzer reaches the strips), else a fixed one the header must
 * match. Besides memory errors it checks the result codes and that the
 * padding between rows is never written.
 */
#include <errno.h>

#include "fuzz_util.h"
#include "protocol/frame_codec.h"

/* Largest image decoded: keeps a run fast while allowing a few strips. */
#define MAX_IMAGE (192u << 10)
#define PAD 12u
#define PAD_BYTE 0x5a

static struct tether_frame_decoder *dec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tether_fuzz_quiet_logs();
	if (tether_frame_decoder_create(2, &dec))
		abort();
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void decode(const uint8_t *data, size_t size, uint32_t row_bytes, uint32_t rows, uint32_t stride)
{
	size_t len = (size_t)stride * rows;
	uint8_t *img = malloc(len);
	if (!img)
		abort();
	memset(img, PAD_BYTE, len);
	int r = tether_frame_decode(dec, data, size, img, stride, row_bytes, rows);
	if (r != 0 && r != -EPROTO && r != -ENOTSUP)
		abort();
	for (uint32_t y = 0; y < rows; y++)
		for (uint32_t x = row_bytes; x < stride; x++)
			if (img[(size_t)y * stride + x] != PAD_BYTE)
				abort(); /* written between rows */
	free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t row_bytes = 64 * 4, rows = 16;
	if (size >= 12) {
		uint32_t rb = rd32(data + 4), r = rd32(data + 8);
		if (rb && r && rb <= TETHER_FRAME_MAX_ROW_BYTES && r <= MAX_IMAGE / rb && r <= TETHER_FRAME_MAX_ROWS) {
			row_bytes = rb;
			rows = r;
		}
	}
	/* An exact-size copy: a read past the payload is an ASan report. */
	uint8_t *copy = tether_fuzz_copy(data, size);
	decode(copy, size, row_bytes, rows, row_bytes);
	decode(copy, size, row_bytes, rows, row_bytes + PAD);
	free(copy);
	return 0;
}
