/* render_util: shared set-up of tether's offscreen rendering test programs
 * (tests/apps/render_*.c). Builds on vkapp (buffers, command buffers, output
 * file) and adds a graphics device, images, barriers, graphics pipelines and
 * image read-back. Plain Vulkan 1.3 through the loader; every failure exits. */
#ifndef TETHER_TESTS_RENDER_UTIL_H
#define TETHER_TESTS_RENDER_UTIL_H

#include "vkapp.h"

/* Optional features render_init() enabled because the device has them. */
struct render_caps {
    bool multi_draw_indirect;
    bool draw_indirect_first_instance;
    bool draw_indirect_count;
};

struct render_image {
    VkImage image;
    VkDeviceMemory memory;
    VkImageView view; /* 2D view of every mip level */
    VkFormat format;
    VkImageAspectFlags aspect;
    uint32_t width, height, mip_levels;
    VkSampleCountFlagBits samples;
};

/**
 * struct render_pipeline_desc - what render_pipeline_create() builds.
 * Zero means the usual default: one color attachment, no blending, no depth,
 * triangle list (so point lists are not available), no culling, counter-clockwise front faces, one sample,
 * static viewport and scissor covering @width x @height.
 */
struct render_pipeline_desc {
    const char *vert, *frag; /* SPIR-V names under TETHER_SHADER_DIR, e.g. "x.vert" */
    VkPipelineLayout layout;
    VkRenderPass render_pass; /* VK_NULL_HANDLE: dynamic rendering, see @rendering */
    uint32_t subpass;
    const VkPipelineRenderingCreateInfo *rendering;
    const VkPipelineVertexInputStateCreateInfo *vertex_input; /* NULL: no inputs */
    VkPrimitiveTopology topology;
    VkCullModeFlags cull_mode;
    VkFrontFace front_face;
    bool depth_test, depth_write;
    VkCompareOp depth_compare; /* with @depth_test; 0 (NEVER) means LESS */
    bool alpha_blend;          /* src*a + dst*(1-a) on every color attachment */
    uint32_t color_count;      /* 0 means 1 */
    VkSampleCountFlagBits samples;
    uint32_t width, height;
    const VkDynamicState *dynamic;
    uint32_t dynamic_count;
};

/**
 * render_init() - create instance, device with a graphics queue, pool, cache.
 * @app:  zero-initialised vkapp state to fill (vkapp_destroy() tears it down)
 * @name: application name
 * @caps: optional features found and enabled (may be NULL)
 *
 * Enables dynamicRendering, synchronization2 and maintenance4 (1.3 core) and,
 * when supported, multiDrawIndirect, drawIndirectFirstInstance and
 * drawIndirectCount. Prints "device: <deviceName>".
 */
void render_init(struct vkapp *app, const char *name, struct render_caps *caps);

/* Loads TETHER_SHADER_DIR/<name>.spv. */
VkShaderModule render_shader(struct vkapp *app, const char *name);

/**
 * render_image_create() - device-local 2D image with memory and a view.
 * The aspect follows the format (depth formats get DEPTH).
 */
void render_image_create(struct vkapp *app, VkFormat format, uint32_t width,
                         uint32_t height, uint32_t mip_levels, VkSampleCountFlagBits samples,
                         VkImageUsageFlags usage, struct render_image *out);
void render_image_destroy(struct vkapp *app, struct render_image *img);

/* Layout transition / memory dependency on mip levels [base, base+count). */
void render_image_barrier(VkCommandBuffer cmd, const struct render_image *img,
                          uint32_t base_mip, uint32_t mip_count, VkImageLayout old_layout,
                          VkImageLayout new_layout, VkPipelineStageFlags src_stage,
                          VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                          VkAccessFlags dst_access);

/* Copies mip level @mip (in TRANSFER_SRC_OPTIMAL) tightly packed to @dst at @offset. */
void render_copy_to_buffer(VkCommandBuffer cmd, const struct render_image *img, uint32_t mip,
                           VkBuffer dst, VkDeviceSize offset);

/* Host-visible, mapped transfer-destination buffer for read-back. */
void render_readback_create(struct vkapp *app, VkDeviceSize size, struct vkapp_buffer *out);

/* Makes device writes to a mapped buffer visible to the host (after the fence). */
void render_readback_invalidate(struct vkapp *app, const struct vkapp_buffer *buf);

/* Pipeline layout with one optional set layout and one optional push range. */
VkPipelineLayout render_pipeline_layout(struct vkapp *app, VkDescriptorSetLayout set_layout,
                                        VkShaderStageFlags push_stages, uint32_t push_size);

VkPipeline render_pipeline_create(struct vkapp *app, const struct render_pipeline_desc *d);

/**
 * render_expect_rgba8() - self-check one pixel of a tightly packed RGBA8 image.
 * @tol: allowed difference per channel
 */
#define render_expect_rgba8(px, width, x, y, r, g, b, a, tol) \
    render_expect_rgba8_at((px), (width), (x), (y), (r), (g), (b), (a), (tol), __FILE__, \
                           __LINE__)
void render_expect_rgba8_at(const uint8_t *px, uint32_t width, uint32_t x, uint32_t y,
                            int r, int g, int b, int a, int tol, const char *file, int line);

#endif
