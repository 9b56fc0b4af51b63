/*
 * tether_bench_link: an ordinary Vulkan program (Khronos loader only) that
 * times what an application feels: the client CPU cost of calls that need no
 * answer, the round trip of one that does, and bulk transfers through mapped
 * memory. bench/run_bench.py runs it natively and through tether (the loader
 * picks the driver from VK_DRIVER_FILES) and compares the two.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include "bench_stats.h"
#include "bench_vk.h"

const char *bench_name = "tether_bench_link";

#define RUNS 7
#define CALLS_PER_RUN 1000000u
#define RECORD_CHUNK 100000u /* commands per recording, so native drivers stay small */
#define RTT_WARMUP 1000u
#define RTT_CALLS 20000u
#define BULK_SIZE (64u << 20)
#define BULK_RUNS 9

/* An empty compute shader (local size 1): commands must have a pipeline to
 * be valid, not one that does work. Assembled with spirv-as and validated. */
static const uint32_t empty_comp_spv[] = {
	0x07230203, 0x00010000, 0x00070000, 0x00000005, 0x00000000, 0x00020011, 0x00000001,
	0x0003000e, 0x00000000, 0x00000001, 0x0005000f, 0x00000005, 0x00000001, 0x6e69616d,
	0x00000000, 0x00060010, 0x00000001, 0x00000011, 0x00000001, 0x00000001, 0x00000001,
	0x00020013, 0x00000002, 0x00030021, 0x00000003, 0x00000002, 0x00050036, 0x00000002,
	0x00000001, 0x00000000, 0x00000003, 0x000200f8, 0x00000004, 0x000100fd, 0x00010038,
};

struct bench {
	struct bench_vk vk;
	VkDevice device;
	uint32_t family;
	VkQueue queue;
	VkCommandPool pool;
	VkCommandBuffer cb;
	VkShaderModule shader;
	VkPipelineLayout layout;
	VkPipeline pipeline;
	VkEvent event;
};

struct buffer {
	VkBuffer buffer;
	VkDeviceMemory memory;
};

static void init_instance(struct bench *b)
{
	bench_vk_init(&b->vk, VK_API_VERSION_1_2);
}

static void init_device(struct bench *b)
{
	b->family = bench_vk_queue_family(&b->vk, VK_QUEUE_COMPUTE_BIT, VK_NULL_HANDLE);
	if (b->family == UINT32_MAX)
		die("no compute queue");
	b->device = bench_vk_create_device(&b->vk, b->family, NULL, 0, NULL, &b->queue);
	b->pool = bench_vk_command_pool(b->device, b->family, 1, &b->cb);

	b->shader = bench_vk_shader(b->device, empty_comp_spv, sizeof(empty_comp_spv));
	VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 64};
	VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					   .pushConstantRangeCount = 1,
					   .pPushConstantRanges = &range};
	VK_CHECK(vkCreatePipelineLayout(b->device, &plci, NULL, &b->layout));
	VkComputePipelineCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
			  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
			  .module = b->shader,
			  .pName = "main"},
		.layout = b->layout,
		.basePipelineIndex = -1};
	VK_CHECK(vkCreateComputePipelines(b->device, VK_NULL_HANDLE, 1, &cpci, NULL, &b->pipeline));
	VkEventCreateInfo eci = {.sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO};
	VK_CHECK(vkCreateEvent(b->device, &eci, NULL, &b->event));
}

static void begin(struct bench *b)
{
	VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
				       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
	VK_CHECK(vkBeginCommandBuffer(b->cb, &bi));
}

/* --- (a) calls that need no answer --------------------------------------- */

enum record_kind { RECORD_DISPATCH, RECORD_PUSH_CONSTANTS };

/* Client thread CPU ns per vkCmd* call recorded into a command buffer. */
static void bench_record(struct bench *b, enum record_kind kind, const char *name)
{
	double ns[RUNS];
	uint32_t push[16] = {0};
	for (int r = 0; r < RUNS; r++) {
		uint64_t cpu = 0;
		for (uint32_t done = 0; done < CALLS_PER_RUN; done += RECORD_CHUNK) {
			begin(b);
			vkCmdBindPipeline(b->cb, VK_PIPELINE_BIND_POINT_COMPUTE, b->pipeline);
			uint64_t t0 = bench_cpu_ns();
			if (kind == RECORD_DISPATCH) {
				for (uint32_t i = 0; i < RECORD_CHUNK; i++)
					vkCmdDispatch(b->cb, 1, 1, 1);
			} else {
				for (uint32_t i = 0; i < RECORD_CHUNK; i++) {
					push[0] = i;
					vkCmdPushConstants(b->cb, b->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
							   sizeof(push), push);
				}
			}
			cpu += bench_cpu_ns() - t0;
			VK_CHECK(vkEndCommandBuffer(b->cb));
			VK_CHECK(vkResetCommandBuffer(b->cb, 0));
		}
		ns[r] = (double)cpu / CALLS_PER_RUN;
	}
	bench_report(name, bench_summarize(ns, RUNS), "ns");
}

/* Client thread CPU (and wall) ns per vkSetEvent / vkResetEvent: device-level
 * calls with no answer. Each run ends with a call that needs an answer so the
 * next run starts with the server idle; that call is not timed. */
static void bench_event_async(struct bench *b)
{
	double cpu_ns[RUNS], wall_ns[RUNS];
	for (int r = 0; r < RUNS; r++) {
		uint64_t c0 = bench_cpu_ns(), w0 = bench_now_ns();
		for (uint32_t i = 0; i < CALLS_PER_RUN; i += 2) {
			vkSetEvent(b->device, b->event);
			vkResetEvent(b->device, b->event);
		}
		cpu_ns[r] = (double)(bench_cpu_ns() - c0) / CALLS_PER_RUN;
		wall_ns[r] = (double)(bench_now_ns() - w0) / CALLS_PER_RUN;
		if (vkGetEventStatus(b->device, b->event) != VK_EVENT_RESET)
			die("event should be reset");
	}
	bench_report("set_reset_event_cpu_ns", bench_summarize(cpu_ns, RUNS), "ns");
	bench_report("set_reset_event_wall_ns", bench_summarize(wall_ns, RUNS), "ns");
}

/* --- (b) a call that needs an answer -------------------------------------- */

static void bench_round_trip(struct bench *b)
{
	static double us[RTT_CALLS];
	for (uint32_t i = 0; i < RTT_WARMUP; i++)
		vkGetEventStatus(b->device, b->event);
	for (uint32_t i = 0; i < RTT_CALLS; i++) {
		uint64_t t0 = bench_now_ns();
		VkResult st = vkGetEventStatus(b->device, b->event);
		us[i] = (double)(bench_now_ns() - t0) / 1000.0;
		if (st != VK_EVENT_RESET)
			die("vkGetEventStatus failed");
	}
	struct bench_summary s = bench_summarize(us, RTT_CALLS);
	bench_report("get_event_status_rtt_us", s, "us");
	struct bench_summary p99 = {bench_quantile(us, RTT_CALLS, 0.99), s.min, s.max};
	bench_report("get_event_status_rtt_p99_us", p99, "us");
}

/* --- (c) bulk data through mapped memory ---------------------------------- */

static struct buffer buffer_create(struct bench *b, VkBufferUsageFlags usage, VkMemoryPropertyFlags want)
{
	struct buffer buf;
	VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
				  .size = BULK_SIZE,
				  .usage = usage,
				  .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
	VK_CHECK(vkCreateBuffer(b->device, &bci, NULL, &buf.buffer));
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(b->device, buf.buffer, &req);
	uint32_t type = bench_vk_memory_type(&b->vk, req.memoryTypeBits, want);
	if (type == UINT32_MAX)
		die("no memory type with the wanted properties");
	VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
				    .allocationSize = req.size,
				    .memoryTypeIndex = type};
	VK_CHECK(vkAllocateMemory(b->device, &mai, NULL, &buf.memory));
	VK_CHECK(vkBindBufferMemory(b->device, buf.buffer, buf.memory, 0));
	return buf;
}

static void buffer_destroy(struct bench *b, struct buffer *buf)
{
	vkDestroyBuffer(b->device, buf->buffer, NULL);
	vkFreeMemory(b->device, buf->memory, NULL);
}

static void submit_and_wait(struct bench *b, bool with_commands)
{
	VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
			   .commandBufferCount = with_commands ? 1 : 0,
			   .pCommandBuffers = &b->cb};
	VK_CHECK(vkQueueSubmit(b->queue, 1, &si, VK_NULL_HANDLE));
	VK_CHECK(vkQueueWaitIdle(b->queue));
}

static double gbs(uint64_t ns)
{
	return (double)BULK_SIZE / (double)ns;
}

/*
 * Upload: the application writes 64 MiB into HOST_COHERENT memory and
 * submits a copy of it into a DEVICE_LOCAL buffer, then waits. Timed twice:
 * with vkMapMemory/vkUnmapMemory around every upload, and with the memory
 * mapped once (the usual persistent mapping).
 */
static void bench_upload(struct bench *b)
{
	const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	struct buffer src = buffer_create(b, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, host);
	struct buffer dst = buffer_create(b, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	begin(b);
	VkBufferCopy region = {0, 0, BULK_SIZE};
	vkCmdCopyBuffer(b->cb, src.buffer, dst.buffer, 1, &region);
	VK_CHECK(vkEndCommandBuffer(b->cb));

	double map_each[BULK_RUNS], persistent[BULK_RUNS], first = 0;
	void *p;
	/* Run -1 is the first upload into fresh memory: it pays the first touch of
	 * every page (driver memory; with tether also the client's shadow and
	 * snapshot and the server's mirror), so it is reported on its own. */
	for (int r = -1; r < BULK_RUNS; r++) {
		uint64_t t0 = bench_now_ns();
		VK_CHECK(vkMapMemory(b->device, src.memory, 0, VK_WHOLE_SIZE, 0, &p));
		memset(p, 0x10 + r, BULK_SIZE); /* every byte changes from the last run */
		submit_and_wait(b, true);
		vkUnmapMemory(b->device, src.memory);
		if (r < 0)
			first = gbs(bench_now_ns() - t0);
		else
			map_each[r] = gbs(bench_now_ns() - t0);
	}
	VK_CHECK(vkMapMemory(b->device, src.memory, 0, VK_WHOLE_SIZE, 0, &p));
	for (int r = 0; r < BULK_RUNS; r++) {
		uint64_t t0 = bench_now_ns();
		memset(p, 0x40 + r, BULK_SIZE);
		submit_and_wait(b, true);
		persistent[r] = gbs(bench_now_ns() - t0);
	}
	vkUnmapMemory(b->device, src.memory);
	bench_report("upload_first_gb_per_s", (struct bench_summary){first, first, first}, "GB/s");
	bench_report("upload_map_write_submit_wait_gb_per_s", bench_summarize(map_each, BULK_RUNS), "GB/s");
	bench_report("upload_persistent_write_submit_wait_gb_per_s", bench_summarize(persistent, BULK_RUNS),
		     "GB/s");
	VK_CHECK(vkResetCommandBuffer(b->cb, 0));
	buffer_destroy(b, &src);
	buffer_destroy(b, &dst);
}

/*
 * Readback: the GPU fills 64 MiB of HOST_COHERENT memory (a new value each
 * run, so every byte changes); timed from the submit through vkQueueWaitIdle
 * to the application having read every byte.
 */
static void bench_readback(struct bench *b)
{
	const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	struct buffer buf = buffer_create(b, VK_BUFFER_USAGE_TRANSFER_DST_BIT, host);
	void *p;
	VK_CHECK(vkMapMemory(b->device, buf.memory, 0, VK_WHOLE_SIZE, 0, &p));
	double rate[BULK_RUNS], first = 0;
	for (int r = -1; r < BULK_RUNS; r++) { /* run -1: first touch, reported alone */
		uint32_t value = 0x01010101u * (uint32_t)(r + 2);
		begin(b);
		vkCmdFillBuffer(b->cb, buf.buffer, 0, VK_WHOLE_SIZE, value);
		VK_CHECK(vkEndCommandBuffer(b->cb));
		uint64_t t0 = bench_now_ns();
		submit_and_wait(b, true);
		const uint64_t *w = p;
		uint64_t sum = 0;
		for (size_t i = 0; i < BULK_SIZE / 8; i++)
			sum += w[i];
		if (r < 0)
			first = gbs(bench_now_ns() - t0);
		else
			rate[r] = gbs(bench_now_ns() - t0);
		if (sum != (uint64_t)(BULK_SIZE / 8) * (((uint64_t)value << 32) | value))
			die("readback does not hold what the GPU wrote");
		VK_CHECK(vkResetCommandBuffer(b->cb, 0));
	}
	vkUnmapMemory(b->device, buf.memory);
	bench_report("readback_first_gb_per_s", (struct bench_summary){first, first, first}, "GB/s");
	bench_report("readback_fill_wait_read_gb_per_s", bench_summarize(rate, BULK_RUNS), "GB/s");
	buffer_destroy(b, &buf);
}

static void destroy(struct bench *b)
{
	vkDestroyEvent(b->device, b->event, NULL);
	vkDestroyPipeline(b->device, b->pipeline, NULL);
	vkDestroyPipelineLayout(b->device, b->layout, NULL);
	vkDestroyShaderModule(b->device, b->shader, NULL);
	vkDestroyCommandPool(b->device, b->pool, NULL);
	vkDestroyDevice(b->device, NULL);
	vkDestroyInstance(b->vk.instance, NULL);
}

/* Whether test @name runs: all of them, or those named by --only NAME[,NAME]. */
static bool wanted(const char *only, const char *name)
{
	if (!only)
		return true;
	size_t n = strlen(name);
	for (const char *p = strstr(only, name); p; p = strstr(p + 1, name))
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: tether_bench_link [--only record,event,rtt,upload,readback]\n");
			return 2;
		}
	}
	struct bench b = {0};
	init_instance(&b);
	init_device(&b);
	printf("# tether_bench_link: columns: median min max unit; GB = 1e9 bytes\n");
	fflush(stdout);
	if (wanted(only, "record")) {
		bench_record(&b, RECORD_DISPATCH, "cmd_dispatch_cpu_ns");
		bench_record(&b, RECORD_PUSH_CONSTANTS, "cmd_push_constants_64b_cpu_ns");
	}
	if (wanted(only, "event"))
		bench_event_async(&b);
	if (wanted(only, "rtt"))
		bench_round_trip(&b);
	if (wanted(only, "upload"))
		bench_upload(&b);
	if (wanted(only, "readback"))
		bench_readback(&b);
	destroy(&b);
	return 0;
}
