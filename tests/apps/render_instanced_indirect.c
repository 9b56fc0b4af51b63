/* render_instanced_indirect: an 8x8 grid of instanced quads (per-instance
 * offset and colour from a VK_VERTEX_INPUT_RATE_INSTANCE binding), one row
 * per draw style: vkCmdDrawIndexed, vkCmdDrawIndexedIndirect (two commands),
 * vkCmdDrawIndirect, vkCmdDrawIndirectCount and vkCmdDrawIndexedIndirectCount.
 * The indirect, count and instance buffers are written by the CPU through
 * mapped memory after the command buffer is recorded; the same command buffer
 * is submitted twice with different buffer contents and both frames (RGBA8)
 * go to argv[1]. */
#include "render_util.h"

#include <stddef.h>
#include <string.h>

#define W 256
#define H 256
#define GRID 8
#define FORMAT VK_FORMAT_R8G8B8A8_UNORM

struct instance {
    float offset[2];
    uint8_t color[4];
};

/* Indirect buffer layout (byte offsets). */
#define OFF_INDEXED 0                                                     /* 2 commands */
#define OFF_DRAW (OFF_INDEXED + 2 * sizeof(VkDrawIndexedIndirectCommand))  /* 1 */
#define OFF_DRAW_COUNT (OFF_DRAW + sizeof(VkDrawIndirectCommand))          /* 3 */
#define OFF_INDEXED_COUNT (OFF_DRAW_COUNT + 3 * sizeof(VkDrawIndirectCommand)) /* 2 */
#define OFF_COUNTS (OFF_INDEXED_COUNT + 2 * sizeof(VkDrawIndexedIndirectCommand))
#define INDIRECT_SIZE (OFF_COUNTS + 2 * sizeof(uint32_t))

/* Unit quad twice: indexed (vertices 0..3) and as a plain list (4..9). */
static const float quad[10][2] = {
    { -1, -1 }, { 1, -1 }, { 1, 1 }, { -1, 1 },
    { -1, -1 }, { 1, -1 }, { 1, 1 }, { 1, 1 }, { -1, 1 }, { -1, -1 },
};
static const uint32_t quad_indices[6] = { 0, 1, 2, 2, 3, 0 };
/* Geometry buffer: indices at offset 0, vertices at VERTEX_OFFSET. Mesa 22.3
 * lavapipe's indexed *indirect* draws ignore a non-zero vkCmdBindIndexBuffer
 * offset (nothing is drawn natively), so the index data starts the buffer. */
#define VERTEX_OFFSET 32

static void instance_color(uint32_t i, bool inverted, uint8_t out[4])
{
    uint32_t cx = i % GRID, cy = i / GRID;
    out[0] = (uint8_t)(cx * 32 + 16);
    out[1] = (uint8_t)(cy * 32 + 16);
    out[2] = (uint8_t)(255 - (cx + cy) * 16);
    out[3] = 255;
    if (inverted) {
        for (int c = 0; c < 3; c++)
            out[c] = (uint8_t)(255 - out[c]);
    }
}

struct frame_params {
    uint32_t row1_instances; /* instanceCount of the first indexed indirect command */
    uint32_t draw_count;     /* vkCmdDrawIndirectCount count, of 3 */
    uint32_t indexed_count;  /* vkCmdDrawIndexedIndirectCount count, of 2 */
    bool row0_inverted;      /* instance colours of row 0 */
};

/* What the CPU writes through the maps before each submit. */
static void write_frame_inputs(uint8_t *indirect, struct instance *inst,
                               const struct frame_params *p)
{
    for (uint32_t i = 0; i < GRID * GRID; i++) {
        uint32_t cx = i % GRID, cy = i / GRID;
        inst[i].offset[0] = -1.0f + 0.125f + 0.25f * (float)cx;
        inst[i].offset[1] = -1.0f + 0.125f + 0.25f * (float)cy;
        instance_color(i, cy == 0 && p->row0_inverted, inst[i].color);
    }
    VkDrawIndexedIndirectCommand indexed[2] = {
        { .indexCount = 6, .instanceCount = p->row1_instances, .firstInstance = 8 },
        { .indexCount = 6, .instanceCount = 8, .firstInstance = 16 },
    };
    VkDrawIndirectCommand draw = { .vertexCount = 6, .instanceCount = 8, .firstVertex = 4,
                                   .firstInstance = 24 };
    /* The third command (row 6) only draws when the count says 3. */
    VkDrawIndirectCommand draw_count[3] = {
        { 6, 8, 4, 32 }, { 6, 8, 4, 40 }, { 6, 8, 4, 48 },
    };
    /* Row 7: five instances, then the last three only when the count says 2. */
    VkDrawIndexedIndirectCommand indexed_count[2] = {
        { .indexCount = 6, .instanceCount = 5, .firstInstance = 56 },
        { .indexCount = 6, .instanceCount = 3, .firstInstance = 61 },
    };
    uint32_t counts[2] = { p->draw_count, p->indexed_count };
    memcpy(indirect + OFF_INDEXED, indexed, sizeof(indexed));
    memcpy(indirect + OFF_DRAW, &draw, sizeof(draw));
    memcpy(indirect + OFF_DRAW_COUNT, draw_count, sizeof(draw_count));
    memcpy(indirect + OFF_INDEXED_COUNT, indexed_count, sizeof(indexed_count));
    memcpy(indirect + OFF_COUNTS, counts, sizeof(counts));
}

static VkPipeline create_pipeline(struct vkapp *app, VkPipelineLayout layout)
{
    VkVertexInputBindingDescription bindings[2] = {
        { 0, sizeof(quad[0]), VK_VERTEX_INPUT_RATE_VERTEX },
        { 1, sizeof(struct instance), VK_VERTEX_INPUT_RATE_INSTANCE },
    };
    VkVertexInputAttributeDescription attrs[3] = {
        { 0, 0, VK_FORMAT_R32G32_SFLOAT, 0 },
        { 1, 1, VK_FORMAT_R32G32_SFLOAT, offsetof(struct instance, offset) },
        { 2, 1, VK_FORMAT_R8G8B8A8_UNORM, offsetof(struct instance, color) },
    };
    VkPipelineVertexInputStateCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
        .vertexBindingDescriptionCount = 2,
        .pVertexBindingDescriptions = bindings,
        .vertexAttributeDescriptionCount = 3,
        .pVertexAttributeDescriptions = attrs,
    };
    VkFormat format = FORMAT;
    VkPipelineRenderingCreateInfo rci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
        .colorAttachmentCount = 1,
        .pColorAttachmentFormats = &format,
    };
    struct render_pipeline_desc d = {
        .vert = "render_instanced.vert",
        .frag = "render_color.frag",
        .layout = layout,
        .rendering = &rci,
        .vertex_input = &vi,
        .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
        .width = W,
        .height = H,
    };
    return render_pipeline_create(app, &d);
}

static void record(VkCommandBuffer cmd, const struct render_caps *caps, VkPipeline pipeline,
                   const struct render_image *target, const struct vkapp_buffer *geometry,
                   const struct vkapp_buffer *instances, const struct vkapp_buffer *indirect,
                   const struct vkapp_buffer *readback)
{
    /* Host writes before the submit are made visible by the submission itself
     * (VkSubmitInfo: host write ordering guarantee); no barrier needed. */
    render_image_barrier(cmd, target, 0, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
    VkRenderingAttachmentInfo color = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
        .imageView = target->view,
        .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .clearValue = { .color = { { 0.0f, 0.0f, 0.0f, 1.0f } } },
    };
    VkRenderingInfo ri = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
        .renderArea = { { 0, 0 }, { W, H } },
        .layerCount = 1,
        .colorAttachmentCount = 1,
        .pColorAttachments = &color,
    };
    vkCmdBeginRendering(cmd, &ri);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
    VkBuffer vbs[2] = { geometry->buffer, instances->buffer };
    VkDeviceSize offs[2] = { VERTEX_OFFSET, 0 };
    vkCmdBindVertexBuffers(cmd, 0, 2, vbs, offs);
    vkCmdBindIndexBuffer(cmd, geometry->buffer, 0, VK_INDEX_TYPE_UINT32);

    vkCmdDrawIndexed(cmd, 6, GRID, 0, 0, 0); /* row 0 */
    const uint32_t istride = sizeof(VkDrawIndexedIndirectCommand);
    const uint32_t dstride = sizeof(VkDrawIndirectCommand);
    if (caps->multi_draw_indirect) {
        vkCmdDrawIndexedIndirect(cmd, indirect->buffer, OFF_INDEXED, 2, istride); /* rows 1, 2 */
    } else {
        vkCmdDrawIndexedIndirect(cmd, indirect->buffer, OFF_INDEXED, 1, istride);
        vkCmdDrawIndexedIndirect(cmd, indirect->buffer, OFF_INDEXED + istride, 1, istride);
    }
    vkCmdDrawIndirect(cmd, indirect->buffer, OFF_DRAW, 1, dstride); /* row 3 */
    /* Rows 4..6 and 7: the GPU reads how many commands to run. */
    vkCmdDrawIndirectCount(cmd, indirect->buffer, OFF_DRAW_COUNT, indirect->buffer,
                           OFF_COUNTS, 3, dstride);
    vkCmdDrawIndexedIndirectCount(cmd, indirect->buffer, OFF_INDEXED_COUNT, indirect->buffer,
                                  OFF_COUNTS + 4, 2, istride);
    vkCmdEndRendering(cmd);

    render_image_barrier(cmd, target, 0, 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
    render_copy_to_buffer(cmd, target, 0, readback->buffer, 0);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
}

static void submit_wait(struct vkapp *app, VkCommandBuffer cmd, VkFence fence)
{
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    VK_CHECK(vkQueueSubmit(app->queue, 1, &si, fence));
    VK_CHECK(vkWaitForFences(app->device, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000));
    VK_CHECK(vkResetFences(app->device, 1, &fence));
}

/* Cell centres: drawn cells show their instance colour, others the clear colour. */
static void check_frame(const uint8_t *px, const struct frame_params *p)
{
    for (uint32_t i = 0; i < GRID * GRID; i++) {
        uint32_t cx = i % GRID, cy = i / GRID;
        bool drawn = true;
        if (cy == 1)
            drawn = cx < p->row1_instances;
        else if (cy == 6)
            drawn = p->draw_count >= 3;
        else if (cy == 7)
            drawn = cx < 5 || p->indexed_count >= 2;
        uint8_t c[4] = { 0, 0, 0, 255 };
        if (drawn)
            instance_color(i, cy == 0 && p->row0_inverted, c);
        render_expect_rgba8(px, W, cx * 32 + 16, cy * 32 + 16, c[0], c[1], c[2], c[3], 0);
    }
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    struct render_caps caps;
    render_init(&app, "render_instanced_indirect", &caps);
    APP_CHECK(caps.draw_indirect_first_instance, "no drawIndirectFirstInstance");
    APP_CHECK(caps.draw_indirect_count, "no drawIndirectCount");

    const VkMemoryPropertyFlags host =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    struct vkapp_buffer geometry, instances, indirect, readback;
    vkapp_buffer_create(&app, VERTEX_OFFSET + sizeof(quad),
                        VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
                        host, 0, VKAPP_MAP, &geometry);

    memcpy(geometry.map, quad_indices, sizeof(quad_indices));
    memcpy((uint8_t *)geometry.map + VERTEX_OFFSET, quad, sizeof(quad));
    vkapp_buffer_create(&app, GRID * GRID * sizeof(struct instance),
                        VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, host, 0, VKAPP_MAP, &instances);
    vkapp_buffer_create(&app, INDIRECT_SIZE, VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, host, 0,
                        VKAPP_MAP, &indirect);
    render_readback_create(&app, W * H * 4, &readback);
    struct render_image target;
    render_image_create(&app, FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &target);
    VkPipelineLayout layout = render_pipeline_layout(&app, VK_NULL_HANDLE, 0, 0);
    VkPipeline pipeline = create_pipeline(&app, layout);

    /* Recorded once, submitted twice: everything that changes lives in memory. */
    VkCommandBufferAllocateInfo cbai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = app.command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkCommandBuffer cmd;
    VK_CHECK(vkAllocateCommandBuffers(app.device, &cbai, &cmd));
    VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    record(cmd, &caps, pipeline, &target, &geometry, &instances, &indirect, &readback);
    VK_CHECK(vkEndCommandBuffer(cmd));
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VkFence fence;
    VK_CHECK(vkCreateFence(app.device, &fci, NULL, &fence));

    const struct frame_params frames[2] = {
        { .row1_instances = 8, .draw_count = 2, .indexed_count = 1, .row0_inverted = false },
        { .row1_instances = 4, .draw_count = 3, .indexed_count = 2, .row0_inverted = true },
    };
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    for (int f = 0; f < 2; f++) {
        write_frame_inputs(indirect.map, instances.map, &frames[f]);
        submit_wait(&app, cmd, fence);
        render_readback_invalidate(&app, &readback);
        check_frame(readback.map, &frames[f]);
        vkapp_output_write(out, readback.map, W * H * 4);
    }
    vkapp_output_close(out);

    vkDestroyFence(app.device, fence, NULL);
    vkFreeCommandBuffers(app.device, app.command_pool, 1, &cmd);
    vkDestroyPipeline(app.device, pipeline, NULL);
    vkDestroyPipelineLayout(app.device, layout, NULL);
    render_image_destroy(&app, &target);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_buffer_destroy(&app, &indirect);
    vkapp_buffer_destroy(&app, &instances);
    vkapp_buffer_destroy(&app, &geometry);
    vkapp_destroy(&app);
    printf("render_instanced_indirect: ok, 2 frames %ux%u, %.2f s\n", W, H, vkapp_now() - t0);
    return 0;
}
