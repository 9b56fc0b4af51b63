/* vkapp: the small shared helper of tether's Vulkan test programs (tests/apps/).
 * The programs are ordinary Vulkan 1.3 applications built against the Khronos
 * loader only, so the same binary runs on a native driver and through tether;
 * this helper keeps each of them short. Every failure exits the process. */
#ifndef TETHER_TESTS_VKAPP_H
#define TETHER_TESTS_VKAPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <vulkan/vulkan.h>

/* Checks a VkResult that must be VK_SUCCESS; exits with file:line otherwise. */
#define VK_CHECK(expr) vkapp_check((expr), #expr, __FILE__, __LINE__)

/* Checks a VkResult against an expected (possibly non-success) status code. */
#define VK_EXPECT(expr, want) vkapp_expect((expr), (want), #expr, __FILE__, __LINE__)

/* Self-check: exits with a message when cond is false. */
#define APP_CHECK(cond, ...) \
    do { \
        if (!(cond)) \
            vkapp_fail(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

struct vkapp {
    VkInstance instance;
    VkPhysicalDevice physical_device;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    VkQueueFamilyProperties queue_family_props;
    uint32_t queue_family;
    VkDevice device;
    VkQueue queue;
    VkCommandPool command_pool;
    VkPipelineCache pipeline_cache;
    /* Optional features enabled when the device has them. */
    bool pipeline_statistics;
};

struct vkapp_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint32_t memory_type;
    VkMemoryPropertyFlags memory_flags;
    void *map; /* non-NULL when created with VKAPP_MAP */
};

struct vkapp_pipeline {
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
};

/* Flag for vkapp_buffer_create(): map the whole allocation persistently. */
#define VKAPP_MAP 0x1u

void vkapp_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void vkapp_check(VkResult result, const char *expr, const char *file, int line);
void vkapp_expect(VkResult result, VkResult want, const char *expr, const char *file,
                  int line);
const char *vkapp_result_name(VkResult result);

/**
 * vkapp_instance_init() - instance and physical device, no device yet.
 * @app:  state to fill (zeroed first)
 * @name: application name for VkApplicationInfo
 *
 * Requires a Vulkan 1.3 loader and device, picks physical device
 * TETHER_TEST_DEVICE (an index) or the first one, fills props and mem_props and
 * prints "device: <deviceName>" on stdout. Follow with vkapp_device_create().
 */
void vkapp_instance_init(struct vkapp *app, const char *name);

/* Whether the physical device offers the device extension @name. */
bool vkapp_has_extension(const struct vkapp *app, const char *name);

/**
 * struct vkapp_device_options - what vkapp_device_create() enables.
 * @queue_flags:     flags the (first matching) queue family must all have
 * @features:        VkPhysicalDeviceFeatures2 chain to enable, already checked
 *                   against the device by the caller (pNext of the create info)
 * @extensions:      device extensions to enable
 * @extension_count: number of @extensions
 * @get_queue2:      fetch the queue with vkGetDeviceQueue2 rather than
 *                   vkGetDeviceQueue (vkapp_init()'s programs use the former,
 *                   the others the latter, so a driver sees both)
 */
struct vkapp_device_options {
    VkQueueFlags queue_flags;
    const VkPhysicalDeviceFeatures2 *features;
    const char *const *extensions;
    uint32_t extension_count;
    bool get_queue2;
};

/**
 * vkapp_device_create() - device, its one queue, command pool and pipeline cache.
 * Sets pipeline_statistics when @opt->features enables pipelineStatisticsQuery.
 */
void vkapp_device_create(struct vkapp *app, const struct vkapp_device_options *opt);

/**
 * vkapp_init() - the compute programs' set-up: vkapp_instance_init() and
 * vkapp_device_create() with a compute queue.
 * @app:  state to fill
 * @name: application name for VkApplicationInfo
 *
 * Enables timelineSemaphore, hostQueryReset, synchronization2 and maintenance4
 * (all mandatory in 1.3) and pipelineStatisticsQuery when present.
 */
void vkapp_init(struct vkapp *app, const char *name);
void vkapp_destroy(struct vkapp *app);

/**
 * vkapp_find_memory_type() - pick a memory type.
 * @type_bits: VkMemoryRequirements::memoryTypeBits
 * @required:  property flags the type must have
 * @preferred: extra flags to prefer when a type with them exists
 *
 * Return: the type index; exits when no type has @required.
 */
uint32_t vkapp_find_memory_type(const struct vkapp *app, uint32_t type_bits,
                                VkMemoryPropertyFlags required,
                                VkMemoryPropertyFlags preferred);

void vkapp_buffer_create(struct vkapp *app, VkDeviceSize size, VkBufferUsageFlags usage,
                         VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred,
                         unsigned flags, struct vkapp_buffer *out);
void vkapp_buffer_destroy(struct vkapp *app, struct vkapp_buffer *buf);

/**
 * vkapp_pipeline_create() - compute pipeline from a SPIR-V file.
 * @spv_path:     SPIR-V module path (entry point "main")
 * @num_buffers:  storage buffers at bindings 0..num_buffers-1 of set 0
 * @push_size:    push-constant bytes (compute stage), 0 for none
 *
 * Uses the app's pipeline cache.
 */
void vkapp_pipeline_create(struct vkapp *app, const char *spv_path, uint32_t num_buffers,
                           uint32_t push_size, struct vkapp_pipeline *out);
void vkapp_pipeline_destroy(struct vkapp *app, struct vkapp_pipeline *pl);

/* Shader module from the SPIR-V file @path. */
VkShaderModule vkapp_shader_module(struct vkapp *app, const char *path);

/* Descriptor pool sized for max_sets sets of up to max_buffers storage buffers. */
VkDescriptorPool vkapp_descriptor_pool_create(struct vkapp *app, uint32_t max_sets,
                                              uint32_t max_buffers);

/* Allocates one set of @layout and points bindings 0..n-1 at whole buffers. */
VkDescriptorSet vkapp_descriptor_set_create(struct vkapp *app, VkDescriptorPool pool,
                                            VkDescriptorSetLayout layout,
                                            const struct vkapp_buffer *const *buffers,
                                            uint32_t n);

/* Allocates a primary command buffer and begins it with ONE_TIME_SUBMIT. */
VkCommandBuffer vkapp_begin(struct vkapp *app);

/* Ends @cmd, submits it with a fresh fence, waits (10 s limit), frees both. */
void vkapp_submit_wait(struct vkapp *app, VkCommandBuffer cmd);

/* Global memory barrier (vkCmdPipelineBarrier, synchronization 1). */
void vkapp_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                   VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                   VkAccessFlags dst_access);

/* One synchronization2 barrier on the whole of @buffer. */
void vkapp_buffer_barrier2(VkCommandBuffer cmd, VkBuffer buffer, VkPipelineStageFlags2 src_stage,
                           VkAccessFlags2 src_access, VkPipelineStageFlags2 dst_stage,
                           VkAccessFlags2 dst_access);

/* Reads the pipeline cache back, re-creates and merges it (exercises the API). */
void vkapp_pipeline_cache_roundtrip(struct vkapp *app);

/* Result file: open (truncate), append chunks, close; all exit on I/O failure. */
struct vkapp_output;
struct vkapp_output *vkapp_output_open(const char *path);
void vkapp_output_write(struct vkapp_output *out, const void *data, size_t size);
void vkapp_output_close(struct vkapp_output *out);

/* Monotonic time in seconds, for the programs' own timing line. */
double vkapp_now(void);

#endif
