/*
 * Writes the fuzz targets' seed corpus: valid inputs that start the fuzzer
 * deep inside each decoder instead of at its first check. Commands and
 * structs come from the generated random fillers (tether_wire_tests.h), the
 * HELLOs and memory sections are built here. Deterministic: rerun it after a
 * vk.xml update and commit what changed.
 *   make_seeds tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "protocol/frame_codec.h"
#include "protocol/handshake.h"
#include "protocol/link_test.h"
#include "protocol/memory_sync.h"
#include "protocol/present.h"
#include "protocol/message.h"
#include "session_prelude.h"
#include "tether_wire_tests.h"

/* The fuzz targets accept handle ids up to 1e6 (fuzz_util.h): map the
 * fillers' random handles below that, so the seeds decode. */
static uint64_t small_id(void *ctx, VkObjectType type, uint64_t handle)
{
	(void)ctx;
	(void)type;
	return handle % 999983 + 1;
}

static const struct tether_handle_ops seed_ops = {small_id, NULL};

/* Seeds larger than this make the fuzzer slower for no new paths. */
#define MAX_SEED 4096
#define SEEDS_TRIED 16

/* Every carried command and struct gets one seed: libFuzzer seldom guesses a
 * 32-bit command id (or a struct index) it has not seen. These must exist. */
static const char *const required[] = {
	"vkCreateGraphicsPipelines", "vkQueueSubmit", "vkCreateDevice", "vkCmdPipelineBarrier2",
	"VkGraphicsPipelineCreateInfo", "VkDeviceCreateInfo", "VkSubmitInfo", "VkDependencyInfo",
};
/* The batch seed: a typical frame's start. */
static const char *const batch_commands[] = {
	"vkBeginCommandBuffer", "vkCmdPipelineBarrier2", "vkCmdBeginRendering", "vkCmdBindPipeline",
	"vkCmdSetViewport", "vkCmdDraw", "vkCmdEndRendering", "vkEndCommandBuffer", "vkQueueSubmit",
};

static const char *outdir;

static void write_file(const char *sub, const char *name, const void *data, size_t size)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static struct tether_wire_rng rng_seeded(uint64_t seed)
{
	/* splitmix64, as tests/protocol/test_wire.c seeds its cases */
	uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return (struct tether_wire_rng){z ? z : 1};
}

/* Encodes case @c into @e: the largest of a few fillings that fits MAX_SEED. */
static void encode_case(const struct tether_wire_case *c, struct tether_encoder *e)
{
	struct tether_arena a;
	struct tether_encoder t;
	tether_arena_init(&a, 64u << 20);
	tether_encoder_init(&t);
	t.handles = &seed_ops;
	tether_encoder_reset(e);
	for (uint64_t seed = 1; seed <= SEEDS_TRIED; seed++) {
		struct tether_wire_rng r = rng_seeded(seed);
		void *obj = calloc(1, c->size);
		tether_arena_reset(&a);
		c->fill(&r, &a, obj);
		tether_encoder_reset(&t);
		c->encode(&t, obj);
		free(obj);
		if (!t.failed && t.size <= MAX_SEED && (e->size == 0 || t.size > e->size)) {
			tether_encoder_reset(e);
			tether_enc_raw(e, t.data, t.size);
		}
	}
	tether_encoder_free(&t);
	tether_arena_free(&a);
}

static const struct tether_wire_case *find(const struct tether_wire_case *cases, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	fprintf(stderr, "make_seeds: no case %s\n", name);
	exit(1);
}

static void memsync_section(struct tether_encoder *e, uint64_t id, uint64_t base, size_t len, unsigned kind);

/* tether's presentation commands, as the ICD sends them (protocol/present.h). */
static void present_seeds(void)
{
	struct tether_encoder e;
	tether_encoder_init(&e);
	struct tether_swapchain_desc sc = {
		.device = 1, .swapchain = 2, .format = VK_FORMAT_B8G8R8A8_UNORM, .width = 640, .height = 480,
		.layers = 1, .usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, .codecs = 7, .image_count = 3,
		.view_format_count = 1, .view_formats = {VK_FORMAT_B8G8R8A8_SRGB}, .images = {3, 4, 5},
	};
	size_t start = tether_enc_cmd_begin(&e, TETHER_CMD_SWAPCHAIN_CREATE);
	tether_swapchain_desc_encode(&e, &sc);
	tether_enc_cmd_end(&e, start);
	write_file("commands", "tether_swapchain_create", e.data, e.size);
	tether_encoder_reset(&e);
	struct tether_present_desc p = {
		.queue = 6, .wait_count = 1, .waits = {7}, .count = 1, .items = {{2, 1, 1, 8}},
	};
	start = tether_enc_cmd_begin(&e, TETHER_CMD_PRESENT);
	tether_present_desc_encode(&e, &p);
	tether_enc_cmd_end(&e, start);
	write_file("commands", "tether_present", e.data, e.size);
	tether_encoder_free(&e);
}

static void command_seeds(void)
{
	struct tether_encoder e, batch;
	tether_encoder_init(&e);
	tether_encoder_init(&batch);
	for (size_t i = 0; i < tether_wire_command_case_count; i++) {
		const struct tether_wire_case *c = &tether_wire_command_cases[i];
		encode_case(c, &e);
		write_file("commands", c->name, e.data, e.size);
	}
	/* A batch as the ICD sends one: several commands and a memory write. */
	for (size_t i = 0; i < sizeof(batch_commands) / sizeof(batch_commands[0]); i++) {
		encode_case(find(tether_wire_command_cases, tether_wire_command_case_count, batch_commands[i]), &e);
		tether_enc_raw(&batch, e.data, e.size);
	}
	size_t start = tether_enc_cmd_begin(&batch, TETHER_CMD_MEMORY_WRITE);
	memsync_section(&batch, 1, 0, 4096, 0);
	tether_enc_cmd_end(&batch, start);
	write_file("commands", "batch", batch.data, batch.size);
	tether_encoder_free(&e);
	tether_encoder_free(&batch);
	present_seeds();
}

static void struct_seeds(void)
{
	struct tether_encoder e;
	tether_encoder_init(&e);
	size_t n = tether_wire_struct_case_count, np = tether_wire_partial_case_count;
	for (size_t i = 0; i < n + np; i++) {
		const struct tether_wire_case *c = i < n ? &tether_wire_struct_cases[i] : &tether_wire_partial_cases[i - n];
		/* fuzz_structs: u16 case index, then the struct's encoding. */
		encode_case(c, &e);
		uint8_t *seed = malloc(e.size + 2);
		seed[0] = (uint8_t)i;
		seed[1] = (uint8_t)(i >> 8);
		memcpy(seed + 2, e.data, e.size);
		char name[160];
		snprintf(name, sizeof(name), "%s", c->name); /* "VkX (partial)" -> "VkX__partial_" */
		for (char *p = name; *p; p++)
			if (*p == ' ' || *p == '(' || *p == ')')
				*p = '_';
		write_file("structs", name, seed, e.size + 2);
		free(seed);
	}
	tether_encoder_free(&e);
}

static void put_u32(struct tether_encoder *e, uint32_t v)
{
	tether_enc_u32(e, v);
}

static void put_str(struct tether_encoder *e, const char *s)
{
	put_u32(e, (uint32_t)strlen(s));
	tether_enc_raw(e, s, strlen(s));
}

/* A HELLO message, header included, offering every @step-th carried extension,
 * for @channel (a frame channel with a made-up token), then @tail. */
static void hello_seed_then(const char *name, uint32_t major, uint32_t step, uint32_t channel, const void *tail,
			    size_t tail_len)
{
	struct tether_encoder p, m;
	tether_encoder_init(&p);
	tether_encoder_init(&m);
	tether_enc_raw(&p, TETHER_HANDSHAKE_MAGIC, TETHER_HANDSHAKE_MAGIC_SIZE);
	put_u32(&p, major);
	put_u32(&p, TETHER_PROTOCOL_MINOR);
	put_u32(&p, VK_HEADER_VERSION_COMPLETE);
	put_str(&p, "vkcube (seed)");
	uint32_t n = step ? (tether_carried_extension_count + step - 1) / step : 0;
	put_u32(&p, n + (step ? 1 : 0));
	for (uint32_t i = 0; step && i < tether_carried_extension_count; i += step)
		put_str(&p, tether_carried_extensions[i]);
	if (step)
		put_str(&p, "VK_VENDOR_not_carried_here");
	put_u32(&p, channel);
	for (int i = 0; channel == TETHER_CHANNEL_FRAMES && i < TETHER_SESSION_TOKEN_SIZE; i++)
		tether_enc_raw(&p, "\x5a", 1);
	struct tether_msg_header h = {TETHER_MSG_HELLO, 0, p.size};
	uint8_t hdr[TETHER_MSG_HEADER_SIZE];
	tether_msg_header_encode(&h, hdr);
	tether_enc_raw(&m, hdr, sizeof(hdr));
	tether_enc_raw(&m, p.data, p.size);
	if (tail_len)
		tether_enc_raw(&m, tail, tail_len);
	write_file("handshake", name, m.data, m.size);
	tether_encoder_free(&p);
	tether_encoder_free(&m);
}

static void hello_seed(const char *name, uint32_t major, uint32_t step, uint32_t channel)
{
	hello_seed_then(name, major, step, channel, NULL, 0);
}

/* A link-test HELLO and requests as `tether bench-link` sends them (sizes the
 * fuzz target serves), then one it refuses. */
static void link_test_seed(void)
{
	struct tether_encoder t;
	uint8_t h[TETHER_LINK_HEADER_SIZE], body[32];
	tether_encoder_init(&t);
	memset(body, 0x5a, sizeof(body));
	const struct tether_link_request reqs[] = {
		{TETHER_LINK_ECHO, 0, 32}, {TETHER_LINK_SINK, 0, 16}, {TETHER_LINK_SOURCE, 0, 16}, {7, 0, 1},
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		tether_link_request_encode(&reqs[i], h);
		tether_enc_raw(&t, h, sizeof(h));
		if (reqs[i].op == TETHER_LINK_ECHO || reqs[i].op == TETHER_LINK_SINK)
			tether_enc_raw(&t, body, (size_t)reqs[i].size);
	}
	hello_seed_then("hello_link_test", TETHER_PROTOCOL_MAJOR, 0, TETHER_CHANNEL_LINK_TEST, t.data, t.size);
	tether_encoder_free(&t);
}

static void handshake_seeds(void)
{
	hello_seed("hello_some_extensions", TETHER_PROTOCOL_MAJOR, 16, TETHER_CHANNEL_COMMANDS);
	hello_seed("hello_all_extensions", TETHER_PROTOCOL_MAJOR, 1, TETHER_CHANNEL_COMMANDS);
	hello_seed("hello_no_extensions", TETHER_PROTOCOL_MAJOR, 0, TETHER_CHANNEL_COMMANDS);
	hello_seed("hello_next_major", TETHER_PROTOCOL_MAJOR + 1, 0, TETHER_CHANNEL_COMMANDS);
	hello_seed("hello_attach_frames", TETHER_PROTOCOL_MAJOR, 0, TETHER_CHANNEL_FRAMES);
	link_test_seed();
	struct tether_msg_header h = {TETHER_MSG_COMMANDS, 0, 0};
	uint8_t hdr[TETHER_MSG_HEADER_SIZE];
	tether_msg_header_encode(&h, hdr);
	write_file("handshake", "commands_before_hello", hdr, sizeof(hdr));
}

/*
 * One section of @len bytes at @base, changed from a snapshot in one of a
 * few typical ways: scattered bytes, one page, adjacent pages, whole words.
 */
static void memsync_section(struct tether_encoder *e, uint64_t id, uint64_t base, size_t len, unsigned kind)
{
	uint8_t *snap = malloc(len), *cur = malloc(len);
	for (size_t i = 0; i < len; i++)
		snap[i] = cur[i] = (uint8_t)(i * 131 + 7);
	for (size_t i = 0; i < len; i++) {
		bool change = kind == 0 ? i % 1009 == 0
			    : kind == 1 ? i >= 4096 && i < 8192
			    : kind == 2 ? i >= 4000 && i < 12500
			    : i % 64 < 8;
		if (change)
			cur[i] ^= 0x5a;
	}
	if (!tether_memsync_encode(e, id, base, cur, snap, len)) {
		fprintf(stderr, "make_seeds: empty memory section\n");
		exit(1);
	}
	free(snap);
	free(cur);
}

static void memsync_seeds(void)
{
	static const char *const names[] = {"scattered", "one_page", "adjacent_pages", "words"};
	struct tether_encoder e;
	tether_encoder_init(&e);
	for (unsigned k = 0; k < 4; k++) {
		tether_encoder_reset(&e);
		/* The last one starts a window one page into the mapping. */
		if (k == 3)
			memsync_section(&e, 1, 4096, 8192, k);
		else
			memsync_section(&e, 1, 0, 16384, k);
		write_file("memsync", names[k], e.data, e.size);
	}
	tether_encoder_free(&e);
}

/*
 * Frame payloads (fuzz_frame_decode), for each codec this build has: a
 * gradient, one in two strips, and noise (a strip stored raw).
 */
static void frame_seed(const char *name, enum tether_frame_codec codec, uint32_t width, uint32_t rows,
		       bool noisy)
{
	struct tether_frame_encoder *enc;
	struct tether_frame_packet pkt = {0};
	uint32_t row_bytes = width * 4;
	uint8_t *img = malloc((size_t)row_bytes * rows);
	uint32_t noise = 1;

	for (uint32_t y = 0; y < rows; y++) {
		for (uint32_t x = 0; x < row_bytes; x++) {
			noise = noise * 1103515245u + 12345u;
			uint8_t v = x % 4 == 3 ? 255 : (uint8_t)(x / 24 + y / 4);
			img[(size_t)y * row_bytes + x] = noisy ? (uint8_t)(noise >> 16) : v;
		}
	}
	if (tether_frame_encoder_create(1, &enc) ||
	    tether_frame_encode(enc, codec, img, row_bytes, rows, row_bytes, &pkt)) {
		fprintf(stderr, "make_seeds: cannot encode the %s frame\n", name);
		exit(1);
	}
	uint8_t *seed = malloc(pkt.size), *at = seed;
	for (int i = 0; i < pkt.iovcnt; i++) {
		memcpy(at, pkt.iov[i].base, pkt.iov[i].len);
		at += pkt.iov[i].len;
	}
	write_file("frame_decode", name, seed, pkt.size);
	free(seed);
	tether_frame_packet_release(&pkt);
	tether_frame_encoder_destroy(enc);
	free(img);
}

static void frame_seeds(void)
{
	uint32_t have = tether_frame_codecs_supported();
	frame_seed("raw_16x8", TETHER_CODEC_RAW, 16, 8, false);
	if (have >> TETHER_CODEC_LZ4 & 1) {
		frame_seed("lz4_64x32", TETHER_CODEC_LZ4, 64, 32, false);
		frame_seed("lz4_160x256_two_strips", TETHER_CODEC_LZ4, 160, 256, false);
		frame_seed("lz4_16x8_noise", TETHER_CODEC_LZ4, 16, 8, true);
	}
	if (have >> TETHER_CODEC_ZSTD & 1) {
		frame_seed("zstd_64x32", TETHER_CODEC_ZSTD, 64, 32, false);
		frame_seed("zstd_160x256_two_strips", TETHER_CODEC_ZSTD, 160, 256, false);
		frame_seed("zstd_16x8_noise", TETHER_CODEC_ZSTD, 16, 8, true);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (required[i][0] == 'v')
			find(tether_wire_command_cases, tether_wire_command_case_count, required[i]);
		else
			find(tether_wire_struct_cases, tether_wire_struct_case_count, required[i]);
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	command_seeds();
	struct_seeds();
	handshake_seeds();
	memsync_seeds();
	frame_seeds();
	tether_fuzz_session_seeds(write_file);
	return 0;
}
