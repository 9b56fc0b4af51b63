/*
 * tether_bench_streaming: an ordinary Vulkan program (Khronos loader only)
 * that streams dynamic vertex and uniform data through persistently mapped
 * HOST_VISIBLE | HOST_COHERENT memory, the way a game streams particles,
 * skinned or CPU-animated geometry and per-frame constants.
 *
 * Every frame the CPU animates a grid of triangles and writes all of its
 * vertices (16 bytes each) and a 256-byte uniform block into one slot of a
 * ring in mapped memory, then records and submits a draw of it into a
 * 1280x720 RGBA8 color target with dynamic rendering. Two frames are in
 * flight, each slot guarded by its own fence. The amount written per frame
 * is --mb-per-s / --fps-target (64 MB/s at 60 fps by default: about 1.07 MB
 * per frame); the program then runs for --seconds either as fast as it can
 * (default) or paced at --fps N, and reports:
 *
 *   - frames per second: median, min and max of the per-second windows;
 *   - MB/s actually streamed (bytes written by the CPU per frame x frames / s);
 *   - per frame: CPU write time, record + submit time, fence wait time, and
 *     the client thread's CPU time;
 *   - paced: the share of late frames and whether it kept up.
 *
 * Through tether the bytes sent per frame come from the ICD's session totals
 * (TETHER_LOG=info, on stderr at exit) divided by "frames submitted";
 * bench/run_bench.py does that and prints 0 for the native run.
 *
 * The animation depends only on the frame number, never on time, so after the
 * timed run one more frame with a fixed number is rendered, read back and
 * checksummed: native and tether runs on the same driver must print the same
 * checksum.
 *
 *   tether_bench_streaming [--mb-per-s 64] [--fps-target 60] [--seconds 5]
 *                          [--fps N] [--device-local]
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vulkan/vulkan.h>

#include "bench_stats.h"
#include "bench_vk.h"

const char *bench_name = "tether_bench_streaming";
#include "streaming_frag.h"
#include "streaming_vert.h"

#define WIDTH 1280
#define HEIGHT 720
#define COLOR_FORMAT VK_FORMAT_R8G8B8A8_UNORM
#define FRAMES_IN_FLIGHT 2
#define UNIFORM_SIZE 256u
#define VERTEX_SIZE 16u
#define CELL_BYTES (6u * VERTEX_SIZE) /* two triangles */
#define WARMUP_FRAMES 10u
#define CHECK_FRAME 12345u /* the frame number of the checksummed image */
#define CLEAR_RGBA 0xff1a1a1au /* (0.1, 0.1, 0.1, 1) in R8G8B8A8_UNORM, little-endian */

struct vertex {
	float x, y, z;
	uint32_t rgba;
};

struct uniforms {
	float transform[16]; /* column-major */
	float tint[4];
	float params[11][4];
};

_Static_assert(sizeof(struct vertex) == VERTEX_SIZE, "vertex layout");
_Static_assert(sizeof(struct uniforms) == UNIFORM_SIZE, "uniform block layout");

struct options {
	double mb_per_s, fps_target, seconds, fps; /* fps 0: uncapped */
	bool device_local;
};

struct bench {
	struct bench_vk vk;
	VkDevice device;
	uint32_t family;
	VkQueue queue;
	VkCommandPool pool;
	VkCommandBuffer cb[FRAMES_IN_FLIGHT];
	VkFence fence[FRAMES_IN_FLIGHT];

	VkImage image;
	VkDeviceMemory image_memory;
	VkImageView view;

	VkBuffer ring;
	VkDeviceMemory ring_memory;
	uint8_t *ring_map;
	VkDeviceSize slot_size;

	VkBuffer readback;
	VkDeviceMemory readback_memory;

	VkDescriptorSetLayout set_layout;
	VkDescriptorPool desc_pool;
	VkDescriptorSet set;
	VkPipelineLayout layout;
	VkShaderModule vert, frag;
	VkPipeline pipeline;

	/* The grid: @cells cells of two triangles, @cols wide, row by row. */
	uint32_t cols, rows, cells;
	float *dx, *dy, *dz; /* per-frame displacement per row / column */
};

/* --- set-up ---------------------------------------------------------------- */

static void init_instance(struct bench *b)
{
	bench_vk_init(&b->vk, VK_API_VERSION_1_3);
	if (b->vk.props.apiVersion < VK_API_VERSION_1_3)
		die("the device does not support Vulkan 1.3 (dynamic rendering)");
}

static void init_device(struct bench *b)
{
	b->family = bench_vk_queue_family(&b->vk, VK_QUEUE_GRAPHICS_BIT, VK_NULL_HANDLE);
	if (b->family == UINT32_MAX)
		die("no graphics queue");
	VkPhysicalDeviceVulkan13Features f13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
						.dynamicRendering = VK_TRUE};
	b->device = bench_vk_create_device(&b->vk, b->family, &f13, 0, NULL, &b->queue);
	b->pool = bench_vk_command_pool(b->device, b->family, FRAMES_IN_FLIGHT, b->cb);
	VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = VK_FENCE_CREATE_SIGNALED_BIT};
	for (int i = 0; i < FRAMES_IN_FLIGHT; i++)
		VK_CHECK(vkCreateFence(b->device, &fci, NULL, &b->fence[i]));
}

static VkDeviceMemory allocate(struct bench *b, VkMemoryRequirements req, VkMemoryPropertyFlags want,
			       VkMemoryPropertyFlags fallback, const char *what)
{
	uint32_t type = bench_vk_memory_type(&b->vk, req.memoryTypeBits, want);
	if (type == UINT32_MAX)
		type = bench_vk_memory_type(&b->vk, req.memoryTypeBits, fallback);
	if (type == UINT32_MAX)
		die("no memory type with the wanted properties");
	VkMemoryPropertyFlags f = b->vk.mem.memoryTypes[type].propertyFlags;
	printf("memory: %s in type %u (%s%s%s%s)\n", what, type,
	       f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT ? "DEVICE_LOCAL " : "",
	       f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT ? "HOST_VISIBLE " : "",
	       f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT ? "HOST_COHERENT " : "",
	       f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT ? "HOST_CACHED" : "");
	VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
				    .allocationSize = req.size,
				    .memoryTypeIndex = type};
	VkDeviceMemory m;
	VK_CHECK(vkAllocateMemory(b->device, &mai, NULL, &m));
	return m;
}

static VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a)
{
	return (v + a - 1) / a * a;
}

/* The grid for @bytes_per_frame bytes written per frame (uniform block
 * included), 16:9, and the ring of FRAMES_IN_FLIGHT slots holding it. */
static void init_resources(struct bench *b, double bytes_per_frame, bool device_local)
{
	if (bytes_per_frame < UNIFORM_SIZE + CELL_BYTES)
		die("--mb-per-s / --fps-target is less than one grid cell per frame");
	b->cells = (uint32_t)((bytes_per_frame - UNIFORM_SIZE) / CELL_BYTES);
	b->cols = (uint32_t)ceil(sqrt(b->cells * 16.0 / 9.0));
	b->rows = (b->cells + b->cols - 1) / b->cols;
	b->dx = calloc(b->rows + 1, sizeof(float));
	b->dy = calloc(b->cols + 1, sizeof(float));
	b->dz = calloc(b->cols + 1, sizeof(float));

	VkDeviceSize align = b->vk.props.limits.minUniformBufferOffsetAlignment;
	if (align < UNIFORM_SIZE)
		align = UNIFORM_SIZE;
	if (align < b->vk.props.limits.nonCoherentAtomSize)
		align = b->vk.props.limits.nonCoherentAtomSize;
	b->slot_size = align_up(UNIFORM_SIZE + (VkDeviceSize)b->cells * CELL_BYTES, align);

	const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
				  .size = b->slot_size * FRAMES_IN_FLIGHT,
				  .usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
				  .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
	VK_CHECK(vkCreateBuffer(b->device, &bci, NULL, &b->ring));
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(b->device, b->ring, &req);
	b->ring_memory = allocate(b, req, device_local ? host | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT : host, host,
				  "streaming ring");
	VK_CHECK(vkBindBufferMemory(b->device, b->ring, b->ring_memory, 0));
	void *p;
	VK_CHECK(vkMapMemory(b->device, b->ring_memory, 0, VK_WHOLE_SIZE, 0, &p)); /* for the whole run */
	b->ring_map = p;

	VkImageCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
				 .imageType = VK_IMAGE_TYPE_2D,
				 .format = COLOR_FORMAT,
				 .extent = {WIDTH, HEIGHT, 1},
				 .mipLevels = 1,
				 .arrayLayers = 1,
				 .samples = VK_SAMPLE_COUNT_1_BIT,
				 .tiling = VK_IMAGE_TILING_OPTIMAL,
				 .usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
				 .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
				 .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
	VK_CHECK(vkCreateImage(b->device, &ici, NULL, &b->image));
	vkGetImageMemoryRequirements(b->device, b->image, &req);
	b->image_memory = allocate(b, req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, "color target");
	VK_CHECK(vkBindImageMemory(b->device, b->image, b->image_memory, 0));
	VkImageViewCreateInfo vci = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
				     .image = b->image,
				     .viewType = VK_IMAGE_VIEW_TYPE_2D,
				     .format = COLOR_FORMAT,
				     .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
	VK_CHECK(vkCreateImageView(b->device, &vci, NULL, &b->view));

	/* Read back once, after the timed run; mapped only then, so that it does
	 * not add to the mapped memory tether compares while frames stream. */
	bci.size = (VkDeviceSize)WIDTH * HEIGHT * 4;
	bci.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
	VK_CHECK(vkCreateBuffer(b->device, &bci, NULL, &b->readback));
	vkGetBufferMemoryRequirements(b->device, b->readback, &req);
	b->readback_memory = allocate(b, req, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, host, "read-back");
	VK_CHECK(vkBindBufferMemory(b->device, b->readback, b->readback_memory, 0));
}

static void init_pipeline(struct bench *b)
{
	VkDescriptorSetLayoutBinding binding = {0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC, 1,
						VK_SHADER_STAGE_VERTEX_BIT, NULL};
	VkDescriptorSetLayoutCreateInfo dslci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
						 .bindingCount = 1,
						 .pBindings = &binding};
	VK_CHECK(vkCreateDescriptorSetLayout(b->device, &dslci, NULL, &b->set_layout));
	VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC, 1};
	VkDescriptorPoolCreateInfo dpci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
					   .maxSets = 1,
					   .poolSizeCount = 1,
					   .pPoolSizes = &ps};
	VK_CHECK(vkCreateDescriptorPool(b->device, &dpci, NULL, &b->desc_pool));
	VkDescriptorSetAllocateInfo dsai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
					    .descriptorPool = b->desc_pool,
					    .descriptorSetCount = 1,
					    .pSetLayouts = &b->set_layout};
	VK_CHECK(vkAllocateDescriptorSets(b->device, &dsai, &b->set));
	VkDescriptorBufferInfo dbi = {b->ring, 0, UNIFORM_SIZE};
	VkWriteDescriptorSet w = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
				  .dstSet = b->set,
				  .descriptorCount = 1,
				  .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC,
				  .pBufferInfo = &dbi};
	vkUpdateDescriptorSets(b->device, 1, &w, 0, NULL);
	VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					   .setLayoutCount = 1,
					   .pSetLayouts = &b->set_layout};
	VK_CHECK(vkCreatePipelineLayout(b->device, &plci, NULL, &b->layout));

	b->vert = bench_vk_shader(b->device, streaming_vert_spv, sizeof(streaming_vert_spv));
	b->frag = bench_vk_shader(b->device, streaming_frag_spv, sizeof(streaming_frag_spv));
	VkVertexInputBindingDescription vb = {0, VERTEX_SIZE, VK_VERTEX_INPUT_RATE_VERTEX};
	VkVertexInputAttributeDescription va[2] = {
		{0, 0, VK_FORMAT_R32G32B32_SFLOAT, 0},
		{1, 0, VK_FORMAT_R8G8B8A8_UNORM, 12},
	};
	VkPipelineVertexInputStateCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
						   .vertexBindingDescriptionCount = 1,
						   .pVertexBindingDescriptions = &vb,
						   .vertexAttributeDescriptionCount = 2,
						   .pVertexAttributeDescriptions = va};
	struct bench_vk_pipeline_info info = {.vert = b->vert,
					      .frag = b->frag,
					      .vertex_input = &vi,
					      .extent = {WIDTH, HEIGHT},
					      .layout = b->layout,
					      .color_format = COLOR_FORMAT};
	b->pipeline = bench_vk_graphics_pipeline(b->device, &info);
}

/* --- one frame ------------------------------------------------------------- */

/* What the CPU writes for frame @frame into ring slot @slot: every vertex of
 * the grid (animated: rows and columns sway, colors cycle) and the uniform
 * block. A function of @frame alone, so that the check frame is the same
 * image however many frames ran before it. */
static void write_frame(struct bench *b, uint32_t frame, int slot)
{
	const float t = (float)frame / 60.0f;
	for (uint32_t j = 0; j <= b->rows; j++)
		b->dx[j] = 0.35f / (float)b->cols * sinf(2.0f * t + 0.35f * (float)j);
	for (uint32_t i = 0; i <= b->cols; i++) {
		b->dy[i] = 0.35f / (float)b->rows * cosf(1.7f * t + 0.27f * (float)i);
		b->dz[i] = 0.5f + 0.25f * sinf(t + 0.01f * (float)i);
	}
	uint8_t *base = b->ring_map + (VkDeviceSize)slot * b->slot_size;

	struct uniforms *u = (struct uniforms *)base;
	float a = 0.05f * sinf(0.5f * t), c = 0.95f * cosf(a), s = 0.95f * sinf(a);
	const float m[16] = {c, s, 0, 0, -s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
	memcpy(u->transform, m, sizeof(m));
	u->tint[0] = 0.8f + 0.2f * sinf(t);
	u->tint[1] = 0.8f + 0.2f * sinf(t + 2.1f);
	u->tint[2] = 0.8f + 0.2f * sinf(t + 4.2f);
	u->tint[3] = 1.0f;
	for (int k = 0; k < 11; k++) {
		u->params[k][0] = (float)frame;
		u->params[k][1] = (float)k;
		u->params[k][2] = t;
		u->params[k][3] = 0.0f;
	}

	struct vertex *v = (struct vertex *)(base + UNIFORM_SIZE);
	const float sx = 2.0f / (float)b->cols, sy = 2.0f / (float)b->rows;
	uint32_t cell = 0;
	for (uint32_t j = 0; j < b->rows && cell < b->cells; j++) {
		float y0 = -1.0f + sy * (float)j, y1 = y0 + sy;
		for (uint32_t i = 0; i < b->cols && cell < b->cells; i++, cell++) {
			float x0 = -1.0f + sx * (float)i, x1 = x0 + sx;
			/* corners: (i, j) (i+1, j) (i, j+1) (i+1, j+1), each displaced */
			float ax = x0 + b->dx[j], bx = x1 + b->dx[j], cx = x0 + b->dx[j + 1], dxx = x1 + b->dx[j + 1];
			float ay = y0 + b->dy[i], by = y0 + b->dy[i + 1], cy = y1 + b->dy[i], dy = y1 + b->dy[i + 1];
			float az = b->dz[i], bz = b->dz[i + 1];
			uint32_t r = (i * 5u + frame) & 255u, g = (j * 3u + 2u * frame) & 255u,
				 bl = ((i ^ j) + 3u * frame) & 255u;
			uint32_t c0 = 0xff000000u | bl << 16 | g << 8 | r, c1 = c0 ^ 0x00400000u;
			v[0] = (struct vertex){ax, ay, az, c0};
			v[1] = (struct vertex){bx, by, bz, c0};
			v[2] = (struct vertex){cx, cy, az, c0};
			v[3] = (struct vertex){bx, by, bz, c1};
			v[4] = (struct vertex){dxx, dy, bz, c1};
			v[5] = (struct vertex){cx, cy, az, c1};
			v += 6;
		}
	}
}

static void image_barrier(VkCommandBuffer cb, VkImage image, VkImageLayout from, VkImageLayout to,
			  VkPipelineStageFlags src_stage, VkAccessFlags src, VkPipelineStageFlags dst_stage,
			  VkAccessFlags dst)
{
	VkImageMemoryBarrier ib = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
				   .srcAccessMask = src,
				   .dstAccessMask = dst,
				   .oldLayout = from,
				   .newLayout = to,
				   .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
				   .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
				   .image = image,
				   .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
	vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &ib);
}

/* Records the draw of ring slot @slot; with @readback also the copy of the
 * image into the read-back buffer. */
static void record_frame(struct bench *b, int slot, bool readback)
{
	VkCommandBuffer cb = b->cb[slot];
	VK_CHECK(vkResetCommandBuffer(cb, 0));
	VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
				       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
	VK_CHECK(vkBeginCommandBuffer(cb, &bi));
	/* The previous frame's color writes (the other slot) come first. */
	image_barrier(cb, b->image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		      VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
		      VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
	VkRenderingAttachmentInfo att = {.sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
					 .imageView = b->view,
					 .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
					 .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
					 .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
					 .clearValue = {.color = {{0.1f, 0.1f, 0.1f, 1.0f}}}};
	VkRenderingInfo ri = {.sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
			      .renderArea = {{0, 0}, {WIDTH, HEIGHT}},
			      .layerCount = 1,
			      .colorAttachmentCount = 1,
			      .pColorAttachments = &att};
	vkCmdBeginRendering(cb, &ri);
	vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, b->pipeline);
	uint32_t uniform_offset = (uint32_t)((VkDeviceSize)slot * b->slot_size);
	vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, b->layout, 0, 1, &b->set, 1, &uniform_offset);
	VkDeviceSize vertex_offset = (VkDeviceSize)slot * b->slot_size + UNIFORM_SIZE;
	vkCmdBindVertexBuffers(cb, 0, 1, &b->ring, &vertex_offset);
	vkCmdDraw(cb, b->cells * 6u, 1, 0, 0);
	vkCmdEndRendering(cb);
	if (readback) {
		image_barrier(cb, b->image, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
			      VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
			      VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
			      VK_ACCESS_TRANSFER_READ_BIT);
		VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
					    .imageExtent = {WIDTH, HEIGHT, 1}};
		vkCmdCopyImageToBuffer(cb, b->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, b->readback, 1, &region);
		VkBufferMemoryBarrier bb = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
					    .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
					    .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
					    .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
					    .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
					    .buffer = b->readback,
					    .size = VK_WHOLE_SIZE};
		vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, NULL, 1,
				     &bb, 0, NULL);
	}
	VK_CHECK(vkEndCommandBuffer(cb));
}

static void submit_frame(struct bench *b, int slot)
{
	VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &b->cb[slot]};
	VK_CHECK(vkQueueSubmit(b->queue, 1, &si, b->fence[slot]));
}

static void wait_slot(struct bench *b, int slot)
{
	VK_CHECK(vkWaitForFences(b->device, 1, &b->fence[slot], VK_TRUE, UINT64_MAX));
	VK_CHECK(vkResetFences(b->device, 1, &b->fence[slot]));
}

/* --- the run ---------------------------------------------------------------- */

struct samples {
	double *v;
	size_t n, cap;
};

static void push(struct samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = x;
}

static void report(const char *mode, const char *name, struct samples *s, const char *unit)
{
	char key[64];
	snprintf(key, sizeof(key), "%s_%s", mode, name);
	if (s->n == 0)
		return;
	bench_report(key, bench_summarize(s->v, s->n), unit);
}

static void report1(const char *mode, const char *name, double v, const char *unit)
{
	char key[64];
	snprintf(key, sizeof(key), "%s_%s", mode, name);
	bench_report(key, (struct bench_summary){v, v, v}, unit);
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

static uint32_t frame_no;

/* One frame: wait for its slot, write, record, submit. Returns the slot's
 * phase times in @t (ns: wait, write, submit). */
static void frame(struct bench *b, uint32_t number, bool readback, uint64_t t[3])
{
	int slot = (int)(frame_no++ % FRAMES_IN_FLIGHT);
	uint64_t t0 = bench_now_ns();
	wait_slot(b, slot);
	uint64_t t1 = bench_now_ns();
	write_frame(b, number, slot);
	uint64_t t2 = bench_now_ns();
	record_frame(b, slot, readback);
	submit_frame(b, slot);
	uint64_t t3 = bench_now_ns();
	if (t) {
		t[0] = t1 - t0;
		t[1] = t2 - t1;
		t[2] = t3 - t2;
	}
}

static void run(struct bench *b, const struct options *o, double bytes_written)
{
	const char *mode = o->fps > 0 ? "paced" : "uncapped";
	for (uint32_t i = 0; i < WARMUP_FRAMES; i++) /* first touch of every page */
		frame(b, frame_no, false, NULL);
	VK_CHECK(vkWaitForFences(b->device, FRAMES_IN_FLIGHT, b->fence, VK_TRUE, UINT64_MAX));

	struct samples fps = {0}, wait_ms = {0}, write_ms = {0}, submit_ms = {0};
	const uint64_t period = o->fps > 0 ? (uint64_t)(1e9 / o->fps) : 0;
	const uint64_t start = bench_now_ns(), end = start + (uint64_t)(o->seconds * 1e9);
	const uint64_t cpu0 = bench_cpu_ns();
	uint64_t window = start, now = start, slot = 0, missed = 0;
	uint32_t frames = 0, in_window = 0;
	while (now < end) {
		if (period) {
			/* Like a display refreshing at --fps: each frame takes the next
			 * slot; a frame not started by then misses it and waits for the
			 * one after (a repeated image on screen). */
			uint64_t due = (now - start + period - 1) / period;
			if (frames && due > slot + 1) {
				missed += due - (slot + 1);
				slot = due;
			} else if (frames) {
				slot++;
			}
			sleep_until(start + slot * period);
		}
		uint64_t t[3];
		frame(b, frame_no, false, t);
		push(&wait_ms, t[0] / 1e6);
		push(&write_ms, t[1] / 1e6);
		push(&submit_ms, t[2] / 1e6);
		frames++;
		in_window++;
		now = bench_now_ns();
		if (now - window >= 1000000000u) {
			push(&fps, in_window * 1e9 / (double)(now - window));
			window = now;
			in_window = 0;
		}
	}
	VK_CHECK(vkWaitForFences(b->device, FRAMES_IN_FLIGHT, b->fence, VK_TRUE, UINT64_MAX));
	const uint64_t elapsed = bench_now_ns() - start, cpu = bench_cpu_ns() - cpu0;
	if (fps.n == 0) /* shorter than a second */
		push(&fps, frames * 1e9 / (double)elapsed);
	const double overall = frames * 1e9 / (double)elapsed;

	printf("# %s: %u frames in %.2f s (%.1f fps overall)\n", mode, frames, elapsed / 1e9, overall);
	report(mode, "fps", &fps, "fps");
	report1(mode, "mb_per_s", bytes_written * frames / (elapsed / 1e9) / 1e6, "MB/s");
	report1(mode, "cpu_ms_per_frame", cpu / 1e6 / frames, "ms");
	report(mode, "wait_ms", &wait_ms, "ms");
	report(mode, "write_ms", &write_ms, "ms");
	report(mode, "submit_ms", &submit_ms, "ms");
	if (period) {
		/* Kept up: at most 2 % of the display's slots showed no new frame. */
		double missed_pct = 100.0 * (double)missed / (double)(missed + frames);
		bool kept_up = missed_pct <= 2.0;
		report1(mode, "missed_slots_pct", missed_pct, "%");
		report1(mode, "kept_up", kept_up ? 1 : 0, "bool");
		printf("kept up with %.0f fps: %s (%.1f fps overall, %llu of %llu slots missed)\n", o->fps,
		       kept_up ? "yes" : "no", overall, (unsigned long long)missed,
		       (unsigned long long)(missed + frames));
	}
	free(fps.v);
	free(wait_ms.v);
	free(write_ms.v);
	free(submit_ms.v);
}

/* Renders frame CHECK_FRAME through the same ring, reads the image back and
 * prints its FNV-1a checksum. */
static void check(struct bench *b)
{
	frame(b, CHECK_FRAME, true, NULL);
	VK_CHECK(vkWaitForFences(b->device, FRAMES_IN_FLIGHT, b->fence, VK_TRUE, UINT64_MAX));
	void *p;
	VK_CHECK(vkMapMemory(b->device, b->readback_memory, 0, VK_WHOLE_SIZE, 0, &p));
	VkMappedMemoryRange range = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
				     .memory = b->readback_memory,
				     .size = VK_WHOLE_SIZE};
	VK_CHECK(vkInvalidateMappedMemoryRanges(b->device, 1, &range));
	const uint32_t *px = p;
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t covered = 0;
	for (size_t i = 0; i < (size_t)WIDTH * HEIGHT; i++) {
		h = (h ^ px[i]) * 0x100000001b3ull;
		covered += px[i] != CLEAR_RGBA;
	}
	vkUnmapMemory(b->device, b->readback_memory);
	printf("coverage: %.1f%% of pixels drawn\n", 100.0 * covered / (WIDTH * HEIGHT));
	printf("checksum: %016llx\n", (unsigned long long)h);
	if (covered < WIDTH * HEIGHT / 2)
		die("the check frame drew less than half the image");
}

static void destroy(struct bench *b)
{
	vkDestroyPipeline(b->device, b->pipeline, NULL);
	vkDestroyShaderModule(b->device, b->vert, NULL);
	vkDestroyShaderModule(b->device, b->frag, NULL);
	vkDestroyPipelineLayout(b->device, b->layout, NULL);
	vkDestroyDescriptorPool(b->device, b->desc_pool, NULL);
	vkDestroyDescriptorSetLayout(b->device, b->set_layout, NULL);
	vkUnmapMemory(b->device, b->ring_memory);
	vkDestroyBuffer(b->device, b->ring, NULL);
	vkFreeMemory(b->device, b->ring_memory, NULL);
	vkDestroyBuffer(b->device, b->readback, NULL);
	vkFreeMemory(b->device, b->readback_memory, NULL);
	vkDestroyImageView(b->device, b->view, NULL);
	vkDestroyImage(b->device, b->image, NULL);
	vkFreeMemory(b->device, b->image_memory, NULL);
	for (int i = 0; i < FRAMES_IN_FLIGHT; i++)
		vkDestroyFence(b->device, b->fence[i], NULL);
	vkDestroyCommandPool(b->device, b->pool, NULL);
	vkDestroyDevice(b->device, NULL);
	vkDestroyInstance(b->vk.instance, NULL);
	free(b->dx);
	free(b->dy);
	free(b->dz);
}

static void usage(void)
{
	fprintf(stderr, "usage: tether_bench_streaming [--mb-per-s 64] [--fps-target 60] [--seconds 5] "
			"[--fps N (paced; default uncapped)] [--device-local]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct options o = {.mb_per_s = 64, .fps_target = 60, .seconds = 5, .fps = 0};
	for (int i = 1; i < argc; i++) {
		double *v = NULL;
		if (!strcmp(argv[i], "--mb-per-s"))
			v = &o.mb_per_s;
		else if (!strcmp(argv[i], "--fps-target"))
			v = &o.fps_target;
		else if (!strcmp(argv[i], "--seconds"))
			v = &o.seconds;
		else if (!strcmp(argv[i], "--fps"))
			v = &o.fps;
		else if (!strcmp(argv[i], "--device-local"))
			o.device_local = true;
		else
			usage();
		if (v) {
			char *endp;
			if (i + 1 >= argc)
				usage();
			*v = strtod(argv[++i], &endp);
			if (*endp || *v < 0)
				usage();
		}
	}
	if (o.mb_per_s <= 0 || o.fps_target <= 0 || o.seconds <= 0)
		usage();

	struct bench b = {0};
	init_instance(&b);
	init_device(&b);
	init_resources(&b, o.mb_per_s * 1e6 / o.fps_target, o.device_local);
	init_pipeline(&b);
	const double bytes_written = UNIFORM_SIZE + (double)b.cells * CELL_BYTES;
	printf("# tether_bench_streaming: %ux%u RGBA8, %d frames in flight, %u triangles (%ux%u grid) + %u B "
	       "uniforms = %.0f bytes written per frame (%.1f MB/s at %.0f fps), %s\n",
	       WIDTH, HEIGHT, FRAMES_IN_FLIGHT, 2 * b.cells, b.cols, b.rows, UNIFORM_SIZE, bytes_written,
	       bytes_written * o.fps_target / 1e6, o.fps_target,
	       o.fps > 0 ? "paced" : "uncapped");
	printf("# columns: median min max unit; fps over 1-second windows, phase times per frame\n");
	report1(o.fps > 0 ? "paced" : "uncapped", "bytes_written_per_frame", bytes_written, "B");
	fflush(stdout);
	run(&b, &o, bytes_written);
	check(&b);
	printf("frames submitted: %u\n", frame_no);
	destroy(&b);
	return 0;
}
