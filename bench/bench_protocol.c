/*
 * tether_bench_protocol: speed of the wire format alone, no sockets. Encodes
 * and decodes with the generated code exactly as the ICD and tetherd do (a
 * batch encoder reset per batch, a decoder per command over an arena reset per
 * batch, identity handle ops) and times the memory-sync scan that carries
 * mapped memory. Every figure is the median of BENCH_REPS runs, with min/max.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "protocol/arena.h"
#include "protocol/memory_sync.h"
#include "protocol/stream.h"
#include "tether_wire.h"

#define BENCH_REPS 9
#define MIX_REPEAT 1000    /* the 6-command mix this many times per batch */
#define MIX_BATCHES 100    /* batches per timed run */
#define BIG_BATCH 1000     /* large-struct calls per batch */
#define BIG_BATCHES 20
#define UPDATE_SIZE 65536u /* vkCmdUpdateBuffer: dataSize must be <= 65536 */
#define UPDATE_BATCH 256   /* 16 MiB of payload per batch */
#define UPDATE_BATCHES 8
#define MEMSYNC_SIZE (64u << 20)
#define PAGE 4096u

/* Fake handles: with NULL handle ops the wire carries them as they are, and
 * the decoder only insists that required ones are nonzero. */
#define H(type, v) ((type)(uintptr_t)(v))

static void die(const char *what)
{
	fprintf(stderr, "tether_bench_protocol: %s\n", what);
	exit(1);
}

/* --- the small command mix ----------------------------------------------- */

static const VkBufferMemoryBarrier mix_barrier = {
	.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
	.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
	.dstAccessMask = VK_ACCESS_SHADER_READ_BIT,
	.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
	.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
	.buffer = H(VkBuffer, 0x44),
	.offset = 0,
	.size = VK_WHOLE_SIZE,
};

#define MIX_COMMANDS 6

static void encode_mix(struct tether_encoder *e)
{
	VkCommandBuffer cb = H(VkCommandBuffer, 0x11);
	VkPipelineLayout layout = H(VkPipelineLayout, 0x22);
	VkDescriptorSet set = H(VkDescriptorSet, 0x33);
	uint32_t dynamic_offset = 256;
	uint32_t push[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	tether_encode_cmd_vkCmdBindPipeline(e, cb, VK_PIPELINE_BIND_POINT_COMPUTE, H(VkPipeline, 0x55));
	tether_encode_cmd_vkCmdBindDescriptorSets(e, cb, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 1,
						  &dynamic_offset);
	tether_encode_cmd_vkCmdPushConstants(e, cb, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), push);
	tether_encode_cmd_vkCmdDispatch(e, cb, 64, 1, 1);
	tether_encode_cmd_vkCmdPipelineBarrier(e, cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
					       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, NULL, 1, &mix_barrier, 0,
					       NULL);
	tether_encode_cmd_vkCmdDraw(e, cb, 3, 1, 0, 0);
}

/* Decodes every command of a batch as tetherd's session loop does; returns
 * the number of commands, or exits on a decoding error. */
static size_t decode_batch(const struct tether_encoder *batch, struct tether_arena *arena)
{
	struct tether_decoder msg;
	tether_decoder_init(&msg, batch->data, batch->size, arena);
	size_t n = 0;
	while (tether_dec_remaining(&msg)) {
		uint32_t id = tether_dec_u32(&msg);
		uint32_t len = tether_dec_u32(&msg);
		if (msg.fatal || len > tether_dec_remaining(&msg))
			die("batch framing broken");
		struct tether_decoder d;
		tether_decoder_init(&d, msg.cur, len, arena);
		msg.cur += len;
		union {
			struct tether_args_vkCmdBindPipeline bind_pipeline;
			struct tether_args_vkCmdBindDescriptorSets bind_sets;
			struct tether_args_vkCmdPushConstants push;
			struct tether_args_vkCmdDispatch dispatch;
			struct tether_args_vkCmdPipelineBarrier barrier;
			struct tether_args_vkCmdDraw draw;
			struct tether_args_vkCmdUpdateBuffer update;
			struct tether_args_vkCreateGraphicsPipelines pipelines;
			struct tether_args_vkQueueSubmit submit;
		} a;
		memset(&a, 0, sizeof(a));
		switch (id) {
		case TETHER_CMD_vkCmdBindPipeline:
			tether_decode_cmd_vkCmdBindPipeline(&d, &a.bind_pipeline);
			break;
		case TETHER_CMD_vkCmdBindDescriptorSets:
			tether_decode_cmd_vkCmdBindDescriptorSets(&d, &a.bind_sets);
			break;
		case TETHER_CMD_vkCmdPushConstants:
			tether_decode_cmd_vkCmdPushConstants(&d, &a.push);
			break;
		case TETHER_CMD_vkCmdDispatch:
			tether_decode_cmd_vkCmdDispatch(&d, &a.dispatch);
			break;
		case TETHER_CMD_vkCmdPipelineBarrier:
			tether_decode_cmd_vkCmdPipelineBarrier(&d, &a.barrier);
			break;
		case TETHER_CMD_vkCmdDraw:
			tether_decode_cmd_vkCmdDraw(&d, &a.draw);
			break;
		case TETHER_CMD_vkCmdUpdateBuffer:
			tether_decode_cmd_vkCmdUpdateBuffer(&d, &a.update);
			break;
		case TETHER_CMD_vkCreateGraphicsPipelines:
			tether_decode_cmd_vkCreateGraphicsPipelines(&d, &a.pipelines);
			break;
		case TETHER_CMD_vkQueueSubmit:
			tether_decode_cmd_vkQueueSubmit(&d, &a.submit);
			break;
		default:
			die("unexpected command id");
		}
		if (d.fatal)
			die(d.error ? d.error : "decode failed");
		n++;
	}
	return n;
}

typedef void (*encode_fn)(struct tether_encoder *e);

/*
 * Times @reps runs of encoding (@per_batch calls of @fn per batch, @batches
 * batches) and of decoding one such batch @batches times. Reports commands/s
 * and, when @payload is nonzero, GB/s of @payload bytes per call.
 */
static void bench_codec(const char *name, encode_fn fn, size_t calls_per_fn, size_t per_batch,
			size_t batches, size_t payload)
{
	struct tether_encoder e;
	tether_encoder_init(&e);
	struct tether_arena arena;
	tether_arena_init(&arena, 1u << 30);
	double enc_rate[BENCH_REPS], dec_rate[BENCH_REPS], enc_gbs[BENCH_REPS], dec_gbs[BENCH_REPS];
	size_t cmds_per_batch = per_batch * calls_per_fn;

	/* Run -1 warms up: first-touch page faults of the buffers are not the codec. */
	for (int r = -1; r < BENCH_REPS; r++) {
		uint64_t t0 = bench_now_ns();
		for (size_t b = 0; b < batches; b++) {
			tether_encoder_reset(&e);
			for (size_t i = 0; i < per_batch; i++)
				fn(&e);
		}
		uint64_t t = bench_now_ns() - t0;
		if (e.failed)
			die("encoder out of memory");
		if (r < 0)
			continue;
		enc_rate[r] = (double)(cmds_per_batch * batches) / ((double)t * 1e-9);
		enc_gbs[r] = (double)(payload * per_batch * batches) / (double)t;
	}
	size_t batch_bytes = e.size;
	for (int r = -1; r < BENCH_REPS; r++) {
		uint64_t t0 = bench_now_ns();
		for (size_t b = 0; b < batches; b++) {
			if (decode_batch(&e, &arena) != cmds_per_batch)
				die("decoded a different number of commands");
			tether_arena_reset(&arena);
		}
		uint64_t t = bench_now_ns() - t0;
		if (r < 0)
			continue;
		dec_rate[r] = (double)(cmds_per_batch * batches) / ((double)t * 1e-9);
		dec_gbs[r] = (double)(payload * per_batch * batches) / (double)t;
	}
	char key[96];
	printf("# %s: %zu commands, %zu bytes per batch (%.1f bytes per command)\n", name, cmds_per_batch,
	       batch_bytes, (double)batch_bytes / (double)cmds_per_batch);
	snprintf(key, sizeof(key), "%s_encode_cmds_per_s", name);
	bench_report(key, bench_summarize(enc_rate, BENCH_REPS), "cmd/s");
	snprintf(key, sizeof(key), "%s_decode_cmds_per_s", name);
	bench_report(key, bench_summarize(dec_rate, BENCH_REPS), "cmd/s");
	if (payload) {
		snprintf(key, sizeof(key), "%s_encode_gb_per_s", name);
		bench_report(key, bench_summarize(enc_gbs, BENCH_REPS), "GB/s");
		snprintf(key, sizeof(key), "%s_decode_gb_per_s", name);
		bench_report(key, bench_summarize(dec_gbs, BENCH_REPS), "GB/s");
	}
	tether_encoder_free(&e);
	tether_arena_free(&arena);
}

/* --- large structs -------------------------------------------------------- */

static const uint32_t spec_data[4] = {64, 1, 1, 0};
static const VkSpecializationMapEntry spec_entries[3] = {{0, 0, 4}, {1, 4, 4}, {2, 8, 4}};
static const VkSpecializationInfo spec = {3, spec_entries, sizeof(spec_data), spec_data};
static const VkPipelineShaderStageCreateInfo stages[2] = {
	{VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0, VK_SHADER_STAGE_VERTEX_BIT,
	 H(VkShaderModule, 0x61), "main", &spec},
	{VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0, VK_SHADER_STAGE_FRAGMENT_BIT,
	 H(VkShaderModule, 0x62), "main", NULL},
};
static const VkVertexInputBindingDescription vi_bindings[2] = {
	{0, 32, VK_VERTEX_INPUT_RATE_VERTEX}, {1, 16, VK_VERTEX_INPUT_RATE_INSTANCE}};
static const VkVertexInputAttributeDescription vi_attrs[4] = {
	{0, 0, VK_FORMAT_R32G32B32_SFLOAT, 0},
	{1, 0, VK_FORMAT_R32G32_SFLOAT, 12},
	{2, 0, VK_FORMAT_R8G8B8A8_UNORM, 20},
	{3, 1, VK_FORMAT_R32G32B32A32_SFLOAT, 0}};
static const VkPipelineVertexInputStateCreateInfo vi = {
	VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO, NULL, 0, 2, vi_bindings, 4, vi_attrs};
static const VkPipelineInputAssemblyStateCreateInfo ia = {
	VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO, NULL, 0,
	VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, VK_FALSE};
static const VkViewport viewport = {0, 0, 1920, 1080, 0, 1};
static const VkRect2D scissor = {{0, 0}, {1920, 1080}};
static const VkPipelineViewportStateCreateInfo vp = {
	VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO, NULL, 0, 1, &viewport, 1, &scissor};
static const VkPipelineRasterizationStateCreateInfo rs = {
	.sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
	.polygonMode = VK_POLYGON_MODE_FILL,
	.cullMode = VK_CULL_MODE_BACK_BIT,
	.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
	.lineWidth = 1.0f};
static const VkPipelineMultisampleStateCreateInfo ms = {
	.sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
	.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT};
static const VkPipelineDepthStencilStateCreateInfo ds = {
	.sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO,
	.depthTestEnable = VK_TRUE,
	.depthWriteEnable = VK_TRUE,
	.depthCompareOp = VK_COMPARE_OP_LESS_OR_EQUAL,
	.maxDepthBounds = 1.0f};
static const VkPipelineColorBlendAttachmentState blend_att = {
	VK_TRUE, VK_BLEND_FACTOR_SRC_ALPHA, VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA, VK_BLEND_OP_ADD,
	VK_BLEND_FACTOR_ONE, VK_BLEND_FACTOR_ZERO, VK_BLEND_OP_ADD, 0xf};
static const VkPipelineColorBlendStateCreateInfo cb_state = {
	VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, NULL, 0, VK_FALSE, VK_LOGIC_OP_COPY, 1,
	&blend_att, {0, 0, 0, 0}};
static const VkDynamicState dyn_states[2] = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
static const VkPipelineDynamicStateCreateInfo dyn = {
	VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO, NULL, 0, 2, dyn_states};
static const VkGraphicsPipelineCreateInfo gp_info = {
	.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
	.stageCount = 2,
	.pStages = stages,
	.pVertexInputState = &vi,
	.pInputAssemblyState = &ia,
	.pViewportState = &vp,
	.pRasterizationState = &rs,
	.pMultisampleState = &ms,
	.pDepthStencilState = &ds,
	.pColorBlendState = &cb_state,
	.pDynamicState = &dyn,
	.layout = H(VkPipelineLayout, 0x22),
	.renderPass = H(VkRenderPass, 0x63),
	.subpass = 0,
	.basePipelineIndex = -1};

static void encode_pipeline(struct tether_encoder *e)
{
	VkPipeline out = H(VkPipeline, 0x64); /* the client allocates the id */
	tether_encode_cmd_vkCreateGraphicsPipelines(e, H(VkDevice, 0x2), H(VkPipelineCache, 0x65), 1, &gp_info, NULL,
						    &out);
}

static void encode_submit(struct tether_encoder *e)
{
	const VkSemaphore waits[2] = {H(VkSemaphore, 0x71), H(VkSemaphore, 0x72)};
	const VkPipelineStageFlags wait_stages[2] = {VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
						     VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT};
	const VkCommandBuffer cbs[4] = {H(VkCommandBuffer, 0x11), H(VkCommandBuffer, 0x12), H(VkCommandBuffer, 0x13),
					H(VkCommandBuffer, 0x14)};
	const VkSemaphore signal = H(VkSemaphore, 0x73);
	const VkSubmitInfo info = {VK_STRUCTURE_TYPE_SUBMIT_INFO, NULL, 2, waits, wait_stages, 4, cbs, 1, &signal};
	tether_encode_cmd_vkQueueSubmit(e, H(VkQueue, 0x3), 1, &info, H(VkFence, 0x74));
}

/* --- bulk data ------------------------------------------------------------ */

static uint8_t update_data[UPDATE_SIZE];

static void encode_update(struct tether_encoder *e)
{
	tether_encode_cmd_vkCmdUpdateBuffer(e, H(VkCommandBuffer, 0x11), H(VkBuffer, 0x44), 0, UPDATE_SIZE,
					    update_data);
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

/* Encodes a whole mapping window by window, as the ICD's send_changes() does. */
static uint64_t memsync_encode_all(struct tether_encoder *e, const uint8_t *cur, uint8_t *snap, size_t size)
{
	uint64_t runs = 0;
	for (size_t base = 0; base < size; base += TETHER_MEMSYNC_WINDOW) {
		size_t len = size - base < TETHER_MEMSYNC_WINDOW ? size - base : TETHER_MEMSYNC_WINDOW;
		size_t start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_WRITE);
		uint64_t n = tether_memsync_encode(e, 7, base, cur + base, snap + base, len);
		if (n)
			tether_enc_cmd_end(e, start);
		else
			e->size = start;
		runs += n;
	}
	return runs;
}

static void memsync_apply_all(const struct tether_encoder *e, uint8_t *dst, uint8_t *snap, size_t size, bool merge)
{
	struct tether_decoder msg;
	tether_decoder_init(&msg, e->data, e->size, NULL);
	while (tether_dec_remaining(&msg)) {
		tether_dec_u32(&msg);
		uint32_t len = tether_dec_u32(&msg);
		struct tether_decoder d;
		tether_decoder_init(&d, msg.cur, len, NULL);
		msg.cur += len;
		uint64_t id, base;
		tether_memsync_decode_header(&d, &id, &base);
		tether_memsync_apply(&d, dst, snap, size, base, merge);
		if (d.fatal)
			die(d.error);
	}
}

/*
 * Memory sync of a 64 MiB mapping where @percent of the pages changed (whole
 * pages rewritten): encode on the sending side (scan + copy into the batch),
 * then apply on the receiving side, plain (tetherd) and merging (the ICD).
 * GB/s counts the mapping's size for encode (it is what gets scanned) and
 * the changed bytes for apply.
 */
static void bench_memsync(const char *name, unsigned percent)
{
	uint8_t *cur = malloc(MEMSYNC_SIZE), *old = malloc(MEMSYNC_SIZE), *snap = malloc(MEMSYNC_SIZE);
	uint8_t *dst = malloc(MEMSYNC_SIZE), *dst_snap = malloc(MEMSYNC_SIZE);
	if (!cur || !old || !snap || !dst || !dst_snap)
		die("out of memory");
	fill_random(cur, MEMSYNC_SIZE, 0x1234);
	memcpy(old, cur, MEMSYNC_SIZE);
	size_t pages = MEMSYNC_SIZE / PAGE, changed_pages = 0;
	for (size_t p = 0; p < pages; p++) {
		if (percent == 100 || p % (100 / percent) == 0) {
			/* every byte differs, so each changed stretch is one run */
			for (size_t i = 0; i < PAGE; i++)
				old[p * PAGE + i] = (uint8_t)~cur[p * PAGE + i];
			changed_pages++;
		}
	}
	memcpy(dst, old, MEMSYNC_SIZE);
	memcpy(dst_snap, old, MEMSYNC_SIZE);
	struct tether_encoder e;
	tether_encoder_init(&e);
	double enc[BENCH_REPS], apply[BENCH_REPS], merge[BENCH_REPS];
	uint64_t runs = 0;
	for (int r = -1; r < BENCH_REPS; r++) {
		memcpy(snap, old, MEMSYNC_SIZE);
		tether_encoder_reset(&e);
		uint64_t t0 = bench_now_ns();
		runs = memsync_encode_all(&e, cur, snap, MEMSYNC_SIZE);
		uint64_t t = bench_now_ns() - t0;
		if (e.failed)
			die("encoder out of memory");
		if (r < 0)
			continue;
		enc[r] = (double)MEMSYNC_SIZE / (double)t;
	}
	if (memcmp(snap, cur, MEMSYNC_SIZE))
		die("memsync encode left the snapshot behind");
	double changed = (double)(changed_pages * PAGE);
	for (int r = 0; r < BENCH_REPS; r++) {
		memcpy(dst, old, MEMSYNC_SIZE);
		memcpy(dst_snap, old, MEMSYNC_SIZE);
		uint64_t t0 = bench_now_ns();
		memsync_apply_all(&e, dst, dst_snap, MEMSYNC_SIZE, false);
		uint64_t t = bench_now_ns() - t0;
		apply[r] = changed / (double)t;
		memcpy(dst, old, MEMSYNC_SIZE);
		memcpy(dst_snap, old, MEMSYNC_SIZE);
		t0 = bench_now_ns();
		memsync_apply_all(&e, dst, dst_snap, MEMSYNC_SIZE, true);
		t = bench_now_ns() - t0;
		merge[r] = changed / (double)t;
	}
	if (memcmp(dst, cur, MEMSYNC_SIZE))
		die("memsync apply did not reproduce the mapping");
	printf("# %s: 64 MiB mapping, %zu of %zu pages changed, %" PRIu64 " runs, %zu bytes on the wire\n", name,
	       changed_pages, pages, runs, e.size);
	char key[96];
	snprintf(key, sizeof(key), "%s_encode_gb_per_s", name);
	bench_report(key, bench_summarize(enc, BENCH_REPS), "GB/s");
	snprintf(key, sizeof(key), "%s_apply_gb_per_s", name);
	bench_report(key, bench_summarize(apply, BENCH_REPS), "GB/s");
	snprintf(key, sizeof(key), "%s_apply_merge_gb_per_s", name);
	bench_report(key, bench_summarize(merge, BENCH_REPS), "GB/s");
	tether_encoder_free(&e);
	free(cur);
	free(old);
	free(snap);
	free(dst);
	free(dst_snap);
}

int main(void)
{
	printf("# tether_bench_protocol: median of %d runs; columns: median min max unit; GB = 1e9 bytes\n",
	       BENCH_REPS);
	bench_codec("mix", encode_mix, MIX_COMMANDS, MIX_REPEAT, MIX_BATCHES, 0);
	bench_codec("create_graphics_pipelines", encode_pipeline, 1, BIG_BATCH, BIG_BATCHES, 0);
	bench_codec("queue_submit", encode_submit, 1, BIG_BATCH, BIG_BATCHES * 10, 0);
	fill_random(update_data, sizeof(update_data), 99);
	bench_codec("update_buffer_64k", encode_update, 1, UPDATE_BATCH, UPDATE_BATCHES, UPDATE_SIZE);
	bench_memsync("memsync_100pct", 100);
	bench_memsync("memsync_1pct", 1);
	return 0;
}
