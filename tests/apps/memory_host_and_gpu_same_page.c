/* memory_host_and_gpu_same_page: the host and the GPU write different bytes
 * of the same pages of one HOST_COHERENT buffer, and neither may lose the
 * other's bytes (what a remote driver's shadow/snapshot merge must keep):
 * halves of a page, interleaved words, single bytes; a second submit made
 * before waiting for the first; writes that restore a page's earlier values
 * (host over GPU bytes, GPU over host bytes); GPU bytes that must not be
 * sent back over newer GPU writes. A host model is checked after each step.
 * Output: the buffer after each step and the GPU's copies of it. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define WORDS 4096u /* 16 KiB: pages 0..3 at words 0, 1024, 2048, 3072 */
#define SCRATCH_WORDS (65535u * 64u) /* maxComputeWorkGroupCount[0] is 65535 */
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

struct push {
    uint32_t offset, count, seed, stride;
};

struct ctx {
    struct vkapp app;
    struct vkapp_buffer main, check, scratch;
    struct vkapp_pipeline pl;
    VkDescriptorSet set_main, set_scratch;
    uint32_t model[WORDS];
    struct vkapp_output *out;
};

static VkCommandBuffer begin(struct ctx *c)
{
    return vkapp_begin(&c->app);
}

/* memory_pattern.comp into main (or scratch) and the model. */
static void gpu_pattern(struct ctx *c, VkCommandBuffer cmd, bool scratch, struct push p)
{
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pl.pipeline);
    VkDescriptorSet set = scratch ? c->set_scratch : c->set_main;
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pl.layout, 0, 1, &set, 0,
                            NULL);
    vkCmdPushConstants(cmd, c->pl.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(p), &p);
    vkCmdDispatch(cmd, (p.count + 63) / 64, 1, 1);
    if (!scratch) {
        for (uint32_t i = 0; i < p.count; i++)
            c->model[p.offset + i * p.stride] = (i * 2654435761u) ^ p.seed;
    }
}

static void to_host(VkCommandBuffer cmd)
{
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
}

/* Copies main to check; the barrier's first scope covers earlier submits. */
static void gpu_copy(VkCommandBuffer cmd, struct ctx *c)
{
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    VkBufferCopy region = { 0, 0, WORDS * 4 };
    vkCmdCopyBuffer(cmd, c->main.buffer, c->check.buffer, 1, &region);
}

static VkFence submit(struct ctx *c, VkCommandBuffer cmd)
{
    VK_CHECK(vkEndCommandBuffer(cmd));
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VkFence fence;
    VK_CHECK(vkCreateFence(c->app.device, &fci, NULL, &fence));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    VK_CHECK(vkQueueSubmit(c->app.queue, 1, &si, fence));
    return fence;
}

static void wait(struct ctx *c, VkFence fence)
{
    VK_CHECK(vkWaitForFences(c->app.device, 1, &fence, VK_TRUE, TIMEOUT_NS));
    vkDestroyFence(c->app.device, fence, NULL);
}

static void expect_model(struct ctx *c, const uint32_t *words, const char *step,
                         const char *which)
{
    for (uint32_t i = 0; i < WORDS; i++)
        APP_CHECK(words[i] == c->model[i],
                  "%s: %s word %u (page %u, byte %u) is 0x%08x, expected 0x%08x", step, which,
                  i, i / 1024, (i % 1024) * 4, words[i], c->model[i]);
    vkapp_output_write(c->out, words, WORDS * 4);
}

static void cpu_words(struct ctx *c, uint32_t first, uint32_t count, uint32_t stride,
                      uint32_t value)
{
    uint32_t *m = c->main.map;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t k = first + i * stride;
        m[k] = c->model[k] = value ? value ^ (k * 0x01010101u) : 0;
    }
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    static struct ctx ctx;
    struct ctx *c = &ctx;
    vkapp_init(&c->app, "memory_host_and_gpu_same_page");
    const VkMemoryPropertyFlags coherent =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    vkapp_buffer_create(&c->app, WORDS * 4, usage, coherent, 0, VKAPP_MAP, &c->main);
    vkapp_buffer_create(&c->app, WORDS * 4, usage, coherent, 0, VKAPP_MAP, &c->check);
    vkapp_buffer_create(&c->app, (VkDeviceSize)SCRATCH_WORDS * 4, usage,
                        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0, &c->scratch);
    vkapp_pipeline_create(&c->app, TETHER_SHADER_DIR "/memory_pattern.comp.spv", 1,
                          sizeof(struct push), &c->pl);
    VkDescriptorPool pool = vkapp_descriptor_pool_create(&c->app, 2, 1);
    const struct vkapp_buffer *b1[1] = { &c->main }, *b2[1] = { &c->scratch };
    c->set_main = vkapp_descriptor_set_create(&c->app, pool, c->pl.set_layout, b1, 1);
    c->set_scratch = vkapp_descriptor_set_create(&c->app, pool, c->pl.set_layout, b2, 1);
    c->out = vkapp_output_open(argv[1]);
    uint8_t *bytes = c->main.map;
    memset(c->main.map, 0, WORDS * 4);
    memset(c->check.map, 0, WORDS * 4);

    /* 1. The GPU writes bytes 2048..4095 of page 0; the host writes bytes
     *    0..2047 while that submit is in flight. */
    VkCommandBuffer cmd = begin(c);
    gpu_pattern(c, cmd, false, (struct push){ 512, 512, 0x11000000u, 1 });
    to_host(cmd);
    VkFence f = submit(c, cmd);
    cpu_words(c, 0, 512, 1, 0xa1000000u);
    wait(c, f);
    expect_model(c, c->main.map, "halves of a page", "buffer");

    /* 2. Interleaved words of page 1 (GPU odd, host even), then a second
     *    submit before waiting for the first: its copy must see both. */
    cmd = begin(c);
    gpu_pattern(c, cmd, false, (struct push){ 1025, 512, 0x22000000u, 2 });
    to_host(cmd);
    VkFence f1 = submit(c, cmd);
    cpu_words(c, 1024, 512, 2, 0xb2000000u);
    cmd = begin(c);
    gpu_copy(cmd, c);
    to_host(cmd);
    VkFence f2 = submit(c, cmd);
    wait(c, f2);
    wait(c, f1);
    expect_model(c, c->main.map, "interleaved words", "buffer");
    expect_model(c, c->check.map, "interleaved words", "GPU copy");

    /* 3. Single bytes: the GPU writes the even words of page 2, the host one
     *    byte (byte 1) of each odd word meanwhile. */
    cmd = begin(c);
    gpu_pattern(c, cmd, false, (struct push){ 2048, 512, 0x33000000u, 2 });
    to_host(cmd);
    f = submit(c, cmd);
    for (uint32_t k = 0; k < 512; k++) {
        uint32_t w = 2049 + 2 * k;
        bytes[w * 4 + 1] = (uint8_t)(0x5a ^ k);
        c->model[w] = (uint32_t)(uint8_t)(0x5a ^ k) << 8;
    }
    wait(c, f);
    expect_model(c, c->main.map, "single bytes", "buffer");

    /* 4. Restoring earlier values: the host writes zeros (what was there
     *    before the GPU wrote) over GPU words of pages 0 and 1; the GPU fills
     *    zeros (what was there before the host wrote) over host words of
     *    page 3, and writes words 3200..3327 for step 5. */
    cpu_words(c, 512, 64, 1, 0);
    cpu_words(c, 1025, 64, 2, 0);
    cpu_words(c, 3072, 128, 1, 0xdead0000u);
    cmd = begin(c);
    vkCmdFillBuffer(cmd, c->main.buffer, 3072 * 4, 128 * 4, 0);
    for (uint32_t k = 3072; k < 3072 + 128; k++)
        c->model[k] = 0;
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT);
    gpu_pattern(c, cmd, false, (struct push){ 3200, 128, 0x44000000u, 1 });
    gpu_copy(cmd, c);
    to_host(cmd);
    f = submit(c, cmd);
    wait(c, f);
    expect_model(c, c->main.map, "restored values", "buffer");
    expect_model(c, c->check.map, "restored values", "GPU copy");

    /* 5. The GPU rewrites words 3200..3327 after a long dispatch while a
     *    second submit follows at once, with a host write next to them: the
     *    host's old copy of the GPU's words must not reach the GPU again. */
    cmd = begin(c);
    gpu_pattern(c, cmd, true, (struct push){ 0, SCRATCH_WORDS, 0x55000000u, 1 });
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT);
    gpu_pattern(c, cmd, false, (struct push){ 3200, 128, 0x66000000u, 1 });
    to_host(cmd);
    f1 = submit(c, cmd);
    cpu_words(c, 3190, 4, 1, 0xc5000000u);
    cmd = begin(c);
    vkCmdFillBuffer(cmd, c->check.buffer, 0, 4096, 0x12345678u);
    to_host(cmd);
    f2 = submit(c, cmd);
    wait(c, f2);
    wait(c, f1);
    expect_model(c, c->main.map, "GPU words not sent back", "buffer");

    vkapp_output_close(c->out);
    vkDestroyDescriptorPool(c->app.device, pool, NULL);
    vkapp_pipeline_destroy(&c->app, &c->pl);
    vkapp_buffer_destroy(&c->app, &c->scratch);
    vkapp_buffer_destroy(&c->app, &c->check);
    vkapp_buffer_destroy(&c->app, &c->main);
    vkapp_destroy(&c->app);
    printf("memory_host_and_gpu_same_page: ok, %.2f s\n", vkapp_now() - t0);
    return 0;
}
