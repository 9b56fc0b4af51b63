/* api_secondary_buffer_address_private: features a driver must carry beyond
 * plain draws and dispatches:
 * - secondary command buffers run by vkCmdExecuteCommands, one inside a
 *   render pass (RENDER_PASS_CONTINUE, inherited render pass/framebuffer) that
 *   draws two scissored rectangles, one outside for compute;
 * - buffer device address (1.2): a shader reads and writes buffers through
 *   64-bit addresses passed as push constants (GL_EXT_buffer_reference);
 * - private data (1.3): values set on a buffer, an image and the device read
 *   back equal, an unset object reads 0;
 * - precise occlusion and pipeline statistics queries, reset from the host
 *   (vkResetQueryPool), read by vkGetQueryPoolResults and by
 *   vkCmdCopyQueryPoolResults into a buffer with availability words.
 * Output: private data values, query results, BDA output, the image. */
#include "render_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define W 64u
#define H 64u
#define BDA_N 1000u
#define BDA_DST_OFFSET 256u /* bytes: address arithmetic on the GPU side */
#define FORMAT VK_FORMAT_R8G8B8A8_UNORM
#define GFX_STATS 5u

static const VkRect2D rects[2] = { { { 8, 8 }, { 32, 16 } }, { { 40, 30 }, { 10, 10 } } };

struct bda_push {
    VkDeviceAddress src, dst;
    uint32_t n, add;
};

struct bda_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint32_t *map;
    VkDeviceAddress address;
};

static void bda_buffer_create(struct vkapp *app, VkDeviceSize size, struct bda_buffer *out)
{
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_CHECK(vkCreateBuffer(app->device, &bci, NULL, &out->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(app->device, out->buffer, &req);
    /* VkMemoryAllocateFlagsInfo: memory of a SHADER_DEVICE_ADDRESS buffer
     * must be allocated with VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT. */
    VkMemoryAllocateFlagsInfo flags = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
        .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
    };
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &flags,
        .allocationSize = req.size,
        .memoryTypeIndex = vkapp_find_memory_type(
            app, req.memoryTypeBits,
            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0),
    };
    VK_CHECK(vkAllocateMemory(app->device, &mai, NULL, &out->memory));
    VK_CHECK(vkBindBufferMemory(app->device, out->buffer, out->memory, 0));
    VK_CHECK(vkMapMemory(app->device, out->memory, 0, VK_WHOLE_SIZE, 0, (void **)&out->map));
    VkBufferDeviceAddressInfo ai = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
        .buffer = out->buffer,
    };
    out->address = vkGetBufferDeviceAddress(app->device, &ai);
    APP_CHECK(out->address != 0, "vkGetBufferDeviceAddress gave 0");
}

static void bda_buffer_destroy(struct vkapp *app, struct bda_buffer *b)
{
    vkDestroyBuffer(app->device, b->buffer, NULL);
    vkFreeMemory(app->device, b->memory, NULL);
}

static VkQueryPool query_pool(struct vkapp *app, VkQueryType type, uint32_t count,
                              VkQueryPipelineStatisticFlags stats)
{
    VkQueryPoolCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
        .queryType = type,
        .queryCount = count,
        .pipelineStatistics = stats,
    };
    VkQueryPool pool;
    VK_CHECK(vkCreateQueryPool(app->device, &ci, NULL, &pool));
    /* hostQueryReset (1.2): no vkCmdResetQueryPool needed before first use. */
    vkResetQueryPool(app->device, pool, 0, count);
    return pool;
}

/* Private data on a buffer, an image, the device; an unset object reads 0. */
static void private_data(struct vkapp *app, VkBuffer buffer, VkImage image, VkSampler unset,
                         uint64_t out[4])
{
    VkPrivateDataSlotCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_PRIVATE_DATA_SLOT_CREATE_INFO };
    VkPrivateDataSlot slot, slot2;
    VK_CHECK(vkCreatePrivateDataSlot(app->device, &ci, NULL, &slot));
    VK_CHECK(vkCreatePrivateDataSlot(app->device, &ci, NULL, &slot2));
    const uint64_t want[3] = { 0x0123456789abcdefull, 0xfeedface00000001ull,
                               0x8000000000000042ull };
    VK_CHECK(vkSetPrivateData(app->device, VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer, slot,
                              want[0]));
    VK_CHECK(vkSetPrivateData(app->device, VK_OBJECT_TYPE_IMAGE, (uint64_t)image, slot,
                              want[1]));
    VK_CHECK(vkSetPrivateData(app->device, VK_OBJECT_TYPE_DEVICE,
                              (uint64_t)(uintptr_t)app->device, slot2, want[2]));
    /* Same object, other slot: a separate value. */
    VK_CHECK(vkSetPrivateData(app->device, VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer, slot2, 7));
    vkGetPrivateData(app->device, VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer, slot, &out[0]);
    vkGetPrivateData(app->device, VK_OBJECT_TYPE_IMAGE, (uint64_t)image, slot, &out[1]);
    vkGetPrivateData(app->device, VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)app->device,
                     slot2, &out[2]);
    uint64_t other = 1;
    vkGetPrivateData(app->device, VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer, slot2, &other);
    out[3] = 0xdead;
    vkGetPrivateData(app->device, VK_OBJECT_TYPE_SAMPLER, (uint64_t)unset, slot, &out[3]);
    for (int i = 0; i < 3; i++)
        APP_CHECK(out[i] == want[i], "private data %d reads 0x%016" PRIx64 ", set 0x%016" PRIx64,
                  i, out[i], want[i]);
    APP_CHECK(other == 7, "private data in the second slot reads %" PRIu64, other);
    APP_CHECK(out[3] == 0, "private data never set reads 0x%" PRIx64, out[3]);
    vkDestroyPrivateDataSlot(app->device, slot2, NULL);
    vkDestroyPrivateDataSlot(app->device, slot, NULL);
}

static VkRenderPass create_render_pass(struct vkapp *app)
{
    VkAttachmentDescription att = {
        .format = FORMAT,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .finalLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
    };
    VkAttachmentReference ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
    VkSubpassDescription sub = {
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
        .colorAttachmentCount = 1,
        .pColorAttachments = &ref,
    };
    VkRenderPassCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
        .attachmentCount = 1,
        .pAttachments = &att,
        .subpassCount = 1,
        .pSubpasses = &sub,
    };
    VkRenderPass rp;
    VK_CHECK(vkCreateRenderPass(app->device, &ci, NULL, &rp));
    return rp;
}

static VkCommandBuffer begin_secondary(struct vkapp *app, VkRenderPass rp, VkFramebuffer fb)
{
    VkCommandBufferAllocateInfo cbai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = app->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_SECONDARY,
        .commandBufferCount = 1,
    };
    VkCommandBuffer cmd;
    VK_CHECK(vkAllocateCommandBuffers(app->device, &cbai, &cmd));
    VkCommandBufferInheritanceInfo inh = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
        .renderPass = rp,
        .subpass = 0,
        .framebuffer = fb,
    };
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT |
                 (rp ? VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT : 0),
        .pInheritanceInfo = &inh,
    };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    return cmd;
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_instance_init(&app, "api_secondary_buffer_address_private");
    VkPhysicalDeviceFeatures have;
    vkGetPhysicalDeviceFeatures(app.physical_device, &have);
    APP_CHECK(have.occlusionQueryPrecise, "no occlusionQueryPrecise");
    const bool stats = have.pipelineStatisticsQuery;
    VkPhysicalDeviceVulkan13Features f13 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
        .privateData = VK_TRUE,
        .maintenance4 = VK_TRUE,
    };
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = &f13,
        .bufferDeviceAddress = VK_TRUE,
        .hostQueryReset = VK_TRUE,
    };
    /* Reserve a slot at device creation too (VkDevicePrivateDataCreateInfo). */
    VkDevicePrivateDataCreateInfo pdci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_PRIVATE_DATA_CREATE_INFO,
        .pNext = &f12,
        .privateDataSlotRequestCount = 2,
    };
    VkPhysicalDeviceFeatures2 f2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &pdci,
        .features = { .occlusionQueryPrecise = VK_TRUE, .pipelineStatisticsQuery = stats },
    };
    vkapp_device_create(&app, &(struct vkapp_device_options){
        .queue_flags = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT, .features = &f2 });

    struct render_image target;
    render_image_create(&app, FORMAT, W, H, 1, VK_SAMPLE_COUNT_1_BIT,
                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                        &target);
    struct vkapp_buffer readback, results;
    render_readback_create(&app, W * H * 4, &readback);
    vkapp_buffer_create(&app, 256, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        0, VKAPP_MAP, &results);
    VkSamplerCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO };
    VkSampler unset;
    VK_CHECK(vkCreateSampler(app.device, &sci, NULL, &unset));
    uint64_t priv[4];
    private_data(&app, readback.buffer, target.image, unset, priv);

    /* Buffer device address pipeline: no descriptor sets at all. */
    struct bda_buffer src, dst;
    bda_buffer_create(&app, BDA_N * 4, &src);
    bda_buffer_create(&app, BDA_N * 4 + BDA_DST_OFFSET, &dst);
    for (uint32_t i = 0; i < BDA_N; i++)
        src.map[i] = i * 17u + 3u;
    memset(dst.map, 0, BDA_N * 4 + BDA_DST_OFFSET);
    VkPipelineLayout bda_layout =
        render_pipeline_layout(&app, VK_NULL_HANDLE, VK_SHADER_STAGE_COMPUTE_BIT,
                               sizeof(struct bda_push));
    VkShaderModule bda_module = render_shader(&app, "api_bda.comp");
    VkComputePipelineCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                   .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = bda_module, .pName = "main" },
        .layout = bda_layout,
    };
    VkPipeline bda_pipeline;
    VK_CHECK(vkCreateComputePipelines(app.device, app.pipeline_cache, 1, &cpci, NULL,
                                      &bda_pipeline));
    vkDestroyShaderModule(app.device, bda_module, NULL);

    VkRenderPass rp = create_render_pass(&app);
    VkFramebufferCreateInfo fbci = {
        .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
        .renderPass = rp,
        .attachmentCount = 1,
        .pAttachments = &target.view,
        .width = W,
        .height = H,
        .layers = 1,
    };
    VkFramebuffer fb;
    VK_CHECK(vkCreateFramebuffer(app.device, &fbci, NULL, &fb));
    VkPipelineLayout gfx_layout = render_pipeline_layout(&app, VK_NULL_HANDLE, 0, 0);
    static const VkDynamicState dynamic[] = { VK_DYNAMIC_STATE_SCISSOR };
    struct render_pipeline_desc d = {
        .vert = "render_fullscreen.vert",
        .frag = "api_solid.frag",
        .layout = gfx_layout,
        .render_pass = rp,
        .width = W,
        .height = H,
        .dynamic = dynamic,
        .dynamic_count = 1,
    };
    VkPipeline gfx_pipeline = render_pipeline_create(&app, &d);

    VkQueryPool occlusion = query_pool(&app, VK_QUERY_TYPE_OCCLUSION, 2, 0);
    const VkQueryPipelineStatisticFlags gfx_flags =
        VK_QUERY_PIPELINE_STATISTIC_INPUT_ASSEMBLY_VERTICES_BIT |
        VK_QUERY_PIPELINE_STATISTIC_INPUT_ASSEMBLY_PRIMITIVES_BIT |
        VK_QUERY_PIPELINE_STATISTIC_VERTEX_SHADER_INVOCATIONS_BIT |
        VK_QUERY_PIPELINE_STATISTIC_CLIPPING_INVOCATIONS_BIT |
        VK_QUERY_PIPELINE_STATISTIC_FRAGMENT_SHADER_INVOCATIONS_BIT;
    VkQueryPool gfx_stats = VK_NULL_HANDLE, cs_stats = VK_NULL_HANDLE;
    if (stats) {
        gfx_stats = query_pool(&app, VK_QUERY_TYPE_PIPELINE_STATISTICS, 1, gfx_flags);
        cs_stats = query_pool(&app, VK_QUERY_TYPE_PIPELINE_STATISTICS, 1,
                              VK_QUERY_PIPELINE_STATISTIC_COMPUTE_SHADER_INVOCATIONS_BIT);
    }

    /* Secondary 1 (compute, outside a render pass): BDA dispatch. */
    VkCommandBuffer sec_cs = begin_secondary(&app, VK_NULL_HANDLE, VK_NULL_HANDLE);
    if (stats)
        vkCmdBeginQuery(sec_cs, cs_stats, 0, 0);
    vkCmdBindPipeline(sec_cs, VK_PIPELINE_BIND_POINT_COMPUTE, bda_pipeline);
    struct bda_push bp = { src.address, dst.address + BDA_DST_OFFSET, BDA_N, 0x1000u };
    vkCmdPushConstants(sec_cs, bda_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(bp), &bp);
    vkCmdDispatch(sec_cs, (BDA_N + 63) / 64, 1, 1);
    if (stats)
        vkCmdEndQuery(sec_cs, cs_stats, 0);
    VK_CHECK(vkEndCommandBuffer(sec_cs));

    /* Secondary 2 (inside the render pass): two scissored full-screen
     * triangles, each in its own precise occlusion query. */
    VkCommandBuffer sec_gfx = begin_secondary(&app, rp, fb);
    vkCmdBindPipeline(sec_gfx, VK_PIPELINE_BIND_POINT_GRAPHICS, gfx_pipeline);
    if (stats)
        vkCmdBeginQuery(sec_gfx, gfx_stats, 0, 0);
    for (uint32_t q = 0; q < 2; q++) {
        vkCmdBeginQuery(sec_gfx, occlusion, q, VK_QUERY_CONTROL_PRECISE_BIT);
        vkCmdSetScissor(sec_gfx, 0, 1, &rects[q]);
        vkCmdDraw(sec_gfx, 3, 1, 0, 0);
        vkCmdEndQuery(sec_gfx, occlusion, q);
    }
    if (stats)
        vkCmdEndQuery(sec_gfx, gfx_stats, 0);
    VK_CHECK(vkEndCommandBuffer(sec_gfx));

    VkCommandBuffer cmd = vkapp_begin(&app);
    vkCmdExecuteCommands(cmd, 1, &sec_cs);
    VkClearValue clear = { .color = { .float32 = { 0.0f, 0.0f, 0.0f, 1.0f } } };
    VkRenderPassBeginInfo rpbi = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
        .renderPass = rp,
        .framebuffer = fb,
        .renderArea = { { 0, 0 }, { W, H } },
        .clearValueCount = 1,
        .pClearValues = &clear,
    };
    vkCmdBeginRenderPass(cmd, &rpbi, VK_SUBPASS_CONTENTS_SECONDARY_COMMAND_BUFFERS);
    vkCmdExecuteCommands(cmd, 1, &sec_gfx);
    vkCmdEndRenderPass(cmd);
    render_image_barrier(cmd, &target, 0, 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
    render_copy_to_buffer(cmd, &target, 0, readback.buffer, 0);
    /* Results with availability words, at a stride larger than needed. */
    const VkQueryResultFlags qflags =
        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT;
    vkCmdFillBuffer(cmd, results.buffer, 0, VK_WHOLE_SIZE, 0xffffffffu);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
    vkCmdCopyQueryPoolResults(cmd, occlusion, 0, 2, results.buffer, 0, 24, qflags);
    if (stats) {
        vkCmdCopyQueryPoolResults(cmd, gfx_stats, 0, 1, results.buffer, 64, 48, qflags);
        vkCmdCopyQueryPoolResults(cmd, cs_stats, 0, 1, results.buffer, 128, 16, qflags);
    }
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(&app, cmd);

    /* Checks: BDA output, the image, the queries. */
    const uint32_t *bda_out = dst.map + BDA_DST_OFFSET / 4;
    for (uint32_t i = 0; i < BDA_N; i++)
        APP_CHECK(bda_out[i] == src.map[i] * 3u + 0x1000u, "BDA word %u is %u, expected %u", i,
                  bda_out[i], src.map[i] * 3u + 0x1000u);
    for (uint32_t i = 0; i < BDA_DST_OFFSET / 4; i++)
        APP_CHECK(dst.map[i] == 0, "BDA wrote below the address offset (word %u)", i);
    const uint8_t *px = readback.map;
    for (uint32_t y = 0; y < H; y++) {
        for (uint32_t x = 0; x < W; x++) {
            bool in = false;
            for (int q = 0; q < 2; q++)
                in |= x >= (uint32_t)rects[q].offset.x &&
                      x < rects[q].offset.x + rects[q].extent.width &&
                      y >= (uint32_t)rects[q].offset.y &&
                      y < rects[q].offset.y + rects[q].extent.height;
            if (in)
                render_expect_rgba8(px, W, x, y, 255, 128, 64, 255, 1);
            else
                render_expect_rgba8(px, W, x, y, 0, 0, 0, 255, 0);
        }
    }
    const uint64_t *res = results.map;
    uint64_t host[2 * 2];
    VK_CHECK(vkGetQueryPoolResults(app.device, occlusion, 0, 2, sizeof(host), host, 16,
                                   VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT));
    for (uint32_t q = 0; q < 2; q++) {
        uint64_t want = (uint64_t)rects[q].extent.width * rects[q].extent.height;
        APP_CHECK(res[q * 3] == want && res[q * 3 + 1] == 1,
                  "copied occlusion query %u: %" PRIu64 " (available %" PRIu64 "), expected %"
                  PRIu64, q, res[q * 3], res[q * 3 + 1], want);
        APP_CHECK(host[q * 2] == want && host[q * 2 + 1] == 1,
                  "host occlusion query %u: %" PRIu64 ", expected %" PRIu64, q, host[q * 2],
                  want);
        APP_CHECK(res[q * 3 + 2] == 0xffffffffffffffffull, "copy wrote past its stride");
    }
    if (stats) {
        uint64_t h[GFX_STATS + 1], c[2];
        VK_CHECK(vkGetQueryPoolResults(app.device, gfx_stats, 0, 1, sizeof(h), h, sizeof(h),
                                       VK_QUERY_RESULT_64_BIT |
                                           VK_QUERY_RESULT_WITH_AVAILABILITY_BIT));
        VK_CHECK(vkGetQueryPoolResults(app.device, cs_stats, 0, 1, sizeof(c), c, sizeof(c),
                                       VK_QUERY_RESULT_64_BIT |
                                           VK_QUERY_RESULT_WITH_AVAILABILITY_BIT));
        APP_CHECK(memcmp(h, res + 8, sizeof(h)) == 0 && memcmp(c, res + 16, sizeof(c)) == 0,
                  "vkCmdCopyQueryPoolResults and vkGetQueryPoolResults disagree");
        APP_CHECK(h[0] == 6 && h[1] == 2 && h[GFX_STATS] == 1,
                  "graphics statistics: %" PRIu64 " vertices, %" PRIu64 " primitives", h[0],
                  h[1]);
        const uint64_t invocations = (BDA_N + 63) / 64 * 64;
        APP_CHECK(c[0] == invocations && c[1] == 1,
                  "compute shader invocations %" PRIu64 ", expected %" PRIu64, c[0],
                  invocations);
    }

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    uint32_t flag = stats;
    vkapp_output_write(out, &flag, 4);
    vkapp_output_write(out, priv, sizeof(priv));
    vkapp_output_write(out, results.map, 256);
    vkapp_output_write(out, bda_out, BDA_N * 4);
    vkapp_output_write(out, readback.map, W * H * 4);
    vkapp_output_close(out);

    VkCommandBuffer secs[2] = { sec_cs, sec_gfx };
    vkFreeCommandBuffers(app.device, app.command_pool, 2, secs);
    if (stats) {
        vkDestroyQueryPool(app.device, cs_stats, NULL);
        vkDestroyQueryPool(app.device, gfx_stats, NULL);
    }
    vkDestroyQueryPool(app.device, occlusion, NULL);
    vkDestroyPipeline(app.device, gfx_pipeline, NULL);
    vkDestroyPipelineLayout(app.device, gfx_layout, NULL);
    vkDestroyFramebuffer(app.device, fb, NULL);
    vkDestroyRenderPass(app.device, rp, NULL);
    vkDestroyPipeline(app.device, bda_pipeline, NULL);
    vkDestroyPipelineLayout(app.device, bda_layout, NULL);
    bda_buffer_destroy(&app, &dst);
    bda_buffer_destroy(&app, &src);
    vkDestroySampler(app.device, unset, NULL);
    vkapp_buffer_destroy(&app, &results);
    vkapp_buffer_destroy(&app, &readback);
    render_image_destroy(&app, &target);
    vkapp_destroy(&app);
    printf("api_secondary_buffer_address_private: ok, %.2f s\n", vkapp_now() - t0);
    return 0;
}
