/*
 * What the Vulkan benchmark programs share: error checks that end the
 * program with its name, the instance and the physical device picked by
 * TETHER_BENCH_DEVICE (printing the "device:" and "driver:" lines that
 * run_bench.py reads), memory type lookup, the device with its one queue and
 * command pool, and the simple graphics pipeline they draw with.
 */
#ifndef TETHER_BENCH_VK_H
#define TETHER_BENCH_VK_H

#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

/* The program's name, for messages (set by each program). */
extern const char *bench_name;

#define VK_CHECK(expr) bench_vk_check((expr), #expr, __LINE__)

void bench_vk_check(VkResult r, const char *expr, int line);
_Noreturn void die(const char *what);

struct bench_vk {
	VkInstance instance;
	VkPhysicalDevice physical;
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceMemoryProperties mem;
};

/**
 * bench_vk_init() - create the instance with @api_version and pick the
 * physical device (TETHER_BENCH_DEVICE, default 0); ends the program on error
 */
void bench_vk_init(struct bench_vk *vk, uint32_t api_version);

/**
 * bench_vk_init_extensions() - bench_vk_init() with the @count instance
 * extensions @names enabled (a surface, for one)
 */
void bench_vk_init_extensions(struct bench_vk *vk, uint32_t api_version, uint32_t count,
			      const char *const *names);

/* The first memory type in @bits with all of @want, or UINT32_MAX. */
uint32_t bench_vk_memory_type(const struct bench_vk *vk, uint32_t bits, VkMemoryPropertyFlags want);

/**
 * bench_vk_queue_family() - the first queue family with all of @flags that
 * can also present to @surface (VK_NULL_HANDLE: no surface to present to),
 * or UINT32_MAX when there is none
 */
uint32_t bench_vk_queue_family(const struct bench_vk *vk, VkQueueFlags flags, VkSurfaceKHR surface);

/**
 * bench_vk_create_device() - create a device with one queue of @family, @next
 * chained to its VkDeviceCreateInfo and the @count device extensions @names
 * enabled; returns it, and its queue in @queue; ends the program on error
 */
VkDevice bench_vk_create_device(const struct bench_vk *vk, uint32_t family, const void *next, uint32_t count,
				const char *const *names, VkQueue *queue);

/**
 * bench_vk_command_pool() - create a command pool for @family whose buffers
 * are reset one by one, and allocate @count primary command buffers from it
 * into @cbs; returns the pool
 */
VkCommandPool bench_vk_command_pool(VkDevice device, uint32_t family, uint32_t count, VkCommandBuffer *cbs);

/* A shader module holding the @size bytes of SPIR-V at @code. */
VkShaderModule bench_vk_shader(VkDevice device, const uint32_t *code, size_t size);

/*
 * What differs between the programs' graphics pipelines. The rest is the
 * same for all: a vertex and a fragment shader with entry point "main",
 * triangle lists, one viewport and scissor covering @extent, filled polygons
 * without culling, one sample, one color attachment written without blending.
 */
struct bench_vk_pipeline_info {
	VkShaderModule vert, frag;
	const VkSpecializationInfo *spec; /* for both stages; NULL: none */
	const VkPipelineVertexInputStateCreateInfo *vertex_input; /* NULL: no vertex buffers */
	VkExtent2D extent;
	VkPipelineLayout layout;
	VkRenderPass render_pass; /* subpass 0; VK_NULL_HANDLE: dynamic rendering */
	VkFormat color_format;    /* the color attachment's, with dynamic rendering */
	VkPipelineCache cache;    /* VK_NULL_HANDLE: none */
};

/**
 * bench_vk_graphics_pipeline() - create the graphics pipeline @info
 * describes; ends the program on error
 */
VkPipeline bench_vk_graphics_pipeline(VkDevice device, const struct bench_vk_pipeline_info *info);

#endif
