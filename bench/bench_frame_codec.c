/*
 * tether_bench_frame_codec: speed and ratio of the frame codec
 * (protocol/frame_codec.h) on synthetic game-like frames (a sky gradient,
 * textured ground with fine noise, foliage-like detail, flat HUD panels) at
 * 1920x1080, 2560x1600 and 3840x2160. For every codec this build has it
 * times tether_frame_encode() and tether_frame_decode() with 1 and N threads
 * and reports GB/s of raw pixels (median of --reps runs, with min and max)
 * and the compression ratio, as "result" lines bench/run_bench.py reads,
 * then a table.
 *   tether_bench_frame_codec [--threads N] [--reps R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_stats.h"
#include "protocol/frame_codec.h"

#define MAX_REPS 64
#define FRAMES 2 /* alternated, so no run re-reads what the last left in cache */

static void die(const char *what)
{
	fprintf(stderr, "tether_bench_frame_codec: %s\n", what);
	exit(1);
}

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* One BGRA8 pixel of frame @frame at (x, y) of a w x h image. */
static void game_pixel(uint8_t *px, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t frame)
{
	uint32_t n = hash32(x * 7919u + y * 104729u + frame * 31u);
	uint32_t r, g, b;

	if (y < h * 2 / 5) { /* sky: a smooth gradient */
		b = 255 - y * 120 / h;
		g = 180 - y * 100 / h + x * 20 / w;
		r = 90 + x * 30 / w;
	} else if (x > w * 3 / 5 && y > h * 3 / 5) { /* foliage: fine detail */
		g = 100 + (n & 63);
		r = 40 + (n >> 8 & 31);
		b = 20 + (n >> 16 & 31);
	} else { /* ground: a gradient with low-amplitude texture noise */
		r = 120 + x * 40 / w + (n & 3);
		g = 100 + y * 30 / h + (n >> 4 & 3);
		b = 70 + (n >> 8 & 3);
	}
	if ((y > h * 17 / 20 && x > w / 20 && x < w * 9 / 20) || (y < h / 12 && x > w * 7 / 10))
		r = g = b = 30; /* HUD panels: flat */
	px[0] = (uint8_t)b;
	px[1] = (uint8_t)g;
	px[2] = (uint8_t)r;
	px[3] = 255;
}

static uint8_t *game_frame(uint32_t w, uint32_t h, uint32_t frame)
{
	uint8_t *p = malloc((size_t)w * h * 4);
	if (!p)
		die("out of memory");
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			game_pixel(p + ((size_t)y * w + x) * 4, x, y, w, h, frame);
	return p;
}

static uint8_t *flatten(const struct tether_frame_packet *pkt)
{
	uint8_t *p = malloc(pkt->size), *at = p;
	if (!p)
		die("out of memory");
	for (int i = 0; i < pkt->iovcnt; i++) {
		memcpy(at, pkt->iov[i].base, pkt->iov[i].len);
		at += pkt->iov[i].len;
	}
	return p;
}

struct cell {
	struct bench_summary encode, decode; /* GB/s */
	double ratio;
};

static struct cell run_cell(uint8_t *const frames[FRAMES], uint32_t w, uint32_t h, enum tether_frame_codec codec,
			    unsigned threads, int reps)
{
	struct tether_frame_encoder *enc;
	struct tether_frame_decoder *dec;
	struct tether_frame_packet pkt[FRAMES] = {{0}};
	uint8_t *payload[FRAMES];
	size_t raw = (size_t)w * h * 4, encoded = 0;
	uint8_t *dst = malloc(raw);
	double enc_gbs[MAX_REPS], dec_gbs[MAX_REPS];
	struct cell cell;

	if (!dst || tether_frame_encoder_create(threads, &enc) || tether_frame_decoder_create(threads, &dec))
		die("cannot create the encoder or decoder");
	/* Warm-up: buffers grown, threads started, pages touched. */
	for (int f = 0; f < FRAMES; f++) {
		if (tether_frame_encode(enc, codec, frames[f], w * 4, h, w * 4, &pkt[f]))
			die("encode failed");
		payload[f] = flatten(&pkt[f]);
		if (tether_frame_decode(dec, payload[f], pkt[f].size, dst, w * 4, w * 4, h) ||
		    memcmp(dst, frames[f], raw))
			die("decoded frame differs");
		encoded += pkt[f].size;
	}
	for (int r = 0; r < reps; r++) {
		int f = r % FRAMES;
		uint64_t t0 = bench_now_ns();
		if (tether_frame_encode(enc, codec, frames[f], w * 4, h, w * 4, &pkt[f]))
			die("encode failed");
		uint64_t t1 = bench_now_ns();
		if (tether_frame_decode(dec, payload[f], pkt[f].size, dst, w * 4, w * 4, h))
			die("decode failed");
		uint64_t t2 = bench_now_ns();
		enc_gbs[r] = (double)raw / (double)(t1 - t0);
		dec_gbs[r] = (double)raw / (double)(t2 - t1);
	}
	cell.encode = bench_summarize(enc_gbs, (size_t)reps);
	cell.decode = bench_summarize(dec_gbs, (size_t)reps);
	cell.ratio = (double)raw * FRAMES / (double)encoded;
	for (int f = 0; f < FRAMES; f++) {
		free(payload[f]);
		tether_frame_packet_release(&pkt[f]);
	}
	tether_frame_decoder_destroy(dec);
	tether_frame_encoder_destroy(enc);
	free(dst);
	return cell;
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 16 ? 16 : (unsigned)n;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[][2] = {{1920, 1080}, {2560, 1600}, {3840, 2160}};
	unsigned threads = default_threads();
	int reps = 15;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else
			die("usage: tether_bench_frame_codec [--threads N] [--reps R]");
	}
	if (threads < 1 || reps < 1 || reps > MAX_REPS)
		die("--threads must be >= 1 and --reps in 1..64");

	unsigned counts[2] = {1, threads};
	struct cell cells[3][TETHER_CODEC_COUNT][2];
	uint32_t have = tether_frame_codecs_supported();
	for (int s = 0; s < 3; s++) {
		uint32_t w = sizes[s][0], h = sizes[s][1];
		uint8_t *frames[FRAMES];
		for (int f = 0; f < FRAMES; f++)
			frames[f] = game_frame(w, h, (uint32_t)f);
		for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++) {
			for (int t = 0; t < 2 && have >> c & 1; t++) {
				struct cell *cell = &cells[s][c][t];
				char name[96];
				*cell = run_cell(frames, w, h, c, counts[t], reps);
				snprintf(name, sizeof(name), "frame_%ux%u_%s_t%u_encode", w, h, tether_frame_codec_name(c),
					 counts[t]);
				bench_report(name, cell->encode, "GB/s");
				snprintf(name, sizeof(name), "frame_%ux%u_%s_t%u_decode", w, h, tether_frame_codec_name(c),
					 counts[t]);
				bench_report(name, cell->decode, "GB/s");
			}
			if (have >> c & 1) {
				char name[96];
				snprintf(name, sizeof(name), "frame_%ux%u_%s_ratio", w, h, tether_frame_codec_name(c));
				bench_report(name, (struct bench_summary){cells[s][c][0].ratio, cells[s][c][0].ratio,
									 cells[s][c][0].ratio}, "x");
			}
		}
		for (int f = 0; f < FRAMES; f++)
			free(frames[f]);
	}

	printf("\nGB/s of raw BGRA8 pixels, median of %d runs; ratio: raw / payload bytes;\n"
	       "raw encodes copy nothing (the payload points at the pixels): only a header is written\n", reps);
	printf("%-10s %-5s %7s %9s %9s %6s%-3u %6s%-3u\n", "frame", "codec", "ratio", "enc t=1", "dec t=1", "enc t=",
	       counts[1], "dec t=", counts[1]);
	for (int s = 0; s < 3; s++)
		for (uint32_t c = 0; c < TETHER_CODEC_COUNT; c++) {
			if (!(have >> c & 1))
				continue;
			const struct cell *a = &cells[s][c][0], *b = &cells[s][c][1];
			printf("%4ux%-5u %-5s %6.2fx %9.2f %9.2f %9.2f %9.2f\n", sizes[s][0], sizes[s][1],
			       tether_frame_codec_name(c), a->ratio, a->encode.median, a->decode.median,
			       b->encode.median, b->decode.median);
		}
	return 0;
}
