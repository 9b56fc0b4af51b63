/* compute_saxpy: y = a*x + y over 16M floats, the bulk-transfer test of tether.
 * Data goes CPU -> mapped HOST_COHERENT staging -> vkCmdCopyBuffer -> device
 * buffers -> dispatch -> copy -> mapped HOST_VISIBLE (cached if possible)
 * readback, plus vkCmdFillBuffer/vkCmdUpdateBuffer on a side buffer.
 * Output: y (16M floats) followed by the 256-byte side buffer. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define N (16u * 1024u * 1024u)
#define SIDE_BYTES 256u
#define A 3.0f

/* Small integers keep every product and sum exactly representable. */
static float x_at(uint32_t i) { return (float)(i % 1024u); }
static float y_at(uint32_t i) { return (float)(i % 777u) - 300.0f; }

static void record(struct vkapp *app, VkCommandBuffer cmd, const struct vkapp_pipeline *pl,
                   VkDescriptorSet set, struct vkapp_buffer *staging,
                   struct vkapp_buffer *dx, struct vkapp_buffer *dy,
                   struct vkapp_buffer *readback, struct vkapp_buffer *side)
{
    const VkDeviceSize bytes = (VkDeviceSize)N * sizeof(float);
    VkBufferCopy up[2] = {
        { .srcOffset = 0, .dstOffset = 0, .size = bytes },
        { .srcOffset = bytes, .dstOffset = 0, .size = bytes },
    };
    vkCmdCopyBuffer(cmd, staging->buffer, dx->buffer, 1, &up[0]);
    vkCmdCopyBuffer(cmd, staging->buffer, dy->buffer, 1, &up[1]);

    /* Side buffer: fill all, then overwrite a middle window inline. */
    vkCmdFillBuffer(cmd, side->buffer, 0, VK_WHOLE_SIZE, 0xdeadbeefu);
    uint32_t inline_words[16];
    for (uint32_t i = 0; i < 16; i++)
        inline_words[i] = 0x01000000u * i + i;
    VkBufferMemoryBarrier side_bar = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .buffer = side->buffer,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 0, NULL, 1, &side_bar, 0, NULL);
    vkCmdUpdateBuffer(cmd, side->buffer, 64, sizeof(inline_words), inline_words);

    /* Transfer writes of x and y -> shader reads/writes. */
    VkBufferMemoryBarrier in_bar[2];
    for (int i = 0; i < 2; i++) {
        in_bar[i] = (VkBufferMemoryBarrier){
            .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
            .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .buffer = i == 0 ? dx->buffer : dy->buffer,
            .offset = 0,
            .size = VK_WHOLE_SIZE,
        };
    }
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, NULL, 2, in_bar, 0,
                         NULL);

    struct { float a; uint32_t n; } push = { A, N };
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0,
                            NULL);
    vkCmdPushConstants(cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
    vkCmdDispatch(cmd, 4096, 1, 1);

    /* y written by the shader and side written by vkCmdUpdateBuffer are both
     * read by the copies below. */
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    VkBufferCopy down[2] = {
        { .srcOffset = 0, .dstOffset = 0, .size = bytes },
        { .srcOffset = 0, .dstOffset = bytes, .size = SIDE_BYTES },
    };
    vkCmdCopyBuffer(cmd, dy->buffer, readback->buffer, 1, &down[0]);
    vkCmdCopyBuffer(cmd, side->buffer, readback->buffer, 1, &down[1]);
    /* Make the copies visible to host reads after the fence wait. */
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
}

static void check(const float *y, const uint32_t *side)
{
    static const uint32_t probes[] = { 0, 1, 2, 777, 1023, 1024, 65535, 1000003,
                                       N / 2 + 5, N - 2, N - 1 };
    for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
        uint32_t i = probes[k];
        float want = A * x_at(i) + y_at(i);
        APP_CHECK(y[i] == want, "y[%u] = %f, expected %f", i, (double)y[i], (double)want);
    }
    for (uint32_t i = 0; i < N; i += 4099) {
        float want = A * x_at(i) + y_at(i);
        APP_CHECK(y[i] == want, "y[%u] = %f, expected %f", i, (double)y[i], (double)want);
    }
    for (uint32_t w = 0; w < SIDE_BYTES / 4; w++) {
        uint32_t want = (w >= 16 && w < 32) ? 0x01000000u * (w - 16) + (w - 16) : 0xdeadbeefu;
        APP_CHECK(side[w] == want, "side[%u] = 0x%08x, expected 0x%08x", w, side[w], want);
    }
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "compute_saxpy");

    const VkDeviceSize bytes = (VkDeviceSize)N * sizeof(float);
    const VkBufferUsageFlags storage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    const VkBufferUsageFlags src = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
    const VkBufferUsageFlags dst = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    const VkMemoryPropertyFlags coherent =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    struct vkapp_buffer staging, dx, dy, readback, side;
    vkapp_buffer_create(&app, 2 * bytes, src, coherent, 0, VKAPP_MAP, &staging);
    vkapp_buffer_create(&app, bytes, storage | dst, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0,
                        &dx);
    vkapp_buffer_create(&app, bytes, storage | dst | src, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                        0, 0, &dy);
    vkapp_buffer_create(&app, SIDE_BYTES, dst | src, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0,
                        &side);
    vkapp_buffer_create(&app, bytes + SIDE_BYTES, dst, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                        VK_MEMORY_PROPERTY_HOST_CACHED_BIT, VKAPP_MAP, &readback);

    float *sx = staging.map;
    float *sy = sx + N;
    for (uint32_t i = 0; i < N; i++) {
        sx[i] = x_at(i);
        sy[i] = y_at(i);
    }

    struct vkapp_pipeline pl;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/saxpy.spv", 2, 8, &pl);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&app, 1, 2);
    const struct vkapp_buffer *bufs[2] = { &dx, &dy };
    VkDescriptorSet set = vkapp_descriptor_set_create(&app, pool, pl.set_layout, bufs, 2);

    VkCommandBuffer cmd = vkapp_begin(&app);
    record(&app, cmd, &pl, set, &staging, &dx, &dy, &readback, &side);
    vkapp_submit_wait(&app, cmd);

    /* Non-coherent memory needs an invalidate before the host reads; on
     * coherent memory the call is still valid and must be harmless. */
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = readback.memory,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
    VK_CHECK(vkInvalidateMappedMemoryRanges(app.device, 1, &range));
    const float *y = readback.map;
    const uint32_t *side_words = (const uint32_t *)(y + N);
    check(y, side_words);

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, readback.map, (size_t)(bytes + SIDE_BYTES));
    vkapp_output_close(out);

    vkapp_pipeline_cache_roundtrip(&app);
    VK_CHECK(vkFreeDescriptorSets(app.device, pool, 1, &set));
    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkapp_pipeline_destroy(&app, &pl);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_buffer_destroy(&app, &side);
    vkapp_buffer_destroy(&app, &dy);
    vkapp_buffer_destroy(&app, &dx);
    vkapp_buffer_destroy(&app, &staging);
    vkapp_destroy(&app);
    printf("compute_saxpy: ok, %u floats, %.2f s\n", N, vkapp_now() - t0);
    return 0;
}
