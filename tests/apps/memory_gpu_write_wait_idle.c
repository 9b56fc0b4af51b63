/* memory_gpu_write_wait_idle: GPU writes to a mapped HOST_COHERENT buffer are
 * visible to the host after each kind of wait Vulkan offers: vkQueueWaitIdle,
 * vkDeviceWaitIdle, vkWaitSemaphores on a timeline, polling
 * vkGetSemaphoreCounterValue and polling vkGetFenceStatus. Before each submit
 * the CPU rewrites the whole buffer; the GPU overwrites a part that moves per
 * variant, so stale and lost bytes both show. Output: the buffer after each. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define WORDS (64u * 1024u)
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

enum wait_kind { QUEUE_WAIT_IDLE, DEVICE_WAIT_IDLE, WAIT_SEMAPHORES, POLL_COUNTER, POLL_FENCE,
                 NUM_WAITS };
static const char *const wait_names[NUM_WAITS] = {
    "vkQueueWaitIdle", "vkDeviceWaitIdle", "vkWaitSemaphores", "vkGetSemaphoreCounterValue",
    "vkGetFenceStatus",
};

struct push {
    uint32_t offset, count, seed, stride;
};

static VkCommandBuffer record(struct vkapp *app, const struct vkapp_pipeline *pl,
                              VkDescriptorSet set, const struct push *p)
{
    VkCommandBuffer cmd = vkapp_begin(app);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0,
                            NULL);
    vkCmdPushConstants(cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(*p), p);
    vkCmdDispatch(cmd, (p->count + 63) / 64, 1, 1);
    /* Host reads after a wait need the writes made available to the host. */
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    VK_CHECK(vkEndCommandBuffer(cmd));
    return cmd;
}

/* Submits @cmd and waits for it the @kind way; @timeline counts up per call. */
static void submit_and_wait(struct vkapp *app, VkCommandBuffer cmd, enum wait_kind kind,
                            VkSemaphore timeline, uint64_t value, VkFence fence)
{
    VkTimelineSemaphoreSubmitInfo tsi = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .signalSemaphoreValueCount = 1,
        .pSignalSemaphoreValues = &value,
    };
    bool sem = kind == WAIT_SEMAPHORES || kind == POLL_COUNTER;
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = sem ? &tsi : NULL,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
        .signalSemaphoreCount = sem ? 1 : 0,
        .pSignalSemaphores = &timeline,
    };
    VK_CHECK(vkQueueSubmit(app->queue, 1, &si, kind == POLL_FENCE ? fence : VK_NULL_HANDLE));
    switch (kind) {
    case QUEUE_WAIT_IDLE:
        VK_CHECK(vkQueueWaitIdle(app->queue));
        break;
    case DEVICE_WAIT_IDLE:
        VK_CHECK(vkDeviceWaitIdle(app->device));
        break;
    case WAIT_SEMAPHORES: {
        VkSemaphoreWaitInfo wi = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = 1,
            .pSemaphores = &timeline,
            .pValues = &value,
        };
        VK_CHECK(vkWaitSemaphores(app->device, &wi, TIMEOUT_NS));
        break;
    }
    case POLL_COUNTER: {
        uint64_t now = 0;
        double limit = vkapp_now() + 10.0;
        do {
            VK_CHECK(vkGetSemaphoreCounterValue(app->device, timeline, &now));
            APP_CHECK(vkapp_now() < limit, "timeline stuck at %llu", (unsigned long long)now);
        } while (now < value);
        break;
    }
    case POLL_FENCE: {
        VkResult r;
        double limit = vkapp_now() + 10.0;
        while ((r = vkGetFenceStatus(app->device, fence)) == VK_NOT_READY)
            APP_CHECK(vkapp_now() < limit, "fence never signalled");
        VK_CHECK(r);
        break;
    }
    default:
        APP_CHECK(false, "bad wait kind %d", (int)kind);
    }
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "memory_gpu_write_wait_idle");

    struct vkapp_buffer buf;
    vkapp_buffer_create(&app, (VkDeviceSize)WORDS * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        0, VKAPP_MAP, &buf);
    struct vkapp_pipeline pl;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/memory_pattern.comp.spv", 1,
                          sizeof(struct push), &pl);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&app, 1, 1);
    const struct vkapp_buffer *bufs[1] = { &buf };
    VkDescriptorSet set = vkapp_descriptor_set_create(&app, pool, pl.set_layout, bufs, 1);

    VkSemaphoreTypeCreateInfo stci = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
        .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
    };
    VkSemaphoreCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                                  .pNext = &stci };
    VkSemaphore timeline;
    VK_CHECK(vkCreateSemaphore(app.device, &sci, NULL, &timeline));
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VkFence fence;
    VK_CHECK(vkCreateFence(app.device, &fci, NULL, &fence));

    uint32_t *map = buf.map;
    uint32_t *model = malloc((size_t)WORDS * 4);
    APP_CHECK(model, "out of memory");
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    uint64_t value = 0;
    /* Two rounds of every wait kind, the second with different regions. */
    for (uint32_t round = 0; round < 2 * NUM_WAITS; round++) {
        enum wait_kind kind = (enum wait_kind)(round % NUM_WAITS);
        for (uint32_t i = 0; i < WORDS; i++)
            map[i] = model[i] = (round << 20) | i;
        struct push p = {
            .offset = (round * 7919u) % (WORDS / 4),
            .count = 4096u + 1000u * round,
            .seed = 0x77000000u + round,
            .stride = 1 + round % 3,
        };
        VkCommandBuffer cmd = record(&app, &pl, set, &p);
        submit_and_wait(&app, cmd, kind, timeline, ++value, fence);
        for (uint32_t i = 0; i < p.count; i++)
            model[p.offset + i * p.stride] = (i * 2654435761u) ^ p.seed;
        for (uint32_t i = 0; i < WORDS; i++)
            APP_CHECK(map[i] == model[i],
                      "after %s (round %u): word %u is 0x%08x, expected 0x%08x",
                      wait_names[kind], round, i, map[i], model[i]);
        vkapp_output_write(out, map, (size_t)WORDS * 4);
        if (kind == POLL_FENCE)
            VK_CHECK(vkResetFences(app.device, 1, &fence));
        VK_CHECK(vkQueueWaitIdle(app.queue));
        vkFreeCommandBuffers(app.device, app.command_pool, 1, &cmd);
    }
    vkapp_output_close(out);

    vkDestroyFence(app.device, fence, NULL);
    vkDestroySemaphore(app.device, timeline, NULL);
    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkapp_pipeline_destroy(&app, &pl);
    vkapp_buffer_destroy(&app, &buf);
    vkapp_destroy(&app);
    free(model);
    printf("memory_gpu_write_wait_idle: ok, %.2f s\n", vkapp_now() - t0);
    return 0;
}
