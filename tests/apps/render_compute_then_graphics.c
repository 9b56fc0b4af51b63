/* render_compute_then_graphics: a compute shader writes a storage buffer of
 * vertices (a grid of quads), a synchronization2 buffer barrier makes the
 * writes visible to vertex attribute fetch, and a graphics pass draws that
 * buffer as its vertex buffer. Done twice in one command buffer with
 * different wave phases (the second dispatch overwrites the buffer after the
 * first draw read it: a write-after-read barrier) into the left and right
 * halves of a 256x256 RGBA8 image. argv[1] gets the image, then the vertex
 * buffer as the second dispatch left it. */
#include "render_util.h"

#include <stdlib.h>

#define W 256
#define H 256
#define GRID 16
#define NUM_VERTICES (GRID * GRID * 6)
#define VERTEX_BYTES 32 /* vec4 pos, vec4 color (std430) */
#define FORMAT VK_FORMAT_R8G8B8A8_UNORM

struct wave_push {
    float phase;
    uint32_t grid;
};

static VkPipeline create_draw_pipeline(struct vkapp *app, VkPipelineLayout layout)
{
    VkVertexInputBindingDescription binding = { 0, VERTEX_BYTES, VK_VERTEX_INPUT_RATE_VERTEX };
    VkVertexInputAttributeDescription attrs[2] = {
        { 0, 0, VK_FORMAT_R32G32B32A32_SFLOAT, 0 },
        { 1, 0, VK_FORMAT_R32G32B32A32_SFLOAT, 16 },
    };
    VkPipelineVertexInputStateCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
        .vertexBindingDescriptionCount = 1,
        .pVertexBindingDescriptions = &binding,
        .vertexAttributeDescriptionCount = 2,
        .pVertexAttributeDescriptions = attrs,
    };
    static const VkDynamicState dynamic[] = { VK_DYNAMIC_STATE_VIEWPORT,
                                              VK_DYNAMIC_STATE_SCISSOR };
    VkFormat format = FORMAT;
    VkPipelineRenderingCreateInfo rci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
        .colorAttachmentCount = 1,
        .pColorAttachmentFormats = &format,
    };
    struct render_pipeline_desc d = {
        .vert = "render_vertex_color.vert",
        .frag = "render_color.frag",
        .layout = layout,
        .rendering = &rci,
        .vertex_input = &vi,
        .width = W,
        .height = H,
        .dynamic = dynamic,
        .dynamic_count = 2,
    };
    return render_pipeline_create(app, &d);
}

/* Compute shader writes -> vertex attribute reads (and the final copy). */
static void compute_to_vertex_barrier(VkCommandBuffer cmd, VkBuffer buffer)
{
    vkapp_buffer_barrier2(cmd, buffer, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                          VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT,
                          VK_PIPELINE_STAGE_2_VERTEX_ATTRIBUTE_INPUT_BIT | VK_PIPELINE_STAGE_2_COPY_BIT,
                          VK_ACCESS_2_VERTEX_ATTRIBUTE_READ_BIT | VK_ACCESS_2_TRANSFER_READ_BIT);
}

/* The first draw's vertex fetch must finish before the second dispatch
 * overwrites the buffer: an execution dependency is enough for WAR. */
static void vertex_to_compute_barrier(VkCommandBuffer cmd)
{
    VkMemoryBarrier2 b = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
        .srcStageMask = VK_PIPELINE_STAGE_2_VERTEX_ATTRIBUTE_INPUT_BIT,
        .dstStageMask = VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
    };
    VkDependencyInfo dep = {
        .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
        .memoryBarrierCount = 1,
        .pMemoryBarriers = &b,
    };
    vkCmdPipelineBarrier2(cmd, &dep);
}

static void draw_half(VkCommandBuffer cmd, const struct render_image *target,
                      VkPipeline pipeline, VkBuffer vertices, uint32_t half)
{
    VkRenderingAttachmentInfo att = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
        .imageView = target->view,
        .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .clearValue = { .color = { { 0.0f, 0.0f, 0.0f, 1.0f } } },
    };
    /* Each pass renders (and clears) only its half. */
    VkRect2D area = { { (int32_t)(half * W / 2), 0 }, { W / 2, H } };
    VkRenderingInfo ri = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
        .renderArea = area,
        .layerCount = 1,
        .colorAttachmentCount = 1,
        .pColorAttachments = &att,
    };
    vkCmdBeginRendering(cmd, &ri);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
    VkViewport vp = { (float)area.offset.x, 0.0f, W / 2, H, 0.0f, 1.0f };
    vkCmdSetViewport(cmd, 0, 1, &vp);
    vkCmdSetScissor(cmd, 0, 1, &area);
    VkDeviceSize offset = 0;
    vkCmdBindVertexBuffers(cmd, 0, 1, &vertices, &offset);
    vkCmdDraw(cmd, NUM_VERTICES, 1, 0, 0);
    vkCmdEndRendering(cmd);
}

static void check(const uint8_t *px)
{
    const uint32_t cw = W / 2 / GRID, ch = H / GRID;
    for (uint32_t half = 0; half < 2; half++) {
        for (uint32_t cy = 0; cy < GRID; cy += 3) {
            for (uint32_t cx = 0; cx < GRID; cx += 5) {
                uint32_t x = half * W / 2 + cx * cw + cw / 2, y = cy * ch + ch / 2;
                const uint8_t *p = px + ((size_t)y * W + x) * 4;
                int r = (int)((cx + 0.5f) / GRID * 255.0f + 0.5f);
                int g = (int)((cy + 0.5f) / GRID * 255.0f + 0.5f);
                APP_CHECK(abs(p[0] - r) <= 1 && abs(p[1] - g) <= 1 && p[3] == 255,
                          "pixel (%u,%u) = (%u,%u,%u,%u), expected red %d green %d", x, y,
                          p[0], p[1], p[2], p[3], r, g);
            }
        }
    }
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    render_init(&app, "render_compute_then_graphics", NULL);

    const VkDeviceSize vbytes = (VkDeviceSize)NUM_VERTICES * VERTEX_BYTES;
    struct vkapp_buffer vertices, readback;
    vkapp_buffer_create(&app, vbytes,
                        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT |
                            VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0, &vertices);
    render_readback_create(&app, W * H * 4 + vbytes, &readback);
    struct render_image target;
    render_image_create(&app, FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &target);

    struct vkapp_pipeline wave;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/render_wave.comp.spv", 1,
                          sizeof(struct wave_push), &wave);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&app, 1, 1);
    const struct vkapp_buffer *bufs[1] = { &vertices };
    VkDescriptorSet set = vkapp_descriptor_set_create(&app, pool, wave.set_layout, bufs, 1);
    VkPipelineLayout draw_layout = render_pipeline_layout(&app, VK_NULL_HANDLE, 0, 0);
    VkPipeline draw = create_draw_pipeline(&app, draw_layout);

    VkCommandBuffer cmd = vkapp_begin(&app);
    render_image_barrier(cmd, &target, 0, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, wave.layout, 0, 1, &set, 0,
                            NULL);
    for (uint32_t half = 0; half < 2; half++) {
        if (half)
            vertex_to_compute_barrier(cmd);
        struct wave_push push = { .phase = 1.7f * (float)half, .grid = GRID };
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, wave.pipeline);
        vkCmdPushConstants(cmd, wave.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push),
                           &push);
        vkCmdDispatch(cmd, (GRID * GRID + 63) / 64, 1, 1);
        compute_to_vertex_barrier(cmd, vertices.buffer);
        draw_half(cmd, &target, draw, vertices.buffer, half);
    }
    render_image_barrier(cmd, &target, 0, 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
    render_copy_to_buffer(cmd, &target, 0, readback.buffer, 0);
    VkBufferCopy vcopy = { 0, W * H * 4, vbytes };
    vkCmdCopyBuffer(cmd, vertices.buffer, readback.buffer, 1, &vcopy);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(&app, cmd);
    render_readback_invalidate(&app, &readback);
    check(readback.map);

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, readback.map, (size_t)(W * H * 4 + vbytes));
    vkapp_output_close(out);

    vkDestroyPipeline(app.device, draw, NULL);
    vkDestroyPipelineLayout(app.device, draw_layout, NULL);
    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkapp_pipeline_destroy(&app, &wave);
    render_image_destroy(&app, &target);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_buffer_destroy(&app, &vertices);
    vkapp_destroy(&app);
    printf("render_compute_then_graphics: ok, %u vertices x 2, %.2f s\n", NUM_VERTICES,
           vkapp_now() - t0);
    return 0;
}
