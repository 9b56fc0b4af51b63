/*
 * limits_client: what an application sees of tetherd's per-session limits
 * (run through tether with tetherd --max-objects OBJECTS --max-memory MEMORY).
 *
 *   limits_client OBJECTS MEMORY_MIB
 *
 * Creates fences until one fails: it must fail with
 * VK_ERROR_OUT_OF_HOST_MEMORY, after at least OBJECTS - 32 fences (the device,
 * its queue, pools and the rest of the session count too) and no more than
 * OBJECTS. Freeing 10 makes room for exactly 10 more. Then allocates 1 MiB
 * blocks of device memory until one fails with VK_ERROR_OUT_OF_DEVICE_MEMORY
 * after exactly MEMORY_MIB - 1 blocks (one MiB is the program's own output
 * buffer); freeing one makes room for one. Finally a checked dispatch shows
 * the session is intact. Prints what it saw; exit 0 when all held.
 */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define WORDS (1u << 18) /* the 1 MiB output buffer */

static void dispatch_checked(struct vkapp *app, struct vkapp_buffer *out)
{
    struct vkapp_pipeline pl;
    vkapp_pipeline_create(app, TETHER_SHADER_DIR "/iota.spv", 1, 12, &pl);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(app, 1, 1);
    const struct vkapp_buffer *bufs[1] = {out};
    VkDescriptorSet set = vkapp_descriptor_set_create(app, pool, pl.set_layout, bufs, 1);
    VkCommandBuffer cmd = vkapp_begin(app);
    struct { uint32_t n, mul, add; } push = {WORDS, 7, 11};
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl.pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl.layout, 0, 1, &set, 0, NULL);
    vkCmdPushConstants(cmd, pl.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
    vkCmdDispatch(cmd, WORDS / 64, 1, 1);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(app, cmd);
    const uint32_t *w = out->map;
    for (uint32_t i = 0; i < WORDS; i++)
        APP_CHECK(w[i] == i * 7 + 11, "word %u is %u", i, w[i]);
    vkDestroyDescriptorPool(app->device, pool, NULL);
    vkapp_pipeline_destroy(app, &pl);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 3, "usage: %s OBJECTS MEMORY_MIB", argv[0]);
    const unsigned objects = (unsigned)atoi(argv[1]), memory_mib = (unsigned)atoi(argv[2]);
    APP_CHECK(objects > 64 && objects < 100000 && memory_mib > 1 && memory_mib < 4096, "bad limits");
    struct vkapp app;
    vkapp_init(&app, "limits_client");
    struct vkapp_buffer out;
    vkapp_buffer_create(&app, WORDS * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0,
                        VKAPP_MAP, &out);
    APP_CHECK(out.size <= (1u << 20) + 65536, "the output buffer took %llu bytes", (unsigned long long)out.size);

    /* Objects. */
    VkFence *fences = calloc(objects + 1, sizeof(*fences));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    unsigned made = 0;
    VkResult r = VK_SUCCESS;
    while (made <= objects && (r = vkCreateFence(app.device, &fi, NULL, &fences[made])) == VK_SUCCESS)
        made++;
    printf("fences: %u created, then %s\n", made, vkapp_result_name(r));
    APP_CHECK(r == VK_ERROR_OUT_OF_HOST_MEMORY, "the fence past the limit gave %s", vkapp_result_name(r));
    APP_CHECK(made + 32 >= objects && made < objects, "%u fences under a limit of %u objects", made, objects);
    for (unsigned i = 0; i < 10; i++)
        vkDestroyFence(app.device, fences[--made], NULL);
    for (unsigned i = 0; i < 10; i++)
        VK_CHECK(vkCreateFence(app.device, &fi, NULL, &fences[made++]));
    VK_EXPECT(vkCreateFence(app.device, &fi, NULL, &fences[made]), VK_ERROR_OUT_OF_HOST_MEMORY);
    printf("fences: 10 freed, 10 created again, the next refused\n");
    /* Room for what the dispatch below creates. */
    for (unsigned i = 0; i < 32; i++)
        vkDestroyFence(app.device, fences[--made], NULL);

    /* Device memory, 1 MiB blocks. */
    uint32_t type = vkapp_find_memory_type(&app, ~0u, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    VkDeviceMemory *blocks = calloc(memory_mib + 1, sizeof(*blocks));
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = 1u << 20, .memoryTypeIndex = type};
    unsigned got = 0;
    while (got <= memory_mib && (r = vkAllocateMemory(app.device, &ai, NULL, &blocks[got])) == VK_SUCCESS)
        got++;
    printf("memory: %u MiB allocated, then %s\n", got, vkapp_result_name(r));
    APP_CHECK(r == VK_ERROR_OUT_OF_DEVICE_MEMORY, "the block past the limit gave %s", vkapp_result_name(r));
    APP_CHECK(got == memory_mib - 1, "%u blocks of 1 MiB under a %u MiB limit", got, memory_mib);
    vkFreeMemory(app.device, blocks[--got], NULL);
    VK_CHECK(vkAllocateMemory(app.device, &ai, NULL, &blocks[got++]));
    VK_EXPECT(vkAllocateMemory(app.device, &ai, NULL, &blocks[got]), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    while (got)
        vkFreeMemory(app.device, blocks[--got], NULL);

    dispatch_checked(&app, &out);
    printf("dispatch after the limits: correct\n");
    while (made)
        vkDestroyFence(app.device, fences[--made], NULL);
    free(fences);
    free(blocks);
    vkapp_buffer_destroy(&app, &out);
    vkapp_destroy(&app);
    return 0;
}
