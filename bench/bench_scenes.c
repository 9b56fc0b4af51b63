/*
 * tether_bench_scenes: the scenes tether's overhead is judged by, as ordinary
 * Vulkan programs (Khronos loader only) that run natively and through tether
 * unchanged. bench/run_scenes.py runs each both ways and prints the ratios.
 *
 *   --scene gpu  GPU-bound: a full-screen triangle whose fragment shader
 *                iterates --iterations times per pixel, 1920x1080, one draw
 *                per frame.
 *   --scene api  API-bound: --draws (10,000) small triangles per frame, each
 *                with its own descriptor set bind (a uniform block of its
 *                own) and push constants; every frame the CPU rewrites all
 *                the uniform blocks of its slot in persistently mapped
 *                memory. 1280x720.
 *
 * Both render offscreen into an R8G8B8A8 image with dynamic rendering, two
 * frames in flight (one fence each, waited before the slot is reused).
 * Timing starts before vkCreateInstance: the program prints the time to the
 * first finished frame (start-up), then runs --seconds and prints frames per
 * second (median, min, max over windows of at least 0.5 s and 2 frames) and the client thread's CPU
 * time per frame. With --cache FILE the pipeline cache is loaded from FILE
 * when it exists and saved there at exit, so a second run shows start-up
 * with a warm cache. Last, the frame numbered CHECK_FRAME is rendered, read
 * back and checksummed: native and tether runs on the same driver print the
 * same checksum.
 *
 *   tether_bench_scenes --scene gpu|api [--seconds 5] [--iterations 256]
 *                       [--draws 10000] [--cache FILE]
 *
 * Output: "result NAME MEDIAN MIN MAX UNIT" lines (bench_stats.h), and
 * "checksum: 0x..." and "device:" lines.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include "bench_stats.h"
#include "bench_vk.h"

const char *bench_name = "tether_bench_scenes";
#include "scene_api_frag.h"
#include "scene_api_vert.h"
#include "scene_fullscreen_vert.h"
#include "scene_gpu_frag.h"

#define COLOR_FORMAT VK_FORMAT_R8G8B8A8_UNORM
#define FRAMES_IN_FLIGHT 2
#define CHECK_FRAME 4242u
#define WINDOW_NS 500000000ull
#define MAX_WINDOWS 4096

enum scene { SCENE_GPU, SCENE_API };

struct draw_block { /* scene_api.vert's uniform block, 256-byte slots */
	float offset_scale[4];
	float color[4];
};

struct bench {
	enum scene scene;
	uint32_t iterations, draws;
	VkExtent2D extent;
	struct bench_vk vk;
	VkDevice device;
	VkQueue queue;
	uint32_t family;
	VkCommandPool pool;
	VkCommandBuffer cbs[FRAMES_IN_FLIGHT];
	VkFence fences[FRAMES_IN_FLIGHT];
	bool submitted[FRAMES_IN_FLIGHT];
	VkImage target;
	VkDeviceMemory target_memory;
	VkImageView view;
	VkPipelineCache cache;
	VkPipelineLayout layout;
	VkPipeline pipeline;
	/* API scene: one uniform slot and descriptor set per draw and frame slot. */
	VkDescriptorSetLayout set_layout;
	VkDescriptorPool descriptor_pool;
	VkDescriptorSet *sets; /* [FRAMES_IN_FLIGHT][draws] */
	VkBuffer uniforms;
	VkDeviceMemory uniform_memory;
	uint8_t *uniform_map;
	VkDeviceSize slot_size;
};

static VkDeviceMemory allocate(struct bench *b, VkMemoryRequirements req, VkMemoryPropertyFlags want)
{
	uint32_t type = bench_vk_memory_type(&b->vk, req.memoryTypeBits, want);
	if (type == UINT32_MAX)
		die("no suitable memory type");
	VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
				   .memoryTypeIndex = type};
	VkDeviceMemory m;
	VK_CHECK(vkAllocateMemory(b->device, &ai, NULL, &m));
	return m;
}

static void init_target(struct bench *b)
{
	VkImageCreateInfo ii = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = COLOR_FORMAT,
		.extent = {b->extent.width, b->extent.height, 1},
		.mipLevels = 1,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
	};
	VK_CHECK(vkCreateImage(b->device, &ii, NULL, &b->target));
	VkMemoryRequirements req;
	vkGetImageMemoryRequirements(b->device, b->target, &req);
	b->target_memory = allocate(b, req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	VK_CHECK(vkBindImageMemory(b->device, b->target, b->target_memory, 0));
	VkImageViewCreateInfo vi = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
		.image = b->target,
		.viewType = VK_IMAGE_VIEW_TYPE_2D,
		.format = COLOR_FORMAT,
		.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
	};
	VK_CHECK(vkCreateImageView(b->device, &vi, NULL, &b->view));
}

static void init_cache(struct bench *b, const char *path)
{
	void *data = NULL;
	size_t size = 0;
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (f) {
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		fseek(f, 0, SEEK_SET);
		if (n > 0 && (data = malloc((size_t)n)) && fread(data, 1, (size_t)n, f) == (size_t)n)
			size = (size_t)n;
		fclose(f);
	}
	VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
					.initialDataSize = size, .pInitialData = size ? data : NULL};
	VK_CHECK(vkCreatePipelineCache(b->device, &ci, NULL, &b->cache));
	free(data);
	printf("pipeline cache: %zu bytes loaded\n", size);
}

static void save_cache(struct bench *b, const char *path)
{
	size_t size = 0;
	VK_CHECK(vkGetPipelineCacheData(b->device, b->cache, &size, NULL));
	void *data = malloc(size ? size : 1);
	VK_CHECK(vkGetPipelineCacheData(b->device, b->cache, &size, data));
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size)
		die("cannot write the pipeline cache file");
	fclose(f);
	free(data);
}

static void init_pipeline(struct bench *b)
{
	VkPushConstantRange push = {VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0, 16};
	VkPipelineLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					 .pushConstantRangeCount = 1, .pPushConstantRanges = &push};
	struct bench_vk_pipeline_info pi = {.extent = b->extent, .color_format = COLOR_FORMAT, .cache = b->cache};
	if (b->scene == SCENE_API) {
		VkDescriptorSetLayoutBinding binding = {0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1,
							VK_SHADER_STAGE_VERTEX_BIT, NULL};
		VkDescriptorSetLayoutCreateInfo dl = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
						      .bindingCount = 1, .pBindings = &binding};
		VK_CHECK(vkCreateDescriptorSetLayout(b->device, &dl, NULL, &b->set_layout));
		li.setLayoutCount = 1;
		li.pSetLayouts = &b->set_layout;
		pi.vert = bench_vk_shader(b->device, scene_api_vert_spv, sizeof(scene_api_vert_spv));
		pi.frag = bench_vk_shader(b->device, scene_api_frag_spv, sizeof(scene_api_frag_spv));
	} else {
		pi.vert = bench_vk_shader(b->device, scene_fullscreen_vert_spv, sizeof(scene_fullscreen_vert_spv));
		pi.frag = bench_vk_shader(b->device, scene_gpu_frag_spv, sizeof(scene_gpu_frag_spv));
	}
	VK_CHECK(vkCreatePipelineLayout(b->device, &li, NULL, &b->layout));
	pi.layout = b->layout;
	b->pipeline = bench_vk_graphics_pipeline(b->device, &pi);
	vkDestroyShaderModule(b->device, pi.vert, NULL);
	vkDestroyShaderModule(b->device, pi.frag, NULL);
}

static void init_uniforms(struct bench *b)
{
	VkDeviceSize align = b->vk.props.limits.minUniformBufferOffsetAlignment;
	b->slot_size = (sizeof(struct draw_block) + align - 1) / align * align;
	uint64_t sets = (uint64_t)FRAMES_IN_FLIGHT * b->draws;
	VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = b->slot_size * sets,
				 .usage = VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT};
	VK_CHECK(vkCreateBuffer(b->device, &bi, NULL, &b->uniforms));
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(b->device, b->uniforms, &req);
	b->uniform_memory = allocate(b, req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	VK_CHECK(vkBindBufferMemory(b->device, b->uniforms, b->uniform_memory, 0));
	VK_CHECK(vkMapMemory(b->device, b->uniform_memory, 0, VK_WHOLE_SIZE, 0, (void **)&b->uniform_map));

	VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, (uint32_t)sets};
	VkDescriptorPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
					  .maxSets = (uint32_t)sets, .poolSizeCount = 1, .pPoolSizes = &size};
	VK_CHECK(vkCreateDescriptorPool(b->device, &pci, NULL, &b->descriptor_pool));
	b->sets = calloc(sets, sizeof(*b->sets));
	VkDescriptorSetLayout *layouts = calloc(sets, sizeof(*layouts));
	VkDescriptorBufferInfo *infos = calloc(sets, sizeof(*infos));
	VkWriteDescriptorSet *writes = calloc(sets, sizeof(*writes));
	if (!b->sets || !layouts || !infos || !writes)
		die("out of memory");
	for (uint64_t i = 0; i < sets; i++)
		layouts[i] = b->set_layout;
	VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
					  .descriptorPool = b->descriptor_pool, .descriptorSetCount = (uint32_t)sets,
					  .pSetLayouts = layouts};
	VK_CHECK(vkAllocateDescriptorSets(b->device, &ai, b->sets));
	for (uint64_t i = 0; i < sets; i++) {
		infos[i] = (VkDescriptorBufferInfo){b->uniforms, i * b->slot_size, sizeof(struct draw_block)};
		writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
						   .dstSet = b->sets[i], .descriptorCount = 1,
						   .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
						   .pBufferInfo = &infos[i]};
	}
	vkUpdateDescriptorSets(b->device, (uint32_t)sets, writes, 0, NULL);
	free(layouts);
	free(infos);
	free(writes);
}

/* The CPU's per-frame work in the API scene: every draw's block of slot @s. */
static void write_uniforms(struct bench *b, uint32_t s, uint32_t frame)
{
	uint32_t cols = 100, rows = (b->draws + cols - 1) / cols;
	for (uint32_t i = 0; i < b->draws; i++) {
		struct draw_block *d = (void *)(b->uniform_map + ((uint64_t)s * b->draws + i) * b->slot_size);
		float x = (float)(i % cols) / (float)cols, y = (float)(i / cols) / (float)rows;
		float wobble = (float)((frame + i) % 16u) / 1600.0f;
		*d = (struct draw_block){{x * 2.0f - 1.0f + wobble, y * 2.0f - 1.0f, 1.6f / (float)cols,
					  1.6f / (float)rows},
					 {x, y, (float)(frame % 256u) / 255.0f, 1.0f}};
	}
}

static void record(struct bench *b, VkCommandBuffer cb, uint32_t s, uint32_t frame)
{
	VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
					  .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
	VK_CHECK(vkBeginCommandBuffer(cb, &begin));
	VkImageMemoryBarrier to_color = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT,
		.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
		.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
		.newLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = b->target,
		.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
	};
	vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
			     VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0, 0, NULL, 0, NULL, 1, &to_color);
	VkRenderingAttachmentInfo color = {
		.sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
		.imageView = b->view,
		.imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
		.storeOp = VK_ATTACHMENT_STORE_OP_STORE,
		.clearValue = {.color = {.float32 = {0.05f, 0.05f, 0.08f, 1.0f}}},
	};
	VkRenderingInfo ri = {.sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
			      .renderArea = {{0, 0}, b->extent},
			      .layerCount = 1,
			      .colorAttachmentCount = 1,
			      .pColorAttachments = &color};
	vkCmdBeginRendering(cb, &ri);
	vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, b->pipeline);
	if (b->scene == SCENE_GPU) {
		uint32_t push[4] = {b->iterations, frame, 0, 0};
		vkCmdPushConstants(cb, b->layout, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
				   sizeof(push), push);
		vkCmdDraw(cb, 3, 1, 0, 0);
	} else {
		for (uint32_t i = 0; i < b->draws; i++) {
			float tint[4] = {1.0f, 1.0f - (float)(i % 7u) / 14.0f, 1.0f, 1.0f};
			vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, b->layout, 0, 1,
						&b->sets[(uint64_t)s * b->draws + i], 0, NULL);
			vkCmdPushConstants(cb, b->layout, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT,
					   0, sizeof(tint), tint);
			vkCmdDraw(cb, 3, 1, 0, 0);
		}
	}
	vkCmdEndRendering(cb);
	VK_CHECK(vkEndCommandBuffer(cb));
}

/* Renders frame number @frame in slot @s, after the slot's last frame is done. */
static void frame_submit(struct bench *b, uint32_t s, uint32_t frame)
{
	if (b->submitted[s]) {
		VK_CHECK(vkWaitForFences(b->device, 1, &b->fences[s], VK_TRUE, UINT64_MAX));
		VK_CHECK(vkResetFences(b->device, 1, &b->fences[s]));
	}
	if (b->scene == SCENE_API)
		write_uniforms(b, s, frame);
	VK_CHECK(vkResetCommandBuffer(b->cbs[s], 0));
	record(b, b->cbs[s], s, frame);
	VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
			   .pCommandBuffers = &b->cbs[s]};
	VK_CHECK(vkQueueSubmit(b->queue, 1, &si, b->fences[s]));
	b->submitted[s] = true;
}

static void drain(struct bench *b)
{
	for (uint32_t s = 0; s < FRAMES_IN_FLIGHT; s++)
		if (b->submitted[s]) {
			VK_CHECK(vkWaitForFences(b->device, 1, &b->fences[s], VK_TRUE, UINT64_MAX));
			VK_CHECK(vkResetFences(b->device, 1, &b->fences[s]));
			b->submitted[s] = false;
		}
}

/* Renders CHECK_FRAME alone, copies it to host memory and hashes it. */
static uint64_t checksum(struct bench *b)
{
	drain(b);
	frame_submit(b, 0, CHECK_FRAME);
	drain(b);
	VkDeviceSize bytes = (VkDeviceSize)b->extent.width * b->extent.height * 4;
	VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = bytes,
				 .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
	VkBuffer buf;
	VK_CHECK(vkCreateBuffer(b->device, &bi, NULL, &buf));
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(b->device, buf, &req);
	VkDeviceMemory mem = allocate(b, req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	VK_CHECK(vkBindBufferMemory(b->device, buf, mem, 0));
	VkCommandBuffer cb = b->cbs[0];
	VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
					  .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
	VK_CHECK(vkResetCommandBuffer(cb, 0));
	VK_CHECK(vkBeginCommandBuffer(cb, &begin));
	VkImageMemoryBarrier to_src = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
		.oldLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		.newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = b->target,
		.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
	};
	vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
			     NULL, 0, NULL, 1, &to_src);
	VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
				    .imageExtent = {b->extent.width, b->extent.height, 1}};
	vkCmdCopyImageToBuffer(cb, b->target, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf, 1, &region);
	VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
				   .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
	vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, NULL,
			     0, NULL);
	VK_CHECK(vkEndCommandBuffer(cb));
	VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
	VK_CHECK(vkQueueSubmit(b->queue, 1, &si, b->fences[0]));
	VK_CHECK(vkWaitForFences(b->device, 1, &b->fences[0], VK_TRUE, UINT64_MAX));
	VK_CHECK(vkResetFences(b->device, 1, &b->fences[0]));
	const uint8_t *p;
	VK_CHECK(vkMapMemory(b->device, mem, 0, VK_WHOLE_SIZE, 0, (void **)&p));
	uint64_t h = 0xcbf29ce484222325ull;
	for (VkDeviceSize i = 0; i < bytes; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	vkUnmapMemory(b->device, mem);
	vkDestroyBuffer(b->device, buf, NULL);
	vkFreeMemory(b->device, mem, NULL);
	return h;
}

static void usage(void)
{
	fprintf(stderr, "usage: tether_bench_scenes --scene gpu|api [--seconds S] [--iterations N] [--draws N] "
			"[--cache FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench b = {.scene = SCENE_API, .iterations = 256, .draws = 10000};
	double seconds = 5;
	const char *cache_path = NULL, *scene = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--scene") && i + 1 < argc)
			scene = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			b.iterations = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--draws") && i + 1 < argc)
			b.draws = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
			cache_path = argv[++i];
		else
			usage();
	}
	if (!scene || (strcmp(scene, "gpu") && strcmp(scene, "api")) || seconds <= 0 || !b.draws ||
	    b.draws > 1000000)
		usage();
	b.scene = !strcmp(scene, "gpu") ? SCENE_GPU : SCENE_API;
	b.extent = b.scene == SCENE_GPU ? (VkExtent2D){1920, 1080} : (VkExtent2D){1280, 720};

	/* Start-up: from vkCreateInstance to the first finished frame. */
	uint64_t t0 = bench_now_ns();
	bench_vk_init(&b.vk, VK_API_VERSION_1_3);
	b.family = bench_vk_queue_family(&b.vk, VK_QUEUE_GRAPHICS_BIT, VK_NULL_HANDLE);
	if (b.family == UINT32_MAX)
		die("no graphics queue");
	VkPhysicalDeviceVulkan13Features f13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
						.dynamicRendering = VK_TRUE};
	b.device = bench_vk_create_device(&b.vk, b.family, &f13, 0, NULL, &b.queue);
	b.pool = bench_vk_command_pool(b.device, b.family, FRAMES_IN_FLIGHT, b.cbs);
	VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	for (uint32_t s = 0; s < FRAMES_IN_FLIGHT; s++)
		VK_CHECK(vkCreateFence(b.device, &fi, NULL, &b.fences[s]));
	init_target(&b);
	init_cache(&b, cache_path);
	init_pipeline(&b);
	if (b.scene == SCENE_API)
		init_uniforms(&b);
	frame_submit(&b, 0, 0);
	drain(&b);
	double startup_ms = (double)(bench_now_ns() - t0) / 1e6;
	printf("result startup_to_first_frame_ms %.3f %.3f %.3f ms\n", startup_ms, startup_ms, startup_ms);

	/* Frames per second in 0.5 s windows, and the client thread's CPU. */
	static double fps[MAX_WINDOWS];
	size_t windows = 0;
	uint64_t frames = 0, start = bench_now_ns(), window_start = start, window_frames = 0;
	uint64_t cpu0 = bench_cpu_ns();
	uint32_t frame = 1;
	while (bench_now_ns() - start < (uint64_t)(seconds * 1e9) && windows < MAX_WINDOWS) {
		frame_submit(&b, frame % FRAMES_IN_FLIGHT, frame);
		frame++;
		frames++;
		window_frames++;
		uint64_t now = bench_now_ns();
		if (now - window_start >= WINDOW_NS && window_frames >= 2) {
			fps[windows++] = (double)window_frames * 1e9 / (double)(now - window_start);
			window_start = now;
			window_frames = 0;
		}
	}
	drain(&b);
	double cpu_ms = (double)(bench_cpu_ns() - cpu0) / 1e6 / (double)frames;
	if (!windows)
		die("the run was shorter than one window");
	struct bench_summary sfps = bench_summarize(fps, windows);
	printf("result fps %.3f %.3f %.3f fps\n", sfps.median, sfps.min, sfps.max);
	printf("result client_cpu_per_frame_ms %.4f %.4f %.4f ms\n", cpu_ms, cpu_ms, cpu_ms);
	printf("frames submitted: %llu\n", (unsigned long long)frames);
	printf("checksum: 0x%016llx\n", (unsigned long long)checksum(&b));
	if (cache_path)
		save_cache(&b, cache_path);

	if (b.scene == SCENE_API) {
		vkDestroyDescriptorPool(b.device, b.descriptor_pool, NULL);
		vkDestroyDescriptorSetLayout(b.device, b.set_layout, NULL);
		vkDestroyBuffer(b.device, b.uniforms, NULL);
		vkFreeMemory(b.device, b.uniform_memory, NULL);
		free(b.sets);
	}
	vkDestroyPipeline(b.device, b.pipeline, NULL);
	vkDestroyPipelineLayout(b.device, b.layout, NULL);
	vkDestroyPipelineCache(b.device, b.cache, NULL);
	vkDestroyImageView(b.device, b.view, NULL);
	vkDestroyImage(b.device, b.target, NULL);
	vkFreeMemory(b.device, b.target_memory, NULL);
	for (uint32_t s = 0; s < FRAMES_IN_FLIGHT; s++)
		vkDestroyFence(b.device, b.fences[s], NULL);
	vkDestroyCommandPool(b.device, b.pool, NULL);
	vkDestroyDevice(b.device, NULL);
	vkDestroyInstance(b.vk.instance, NULL);
	return 0;
}
