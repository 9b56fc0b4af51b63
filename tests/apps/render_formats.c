/* render_formats: for each common colour format the device can render to
 * (vkGetPhysicalDeviceFormatProperties: COLOR_ATTACHMENT + TRANSFER_SRC/DST,
 * optimal tiling), clears a 64x64 image with vkCmdClearColorImage, draws a
 * gradient triangle with dynamic rendering (a pipeline per format) and clears
 * a rectangle with vkCmdClearAttachments. argv[1] gets, per format in table
 * order: uint32 VkFormat, uint32 supported (0/1), then the image's bytes. */
#include "render_util.h"

#include <string.h>

#define SIZE 64

struct format_info {
    VkFormat format;
    const char *name;
    uint32_t texel_bytes;
};

#define F(fmt, bytes) { VK_FORMAT_##fmt, #fmt, bytes }
static const struct format_info formats[] = {
    F(R8G8B8A8_UNORM, 4),       F(R8G8B8A8_SRGB, 4),
    F(B8G8R8A8_UNORM, 4),       F(B8G8R8A8_SRGB, 4),
    F(R8G8B8A8_SNORM, 4),       F(A8B8G8R8_UNORM_PACK32, 4),
    F(A2B10G10R10_UNORM_PACK32, 4), F(A2R10G10B10_UNORM_PACK32, 4),
    F(R5G6B5_UNORM_PACK16, 2),  F(B5G6R5_UNORM_PACK16, 2),
    F(A1R5G5B5_UNORM_PACK16, 2), F(R4G4B4A4_UNORM_PACK16, 2),
    F(B4G4R4A4_UNORM_PACK16, 2), F(R8_UNORM, 1),
    F(R8G8_UNORM, 2),           F(R16_UNORM, 2),
    F(R16_SFLOAT, 2),           F(R16G16_SFLOAT, 4),
    F(R16G16B16A16_UNORM, 8),   F(R16G16B16A16_SFLOAT, 8),
    F(R32_SFLOAT, 4),           F(R32G32_SFLOAT, 8),
    F(R32G32B32A32_SFLOAT, 16), F(B10G11R11_UFLOAT_PACK32, 4),
};
#undef F
#define NUM_FORMATS (sizeof(formats) / sizeof(formats[0]))

static bool supported(struct vkapp *app, VkFormat format)
{
    const VkFormatFeatureFlags need = VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT |
                                      VK_FORMAT_FEATURE_TRANSFER_SRC_BIT |
                                      VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(app->physical_device, format, &fp);
    return (fp.optimalTilingFeatures & need) == need;
}

static VkPipeline create_pipeline(struct vkapp *app, VkPipelineLayout layout, VkFormat format)
{
    VkPipelineRenderingCreateInfo rci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
        .colorAttachmentCount = 1,
        .pColorAttachmentFormats = &format,
    };
    struct render_pipeline_desc d = {
        .vert = "render_gradient.vert",
        .frag = "render_color.frag",
        .layout = layout,
        .rendering = &rci,
        .width = SIZE,
        .height = SIZE,
    };
    return render_pipeline_create(app, &d);
}

static void record_format(VkCommandBuffer cmd, const struct render_image *img,
                          VkPipeline pipeline, VkBuffer readback, VkDeviceSize offset)
{
    render_image_barrier(cmd, img, 0, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                         0, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
    VkClearColorValue bg = { { 0.25f, 0.5f, 0.75f, 1.0f } };
    VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
    vkCmdClearColorImage(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &bg, 1, &range);
    render_image_barrier(cmd, img, 0, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_READ_BIT |
                             VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
    VkRenderingAttachmentInfo att = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
        .imageView = img->view,
        .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
        .loadOp = VK_ATTACHMENT_LOAD_OP_LOAD,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
    };
    VkRenderingInfo ri = {
        .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
        .renderArea = { { 0, 0 }, { SIZE, SIZE } },
        .layerCount = 1,
        .colorAttachmentCount = 1,
        .pColorAttachments = &att,
    };
    vkCmdBeginRendering(cmd, &ri);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
    vkCmdDraw(cmd, 3, 1, 0, 0);
    VkClearAttachment ca = {
        .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT,
        .colorAttachment = 0,
        .clearValue = { .color = { { 1.0f, 1.0f, 0.0f, 0.5f } } },
    };
    VkClearRect cr = { { { 40, 8 }, { 16, 16 } }, 0, 1 };
    vkCmdClearAttachments(cmd, 1, &ca, 1, &cr);
    vkCmdEndRendering(cmd);
    render_image_barrier(cmd, img, 0, 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
    render_copy_to_buffer(cmd, img, 0, readback, offset);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    render_init(&app, "render_formats", NULL);

    bool ok[NUM_FORMATS];
    VkDeviceSize offsets[NUM_FORMATS], total = 0;
    for (size_t i = 0; i < NUM_FORMATS; i++) {
        ok[i] = supported(&app, formats[i].format);
        offsets[i] = total;
        if (ok[i])
            total += (VkDeviceSize)SIZE * SIZE * formats[i].texel_bytes;
    }
    APP_CHECK(ok[0], "R8G8B8A8_UNORM is not renderable");
    struct vkapp_buffer readback;
    render_readback_create(&app, total, &readback);
    VkPipelineLayout layout = render_pipeline_layout(&app, VK_NULL_HANDLE, 0, 0);

    struct render_image images[NUM_FORMATS];
    VkPipeline pipelines[NUM_FORMATS];
    VkCommandBuffer cmd = vkapp_begin(&app);
    uint32_t rendered = 0;
    for (size_t i = 0; i < NUM_FORMATS; i++) {
        if (!ok[i])
            continue;
        render_image_create(&app, formats[i].format, SIZE, SIZE, 1, VK_SAMPLE_COUNT_1_BIT,
                            VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                                VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                                VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                            &images[i]);
        pipelines[i] = create_pipeline(&app, layout, formats[i].format);
        record_format(cmd, &images[i], pipelines[i], readback.buffer, offsets[i]);
        rendered++;
    }
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(&app, cmd);
    render_readback_invalidate(&app, &readback);

    /* R8G8B8A8_UNORM is first in the table: clear colour, cleared rectangle,
     * and the triangle's first (red) corner. */
    const uint8_t *rgba = readback.map;
    render_expect_rgba8(rgba, SIZE, SIZE - 1, SIZE - 1, 64, 128, 191, 255, 1);
    render_expect_rgba8(rgba, SIZE, 48, 16, 255, 255, 0, 128, 1);
    render_expect_rgba8(rgba, SIZE, 0, 0, 255, 0, 0, 255, 8);

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    for (size_t i = 0; i < NUM_FORMATS; i++) {
        uint32_t header[2] = { (uint32_t)formats[i].format, ok[i] };
        vkapp_output_write(out, header, sizeof(header));
        if (ok[i])
            vkapp_output_write(out, (const uint8_t *)readback.map + offsets[i],
                               (size_t)SIZE * SIZE * formats[i].texel_bytes);
        else
            printf("render_formats: %s not renderable, skipped\n", formats[i].name);
    }
    vkapp_output_close(out);

    for (size_t i = 0; i < NUM_FORMATS; i++) {
        if (!ok[i])
            continue;
        vkDestroyPipeline(app.device, pipelines[i], NULL);
        render_image_destroy(&app, &images[i]);
    }
    vkDestroyPipelineLayout(app.device, layout, NULL);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_destroy(&app);
    printf("render_formats: ok, %u of %zu formats, %.2f s\n", rendered, NUM_FORMATS,
           vkapp_now() - t0);
    return 0;
}
