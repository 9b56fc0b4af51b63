/* memory_cached_readback: the GPU writes (vkCmdFillBuffer and a compute
 * shader) into HOST_VISIBLE|HOST_CACHED memory (any HOST_VISIBLE type if none
 * is cached) and the CPU reads after vkWaitForFences, invalidating first when
 * the type is not HOST_COHERENT. Eight rounds; in each the CPU first reads the
 * whole buffer (pulling it into its caches), writes its own region, then the
 * GPU overwrites moving regions. A host model must equal the buffer after
 * every round. Output: the buffer after the last round, then 8 FNV-1a hashes. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define WORDS (256u * 1024u) /* 1 MiB */
#define ROUNDS 8u
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

struct push {
    uint32_t offset, count, seed, stride;
};

static uint32_t fnv(const uint32_t *w, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ w[i]) * 16777619u;
    return h;
}

static void check_model(const uint32_t *got, const uint32_t *model, uint32_t round)
{
    for (uint32_t i = 0; i < WORDS; i++)
        APP_CHECK(got[i] == model[i], "round %u: word %u is 0x%08x, expected 0x%08x", round,
                  i, got[i], model[i]);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "memory_cached_readback");

    struct vkapp_buffer buf;
    vkapp_buffer_create(&app, (VkDeviceSize)WORDS * 4,
                        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                        VKAPP_MAP, &buf);
    const bool coherent = buf.memory_flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    printf("memory type %u: cached %d coherent %d\n", buf.memory_type,
           !!(buf.memory_flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT), coherent);

    struct vkapp_pipeline pl;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/memory_pattern.comp.spv", 1,
                          sizeof(struct push), &pl);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&app, 1, 1);
    const struct vkapp_buffer *bufs[1] = { &buf };
    VkDescriptorSet set = vkapp_descriptor_set_create(&app, pool, pl.set_layout, bufs, 1);
    VkMappedMemoryRange whole = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = buf.memory,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };

    uint32_t *map = buf.map;
    uint32_t *model = malloc((size_t)WORDS * 4);
    uint32_t hashes[ROUNDS];
    APP_CHECK(model, "out of memory");
    for (uint32_t i = 0; i < WORDS; i++)
        map[i] = model[i] = 0xc0000000u | i;
    if (!coherent)
        VK_CHECK(vkFlushMappedMemoryRanges(app.device, 1, &whole));

    for (uint32_t r = 0; r < ROUNDS; r++) {
        /* Read everything first so that a cached type holds the old values. */
        check_model(map, model, r);
        /* The CPU's region moves each round over what the GPU wrote before. */
        uint32_t cpu_off = (r * 40961u) % (WORDS / 2), cpu_n = 8192u + 1024u * r;
        for (uint32_t i = 0; i < cpu_n; i++)
            map[cpu_off + i] = model[cpu_off + i] = (r << 24) ^ (i * 7u);
        if (!coherent)
            VK_CHECK(vkFlushMappedMemoryRanges(app.device, 1, &whole));

        /* GPU: fill a region, then a compute pattern (every word or every
         * other) that may cover the CPU's words, then 4 bytes at the very end. */
        uint32_t fill_off = (cpu_off + cpu_n + 4096u) % (WORDS / 2) + WORDS / 4;
        uint32_t fill_n = 65536u - 4096u * r;
        uint32_t value = 0xa5000000u | r;
        struct push p = { (fill_off + fill_n / 2) % (WORDS / 2), 20000u + 333u * r, 0x5eed0000u + r, 1 + r % 2 };
        VkCommandBuffer cmd = vkapp_begin(&app);
        vkCmdFillBuffer(cmd, buf.buffer, (VkDeviceSize)fill_off * 4, (VkDeviceSize)fill_n * 4,
                        value);
        vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT);
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl.pipeline);
        vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl.layout, 0, 1, &set, 0,
                                NULL);
        vkCmdPushConstants(cmd, pl.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(p), &p);
        vkCmdDispatch(cmd, (p.count + 63) / 64, 1, 1);
        vkCmdFillBuffer(cmd, buf.buffer, (VkDeviceSize)(WORDS - 1) * 4, 4, 0xe0d0000u + r);
        vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
        /* vkapp_submit_wait: vkQueueSubmit with a fence, vkWaitForFences. */
        vkapp_submit_wait(&app, cmd);
        if (!coherent)
            VK_CHECK(vkInvalidateMappedMemoryRanges(app.device, 1, &whole));

        for (uint32_t i = 0; i < fill_n; i++)
            model[fill_off + i] = value;
        for (uint32_t i = 0; i < p.count; i++)
            model[p.offset + i * p.stride] = (i * 2654435761u) ^ p.seed;
        model[WORDS - 1] = 0xe0d0000u + r;
        check_model(map, model, r);
        hashes[r] = fnv(map, WORDS);
    }

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, map, (size_t)WORDS * 4);
    vkapp_output_write(out, hashes, sizeof(hashes));
    vkapp_output_close(out);

    vkDestroyDescriptorPool(app.device, pool, NULL);
    vkapp_pipeline_destroy(&app, &pl);
    vkapp_buffer_destroy(&app, &buf);
    vkapp_destroy(&app);
    free(model);
    printf("memory_cached_readback: ok, %u rounds, %.2f s\n", ROUNDS, vkapp_now() - t0);
    return 0;
}
