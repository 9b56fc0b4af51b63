/* compute_prefix_sum: inclusive prefix sum of 1M uint32 as a multi-level
 * workgroup scan: several dispatches in one command buffer separated by
 * synchronization2 barriers (vkCmdPipelineBarrier2). The data buffer is
 * HOST_COHERENT memory written and read in place through one mapping, so the
 * remote driver's coherent-memory path carries it. Output: the scanned array. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define N (1024u * 1024u)
#define BLOCK 512u
#define MAX_LEVELS 6

struct level {
    struct vkapp_buffer *data; /* array scanned at this level */
    uint32_t n;
    uint32_t blocks;
};

static uint32_t input_at(uint32_t i)
{
    uint32_t h = i * 2654435761u;
    return (h >> 13) & 0xffu;
}

static void barrier2(VkCommandBuffer cmd, VkBuffer buffer)
{
    /* Each pass reads what the previous one wrote (RAW) and rewrites what it
     * read (WAR); one buffer barrier per touched buffer keeps the scope exact. */
    vkapp_buffer_barrier2(cmd, buffer, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                          VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT | VK_ACCESS_2_SHADER_STORAGE_READ_BIT,
                          VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                          VK_ACCESS_2_SHADER_STORAGE_READ_BIT | VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT);
}

static void dispatch(VkCommandBuffer cmd, const struct vkapp_pipeline *pl, VkDescriptorSet set,
                     uint32_t n, uint32_t groups)
{
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0,
                            NULL);
    vkCmdPushConstants(cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(n), &n);
    vkCmdDispatch(cmd, groups, 1, 1);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "compute_prefix_sum");

    const VkMemoryPropertyFlags coherent =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    struct vkapp_buffer bufs[MAX_LEVELS + 1];
    struct level levels[MAX_LEVELS];
    uint32_t nlevels = 0;

    /* Level 0 is the host-visible input; level k+1 holds level k's block sums;
     * the last level fits one block and its total goes to a 1-uint sink. */
    vkapp_buffer_create(&app, (VkDeviceSize)N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        coherent, 0, VKAPP_MAP, &bufs[0]);
    for (uint32_t n = N;; n = (n + BLOCK - 1) / BLOCK) {
        APP_CHECK(nlevels < MAX_LEVELS, "too many levels");
        struct level *l = &levels[nlevels];
        l->data = &bufs[nlevels];
        l->n = n;
        l->blocks = (n + BLOCK - 1) / BLOCK;
        nlevels++;
        vkapp_buffer_create(&app, (VkDeviceSize)l->blocks * 4,
                            VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                            VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0, &bufs[nlevels]);
        if (l->blocks == 1)
            break;
    }

    uint32_t *data = bufs[0].map;
    for (uint32_t i = 0; i < N; i++)
        data[i] = input_at(i);

    struct vkapp_pipeline scan, add;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/scan.spv", 2, 4, &scan);
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/scan_add.spv", 2, 4, &add);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&app, 2 * MAX_LEVELS, 2);
    VkDescriptorSet scan_sets[MAX_LEVELS], add_sets[MAX_LEVELS];
    for (uint32_t k = 0; k < nlevels; k++) {
        const struct vkapp_buffer *pair[2] = { &bufs[k], &bufs[k + 1] };
        scan_sets[k] = vkapp_descriptor_set_create(&app, pool, scan.set_layout, pair, 2);
        add_sets[k] = vkapp_descriptor_set_create(&app, pool, add.set_layout, pair, 2);
    }

    VkCommandBuffer cmd = vkapp_begin(&app);
    /* Host writes through the coherent mapping are made available by the
     * submission itself (VkSubmitInfo host write ordering). */
    for (uint32_t k = 0; k < nlevels; k++) {
        dispatch(cmd, &scan, scan_sets[k], levels[k].n, levels[k].blocks);
        barrier2(cmd, bufs[k + 1].buffer);
        barrier2(cmd, bufs[k].buffer);
    }
    for (uint32_t k = nlevels - 1; k-- > 0;) {
        dispatch(cmd, &add, add_sets[k], levels[k].n, levels[k].blocks);
        barrier2(cmd, bufs[k].buffer);
    }
    VkMemoryBarrier2 host = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
        .srcStageMask = VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
        .srcAccessMask = VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT,
        .dstStageMask = VK_PIPELINE_STAGE_2_HOST_BIT,
        .dstAccessMask = VK_ACCESS_2_HOST_READ_BIT,
    };
    VkDependencyInfo dep = {
        .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
        .memoryBarrierCount = 1,
        .pMemoryBarriers = &host,
    };
    vkCmdPipelineBarrier2(cmd, &dep);
    vkapp_submit_wait(&app, cmd);

    uint32_t run = 0;
    for (uint32_t i = 0; i < N; i++) {
        run += input_at(i);
        APP_CHECK(data[i] == run, "prefix[%u] = %u, expected %u", i, data[i], run);
    }
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, data, (size_t)N * 4);
    vkapp_output_close(out);

    VK_CHECK(vkResetDescriptorPool(app.device, pool, 0));
    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkapp_pipeline_destroy(&app, &add);
    vkapp_pipeline_destroy(&app, &scan);
    for (uint32_t k = 0; k <= nlevels; k++)
        vkapp_buffer_destroy(&app, &bufs[k]);
    vkapp_pipeline_cache_roundtrip(&app);
    vkapp_destroy(&app);
    printf("compute_prefix_sum: ok, %u uints in %u levels, %.2f s\n", N, nlevels,
           vkapp_now() - t0);
    return 0;
}
