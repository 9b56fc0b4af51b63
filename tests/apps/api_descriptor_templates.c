/* api_descriptor_templates: descriptors written four ways and read back by
 * one compute shader (api_descriptors.comp): vkUpdateDescriptorSetWithTemplate
 * (uniform buffers as a 2-array at a 48-byte stride, storage buffers, a
 * combined image sampler, uniform and storage texel buffers, an inline uniform
 * block in two byte ranges) from a pData blob with odd offsets; the same with
 * other resources plus an inline block written by VkWriteDescriptorSet-
 * InlineUniformBlock; and, with VK_KHR_push_descriptor, vkCmdPushDescriptorSetKHR
 * and vkCmdPushDescriptorSetWithTemplateKHR. Output: 64 words per variant. */
#include "render_util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define VARIANTS 4u
#define OUT_WORDS 64u   /* per variant; the shader writes 56 */
#define RESULT_WORDS 56u
#define INLINE_BYTES 32u
#define BLOB_SIZE 1024u
#define ALIGN 256u      /* every offset: the largest alignment limit the spec allows */

/* pData layout of the set-0 templates: deliberately not a C struct. */
enum {
    BLOB_UBO = 16, BLOB_UBO_STRIDE = 48, BLOB_SSBO = 128, BLOB_IMAGE = 160,
    BLOB_UTEXEL = 200, BLOB_STEXEL = 216, BLOB_OUT = 240, BLOB_INLINE0 = 304,
    BLOB_INLINE1 = 400,
};

struct resources {
    struct vkapp_buffer ubo, ssbo, texel, out;
    struct render_image image[2];
    VkSampler sampler;
    VkBufferView utexel[VARIANTS], stexel[VARIANTS];
};

static uint32_t ubo_word(uint32_t i) { return 0x1000u + i; }
static uint32_t ssbo_word(uint32_t i) { return 0x2000u + i; }
static uint32_t texel_word(uint32_t i) { return 0x3000u + i; }
static uint32_t image_word(uint32_t img, uint32_t i) { return 0x4000u + img * 0x100u + i; }
static uint32_t inline_word(uint32_t v, uint32_t i) { return 0x5000u + v * 0x10u + i; }

/* Descriptors of variant v: distinct offsets so a mix-up shows in the output. */
static VkDescriptorBufferInfo ubo_info(const struct resources *r, uint32_t v, uint32_t a)
{
    return (VkDescriptorBufferInfo){ r->ubo.buffer, (VkDeviceSize)ALIGN * (2 * v + a), 32 };
}
static VkDescriptorBufferInfo ssbo_info(const struct resources *r, uint32_t v)
{
    return (VkDescriptorBufferInfo){ r->ssbo.buffer, (VkDeviceSize)ALIGN * v + ALIGN, 32 };
}
static VkDescriptorBufferInfo out_info(const struct resources *r, uint32_t v)
{
    return (VkDescriptorBufferInfo){ r->out.buffer, (VkDeviceSize)v * OUT_WORDS * 4,
                                     OUT_WORDS * 4 };
}
static VkDescriptorImageInfo image_info(const struct resources *r, uint32_t v)
{
    return (VkDescriptorImageInfo){ r->sampler, r->image[v % 2].view,
                                    VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
}

static void expected(uint32_t v, uint32_t *w)
{
    uint32_t o = 0;
    for (uint32_t a = 0; a < 2; a++)
        for (uint32_t i = 0; i < 8; i++)
            w[o++] = ubo_word(ALIGN / 4 * (2 * v + a) + i);
    for (uint32_t i = 0; i < 8; i++)
        w[o++] = ssbo_word(ALIGN / 4 * (v + 1) + i);
    for (uint32_t i = 0; i < 16; i++)
        w[o++] = image_word(v % 2, i);
    for (uint32_t i = 0; i < 4; i++)
        w[o++] = texel_word(ALIGN / 4 * v + i);
    for (uint32_t i = 0; i < 4; i++)
        w[o++] = texel_word(ALIGN / 4 * (v + VARIANTS) + i);
    for (uint32_t i = 0; i < 8; i++)
        w[o++] = inline_word(v, i);
}

static void fill_words(struct vkapp_buffer *b, uint32_t (*f)(uint32_t))
{
    uint32_t *w = b->map;
    for (uint32_t i = 0; i < b->size / 4; i++)
        w[i] = f(i);
}

static void create_resources(struct vkapp *app, struct resources *r)
{
    const VkMemoryPropertyFlags hv =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    vkapp_buffer_create(app, 4096, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, hv, 0, VKAPP_MAP, &r->ubo);
    vkapp_buffer_create(app, 4096, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, hv, 0, VKAPP_MAP,
                        &r->ssbo);
    vkapp_buffer_create(app, 4096,
                        VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                            VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
                            VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                        hv, 0, VKAPP_MAP, &r->texel);
    vkapp_buffer_create(app, VARIANTS * OUT_WORDS * 4,
                        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        hv, 0, VKAPP_MAP, &r->out);
    fill_words(&r->ubo, ubo_word);
    fill_words(&r->ssbo, ssbo_word);
    fill_words(&r->texel, texel_word);
    for (uint32_t v = 0; v < VARIANTS; v++) {
        VkBufferViewCreateInfo bvci = {
            .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
            .buffer = r->texel.buffer,
            .format = VK_FORMAT_R32_UINT,
            .offset = (VkDeviceSize)ALIGN * v,
            .range = 16,
        };
        VK_CHECK(vkCreateBufferView(app->device, &bvci, NULL, &r->utexel[v]));
        bvci.offset = (VkDeviceSize)ALIGN * (v + VARIANTS);
        VK_CHECK(vkCreateBufferView(app->device, &bvci, NULL, &r->stexel[v]));
    }
    VkSamplerCreateInfo sci = {
        .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
        .magFilter = VK_FILTER_NEAREST,
        .minFilter = VK_FILTER_NEAREST,
        .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
        .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
    };
    VK_CHECK(vkCreateSampler(app->device, &sci, NULL, &r->sampler));

    /* Two 4x4 R32_UINT images uploaded from a staging buffer. */
    struct vkapp_buffer staging;
    vkapp_buffer_create(app, 2 * 64, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, hv, 0, VKAPP_MAP,
                        &staging);
    uint32_t *s = staging.map;
    VkCommandBuffer cmd = vkapp_begin(app);
    for (uint32_t img = 0; img < 2; img++) {
        for (uint32_t i = 0; i < 16; i++)
            s[img * 16 + i] = image_word(img, i);
        render_image_create(app, VK_FORMAT_R32_UINT, 4, 4, 1, VK_SAMPLE_COUNT_1_BIT,
                            VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                            &r->image[img]);
        render_image_barrier(cmd, &r->image[img], 0, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                             VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                             VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                             VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
        VkBufferImageCopy region = {
            .bufferOffset = img * 64,
            .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
            .imageExtent = { 4, 4, 1 },
        };
        vkCmdCopyBufferToImage(cmd, staging.buffer, r->image[img].image,
                               VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        render_image_barrier(cmd, &r->image[img], 0, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                             VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                             VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    }
    vkapp_submit_wait(app, cmd);
    vkapp_buffer_destroy(app, &staging);
}

static void destroy_resources(struct vkapp *app, struct resources *r)
{
    for (uint32_t v = 0; v < VARIANTS; v++) {
        vkDestroyBufferView(app->device, r->utexel[v], NULL);
        vkDestroyBufferView(app->device, r->stexel[v], NULL);
    }
    vkDestroySampler(app->device, r->sampler, NULL);
    render_image_destroy(app, &r->image[0]);
    render_image_destroy(app, &r->image[1]);
    vkapp_buffer_destroy(app, &r->out);
    vkapp_buffer_destroy(app, &r->texel);
    vkapp_buffer_destroy(app, &r->ssbo);
    vkapp_buffer_destroy(app, &r->ubo);
}

static VkDescriptorSetLayout set0_layout(struct vkapp *app, bool push)
{
    const VkDescriptorType types[6] = {
        VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,       VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
        VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
    };
    VkDescriptorSetLayoutBinding b[6];
    for (uint32_t i = 0; i < 6; i++)
        b[i] = (VkDescriptorSetLayoutBinding){ i, types[i], i == 0 ? 2 : 1,
                                               VK_SHADER_STAGE_COMPUTE_BIT, NULL };
    VkDescriptorSetLayoutCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .flags = push ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
        .bindingCount = 6,
        .pBindings = b,
    };
    VkDescriptorSetLayout l;
    VK_CHECK(vkCreateDescriptorSetLayout(app->device, &ci, NULL, &l));
    return l;
}

/* Set 0 entries over the blob, not in binding order; the uniform buffer
 * array is read at a 48-byte stride (VkDescriptorUpdateTemplateEntry::stride). */
static uint32_t set0_entries(VkDescriptorUpdateTemplateEntry *e)
{
    uint32_t n = 0;
    e[n++] = (VkDescriptorUpdateTemplateEntry){ 1, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                BLOB_SSBO, 0 };
    e[n++] = (VkDescriptorUpdateTemplateEntry){ 0, 0, 2, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
                                                BLOB_UBO, BLOB_UBO_STRIDE };
    e[n++] = (VkDescriptorUpdateTemplateEntry){
        2, 0, 1, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, BLOB_IMAGE, 0 };
    e[n++] = (VkDescriptorUpdateTemplateEntry){
        3, 0, 1, VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, BLOB_UTEXEL, sizeof(VkBufferView) };
    e[n++] = (VkDescriptorUpdateTemplateEntry){
        4, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, BLOB_STEXEL, 8 };
    e[n++] = (VkDescriptorUpdateTemplateEntry){ 5, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                BLOB_OUT, sizeof(VkDescriptorBufferInfo) };
    return n;
}

static void fill_blob(uint8_t *blob, const struct resources *r, uint32_t v)
{
    memset(blob, 0xee, BLOB_SIZE); /* garbage between the entries */
    for (uint32_t a = 0; a < 2; a++) {
        VkDescriptorBufferInfo u = ubo_info(r, v, a);
        memcpy(blob + BLOB_UBO + a * BLOB_UBO_STRIDE, &u, sizeof(u));
    }
    VkDescriptorBufferInfo s = ssbo_info(r, v), o = out_info(r, v);
    VkDescriptorImageInfo im = image_info(r, v);
    memcpy(blob + BLOB_SSBO, &s, sizeof(s));
    memcpy(blob + BLOB_IMAGE, &im, sizeof(im));
    memcpy(blob + BLOB_UTEXEL, &r->utexel[v], sizeof(VkBufferView));
    memcpy(blob + BLOB_STEXEL, &r->stexel[v], sizeof(VkBufferView));
    memcpy(blob + BLOB_OUT, &o, sizeof(o));
    uint32_t words[8];
    for (uint32_t i = 0; i < 8; i++)
        words[i] = inline_word(v, i);
    memcpy(blob + BLOB_INLINE0, words, 16);
    memcpy(blob + BLOB_INLINE1, words + 4, 16);
}

static VkDescriptorUpdateTemplate create_template(struct vkapp *app,
                                                  const VkDescriptorUpdateTemplateEntry *e,
                                                  uint32_t n, VkDescriptorSetLayout layout,
                                                  VkPipelineLayout pipeline_layout, bool push)
{
    VkDescriptorUpdateTemplateCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_UPDATE_TEMPLATE_CREATE_INFO,
        .descriptorUpdateEntryCount = n,
        .pDescriptorUpdateEntries = e,
        .templateType = push ? VK_DESCRIPTOR_UPDATE_TEMPLATE_TYPE_PUSH_DESCRIPTORS_KHR
                             : VK_DESCRIPTOR_UPDATE_TEMPLATE_TYPE_DESCRIPTOR_SET,
        .descriptorSetLayout = layout,
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_COMPUTE,
        .pipelineLayout = pipeline_layout,
        .set = 0,
    };
    VkDescriptorUpdateTemplate t;
    VK_CHECK(vkCreateDescriptorUpdateTemplate(app->device, &ci, NULL, &t));
    return t;
}

/* Plain VkWriteDescriptorSet array for variant v (push descriptors). */
struct writes {
    VkDescriptorBufferInfo ubo[2], ssbo, out;
    VkDescriptorImageInfo image;
    VkBufferView utexel, stexel;
    VkWriteDescriptorSet w[6];
};

static void fill_writes(struct writes *w, const struct resources *r, uint32_t v)
{
    w->ubo[0] = ubo_info(r, v, 0);
    w->ubo[1] = ubo_info(r, v, 1);
    w->ssbo = ssbo_info(r, v);
    w->out = out_info(r, v);
    w->image = image_info(r, v);
    w->utexel = r->utexel[v];
    w->stexel = r->stexel[v];
    const VkWriteDescriptorSet base = { .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                        .descriptorCount = 1 };
    for (uint32_t i = 0; i < 6; i++) {
        w->w[i] = base;
        w->w[i].dstBinding = i;
    }
    w->w[0].descriptorCount = 2;
    w->w[0].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER;
    w->w[0].pBufferInfo = w->ubo;
    w->w[1].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w->w[1].pBufferInfo = &w->ssbo;
    w->w[2].descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
    w->w[2].pImageInfo = &w->image;
    w->w[3].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
    w->w[3].pTexelBufferView = &w->utexel;
    w->w[4].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
    w->w[4].pTexelBufferView = &w->stexel;
    w->w[5].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w->w[5].pBufferInfo = &w->out;
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_instance_init(&app, "api_descriptor_templates");
    bool push = vkapp_has_extension(&app, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    printf("VK_KHR_push_descriptor: %d\n", push);
    VkPhysicalDeviceVulkan13Features f13 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
        .inlineUniformBlock = VK_TRUE,
        .maintenance4 = VK_TRUE, /* LocalSizeId in glslang's SPIR-V 1.6 */
    };
    VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                     .pNext = &f13 };
    const char *ext[] = { VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME };
    vkapp_device_create(&app, &(struct vkapp_device_options){
        .queue_flags = VK_QUEUE_COMPUTE_BIT, .features = &f2, .extensions = ext,
        .extension_count = push ? 1 : 0 });
    PFN_vkCmdPushDescriptorSetKHR push_set = NULL;
    PFN_vkCmdPushDescriptorSetWithTemplateKHR push_template = NULL;
    if (push) {
        push_set = (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(
            app.device, "vkCmdPushDescriptorSetKHR");
        push_template = (PFN_vkCmdPushDescriptorSetWithTemplateKHR)vkGetDeviceProcAddr(
            app.device, "vkCmdPushDescriptorSetWithTemplateKHR");
        APP_CHECK(push_set && push_template, "push descriptor entry points missing");
    }

    struct resources r;
    create_resources(&app, &r);
    VkDescriptorSetLayout l0 = set0_layout(&app, false);
    VkDescriptorSetLayout l0_push = push ? set0_layout(&app, true) : VK_NULL_HANDLE;
    VkDescriptorSetLayoutBinding ib = { 0, VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK,
                                        INLINE_BYTES, VK_SHADER_STAGE_COMPUTE_BIT, NULL };
    VkDescriptorSetLayoutCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 1,
        .pBindings = &ib,
    };
    VkDescriptorSetLayout l1;
    VK_CHECK(vkCreateDescriptorSetLayout(app.device, &ici, NULL, &l1));
    VkPipelineLayout layout, layout_push = VK_NULL_HANDLE;
    VkDescriptorSetLayout sets[2] = { l0, l1 };
    VkPipelineLayoutCreateInfo plci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 2,
        .pSetLayouts = sets,
    };
    VK_CHECK(vkCreatePipelineLayout(app.device, &plci, NULL, &layout));
    if (push) {
        sets[0] = l0_push;
        VK_CHECK(vkCreatePipelineLayout(app.device, &plci, NULL, &layout_push));
    }
    VkShaderModule module = render_shader(&app, "api_descriptors.comp");
    VkComputePipelineCreateInfo cpci[2] = { {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                   .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = module, .pName = "main" },
        .layout = layout,
    } };
    cpci[1] = cpci[0];
    cpci[1].layout = layout_push;
    VkPipeline pipelines[2] = { VK_NULL_HANDLE, VK_NULL_HANDLE };
    VK_CHECK(vkCreateComputePipelines(app.device, app.pipeline_cache, push ? 2 : 1, cpci, NULL,
                                      pipelines));
    vkDestroyShaderModule(app.device, module, NULL);

    /* Two normal sets 0 and two inline-block sets 1. */
    VkDescriptorPoolSize sizes[] = {
        { VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 4 },
        { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4 },
        { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 2 },
        { VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 2 },
        { VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, 2 },
        { VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK, VARIANTS * INLINE_BYTES },
    };
    VkDescriptorPoolInlineUniformBlockCreateInfo pib = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_INLINE_UNIFORM_BLOCK_CREATE_INFO,
        .maxInlineUniformBlockBindings = VARIANTS,
    };
    VkDescriptorPoolCreateInfo dpci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .pNext = &pib,
        .maxSets = 2 + VARIANTS,
        .poolSizeCount = sizeof(sizes) / sizeof(sizes[0]),
        .pPoolSizes = sizes,
    };
    VkDescriptorPool pool;
    VK_CHECK(vkCreateDescriptorPool(app.device, &dpci, NULL, &pool));
    VkDescriptorSetLayout alloc_layouts[2 + VARIANTS] = { l0, l0 };
    for (uint32_t v = 0; v < VARIANTS; v++)
        alloc_layouts[2 + v] = l1;
    VkDescriptorSetAllocateInfo dsai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = pool,
        .descriptorSetCount = 2 + VARIANTS,
        .pSetLayouts = alloc_layouts,
    };
    VkDescriptorSet ds[2 + VARIANTS];
    VK_CHECK(vkAllocateDescriptorSets(app.device, &dsai, ds));
    VkDescriptorSet *inline_sets = ds + 2;

    VkDescriptorUpdateTemplateEntry e[8];
    uint32_t n = set0_entries(e);
    VkDescriptorUpdateTemplate t_set0 =
        create_template(&app, e, n, l0, VK_NULL_HANDLE, false);
    VkDescriptorUpdateTemplate t_push =
        push ? create_template(&app, e, n, l0_push, layout_push, true) : VK_NULL_HANDLE;
    /* Inline uniform block: dstArrayElement and descriptorCount are bytes. */
    VkDescriptorUpdateTemplateEntry ie[2] = {
        { 0, 16, 16, VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK, BLOB_INLINE1, 0 },
        { 0, 0, 16, VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK, BLOB_INLINE0, 0 },
    };
    VkDescriptorUpdateTemplate t_inline = create_template(&app, ie, 2, l1, VK_NULL_HANDLE, false);

    /* Variant 0: everything by template. Variant 1: set 0 by template, the
     * inline block by VkWriteDescriptorSetInlineUniformBlock. Variants 2, 3:
     * set 0 pushed (writes, template), inline blocks by template. */
    uint8_t *blob = malloc(BLOB_SIZE);
    APP_CHECK(blob, "out of memory");
    for (uint32_t v = 0; v < VARIANTS; v++) {
        fill_blob(blob, &r, v);
        if (v < 2)
            vkUpdateDescriptorSetWithTemplate(app.device, ds[v], t_set0, blob);
        if (v == 1) {
            uint32_t words[8];
            for (uint32_t i = 0; i < 8; i++)
                words[i] = inline_word(v, i);
            VkWriteDescriptorSetInlineUniformBlock wib = {
                .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_INLINE_UNIFORM_BLOCK,
                .dataSize = INLINE_BYTES,
                .pData = words,
            };
            VkWriteDescriptorSet w = {
                .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                .pNext = &wib,
                .dstSet = inline_sets[v],
                .dstBinding = 0,
                .dstArrayElement = 0,
                .descriptorCount = INLINE_BYTES,
                .descriptorType = VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK,
            };
            vkUpdateDescriptorSets(app.device, 1, &w, 0, NULL);
        } else {
            vkUpdateDescriptorSetWithTemplate(app.device, inline_sets[v], t_inline, blob);
        }
    }

    VkCommandBuffer cmd = vkapp_begin(&app);
    uint32_t variants = push ? VARIANTS : 2;
    for (uint32_t v = 0; v < variants; v++) {
        bool pushed = v >= 2;
        VkPipelineLayout pl = pushed ? layout_push : layout;
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines[pushed]);
        if (!pushed) {
            VkDescriptorSet both[2] = { ds[v], inline_sets[v] };
            vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl, 0, 2, both, 0,
                                    NULL);
        } else {
            vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl, 1, 1,
                                    &inline_sets[v], 0, NULL);
            if (v == 2) {
                struct writes w;
                fill_writes(&w, &r, v);
                push_set(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl, 0, 6, w.w);
            } else {
                /* The blob is read at record time: reuse it right after. */
                fill_blob(blob, &r, v);
                push_template(cmd, t_push, pl, 0, blob);
                memset(blob, 0, BLOB_SIZE);
            }
        }
        vkCmdDispatch(cmd, 1, 1, 1);
    }
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    memset(r.out.map, 0, r.out.size);
    vkapp_submit_wait(&app, cmd);

    const uint32_t *got = r.out.map;
    static const char *const names[VARIANTS] = {
        "vkUpdateDescriptorSetWithTemplate", "template + VkWriteDescriptorSetInlineUniformBlock",
        "vkCmdPushDescriptorSetKHR", "vkCmdPushDescriptorSetWithTemplateKHR",
    };
    for (uint32_t v = 0; v < variants; v++) {
        uint32_t want[RESULT_WORDS];
        expected(v, want);
        for (uint32_t i = 0; i < RESULT_WORDS; i++)
            APP_CHECK(got[v * OUT_WORDS + i] == want[i],
                      "%s: shader read word %u as 0x%08x, expected 0x%08x", names[v], i,
                      got[v * OUT_WORDS + i], want[i]);
    }
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, got, (size_t)VARIANTS * OUT_WORDS * 4);
    vkapp_output_close(out);

    free(blob);
    vkDestroyDescriptorUpdateTemplate(app.device, t_inline, NULL);
    if (push)
        vkDestroyDescriptorUpdateTemplate(app.device, t_push, NULL);
    vkDestroyDescriptorUpdateTemplate(app.device, t_set0, NULL);
    vkDestroyDescriptorPool(app.device, pool, NULL);
    for (uint32_t i = 0; i < 2; i++)
        vkDestroyPipeline(app.device, pipelines[i], NULL);
    vkDestroyPipelineLayout(app.device, layout, NULL);
    vkDestroyPipelineLayout(app.device, layout_push, NULL);
    vkDestroyDescriptorSetLayout(app.device, l1, NULL);
    vkDestroyDescriptorSetLayout(app.device, l0_push, NULL);
    vkDestroyDescriptorSetLayout(app.device, l0, NULL);
    destroy_resources(&app, &r);
    vkapp_destroy(&app);
    printf("api_descriptor_templates: ok, %u variants, %.2f s\n", variants, vkapp_now() - t0);
    return 0;
}
