/* render_depth_msaa: draws textured, depth-tested, overlapping quads and a
 * triangle from a vertex + index buffer into a 4x multisampled color + depth
 * render pass (VkRenderPass/VkFramebuffer, one subpass) that resolves to a
 * single-sample image, and writes the resolved RGBA8 image to argv[1].
 * The checkerboard texture goes through a staging buffer, vkCmdCopyBufferToImage,
 * a sampler and a combined image sampler descriptor. */
#include "render_util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define W 256
#define H 256
#define TEX 64
#define SAMPLES VK_SAMPLE_COUNT_4_BIT
#define COLOR_FORMAT VK_FORMAT_R8G8B8A8_UNORM
#define DEPTH_FORMAT VK_FORMAT_D32_SFLOAT

struct vertex {
    float pos[3];
    float uv[2];
    float tint[3];
};

/* Quad A (near, red tint) is drawn before quad B (far, green tint), so the
 * overlap shows A only when the depth test works; triangle C (blue) slopes
 * through depth and cuts into A. Vulkan NDC: y points down. */
static const struct vertex vertices[] = {
    { { -0.8f, -0.8f, 0.3f }, { 0, 0 }, { 1.0f, 0.25f, 0.25f } },
    { { 0.3f, -0.8f, 0.3f }, { 2, 0 }, { 1.0f, 0.25f, 0.25f } },
    { { 0.3f, 0.3f, 0.3f }, { 2, 2 }, { 1.0f, 0.25f, 0.25f } },
    { { -0.8f, 0.3f, 0.3f }, { 0, 2 }, { 1.0f, 0.25f, 0.25f } },
    { { -0.3f, -0.3f, 0.6f }, { 0, 0 }, { 0.25f, 1.0f, 0.25f } },
    { { 0.8f, -0.3f, 0.6f }, { 3, 0 }, { 0.25f, 1.0f, 0.25f } },
    { { 0.8f, 0.8f, 0.6f }, { 3, 3 }, { 0.25f, 1.0f, 0.25f } },
    { { -0.3f, 0.8f, 0.6f }, { 0, 3 }, { 0.25f, 1.0f, 0.25f } },
    { { -0.95f, 0.95f, 0.1f }, { 0, 1 }, { 0.25f, 0.25f, 1.0f } },
    { { -0.1f, 0.95f, 0.9f }, { 1, 1 }, { 0.25f, 0.25f, 1.0f } },
    { { -0.95f, 0.1f, 0.5f }, { 0, 0 }, { 0.25f, 0.25f, 1.0f } },
};
static const uint16_t indices[] = { 0, 1, 2, 2, 3, 0, 4, 5, 6, 6, 7, 4, 0, 1, 2 };

static const uint8_t checker_a[4] = { 255, 255, 255, 255 };
static const uint8_t checker_b[4] = { 128, 128, 128, 255 };

static void fill_checkerboard(uint8_t *texels)
{
    for (uint32_t y = 0; y < TEX; y++) {
        for (uint32_t x = 0; x < TEX; x++)
            memcpy(texels + (y * TEX + x) * 4, ((x / 8 + y / 8) & 1) ? checker_b : checker_a, 4);
    }
}

static VkRenderPass create_render_pass(struct vkapp *app)
{
    VkAttachmentDescription att[3] = {
        { .format = COLOR_FORMAT, .samples = SAMPLES,
          .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR, .storeOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
          .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
          .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
          .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
          .finalLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL },
        { .format = DEPTH_FORMAT, .samples = SAMPLES,
          .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR, .storeOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
          .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
          .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
          .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
          .finalLayout = VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL },
        { .format = COLOR_FORMAT, .samples = VK_SAMPLE_COUNT_1_BIT,
          .loadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE, .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
          .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
          .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
          .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
          .finalLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL },
    };
    VkAttachmentReference color_ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
    VkAttachmentReference depth_ref = { 1, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL };
    VkAttachmentReference resolve_ref = { 2, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
    VkSubpassDescription subpass = {
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
        .colorAttachmentCount = 1,
        .pColorAttachments = &color_ref,
        .pResolveAttachments = &resolve_ref,
        .pDepthStencilAttachment = &depth_ref,
    };
    const VkPipelineStageFlags attach_stages = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT |
                                               VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT |
                                               VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT;
    VkSubpassDependency deps[2] = {
        /* The UNDEFINED -> attachment layout transitions happen before the
         * first use; nothing earlier touched these images. */
        { .srcSubpass = VK_SUBPASS_EXTERNAL, .dstSubpass = 0,
          .srcStageMask = attach_stages, .dstStageMask = attach_stages,
          .srcAccessMask = 0,
          .dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT |
                           VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT },
        /* Resolve writes -> the copy to the read-back buffer. */
        { .srcSubpass = 0, .dstSubpass = VK_SUBPASS_EXTERNAL,
          .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
          .dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT,
          .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT },
    };
    VkRenderPassCreateInfo rpci = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
        .attachmentCount = 3,
        .pAttachments = att,
        .subpassCount = 1,
        .pSubpasses = &subpass,
        .dependencyCount = 2,
        .pDependencies = deps,
    };
    VkRenderPass rp;
    VK_CHECK(vkCreateRenderPass(app->device, &rpci, NULL, &rp));
    return rp;
}

static void upload_texture(VkCommandBuffer cmd, const struct render_image *tex,
                          const struct vkapp_buffer *staging)
{
    render_image_barrier(cmd, tex, 0, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                         0, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferImageCopy region = {
        .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
        .imageExtent = { TEX, TEX, 1 },
    };
    vkCmdCopyBufferToImage(cmd, staging->buffer, tex->image,
                           VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    render_image_barrier(cmd, tex, 0, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                         VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
}

static VkPipeline create_pipeline(struct vkapp *app, VkPipelineLayout layout, VkRenderPass rp)
{
    VkVertexInputBindingDescription binding = { 0, sizeof(struct vertex),
                                                VK_VERTEX_INPUT_RATE_VERTEX };
    VkVertexInputAttributeDescription attrs[3] = {
        { 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct vertex, pos) },
        { 1, 0, VK_FORMAT_R32G32_SFLOAT, offsetof(struct vertex, uv) },
        { 2, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct vertex, tint) },
    };
    VkPipelineVertexInputStateCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
        .vertexBindingDescriptionCount = 1,
        .pVertexBindingDescriptions = &binding,
        .vertexAttributeDescriptionCount = 3,
        .pVertexAttributeDescriptions = attrs,
    };
    struct render_pipeline_desc d = {
        .vert = "render_tex.vert",
        .frag = "render_tex.frag",
        .layout = layout,
        .render_pass = rp,
        .vertex_input = &vi,
        .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
        .cull_mode = VK_CULL_MODE_NONE,
        .depth_test = true,
        .depth_write = true,
        .depth_compare = VK_COMPARE_OP_LESS,
        .samples = SAMPLES,
        .width = W,
        .height = H,
    };
    return render_pipeline_create(app, &d);
}

/* Sampler, set layout, pool and one combined image sampler set for a texture. */
struct texture_binding {
    VkSampler sampler;
    VkDescriptorSetLayout set_layout;
    VkDescriptorPool pool;
    VkDescriptorSet set;
};

static void create_texture_binding(struct vkapp *app, const struct render_image *tex,
                                   struct texture_binding *tb)
{
    VkSamplerCreateInfo sci = {
        .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
        .magFilter = VK_FILTER_NEAREST,
        .minFilter = VK_FILTER_NEAREST,
        .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
        .addressModeU = VK_SAMPLER_ADDRESS_MODE_REPEAT,
        .addressModeV = VK_SAMPLER_ADDRESS_MODE_REPEAT,
        .addressModeW = VK_SAMPLER_ADDRESS_MODE_REPEAT,
        .maxLod = 0.0f,
    };
    VK_CHECK(vkCreateSampler(app->device, &sci, NULL, &tb->sampler));
    VkDescriptorSetLayoutBinding dslb = {
        .binding = 0,
        .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
        .descriptorCount = 1,
        .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT,
    };
    VkDescriptorSetLayoutCreateInfo dslci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 1,
        .pBindings = &dslb,
    };
    VK_CHECK(vkCreateDescriptorSetLayout(app->device, &dslci, NULL, &tb->set_layout));
    VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1 };
    VkDescriptorPoolCreateInfo dpci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = 1,
        .poolSizeCount = 1,
        .pPoolSizes = &pool_size,
    };
    VK_CHECK(vkCreateDescriptorPool(app->device, &dpci, NULL, &tb->pool));
    VkDescriptorSetAllocateInfo dsai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = tb->pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &tb->set_layout,
    };
    VK_CHECK(vkAllocateDescriptorSets(app->device, &dsai, &tb->set));
    VkDescriptorImageInfo dii = { tb->sampler, tex->view,
                                  VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
    VkWriteDescriptorSet wds = {
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = tb->set,
        .dstBinding = 0,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
        .pImageInfo = &dii,
    };
    vkUpdateDescriptorSets(app->device, 1, &wds, 0, NULL);
}

/* Interior pixels are fully covered, so the resolve gives the single-sample
 * value: one of the two checker colors times the tint of the nearest surface. */
static void expect_tinted(const uint8_t *px, uint32_t x, uint32_t y, const float tint[3])
{
    const uint8_t *p = px + ((size_t)y * W + x) * 4;
    const uint8_t *cand[2] = { checker_a, checker_b };
    for (int k = 0; k < 2; k++) {
        bool ok = p[3] == 255;
        for (int c = 0; c < 3; c++) {
            int want = (int)(cand[k][c] * tint[c] + 0.5f);
            ok = ok && abs((int)p[c] - want) <= 2;
        }
        if (ok)
            return;
    }
    APP_CHECK(false, "pixel (%u,%u) = (%u,%u,%u,%u) is not the checkerboard tinted (%.2f,%.2f,%.2f)",
              x, y, p[0], p[1], p[2], p[3], (double)tint[0], (double)tint[1], (double)tint[2]);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    render_init(&app, "render_depth_msaa", NULL);
    APP_CHECK(app.props.limits.framebufferColorSampleCounts & SAMPLES, "no 4x color MSAA");
    APP_CHECK(app.props.limits.framebufferDepthSampleCounts & SAMPLES, "no 4x depth MSAA");
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(app.physical_device, DEPTH_FORMAT, &fp);
    APP_CHECK(fp.optimalTilingFeatures & VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT,
              "D32_SFLOAT is not a depth attachment format");

    const VkMemoryPropertyFlags host =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    struct vkapp_buffer staging, geometry, readback;
    vkapp_buffer_create(&app, TEX * TEX * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, host, 0,
                        VKAPP_MAP, &staging);
    fill_checkerboard(staging.map);
    vkapp_buffer_create(&app, sizeof(vertices) + sizeof(indices),
                        VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
                        host, 0, VKAPP_MAP, &geometry);
    memcpy(geometry.map, vertices, sizeof(vertices));
    memcpy((uint8_t *)geometry.map + sizeof(vertices), indices, sizeof(indices));
    render_readback_create(&app, W * H * 4, &readback);

    struct render_image tex, color, depth, resolved;
    render_image_create(&app, COLOR_FORMAT, TEX, TEX, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT, &tex);
    render_image_create(&app, COLOR_FORMAT, W, H, 1, SAMPLES,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, &color);
    render_image_create(&app, DEPTH_FORMAT, W, H, 1, SAMPLES,
                        VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, &depth);
    render_image_create(&app, COLOR_FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &resolved);

    struct texture_binding tb;
    create_texture_binding(&app, &tex, &tb);

    VkRenderPass rp = create_render_pass(&app);
    VkImageView views[3] = { color.view, depth.view, resolved.view };
    VkFramebufferCreateInfo fci = {
        .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
        .renderPass = rp,
        .attachmentCount = 3,
        .pAttachments = views,
        .width = W,
        .height = H,
        .layers = 1,
    };
    VkFramebuffer fb;
    VK_CHECK(vkCreateFramebuffer(app.device, &fci, NULL, &fb));
    VkPipelineLayout layout = render_pipeline_layout(&app, tb.set_layout, 0, 0);
    VkPipeline pipeline = create_pipeline(&app, layout, rp);

    VkCommandBuffer cmd = vkapp_begin(&app);
    upload_texture(cmd, &tex, &staging);
    VkClearValue clears[3] = {
        { .color = { { 0.0f, 0.0f, 0.2f, 1.0f } } },
        { .depthStencil = { 1.0f, 0 } },
        { .color = { { 0.0f, 0.0f, 0.0f, 0.0f } } },
    };
    VkRenderPassBeginInfo rpbi = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
        .renderPass = rp,
        .framebuffer = fb,
        .renderArea = { { 0, 0 }, { W, H } },
        .clearValueCount = 3,
        .pClearValues = clears,
    };
    vkCmdBeginRenderPass(cmd, &rpbi, VK_SUBPASS_CONTENTS_INLINE);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, layout, 0, 1, &tb.set, 0, NULL);
    VkDeviceSize vb_offset = 0;
    vkCmdBindVertexBuffers(cmd, 0, 1, &geometry.buffer, &vb_offset);
    vkCmdBindIndexBuffer(cmd, geometry.buffer, sizeof(vertices), VK_INDEX_TYPE_UINT16);
    vkCmdDrawIndexed(cmd, 12, 1, 0, 0, 0);
    /* Triangle C reuses indices 0..2 with vertexOffset 8. */
    vkCmdDrawIndexed(cmd, 3, 1, 12, 8, 0);
    vkCmdEndRenderPass(cmd);
    render_copy_to_buffer(cmd, &resolved, 0, readback.buffer, 0);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(&app, cmd);
    render_readback_invalidate(&app, &readback);

    const uint8_t *px = readback.map;
    render_expect_rgba8(px, W, 250, 5, 0, 0, 51, 255, 1); /* clear color */
    expect_tinted(px, 50, 50, vertices[0].tint);          /* A only */
    expect_tinted(px, 128, 128, vertices[0].tint);        /* A over B: depth test */
    expect_tinted(px, 200, 200, vertices[4].tint);        /* B only */
    expect_tinted(px, 15, 240, vertices[8].tint);         /* C, near corner */

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, px, W * H * 4);
    vkapp_output_close(out);

    vkDestroyPipeline(app.device, pipeline, NULL);
    vkDestroyPipelineLayout(app.device, layout, NULL);
    vkDestroyFramebuffer(app.device, fb, NULL);
    vkDestroyRenderPass(app.device, rp, NULL);
    vkDestroyDescriptorPool(app.device, tb.pool, NULL);
    vkDestroyDescriptorSetLayout(app.device, tb.set_layout, NULL);
    vkDestroySampler(app.device, tb.sampler, NULL);
    render_image_destroy(&app, &resolved);
    render_image_destroy(&app, &depth);
    render_image_destroy(&app, &color);
    render_image_destroy(&app, &tex);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_buffer_destroy(&app, &geometry);
    vkapp_buffer_destroy(&app, &staging);
    vkapp_destroy(&app);
    printf("render_depth_msaa: ok, %ux%u 4x MSAA, %.2f s\n", W, H, vkapp_now() - t0);
    return 0;
}
