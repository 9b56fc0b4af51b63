/*
 * link_loss_client: a Vulkan program that keeps computing until its GPU goes
 * away, then waits for it to come back and computes again.
 *
 *   link_loss_client [--frames N] [--reconnect-s S] [--hold-mib M]
 *
 * Phase 1 dispatches the iota shader over 1M words per iteration (a new
 * add value each time), waits with an unbounded vkWaitForFences and checks
 * every word of the mapped result; it prints "iteration K" per iteration.
 * Whatever call first fails must fail with VK_ERROR_DEVICE_LOST (or
 * VK_ERROR_SURFACE_LOST_KHR / VK_ERROR_OUT_OF_DATE_KHR nowhere: this program
 * presents nothing) and no call may block for ever: the program prints
 * "lost: <call> <result> after S s" and tears down what it made. Phase 2
 * retries vkCreateInstance + vkCreateDevice every 250 ms for up to
 * --reconnect-s seconds (default 60), then runs --frames (default 3) checked
 * iterations on the new device and prints "recovered". Exit 0 only when
 * both phases happened; --frames without a loss (phase 1 ends after 100000
 * iterations) is a failure. --hold-mib also allocates M MiB of device-local
 * memory first and holds it (to see the server give it back when the program
 * is killed).
 */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORDS (1u << 20)

struct compute {
    struct vkapp app;
    struct vkapp_buffer out;
    struct vkapp_pipeline pl;
    VkDescriptorPool pool;
    VkDescriptorSet set;
    VkCommandBuffer cmd;
    VkFence fence;
};

static const char *failed_call;

#define TRY(call)                              \
    do {                                       \
        VkResult r_ = (call);                  \
        if (r_ != VK_SUCCESS) {                \
            failed_call = #call;               \
            return r_;                         \
        }                                      \
    } while (0)

static void compute_init(struct compute *c)
{
    memset(c, 0, sizeof(*c));
    vkapp_init(&c->app, "link_loss_client");
    vkapp_buffer_create(&c->app, WORDS * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0,
                        VKAPP_MAP, &c->out);
    vkapp_pipeline_create(&c->app, TETHER_SHADER_DIR "/iota.spv", 1, 12, &c->pl);
    c->pool = vkapp_descriptor_pool_create(&c->app, 1, 1);
    const struct vkapp_buffer *bufs[1] = {&c->out};
    c->set = vkapp_descriptor_set_create(&c->app, c->pool, c->pl.set_layout, bufs, 1);
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = c->app.command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VK_CHECK(vkAllocateCommandBuffers(c->app.device, &ai, &c->cmd));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_CHECK(vkCreateFence(c->app.device, &fi, NULL, &c->fence));
}

/* One checked iteration; any failure is returned with failed_call set. */
static VkResult compute_once(struct compute *c, uint32_t add)
{
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    TRY(vkResetCommandBuffer(c->cmd, 0));
    TRY(vkBeginCommandBuffer(c->cmd, &bi));
    struct { uint32_t n, mul, add; } push = {WORDS, 3, add};
    vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pl.pipeline);
    vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pl.layout, 0, 1, &c->set, 0, NULL);
    vkCmdPushConstants(c->cmd, c->pl.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
    vkCmdDispatch(c->cmd, WORDS / 64, 1, 1);
    vkapp_barrier(c->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    TRY(vkEndCommandBuffer(c->cmd));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &c->cmd};
    TRY(vkResetFences(c->app.device, 1, &c->fence));
    TRY(vkQueueSubmit(c->app.queue, 1, &si, c->fence));
    TRY(vkWaitForFences(c->app.device, 1, &c->fence, VK_TRUE, UINT64_MAX));
    const uint32_t *w = c->out.map;
    for (uint32_t i = 0; i < WORDS; i++)
        APP_CHECK(w[i] == i * 3 + add, "word %u is %u, expected %u", i, w[i], i * 3 + add);
    return VK_SUCCESS;
}

/* Destroys what phase 1 made; every call is allowed on a lost device. */
static void compute_destroy_lost(struct compute *c)
{
    VkDevice d = c->app.device;
    vkDestroyFence(d, c->fence, NULL);
    vkDestroyDescriptorPool(d, c->pool, NULL);
    vkDestroyPipeline(d, c->pl.pipeline, NULL);
    vkDestroyPipelineLayout(d, c->pl.layout, NULL);
    vkDestroyDescriptorSetLayout(d, c->pl.set_layout, NULL);
    vkUnmapMemory(d, c->out.memory);
    vkDestroyBuffer(d, c->out.buffer, NULL);
    vkFreeMemory(d, c->out.memory, NULL);
    vkDestroyCommandPool(d, c->app.command_pool, NULL);
    vkDestroyPipelineCache(d, c->app.pipeline_cache, NULL);
    vkDestroyDevice(d, NULL);
    vkDestroyInstance(c->app.instance, NULL);
}

/* Whether a server answers: an instance with at least one physical device. */
static bool server_back(void)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance inst;
    if (vkCreateInstance(&ci, NULL, &inst) != VK_SUCCESS)
        return false;
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(inst, &n, NULL);
    vkDestroyInstance(inst, NULL);
    return r == VK_SUCCESS && n > 0;
}

int main(int argc, char **argv)
{
    unsigned frames = 3;
    double reconnect_s = 60;
    unsigned hold_mib = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            frames = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reconnect-s") && i + 1 < argc)
            reconnect_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--hold-mib") && i + 1 < argc)
            hold_mib = (unsigned)atoi(argv[++i]);
        else
            APP_CHECK(0, "usage: %s [--frames N] [--reconnect-s S]", argv[0]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct compute c;
    compute_init(&c);
    VkDeviceMemory held = VK_NULL_HANDLE;
    if (hold_mib) {
        VkMemoryAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .allocationSize = (VkDeviceSize)hold_mib << 20,
            .memoryTypeIndex = vkapp_find_memory_type(&c.app, ~0u, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0),
        };
        VK_CHECK(vkAllocateMemory(c.app.device, &ai, NULL, &held));
        printf("holding %u MiB\n", hold_mib);
    }
    double last_good = vkapp_now();
    VkResult r = VK_SUCCESS;
    for (uint32_t k = 1; k <= 100000; k++) {
        r = compute_once(&c, k);
        if (r != VK_SUCCESS)
            break;
        last_good = vkapp_now();
        printf("iteration %u\n", k);
    }
    APP_CHECK(r != VK_SUCCESS, "the device was never lost");
    printf("lost: %s %s after %.2f s\n", failed_call, vkapp_result_name(r), vkapp_now() - last_good);
    APP_CHECK(r == VK_ERROR_DEVICE_LOST, "%s failed with %s, expected VK_ERROR_DEVICE_LOST", failed_call,
              vkapp_result_name(r));
    vkFreeMemory(c.app.device, held, NULL);
    compute_destroy_lost(&c);

    double start = vkapp_now();
    while (!server_back()) {
        APP_CHECK(vkapp_now() - start < reconnect_s, "no server for %.0f s", reconnect_s);
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("server back after %.2f s\n", vkapp_now() - start);
    compute_init(&c);
    for (uint32_t k = 1; k <= frames; k++) {
        r = compute_once(&c, 1000000 + k);
        APP_CHECK(r == VK_SUCCESS, "%s failed with %s after reconnecting", failed_call, vkapp_result_name(r));
        printf("iteration %u\n", k);
    }
    vkapp_pipeline_destroy(&c.app, &c.pl);
    vkDestroyFence(c.app.device, c.fence, NULL);
    vkDestroyDescriptorPool(c.app.device, c.pool, NULL);
    vkapp_buffer_destroy(&c.app, &c.out);
    vkapp_destroy(&c.app);
    printf("recovered\n");
    return 0;
}
