/* render_subpass_dependencies: a render pass with two subpasses joined by an
 * explicit VkSubpassDependency (colour attachment write -> input attachment
 * read, BY_REGION). Subpass 0 alpha-blends overlapping translucent quads into
 * attachment 0; subpass 1 reads it as an input attachment and writes a
 * transformed copy to attachment 1. argv[1] gets attachment 0 then 1 (RGBA8). */
#include "render_util.h"

#include <string.h>

#define W 256
#define H 256
#define FORMAT VK_FORMAT_R8G8B8A8_UNORM

struct push {
    float color[4];
    float rect[4];
    float depth;
    uint32_t mode; /* 0: triangle list, see render_push.vert */
};

/* Translucent quads in drawing order (NDC rectangles, y down). */
static const struct push quads[] = {
    { { 1.0f, 0.0f, 0.0f, 0.5f }, { -0.8f, -0.8f, 0.3f, 0.3f }, 0.5f, 0 },
    { { 0.0f, 1.0f, 0.0f, 0.5f }, { -0.3f, -0.8f, 0.8f, 0.3f }, 0.5f, 0 },
    { { 0.0f, 0.0f, 1.0f, 0.75f }, { -0.55f, -0.3f, 0.55f, 0.8f }, 0.5f, 0 },
    { { 1.0f, 1.0f, 1.0f, 0.25f }, { -1.0f, 0.6f, 1.0f, 1.0f }, 0.5f, 0 },
};

static VkRenderPass create_render_pass(struct vkapp *app)
{
    VkAttachmentDescription att[2];
    for (int i = 0; i < 2; i++) {
        att[i] = (VkAttachmentDescription){
            .format = FORMAT,
            .samples = VK_SAMPLE_COUNT_1_BIT,
            .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
            .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
            .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
            .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
            .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
            .finalLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
        };
    }
    VkAttachmentReference scene_out = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
    VkAttachmentReference scene_in = { 0, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
    VkAttachmentReference final_out = { 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
    VkSubpassDescription subpasses[2] = {
        { .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
          .colorAttachmentCount = 1, .pColorAttachments = &scene_out },
        { .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
          .inputAttachmentCount = 1, .pInputAttachments = &scene_in,
          .colorAttachmentCount = 1, .pColorAttachments = &final_out },
    };
    const VkPipelineStageFlags color_out = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    const VkAccessFlags color_rw =
        VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    VkSubpassDependency deps[] = {
        /* Nothing earlier uses the images; orders the initial layout
         * transitions before the attachment (blend) reads and writes. */
        { VK_SUBPASS_EXTERNAL, 0, color_out, color_out, 0, color_rw, 0 },
        { VK_SUBPASS_EXTERNAL, 1, color_out, color_out, 0, color_rw, 0 },
        /* The dependency under test: each pixel written by subpass 0 is read
         * at the same pixel by subpass 1 (subpassLoad), so BY_REGION suffices. */
        { 0, 1, color_out, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_INPUT_ATTACHMENT_READ_BIT,
          VK_DEPENDENCY_BY_REGION_BIT },
        /* Both attachments are copied to the read-back buffer afterwards. */
        { 0, VK_SUBPASS_EXTERNAL, color_out, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, 0 },
        { 1, VK_SUBPASS_EXTERNAL, color_out | VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
          VK_ACCESS_TRANSFER_READ_BIT, 0 },
    };
    VkRenderPassCreateInfo rpci = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
        .attachmentCount = 2,
        .pAttachments = att,
        .subpassCount = 2,
        .pSubpasses = subpasses,
        .dependencyCount = sizeof(deps) / sizeof(deps[0]),
        .pDependencies = deps,
    };
    VkRenderPass rp;
    VK_CHECK(vkCreateRenderPass(app->device, &rpci, NULL, &rp));
    return rp;
}

static VkDescriptorSetLayout create_input_set_layout(struct vkapp *app)
{
    VkDescriptorSetLayoutBinding b = {
        .binding = 0,
        .descriptorType = VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT,
        .descriptorCount = 1,
        .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT,
    };
    VkDescriptorSetLayoutCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 1,
        .pBindings = &b,
    };
    VkDescriptorSetLayout layout;
    VK_CHECK(vkCreateDescriptorSetLayout(app->device, &ci, NULL, &layout));
    return layout;
}

static VkDescriptorSet create_input_set(struct vkapp *app, VkDescriptorPool *pool,
                                        VkDescriptorSetLayout layout, VkImageView view)
{
    VkDescriptorPoolSize size = { VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, 1 };
    VkDescriptorPoolCreateInfo dpci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = 1,
        .poolSizeCount = 1,
        .pPoolSizes = &size,
    };
    VK_CHECK(vkCreateDescriptorPool(app->device, &dpci, NULL, pool));
    VkDescriptorSetAllocateInfo dsai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = *pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &layout,
    };
    VkDescriptorSet set;
    VK_CHECK(vkAllocateDescriptorSets(app->device, &dsai, &set));
    VkDescriptorImageInfo info = { VK_NULL_HANDLE, view,
                                   VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
    VkWriteDescriptorSet w = {
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = set,
        .dstBinding = 0,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT,
        .pImageInfo = &info,
    };
    vkUpdateDescriptorSets(app->device, 1, &w, 0, NULL);
    return set;
}

/* CPU model of the blend (src*a + dst*(1-a), alpha: src + dst*(1-a)) over
 * the clear colour, for the self-check. */
static void blend_expected(float nx, float ny, float out[4])
{
    float c[4] = { 0.0f, 0.0f, 0.0f, 1.0f };
    for (size_t i = 0; i < sizeof(quads) / sizeof(quads[0]); i++) {
        const struct push *q = &quads[i];
        if (nx < q->rect[0] || nx > q->rect[2] || ny < q->rect[1] || ny > q->rect[3])
            continue;
        float a = q->color[3];
        for (int k = 0; k < 3; k++)
            c[k] = q->color[k] * a + c[k] * (1.0f - a);
        c[3] = a + c[3] * (1.0f - a);
    }
    memcpy(out, c, sizeof(c));
}

static void check(const uint8_t *scene, const uint8_t *final)
{
    static const float probes[][2] = {
        { -0.6f, -0.6f }, { 0.0f, -0.6f }, { 0.6f, -0.6f }, { 0.0f, 0.0f }, { -0.4f, 0.1f },
        { 0.4f, 0.1f }, { 0.0f, 0.7f }, { -0.9f, 0.9f }, { 0.9f, -0.9f }, { 0.9f, 0.5f },
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        float nx = probes[i][0], ny = probes[i][1], c[4];
        uint32_t x = (uint32_t)((nx + 1.0f) * 0.5f * W), y = (uint32_t)((ny + 1.0f) * 0.5f * H);
        blend_expected(nx, ny, c);
        int s[4];
        for (int k = 0; k < 4; k++)
            s[k] = (int)(c[k] * 255.0f + 0.5f);
        render_expect_rgba8(scene, W, x, y, s[0], s[1], s[2], s[3], 2);
        if (x < W / 2)
            render_expect_rgba8(final, W, x, y, s[1], s[2], s[0], 255, 2);
        else
            render_expect_rgba8(final, W, x, y, 255 - s[0], 255 - s[1], 255 - s[2], 255, 2);
    }
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    render_init(&app, "render_subpass_dependencies", NULL);
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(app.physical_device, FORMAT, &fp);
    APP_CHECK(fp.optimalTilingFeatures & VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BLEND_BIT,
              "R8G8B8A8_UNORM does not blend");

    struct vkapp_buffer readback;
    render_readback_create(&app, 2 * W * H * 4, &readback);
    struct render_image scene, final;
    render_image_create(&app, FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT |
                            VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &scene);
    render_image_create(&app, FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &final);
    VkRenderPass rp = create_render_pass(&app);
    VkImageView views[2] = { scene.view, final.view };
    VkFramebufferCreateInfo fci = {
        .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
        .renderPass = rp,
        .attachmentCount = 2,
        .pAttachments = views,
        .width = W,
        .height = H,
        .layers = 1,
    };
    VkFramebuffer fb;
    VK_CHECK(vkCreateFramebuffer(app.device, &fci, NULL, &fb));

    VkPipelineLayout blend_layout = render_pipeline_layout(
        &app, VK_NULL_HANDLE, VK_SHADER_STAGE_VERTEX_BIT, sizeof(struct push));
    struct render_pipeline_desc d0 = {
        .vert = "render_push.vert", .frag = "render_color.frag", .layout = blend_layout,
        .render_pass = rp, .subpass = 0, .alpha_blend = true, .width = W, .height = H,
    };
    VkPipeline blend_pipeline = render_pipeline_create(&app, &d0);
    VkDescriptorSetLayout set_layout = create_input_set_layout(&app);
    VkPipelineLayout input_layout = render_pipeline_layout(&app, set_layout, 0, 0);
    struct render_pipeline_desc d1 = {
        .vert = "render_fullscreen.vert", .frag = "render_input.frag", .layout = input_layout,
        .render_pass = rp, .subpass = 1, .width = W, .height = H,
    };
    VkPipeline input_pipeline = render_pipeline_create(&app, &d1);
    VkDescriptorPool pool;
    VkDescriptorSet set = create_input_set(&app, &pool, set_layout, scene.view);

    VkCommandBuffer cmd = vkapp_begin(&app);
    VkClearValue clears[2] = {
        { .color = { { 0.0f, 0.0f, 0.0f, 1.0f } } },
        { .color = { { 1.0f, 0.0f, 1.0f, 1.0f } } }, /* fully overwritten by subpass 1 */
    };
    VkRenderPassBeginInfo rpbi = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
        .renderPass = rp,
        .framebuffer = fb,
        .renderArea = { { 0, 0 }, { W, H } },
        .clearValueCount = 2,
        .pClearValues = clears,
    };
    vkCmdBeginRenderPass(cmd, &rpbi, VK_SUBPASS_CONTENTS_INLINE);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, blend_pipeline);
    for (size_t i = 0; i < sizeof(quads) / sizeof(quads[0]); i++) {
        vkCmdPushConstants(cmd, blend_layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(quads[i]),
                           &quads[i]);
        vkCmdDraw(cmd, 6, 1, 0, 0);
    }
    vkCmdNextSubpass(cmd, VK_SUBPASS_CONTENTS_INLINE);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, input_pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, input_layout, 0, 1, &set, 0,
                            NULL);
    vkCmdDraw(cmd, 3, 1, 0, 0);
    vkCmdEndRenderPass(cmd);
    render_copy_to_buffer(cmd, &scene, 0, readback.buffer, 0);
    render_copy_to_buffer(cmd, &final, 0, readback.buffer, W * H * 4);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(&app, cmd);
    render_readback_invalidate(&app, &readback);
    check(readback.map, (const uint8_t *)readback.map + W * H * 4);

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, readback.map, 2 * W * H * 4);
    vkapp_output_close(out);

    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkDestroyPipeline(app.device, input_pipeline, NULL);
    vkDestroyPipeline(app.device, blend_pipeline, NULL);
    vkDestroyPipelineLayout(app.device, input_layout, NULL);
    vkDestroyPipelineLayout(app.device, blend_layout, NULL);
    vkDestroyDescriptorSetLayout(app.device, set_layout, NULL);
    vkDestroyFramebuffer(app.device, fb, NULL);
    vkDestroyRenderPass(app.device, rp, NULL);
    render_image_destroy(&app, &final);
    render_image_destroy(&app, &scene);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_destroy(&app);
    printf("render_subpass_dependencies: ok, 2 subpasses %ux%u, %.2f s\n", W, H,
           vkapp_now() - t0);
    return 0;
}
