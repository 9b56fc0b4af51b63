/* memory_coherent_ring: a persistently mapped HOST_COHERENT ring of 3 slices
 * x 64 KiB, written by the CPU every frame for 1000 frames with no flush call,
 * while up to 3 frames are in flight (a fence per slice). Each frame a compute
 * shader fingerprints its slice (256 FNV-1a words) into a DEVICE_LOCAL result
 * buffer at a per-frame offset. Some frames rewrite only half the slice or
 * every 16th word, so stale bytes from the slice's last use must also be right.
 * Output: the 1000 x 256 fingerprints. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 3u
#define SLICE_WORDS (64u * 1024u / 4u)
#define FRAMES 1000u
#define HASH_WORDS 256u
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

struct push {
    uint32_t src_offset, dst_offset, words;
};

static uint32_t word_at(uint32_t frame, uint32_t i)
{
    uint32_t x = frame * 0x9e3779b1u ^ (i * 0x85ebca77u + 0x165667b1u);
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    return x;
}

/* Mirrors memory_hash.comp. */
static void expected_hash(const uint32_t *slice, uint32_t *out)
{
    for (uint32_t t = 0; t < HASH_WORDS; t++) {
        uint32_t h = 2166136261u ^ t;
        for (uint32_t i = t; i < SLICE_WORDS; i += HASH_WORDS)
            h = (h ^ slice[i]) * 16777619u;
        out[t] = h;
    }
}

/* The frame's CPU write: the whole slice, its first half, or every 16th word. */
static void write_slice(uint32_t frame, uint32_t *ring_slice, uint32_t *model_slice)
{
    uint32_t step = 1, end = SLICE_WORDS;
    if (frame % 7 == 3)
        end = SLICE_WORDS / 2;
    else if (frame % 11 == 5)
        step = 16;
    for (uint32_t i = 0; i < end; i += step) {
        uint32_t v = word_at(frame, i);
        ring_slice[i] = v;
        model_slice[i] = v;
    }
}

static void record_frame(VkCommandBuffer cmd, const struct vkapp_pipeline *pl,
                         VkDescriptorSet set, uint32_t frame)
{
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0,
                            NULL);
    struct push p = { (frame % SLOTS) * SLICE_WORDS, frame * HASH_WORDS, SLICE_WORDS };
    vkCmdPushConstants(cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(p), &p);
    vkCmdDispatch(cmd, 1, 1, 1);
    VK_CHECK(vkEndCommandBuffer(cmd));
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "memory_coherent_ring");

    struct vkapp_buffer ring, result, readback;
    vkapp_buffer_create(&app, (VkDeviceSize)SLOTS * SLICE_WORDS * 4,
                        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        0, VKAPP_MAP, &ring);
    vkapp_buffer_create(&app, (VkDeviceSize)FRAMES * HASH_WORDS * 4,
                        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0, &result);

    struct vkapp_pipeline pl;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/memory_hash.comp.spv", 2,
                          sizeof(struct push), &pl);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&app, 1, 2);
    const struct vkapp_buffer *bufs[2] = { &ring, &result };
    VkDescriptorSet set = vkapp_descriptor_set_create(&app, pool, pl.set_layout, bufs, 2);

    VkCommandPoolCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = app.queue_family,
    };
    VkCommandPool frame_pool;
    VK_CHECK(vkCreateCommandPool(app.device, &cpci, NULL, &frame_pool));
    VkCommandBufferAllocateInfo cbai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = frame_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = SLOTS,
    };
    VkCommandBuffer cmds[SLOTS];
    VK_CHECK(vkAllocateCommandBuffers(app.device, &cbai, cmds));
    VkFence fences[SLOTS];
    VkFenceCreateInfo fci = {
        .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
        .flags = VK_FENCE_CREATE_SIGNALED_BIT,
    };
    for (uint32_t s = 0; s < SLOTS; s++)
        VK_CHECK(vkCreateFence(app.device, &fci, NULL, &fences[s]));

    uint32_t *model = calloc((size_t)SLOTS * SLICE_WORDS, 4);
    uint32_t *want = malloc((size_t)FRAMES * HASH_WORDS * 4);
    APP_CHECK(model && want, "out of memory");
    /* The first use of a slice reads words the partial writes skip: start
     * from a known state (covered by the first submit like any other write). */
    memset(ring.map, 0, (size_t)SLOTS * SLICE_WORDS * 4);

    uint32_t *ring_words = ring.map;
    for (uint32_t f = 0; f < FRAMES; f++) {
        uint32_t slot = f % SLOTS;
        /* The fence of the slice's previous frame: the GPU is done reading it,
         * while the other slices' frames may still be running. */
        VK_CHECK(vkWaitForFences(app.device, 1, &fences[slot], VK_TRUE, TIMEOUT_NS));
        VK_CHECK(vkResetFences(app.device, 1, &fences[slot]));
        uint32_t *model_slice = model + (size_t)slot * SLICE_WORDS;
        write_slice(f, ring_words + (size_t)slot * SLICE_WORDS, model_slice);
        expected_hash(model_slice, want + (size_t)f * HASH_WORDS);
        VK_CHECK(vkResetCommandBuffer(cmds[slot], 0));
        record_frame(cmds[slot], &pl, set, f);
        VkSubmitInfo si = {
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
            .commandBufferCount = 1,
            .pCommandBuffers = &cmds[slot],
        };
        /* No vkFlushMappedMemoryRanges: HOST_COHERENT writes made before the
         * submit are visible to it ("Host Write Ordering Guarantees"). */
        VK_CHECK(vkQueueSubmit(app.queue, 1, &si, fences[slot]));
    }
    VK_CHECK(vkWaitForFences(app.device, SLOTS, fences, VK_TRUE, TIMEOUT_NS));

    vkapp_buffer_create(&app, result.size, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        VK_MEMORY_PROPERTY_HOST_CACHED_BIT, VKAPP_MAP, &readback);
    VkCommandBuffer cmd = vkapp_begin(&app);
    /* The first scope of a barrier covers all earlier submissions too. */
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    VkBufferCopy region = { 0, 0, result.size };
    vkCmdCopyBuffer(cmd, result.buffer, readback.buffer, 1, &region);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(&app, cmd);

    const uint32_t *got = readback.map;
    for (uint32_t f = 0; f < FRAMES; f++) {
        for (uint32_t t = 0; t < HASH_WORDS; t++) {
            size_t k = (size_t)f * HASH_WORDS + t;
            APP_CHECK(got[k] == want[k],
                      "frame %u (slice %u) word %u: GPU saw fingerprint 0x%08x, CPU wrote "
                      "data with 0x%08x", f, f % SLOTS, t, got[k], want[k]);
        }
    }
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, got, (size_t)FRAMES * HASH_WORDS * 4);
    vkapp_output_close(out);

    for (uint32_t s = 0; s < SLOTS; s++)
        vkDestroyFence(app.device, fences[s], NULL);
    vkDestroyCommandPool(app.device, frame_pool, NULL);
    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkapp_pipeline_destroy(&app, &pl);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_buffer_destroy(&app, &result);
    vkapp_buffer_destroy(&app, &ring);
    vkapp_destroy(&app);
    free(model);
    free(want);
    printf("memory_coherent_ring: ok, %u frames, %.2f s\n", FRAMES, vkapp_now() - t0);
    return 0;
}
