/* render_util: graphics set-up shared by tests/apps/render_*.c; see render_util.h.
 * Nothing here is tether-specific: the programs must make the same calls
 * natively and through tether so that their images can be compared bytewise. */
#include "render_util.h"

#include <stdlib.h>
#include <string.h>

void render_init(struct vkapp *app, const char *name, struct render_caps *caps)
{
    struct render_caps local;
    if (!caps)
        caps = &local;
    memset(caps, 0, sizeof(*caps));
    vkapp_instance_init(app, name);

    VkPhysicalDeviceVulkan13Features f13 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
    };
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = &f13,
    };
    VkPhysicalDeviceFeatures2 f2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &f12,
    };
    vkGetPhysicalDeviceFeatures2(app->physical_device, &f2);
    APP_CHECK(f13.dynamicRendering && f13.synchronization2 && f13.maintenance4,
              "device lacks Vulkan 1.3 mandatory features");
    caps->multi_draw_indirect = f2.features.multiDrawIndirect;
    caps->draw_indirect_first_instance = f2.features.drawIndirectFirstInstance;
    caps->draw_indirect_count = f12.drawIndirectCount;

    VkPhysicalDeviceVulkan13Features en13 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
        .dynamicRendering = VK_TRUE,
        .synchronization2 = VK_TRUE,
        /* glslang's SPIR-V 1.6 declares compute workgroup sizes with
         * LocalSizeId (VUID-RuntimeSpirv-LocalSizeId-06434). */
        .maintenance4 = VK_TRUE,
    };
    VkPhysicalDeviceVulkan12Features en12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = &en13,
        .drawIndirectCount = caps->draw_indirect_count,
    };
    VkPhysicalDeviceFeatures2 en2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &en12,
        .features = {
            .multiDrawIndirect = caps->multi_draw_indirect,
            .drawIndirectFirstInstance = caps->draw_indirect_first_instance,
        },
    };
    /* The programs record graphics and compute work on one queue. */
    vkapp_device_create(app, &(struct vkapp_device_options){
        .queue_flags = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT,
        .features = &en2,
    });
}

VkShaderModule render_shader(struct vkapp *app, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.spv", TETHER_SHADER_DIR, name);
    return vkapp_shader_module(app, path);
}

static VkImageAspectFlags format_aspect(VkFormat format)
{
    switch (format) {
    case VK_FORMAT_D16_UNORM:
    case VK_FORMAT_X8_D24_UNORM_PACK32:
    case VK_FORMAT_D32_SFLOAT:
        return VK_IMAGE_ASPECT_DEPTH_BIT;
    case VK_FORMAT_D16_UNORM_S8_UINT:
    case VK_FORMAT_D24_UNORM_S8_UINT:
    case VK_FORMAT_D32_SFLOAT_S8_UINT:
        return VK_IMAGE_ASPECT_DEPTH_BIT | VK_IMAGE_ASPECT_STENCIL_BIT;
    default:
        return VK_IMAGE_ASPECT_COLOR_BIT;
    }
}

void render_image_create(struct vkapp *app, VkFormat format, uint32_t width,
                         uint32_t height, uint32_t mip_levels, VkSampleCountFlagBits samples,
                         VkImageUsageFlags usage, struct render_image *out)
{
    memset(out, 0, sizeof(*out));
    out->format = format;
    out->aspect = format_aspect(format);
    out->width = width;
    out->height = height;
    out->mip_levels = mip_levels;
    out->samples = samples;
    VkImageCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = format,
        .extent = { width, height, 1 },
        .mipLevels = mip_levels,
        .arrayLayers = 1,
        .samples = samples,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    VK_CHECK(vkCreateImage(app->device, &ici, NULL, &out->image));
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(app->device, out->image, &req);
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = vkapp_find_memory_type(app, req.memoryTypeBits,
                                                  VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0),
    };
    VK_CHECK(vkAllocateMemory(app->device, &mai, NULL, &out->memory));
    VK_CHECK(vkBindImageMemory(app->device, out->image, out->memory, 0));

    /* A view needs a usage that views can be made for (VUID-VkImageViewCreateInfo-image-04441). */
    const VkImageUsageFlags viewable =
        VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_STORAGE_BIT |
        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT |
        VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT;
    if (!(usage & viewable))
        return;
    VkImageViewCreateInfo vci = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
        .image = out->image,
        .viewType = VK_IMAGE_VIEW_TYPE_2D,
        .format = format,
        .subresourceRange = { out->aspect, 0, mip_levels, 0, 1 },
    };
    VK_CHECK(vkCreateImageView(app->device, &vci, NULL, &out->view));
}

void render_image_destroy(struct vkapp *app, struct render_image *img)
{
    if (img->view)
        vkDestroyImageView(app->device, img->view, NULL);
    vkDestroyImage(app->device, img->image, NULL);
    vkFreeMemory(app->device, img->memory, NULL);
    memset(img, 0, sizeof(*img));
}

void render_image_barrier(VkCommandBuffer cmd, const struct render_image *img,
                          uint32_t base_mip, uint32_t mip_count, VkImageLayout old_layout,
                          VkImageLayout new_layout, VkPipelineStageFlags src_stage,
                          VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                          VkAccessFlags dst_access)
{
    VkImageMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
        .oldLayout = old_layout,
        .newLayout = new_layout,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = img->image,
        .subresourceRange = { img->aspect, base_mip, mip_count, 0, 1 },
    };
    vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

void render_copy_to_buffer(VkCommandBuffer cmd, const struct render_image *img, uint32_t mip,
                           VkBuffer dst, VkDeviceSize offset)
{
    uint32_t w = img->width >> mip, h = img->height >> mip;
    VkBufferImageCopy region = {
        .bufferOffset = offset,
        .imageSubresource = { img->aspect, mip, 0, 1 },
        .imageExtent = { w ? w : 1, h ? h : 1, 1 },
    };
    vkCmdCopyImageToBuffer(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, dst, 1,
                           &region);
}

void render_readback_create(struct vkapp *app, VkDeviceSize size, struct vkapp_buffer *out)
{
    vkapp_buffer_create(app, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                        VKAPP_MAP, out);
}

void render_readback_invalidate(struct vkapp *app, const struct vkapp_buffer *buf)
{
    /* Non-coherent memory needs the invalidate; on coherent memory it is harmless. */
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = buf->memory,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
    VK_CHECK(vkInvalidateMappedMemoryRanges(app->device, 1, &range));
}

VkPipelineLayout render_pipeline_layout(struct vkapp *app, VkDescriptorSetLayout set_layout,
                                        VkShaderStageFlags push_stages, uint32_t push_size)
{
    VkPushConstantRange pcr = { push_stages, 0, push_size };
    VkPipelineLayoutCreateInfo plci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = set_layout ? 1 : 0,
        .pSetLayouts = &set_layout,
        .pushConstantRangeCount = push_size ? 1 : 0,
        .pPushConstantRanges = &pcr,
    };
    VkPipelineLayout layout;
    VK_CHECK(vkCreatePipelineLayout(app->device, &plci, NULL, &layout));
    return layout;
}

VkPipeline render_pipeline_create(struct vkapp *app, const struct render_pipeline_desc *d)
{
    VkShaderModule vs = render_shader(app, d->vert);
    VkShaderModule fs = render_shader(app, d->frag);
    VkPipelineShaderStageCreateInfo stages[2] = {
        { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
          .stage = VK_SHADER_STAGE_VERTEX_BIT, .module = vs, .pName = "main" },
        { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
          .stage = VK_SHADER_STAGE_FRAGMENT_BIT, .module = fs, .pName = "main" },
    };
    VkPipelineVertexInputStateCreateInfo no_input = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
    };
    VkPipelineInputAssemblyStateCreateInfo ia = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
        /* 0 is VK_PRIMITIVE_TOPOLOGY_POINT_LIST; the helper's default is a
         * triangle list (point lists would need PointSize written). */
        .topology = d->topology ? d->topology : VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
    };
    VkViewport viewport = { 0, 0, (float)d->width, (float)d->height, 0.0f, 1.0f };
    VkRect2D scissor = { { 0, 0 }, { d->width, d->height } };
    VkPipelineViewportStateCreateInfo vp = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
        .viewportCount = 1,
        .pViewports = &viewport,
        .scissorCount = 1,
        .pScissors = &scissor,
    };
    VkPipelineRasterizationStateCreateInfo rs = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
        .polygonMode = VK_POLYGON_MODE_FILL,
        .cullMode = d->cull_mode,
        .frontFace = d->front_face,
        .lineWidth = 1.0f,
    };
    VkPipelineMultisampleStateCreateInfo ms = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
        .rasterizationSamples = d->samples ? d->samples : VK_SAMPLE_COUNT_1_BIT,
    };
    VkPipelineDepthStencilStateCreateInfo ds = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO,
        .depthTestEnable = d->depth_test,
        .depthWriteEnable = d->depth_write,
        .depthCompareOp = d->depth_compare ? d->depth_compare : VK_COMPARE_OP_LESS,
        .minDepthBounds = 0.0f,
        .maxDepthBounds = 1.0f,
    };
    uint32_t color_count = d->color_count ? d->color_count : 1;
    VkPipelineColorBlendAttachmentState blend[8];
    APP_CHECK(color_count <= 8, "too many color attachments");
    for (uint32_t i = 0; i < color_count; i++) {
        blend[i] = (VkPipelineColorBlendAttachmentState){
            .blendEnable = d->alpha_blend,
            .srcColorBlendFactor = VK_BLEND_FACTOR_SRC_ALPHA,
            .dstColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
            .colorBlendOp = VK_BLEND_OP_ADD,
            .srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE,
            .dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
            .alphaBlendOp = VK_BLEND_OP_ADD,
            .colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                              VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT,
        };
    }
    VkPipelineColorBlendStateCreateInfo cb = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
        .attachmentCount = color_count,
        .pAttachments = blend,
    };
    VkPipelineDynamicStateCreateInfo dyn = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
        .dynamicStateCount = d->dynamic_count,
        .pDynamicStates = d->dynamic,
    };
    bool has_depth = d->render_pass ? d->depth_test || d->depth_write
                                    : d->rendering->depthAttachmentFormat != VK_FORMAT_UNDEFINED;
    VkGraphicsPipelineCreateInfo gpci = {
        .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
        .pNext = d->render_pass ? NULL : d->rendering,
        .stageCount = 2,
        .pStages = stages,
        .pVertexInputState = d->vertex_input ? d->vertex_input : &no_input,
        .pInputAssemblyState = &ia,
        .pViewportState = &vp,
        .pRasterizationState = &rs,
        .pMultisampleState = &ms,
        .pDepthStencilState = has_depth ? &ds : NULL,
        .pColorBlendState = &cb,
        .pDynamicState = d->dynamic_count ? &dyn : NULL,
        .layout = d->layout,
        .renderPass = d->render_pass,
        .subpass = d->subpass,
    };
    VkPipeline pipeline;
    VK_CHECK(vkCreateGraphicsPipelines(app->device, app->pipeline_cache, 1, &gpci, NULL,
                                       &pipeline));
    /* VkShaderModule: may be destroyed once the pipelines using it exist. */
    vkDestroyShaderModule(app->device, vs, NULL);
    vkDestroyShaderModule(app->device, fs, NULL);
    return pipeline;
}

void render_expect_rgba8_at(const uint8_t *px, uint32_t width, uint32_t x, uint32_t y,
                            int r, int g, int b, int a, int tol, const char *file, int line)
{
    const uint8_t *p = px + ((size_t)y * width + x) * 4;
    const int want[4] = { r, g, b, a };
    for (int c = 0; c < 4; c++) {
        if (abs((int)p[c] - want[c]) > tol)
            vkapp_fail(file, line, "pixel (%u,%u) = (%u,%u,%u,%u), expected (%d,%d,%d,%d) +-%d",
                       x, y, p[0], p[1], p[2], p[3], r, g, b, a, tol);
    }
}
