/* render_mipmaps_blit: uploads a generated level 0, builds the full mip chain
 * with vkCmdBlitImage (VK_FILTER_LINEAR), one level from the previous with a
 * TRANSFER_DST -> TRANSFER_SRC barrier per level, then copies every level to a
 * read-back buffer. Two images: 256x256 R8G8B8A8_UNORM and a non-power-of-two
 * 200x120 R8G8B8A8_SRGB (filtered in linear space). argv[1] gets every level
 * of the first image, then of the second, tightly packed RGBA8. */
#include "render_util.h"

#include <stdlib.h>
#include <string.h>

struct mip_image {
    VkFormat format;
    uint32_t width, height;
    struct render_image img;
    VkDeviceSize upload_offset;     /* level 0 texels in the staging buffer */
    VkDeviceSize level_offset[16];  /* each level in the read-back buffer */
};

static uint32_t mip_count(uint32_t w, uint32_t h)
{
    uint32_t n = 1, m = w > h ? w : h;
    while (m > 1) {
        m >>= 1;
        n++;
    }
    return n;
}

static uint32_t level_dim(uint32_t d, uint32_t level)
{
    return (d >> level) ? (d >> level) : 1;
}

static void fill_level0(const struct mip_image *m, uint8_t *texels)
{
    for (uint32_t y = 0; y < m->height; y++) {
        for (uint32_t x = 0; x < m->width; x++) {
            uint8_t *t = texels + ((size_t)y * m->width + x) * 4;
            t[0] = (uint8_t)(x * 255 / (m->width - 1));
            t[1] = (uint8_t)(y * 255 / (m->height - 1));
            t[2] = (uint8_t)((x ^ y) & 0xff);
            t[3] = (uint8_t)(255 - ((x + y) & 0x7f));
        }
    }
}

static void record_mip_chain(VkCommandBuffer cmd, const struct mip_image *m, VkBuffer staging)
{
    const struct render_image *img = &m->img;
    render_image_barrier(cmd, img, 0, img->mip_levels, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                         0, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferImageCopy up = {
        .bufferOffset = m->upload_offset,
        .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
        .imageExtent = { m->width, m->height, 1 },
    };
    vkCmdCopyBufferToImage(cmd, staging, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                           &up);
    for (uint32_t level = 1; level < img->mip_levels; level++) {
        /* Level-1 was written (copy or blit) and is now read by the blit. */
        render_image_barrier(cmd, img, level - 1, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                             VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                             VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                             VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
        VkImageBlit blit = {
            .srcSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, level - 1, 0, 1 },
            .srcOffsets = { { 0, 0, 0 },
                            { (int32_t)level_dim(m->width, level - 1),
                              (int32_t)level_dim(m->height, level - 1), 1 } },
            .dstSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, level, 0, 1 },
            .dstOffsets = { { 0, 0, 0 },
                            { (int32_t)level_dim(m->width, level),
                              (int32_t)level_dim(m->height, level), 1 } },
        };
        vkCmdBlitImage(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, img->image,
                       VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &blit, VK_FILTER_LINEAR);
    }
    render_image_barrier(cmd, img, img->mip_levels - 1, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
}

static void record_readback(VkCommandBuffer cmd, const struct mip_image *m, VkBuffer readback)
{
    for (uint32_t level = 0; level < m->img.mip_levels; level++)
        render_copy_to_buffer(cmd, &m->img, level, readback, m->level_offset[level]);
}

/* Level 1 of the UNORM image samples exactly between four texels, so each
 * texel is their average (red and green are linear in x and y). */
static void check_unorm(const struct mip_image *m, const uint8_t *base)
{
    const uint8_t *l0 = base + m->level_offset[0];
    const uint8_t *l1 = base + m->level_offset[1];
    uint32_t w1 = level_dim(m->width, 1);
    static const uint32_t probes[][2] = { { 0, 0 }, { 17, 90 }, { 127, 127 }, { 64, 3 } };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        uint32_t x = probes[i][0], y = probes[i][1];
        for (int c = 0; c < 4; c++) {
            int sum = 0;
            for (uint32_t k = 0; k < 4; k++)
                sum += l0[(((size_t)(2 * y + k / 2)) * m->width + 2 * x + k % 2) * 4 + c];
            int got = l1[((size_t)y * w1 + x) * 4 + c];
            APP_CHECK(abs(got * 4 - sum) <= 4 + 2, "level 1 (%u,%u) channel %d = %d, expected %.2f",
                      x, y, c, got, sum / 4.0);
        }
    }
    const uint8_t *last = base + m->level_offset[m->img.mip_levels - 1];
    APP_CHECK(abs(last[0] - 128) <= 3 && abs(last[1] - 128) <= 3,
              "1x1 level = (%u,%u), expected the mean (~128,~128)", last[0], last[1]);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    render_init(&app, "render_mipmaps_blit", NULL);

    struct mip_image images[2] = {
        { .format = VK_FORMAT_R8G8B8A8_UNORM, .width = 256, .height = 256 },
        { .format = VK_FORMAT_R8G8B8A8_SRGB, .width = 200, .height = 120 },
    };
    const VkFormatFeatureFlags need = VK_FORMAT_FEATURE_BLIT_SRC_BIT |
                                      VK_FORMAT_FEATURE_BLIT_DST_BIT |
                                      VK_FORMAT_FEATURE_SAMPLED_IMAGE_FILTER_LINEAR_BIT;
    VkDeviceSize upload_size = 0, readback_size = 0;
    for (int i = 0; i < 2; i++) {
        struct mip_image *m = &images[i];
        VkFormatProperties fp;
        vkGetPhysicalDeviceFormatProperties(app.physical_device, m->format, &fp);
        APP_CHECK((fp.optimalTilingFeatures & need) == need,
                  "format %d cannot be blitted with a linear filter", (int)m->format);
        uint32_t levels = mip_count(m->width, m->height);
        render_image_create(&app, m->format, m->width, m->height, levels,
                            VK_SAMPLE_COUNT_1_BIT,
                            VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                            &m->img);
        m->upload_offset = upload_size;
        upload_size += (VkDeviceSize)m->width * m->height * 4;
        for (uint32_t level = 0; level < levels; level++) {
            m->level_offset[level] = readback_size;
            readback_size +=
                (VkDeviceSize)level_dim(m->width, level) * level_dim(m->height, level) * 4;
        }
    }

    struct vkapp_buffer staging, readback;
    vkapp_buffer_create(&app, upload_size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        0, VKAPP_MAP, &staging);
    render_readback_create(&app, readback_size, &readback);
    for (int i = 0; i < 2; i++)
        fill_level0(&images[i], (uint8_t *)staging.map + images[i].upload_offset);

    VkCommandBuffer cmd = vkapp_begin(&app);
    for (int i = 0; i < 2; i++)
        record_mip_chain(cmd, &images[i], staging.buffer);
    for (int i = 0; i < 2; i++)
        record_readback(cmd, &images[i], readback.buffer);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(&app, cmd);
    render_readback_invalidate(&app, &readback);
    APP_CHECK(memcmp(readback.map, staging.map, 256 * 256 * 4) == 0,
              "level 0 differs from what was uploaded");
    check_unorm(&images[0], readback.map);

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, readback.map, (size_t)readback_size);
    vkapp_output_close(out);

    for (int i = 0; i < 2; i++)
        render_image_destroy(&app, &images[i].img);
    vkapp_buffer_destroy(&app, &readback);
    vkapp_buffer_destroy(&app, &staging);
    vkapp_destroy(&app);
    printf("render_mipmaps_blit: ok, %u + %u levels, %.2f s\n",
           mip_count(images[0].width, images[0].height),
           mip_count(images[1].width, images[1].height), vkapp_now() - t0);
    return 0;
}
