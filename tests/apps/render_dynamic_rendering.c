/* render_dynamic_rendering: vkCmdBeginRendering (Vulkan 1.3) with a color and
 * a depth attachment; one pipeline whose viewport, scissor, cull mode, front
 * face, primitive topology and depth test/write/compare are all dynamic
 * state, and rectangles described only by push constants. Each 128x128
 * quadrant tests one thing (culling, topology, depth on, depth off + scissor).
 * argv[1] gets the RGBA8 color image, then the D32_SFLOAT depth image. */
#include "render_util.h"

#include <string.h>

#define W 256
#define H 256
#define Q 128 /* quadrant size */
#define COLOR_FORMAT VK_FORMAT_R8G8B8A8_UNORM
#define DEPTH_FORMAT VK_FORMAT_D32_SFLOAT

enum winding { LIST_CW = 0, LIST_CCW = 1, STRIP_CW = 2 };

struct push {
    float color[4];
    float rect[4];
    float depth;
    uint32_t mode;
};

static const float red[4] = { 1, 0, 0, 1 }, green[4] = { 0, 1, 0, 1 }, blue[4] = { 0, 0, 1, 1 },
                   orange[4] = { 1, 0.5f, 0, 1 }, yellow[4] = { 1, 1, 0, 1 },
                   cyan[4] = { 0, 1, 1, 1 }, magenta[4] = { 1, 0, 1, 1 },
                   white[4] = { 1, 1, 1, 1 }, gray[4] = { 0.5f, 0.5f, 0.5f, 1 };

static void set_quadrant(VkCommandBuffer cmd, uint32_t qx, uint32_t qy)
{
    VkViewport vp = { (float)(qx * Q), (float)(qy * Q), Q, Q, 0.0f, 1.0f };
    VkRect2D sc = { { (int32_t)(qx * Q), (int32_t)(qy * Q) }, { Q, Q } };
    vkCmdSetViewport(cmd, 0, 1, &vp);
    vkCmdSetScissor(cmd, 0, 1, &sc);
}

static void rect(VkCommandBuffer cmd, VkPipelineLayout layout, const float color[4], float x0,
                 float y0, float x1, float y1, float depth, enum winding mode)
{
    struct push p = { .rect = { x0, y0, x1, y1 }, .depth = depth, .mode = mode };
    memcpy(p.color, color, sizeof(p.color));
    vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(p), &p);
    vkCmdDraw(cmd, mode == STRIP_CW ? 4 : 6, 1, 0, 0);
}

static void draw_scene(VkCommandBuffer cmd, VkPipelineLayout layout)
{
    const VkPrimitiveTopology list = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
    vkCmdSetPrimitiveTopology(cmd, list);
    vkCmdSetDepthTestEnable(cmd, VK_FALSE);
    vkCmdSetDepthWriteEnable(cmd, VK_FALSE);
    vkCmdSetDepthCompareOp(cmd, VK_COMPARE_OP_LESS);

    /* Top left: culling. With CW triangles back-facing under
     * VK_FRONT_FACE_COUNTER_CLOCKWISE, red and orange are culled. */
    set_quadrant(cmd, 0, 0);
    vkCmdSetCullMode(cmd, VK_CULL_MODE_BACK_BIT);
    vkCmdSetFrontFace(cmd, VK_FRONT_FACE_COUNTER_CLOCKWISE);
    rect(cmd, layout, red, -0.9f, -0.9f, -0.1f, -0.1f, 0.5f, LIST_CW);
    rect(cmd, layout, green, 0.1f, -0.9f, 0.9f, -0.1f, 0.5f, LIST_CCW);
    vkCmdSetFrontFace(cmd, VK_FRONT_FACE_CLOCKWISE);
    rect(cmd, layout, blue, -0.9f, 0.1f, -0.1f, 0.9f, 0.5f, LIST_CW);
    rect(cmd, layout, orange, 0.1f, 0.1f, 0.9f, 0.9f, 0.5f, LIST_CCW);

    /* Top right: the same pipeline draws strips and lists. */
    set_quadrant(cmd, 1, 0);
    vkCmdSetCullMode(cmd, VK_CULL_MODE_NONE);
    vkCmdSetPrimitiveTopology(cmd, VK_PRIMITIVE_TOPOLOGY_TRIANGLE_STRIP);
    rect(cmd, layout, yellow, -0.9f, -0.9f, -0.1f, 0.9f, 0.5f, STRIP_CW);
    vkCmdSetPrimitiveTopology(cmd, list);
    rect(cmd, layout, cyan, 0.1f, -0.9f, 0.9f, 0.9f, 0.5f, LIST_CW);

    /* Bottom left: depth test on, the far quad drawn last stays behind. */
    set_quadrant(cmd, 0, 1);
    vkCmdSetDepthTestEnable(cmd, VK_TRUE);
    vkCmdSetDepthWriteEnable(cmd, VK_TRUE);
    rect(cmd, layout, magenta, -0.8f, -0.8f, 0.4f, 0.4f, 0.2f, LIST_CW);
    rect(cmd, layout, white, -0.4f, -0.4f, 0.8f, 0.8f, 0.8f, LIST_CW);

    /* Bottom right: depth test off, the far quad covers the near one; the
     * gray background only reaches the top half (scissor). */
    set_quadrant(cmd, 1, 1);
    vkCmdSetDepthTestEnable(cmd, VK_FALSE);
    VkRect2D half = { { Q, Q }, { Q, Q / 2 } };
    vkCmdSetScissor(cmd, 0, 1, &half);
    rect(cmd, layout, gray, -1.0f, -1.0f, 1.0f, 1.0f, 0.9f, LIST_CW);
    set_quadrant(cmd, 1, 1);
    rect(cmd, layout, magenta, -0.8f, -0.8f, 0.4f, 0.4f, 0.2f, LIST_CW);
    rect(cmd, layout, white, -0.4f, -0.4f, 0.8f, 0.8f, 0.8f, LIST_CW);
}

static VkPipeline create_pipeline(struct vkapp *app, VkPipelineLayout layout)
{
    static const VkDynamicState dynamic[] = {
        VK_DYNAMIC_STATE_VIEWPORT,          VK_DYNAMIC_STATE_SCISSOR,
        VK_DYNAMIC_STATE_CULL_MODE,         VK_DYNAMIC_STATE_FRONT_FACE,
        VK_DYNAMIC_STATE_PRIMITIVE_TOPOLOGY, VK_DYNAMIC_STATE_DEPTH_TEST_ENABLE,
        VK_DYNAMIC_STATE_DEPTH_WRITE_ENABLE, VK_DYNAMIC_STATE_DEPTH_COMPARE_OP,
    };
    VkFormat color_format = COLOR_FORMAT;
    VkPipelineRenderingCreateInfo rci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
        .colorAttachmentCount = 1,
        .pColorAttachmentFormats = &color_format,
        .depthAttachmentFormat = DEPTH_FORMAT,
    };
    struct render_pipeline_desc d = {
        .vert = "render_push.vert",
        .frag = "render_color.frag",
        .layout = layout,
        .rendering = &rci,
        /* Dynamic topology must stay in this class (triangles) without
         * dynamicPrimitiveTopologyUnrestricted. */
        .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
        .depth_test = true,
        .depth_write = true,
        .width = W,
        .height = H,
        .dynamic = dynamic,
        .dynamic_count = sizeof(dynamic) / sizeof(dynamic[0]),
    };
    return render_pipeline_create(app, &d);
}

static void record(VkCommandBuffer cmd, VkPipeline pipeline, VkPipelineLayout layout,
                   const struct render_image *color, const struct render_image *depth,
                   const struct vkapp_buffer *readback)
{
    const VkPipelineStageFlags frag_tests = VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT |
                                            VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT;
    render_image_barrier(cmd, color, 0, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
    render_image_barrier(cmd, depth, 0, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, frag_tests,
                         VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_READ_BIT |
                             VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT);
    VkRenderingAttachmentInfo color_att = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
        .imageView = color->view,
        .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .clearValue = { .color = { { 0.1f, 0.1f, 0.1f, 1.0f } } },
    };
    VkRenderingAttachmentInfo depth_att = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
        .imageView = depth->view,
        .imageLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .clearValue = { .depthStencil = { 1.0f, 0 } },
    };
    VkRenderingInfo ri = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
        .renderArea = { { 0, 0 }, { W, H } },
        .layerCount = 1,
        .colorAttachmentCount = 1,
        .pColorAttachments = &color_att,
        .pDepthAttachment = &depth_att,
    };
    vkCmdBeginRendering(cmd, &ri);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
    draw_scene(cmd, layout);
    vkCmdEndRendering(cmd);

    render_image_barrier(cmd, color, 0, 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
    render_image_barrier(cmd, depth, 0, 1, VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, frag_tests,
                         VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    render_copy_to_buffer(cmd, color, 0, readback->buffer, 0);
    render_copy_to_buffer(cmd, depth, 0, readback->buffer, W * H * 4);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
}

/* Expected colour at NDC (nx, ny) of quadrant (qx, qy). */
static void expect_at(const uint8_t *px, uint32_t qx, uint32_t qy, float nx, float ny,
                      const float *color)
{
    uint32_t x = qx * Q + (uint32_t)((nx + 1.0f) * 0.5f * Q);
    uint32_t y = qy * Q + (uint32_t)((ny + 1.0f) * 0.5f * Q);
    int c[4];
    for (int i = 0; i < 4; i++)
        c[i] = color ? (int)(color[i] * 255.0f + 0.5f) : (i == 3 ? 255 : 26);
    render_expect_rgba8(px, W, x, y, c[0], c[1], c[2], c[3], 1);
}

static void check(const uint8_t *px, const float *depth)
{
    expect_at(px, 0, 0, -0.5f, -0.5f, NULL); /* red culled */
    expect_at(px, 0, 0, 0.5f, -0.5f, green);
    expect_at(px, 0, 0, -0.5f, 0.5f, blue);
    expect_at(px, 0, 0, 0.5f, 0.5f, NULL); /* orange culled */
    expect_at(px, 1, 0, -0.5f, 0.0f, yellow);
    expect_at(px, 1, 0, 0.5f, 0.0f, cyan);
    expect_at(px, 0, 1, 0.0f, 0.0f, magenta); /* depth test keeps near */
    expect_at(px, 0, 1, 0.6f, 0.6f, white);
    expect_at(px, 1, 1, 0.0f, 0.0f, white); /* no depth test: last wins */
    expect_at(px, 1, 1, -0.95f, -0.95f, gray);
    expect_at(px, 1, 1, -0.95f, 0.95f, NULL); /* scissored away */
    /* Depth: written only in the bottom-left quadrant. */
    APP_CHECK(depth[(Q + Q / 2) * W + Q / 2] == 0.2f, "depth at overlap %f",
              (double)depth[(Q + Q / 2) * W + Q / 2]);
    APP_CHECK(depth[(Q + Q / 2) * W + Q + Q / 2] == 1.0f, "depth without depth writes %f",
              (double)depth[(Q + Q / 2) * W + Q + Q / 2]);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    render_init(&app, "render_dynamic_rendering", NULL);
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(app.physical_device, DEPTH_FORMAT, &fp);
    APP_CHECK((fp.optimalTilingFeatures & (VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT |
                                           VK_FORMAT_FEATURE_TRANSFER_SRC_BIT)) ==
                  (VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT |
                   VK_FORMAT_FEATURE_TRANSFER_SRC_BIT),
              "D32_SFLOAT cannot be a depth attachment and copied out");

    struct vkapp_buffer readback;
    render_readback_create(&app, W * H * 8, &readback);
    struct render_image color, depth;
    render_image_create(&app, COLOR_FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &color);
    render_image_create(&app, DEPTH_FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT |
                            VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &depth);
    VkPipelineLayout layout =
        render_pipeline_layout(&app, VK_NULL_HANDLE, VK_SHADER_STAGE_VERTEX_BIT,
                               sizeof(struct push));
    VkPipeline pipeline = create_pipeline(&app, layout);

    VkCommandBuffer cmd = vkapp_begin(&app);
    record(cmd, pipeline, layout, &color, &depth, &readback);
    vkapp_submit_wait(&app, cmd);
    render_readback_invalidate(&app, &readback);
    check(readback.map, (const float *)((const uint8_t *)readback.map + W * H * 4));

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, readback.map, W * H * 8);
    vkapp_output_close(out);

    vkDestroyPipeline(app.device, pipeline, NULL);
    vkDestroyPipelineLayout(app.device, layout, NULL);
    render_image_destroy(&app, &depth);
    render_image_destroy(&app, &color);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_destroy(&app);
    printf("render_dynamic_rendering: ok, %ux%u color + depth, %.2f s\n", W, H,
           vkapp_now() - t0);
    return 0;
}
