/* compute_reduction_timeline: sum of 4M uint32 split across two vkQueueSubmit
 * calls ordered by a timeline semaphore (submit 1 signals 1, submit 2 waits 1
 * and signals 2) and a binary semaphore. The host waits for value 2 with
 * vkWaitSemaphores, checks vkGetSemaphoreCounterValue, then signals 3 itself.
 * Output: the 1024 partial sums, then the 64-bit total as (lo, hi). */
#include "vkapp.h"

#include <inttypes.h>
#include <stdlib.h>

#define N (4u * 1024u * 1024u)
#define GROUPS 1024u
#define CHUNK (N / GROUPS)
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

static uint32_t input_at(uint32_t i) { return (i * 7919u) & 0xfffu; }

static VkSemaphore create_semaphore(struct vkapp *app, VkSemaphoreType type)
{
    VkSemaphoreTypeCreateInfo tci = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
        .semaphoreType = type,
        .initialValue = 0,
    };
    VkSemaphoreCreateInfo sci = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
        .pNext = &tci,
    };
    VkSemaphore sem;
    VK_CHECK(vkCreateSemaphore(app->device, &sci, NULL, &sem));
    return sem;
}

static VkCommandBuffer record(struct vkapp *app, const struct vkapp_pipeline *pl,
                              VkDescriptorSet set, const void *push, uint32_t push_size,
                              uint32_t groups, VkAccessFlags dst_access,
                              VkPipelineStageFlags dst_stage)
{
    VkCommandBuffer cmd = vkapp_begin(app);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0,
                            NULL);
    vkCmdPushConstants(cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
    vkCmdDispatch(cmd, groups, 1, 1);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  dst_stage, dst_access);
    VK_CHECK(vkEndCommandBuffer(cmd));
    return cmd;
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "compute_reduction_timeline");

    const VkMemoryPropertyFlags coherent =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkBufferUsageFlags storage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    struct vkapp_buffer data, partials, result;
    vkapp_buffer_create(&app, (VkDeviceSize)N * 4, storage, coherent, 0, VKAPP_MAP, &data);
    vkapp_buffer_create(&app, GROUPS * 4, storage, coherent, VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                        VKAPP_MAP, &partials);
    vkapp_buffer_create(&app, 2 * 4, storage, coherent, 0, VKAPP_MAP, &result);
    uint32_t *in = data.map;
    uint64_t want = 0;
    for (uint32_t i = 0; i < N; i++) {
        in[i] = input_at(i);
        want += in[i];
    }

    struct vkapp_pipeline reduce, final;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/reduce.spv", 2, 8, &reduce);
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/reduce_final.spv", 2, 4, &final);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&app, 2, 2);
    const struct vkapp_buffer *b1[2] = { &data, &partials };
    const struct vkapp_buffer *b2[2] = { &partials, &result };
    VkDescriptorSet s1 = vkapp_descriptor_set_create(&app, pool, reduce.set_layout, b1, 2);
    VkDescriptorSet s2 = vkapp_descriptor_set_create(&app, pool, final.set_layout, b2, 2);

    const uint32_t push1[2] = { N, CHUNK };
    const uint32_t push2 = GROUPS;
    /* Submit 1's writes reach submit 2 through the semaphore wait (its first
     * synchronization scope covers all prior work); the barriers below make
     * them available to the stages that read next. */
    VkCommandBuffer c1 = record(&app, &reduce, s1, push1, sizeof(push1), GROUPS,
                                VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_HOST_READ_BIT,
                                VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
                                    VK_PIPELINE_STAGE_HOST_BIT);
    VkCommandBuffer c2 = record(&app, &final, s2, &push2, sizeof(push2), 1,
                                VK_ACCESS_HOST_READ_BIT, VK_PIPELINE_STAGE_HOST_BIT);

    VkSemaphore timeline = create_semaphore(&app, VK_SEMAPHORE_TYPE_TIMELINE);
    VkSemaphore binary = create_semaphore(&app, VK_SEMAPHORE_TYPE_BINARY);
    uint64_t value = 0;
    VK_CHECK(vkGetSemaphoreCounterValue(app.device, timeline, &value));
    APP_CHECK(value == 0, "fresh timeline semaphore at %" PRIu64, value);

    /* Submit 1: signal timeline=1 and the binary semaphore. The binary value
     * in pSignalSemaphoreValues is ignored by the spec but must be present. */
    const VkSemaphore sig1[2] = { timeline, binary };
    const uint64_t sig1_values[2] = { 1, 0 };
    VkTimelineSemaphoreSubmitInfo ts1 = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .signalSemaphoreValueCount = 2,
        .pSignalSemaphoreValues = sig1_values,
    };
    VkSubmitInfo si1 = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = &ts1,
        .commandBufferCount = 1,
        .pCommandBuffers = &c1,
        .signalSemaphoreCount = 2,
        .pSignalSemaphores = sig1,
    };
    VK_CHECK(vkQueueSubmit(app.queue, 1, &si1, VK_NULL_HANDLE));

    /* Submit 2: wait timeline>=1 and the binary semaphore, signal timeline=2. */
    const VkSemaphore wait2[2] = { timeline, binary };
    const uint64_t wait2_values[2] = { 1, 0 };
    const VkPipelineStageFlags wait2_stages[2] = { VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT };
    const uint64_t sig2_value = 2;
    VkTimelineSemaphoreSubmitInfo ts2 = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .waitSemaphoreValueCount = 2,
        .pWaitSemaphoreValues = wait2_values,
        .signalSemaphoreValueCount = 1,
        .pSignalSemaphoreValues = &sig2_value,
    };
    VkSubmitInfo si2 = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = &ts2,
        .waitSemaphoreCount = 2,
        .pWaitSemaphores = wait2,
        .pWaitDstStageMask = wait2_stages,
        .commandBufferCount = 1,
        .pCommandBuffers = &c2,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &timeline,
    };
    VK_CHECK(vkQueueSubmit(app.queue, 1, &si2, VK_NULL_HANDLE));

    const uint64_t wait_value = 2;
    VkSemaphoreWaitInfo wi = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
        .semaphoreCount = 1,
        .pSemaphores = &timeline,
        .pValues = &wait_value,
    };
    VK_CHECK(vkWaitSemaphores(app.device, &wi, TIMEOUT_NS));
    VK_CHECK(vkGetSemaphoreCounterValue(app.device, timeline, &value));
    APP_CHECK(value == 2, "timeline at %" PRIu64 " after waiting for 2", value);

    /* Host signal: the counter must move to exactly what the host set. */
    VkSemaphoreSignalInfo hs = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
        .semaphore = timeline,
        .value = 3,
    };
    VK_CHECK(vkSignalSemaphore(app.device, &hs));
    VK_CHECK(vkGetSemaphoreCounterValue(app.device, timeline, &value));
    APP_CHECK(value == 3, "timeline at %" PRIu64 " after host signal of 3", value);
    const uint64_t wait3 = 3;
    wi.pValues = &wait3;
    wi.flags = VK_SEMAPHORE_WAIT_ANY_BIT;
    VK_CHECK(vkWaitSemaphores(app.device, &wi, 0));

    const uint32_t *part = partials.map;
    const uint32_t *res = result.map;
    for (uint32_t g = 0; g < GROUPS; g++) {
        uint32_t s = 0;
        for (uint32_t i = g * CHUNK; i < (g + 1) * CHUNK; i++)
            s += input_at(i);
        APP_CHECK(part[g] == s, "partial[%u] = %u, expected %u", g, part[g], s);
    }
    uint64_t got = (uint64_t)res[0] | ((uint64_t)res[1] << 32);
    APP_CHECK(got == want, "sum = %" PRIu64 ", expected %" PRIu64, got, want);

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, part, GROUPS * 4);
    vkapp_output_write(out, res, 2 * 4);
    vkapp_output_close(out);

    VK_CHECK(vkQueueWaitIdle(app.queue));
    vkDestroySemaphore(app.device, binary, NULL);
    vkDestroySemaphore(app.device, timeline, NULL);
    VkCommandBuffer cmds[2] = { c1, c2 };
    vkFreeCommandBuffers(app.device, app.command_pool, 2, cmds);
    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkapp_pipeline_destroy(&app, &final);
    vkapp_pipeline_destroy(&app, &reduce);
    vkapp_buffer_destroy(&app, &result);
    vkapp_buffer_destroy(&app, &partials);
    vkapp_buffer_destroy(&app, &data);
    vkapp_destroy(&app);
    printf("compute_reduction_timeline: ok, sum %" PRIu64 ", %.2f s\n", want,
           vkapp_now() - t0);
    return 0;
}
