/* memory_flush_invalidate_ranges: explicit flush and invalidate of sub-ranges
 * aligned to nonCoherentAtomSize, on a non-coherent HOST_VISIBLE type when the
 * device has one (on a coherent one otherwise: the calls are legal there
 * too), and vkMapMemory at nonzero offsets, checking that ppData points at the
 * bytes of that offset. The GPU copies the flushed ranges between two
 * allocations; the host reads them back after invalidating.
 * Output: coherence flag, then the bytes read back in each phase. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define SIZE (256u * 1024u)
#define WHOLE_TAIL 0xffffffffu /* range size meaning "to the end" (VK_WHOLE_SIZE) */

struct range {
    uint32_t offset, size;
};

/* Multiples of 256 bytes, so of any nonCoherentAtomSize up to 256. */
static const struct range phase1[] = {
    { 0, 256 }, { 1280, 768 }, { 4352, 12288 }, { 66048, 256 }, { 131072, 8192 },
    { SIZE - 4096, WHOLE_TAIL },
};
#define NUM_PHASE1 (sizeof(phase1) / sizeof(phase1[0]))

struct memory {
    VkBuffer buffer;
    VkDeviceMemory memory;
};

static uint8_t pattern(uint32_t offset, uint32_t phase)
{
    return (uint8_t)((offset * 131u + 7u * phase + (offset >> 9)) ^ (phase * 0x5bu));
}

static uint32_t range_size(const struct range *r)
{
    return r->size == WHOLE_TAIL ? SIZE - r->offset : r->size;
}

static VkMappedMemoryRange mapped_range(VkDeviceMemory memory, const struct range *r)
{
    return (VkMappedMemoryRange){
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = memory,
        .offset = r->offset,
        .size = r->size == WHOLE_TAIL ? VK_WHOLE_SIZE : r->size,
    };
}

/* A buffer with its own allocation of the chosen type (no dedicated hint). */
static void memory_create(struct vkapp *app, VkBufferUsageFlags usage, bool *coherent,
                          struct memory *out)
{
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = SIZE,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_CHECK(vkCreateBuffer(app->device, &bci, NULL, &out->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(app->device, out->buffer, &req);
    APP_CHECK(req.size == SIZE, "buffer of %u bytes needs %llu", SIZE,
              (unsigned long long)req.size);
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < app->mem_props.memoryTypeCount && type == UINT32_MAX; i++) {
        VkMemoryPropertyFlags f = app->mem_props.memoryTypes[i].propertyFlags;
        if ((req.memoryTypeBits & (1u << i)) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            !(f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            type = i;
    }
    if (type == UINT32_MAX)
        type = vkapp_find_memory_type(app, req.memoryTypeBits,
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, 0);
    *coherent = app->mem_props.memoryTypes[type].propertyFlags &
                VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    VK_CHECK(vkAllocateMemory(app->device, &mai, NULL, &out->memory));
    VK_CHECK(vkBindBufferMemory(app->device, out->buffer, out->memory, 0));
}

static void memory_destroy(struct vkapp *app, struct memory *m)
{
    vkDestroyBuffer(app->device, m->buffer, NULL);
    vkFreeMemory(app->device, m->memory, NULL);
}

/* vkMapMemory: (ppData - offset) is a multiple of minMemoryMapAlignment. */
static uint8_t *map_at(struct vkapp *app, VkDeviceMemory memory, uint32_t offset,
                       VkDeviceSize size)
{
    void *p = NULL;
    VK_CHECK(vkMapMemory(app->device, memory, offset, size, 0, &p));
    APP_CHECK(p, "vkMapMemory gave NULL");
    uintptr_t base = (uintptr_t)p - offset;
    APP_CHECK(base % app->props.limits.minMemoryMapAlignment == 0,
              "mapping at offset %u: ppData - offset = %p not aligned to %zu", offset,
              (void *)base, (size_t)app->props.limits.minMemoryMapAlignment);
    return p;
}

/* Checks that map (mapping memory from map_offset) shows @phase's bytes in r. */
static void expect_bytes(const uint8_t *map, uint32_t map_offset, uint32_t off, uint32_t n,
                         uint32_t phase, const char *what)
{
    for (uint32_t o = off; o < off + n; o++)
        APP_CHECK(map[o - map_offset] == pattern(o, phase),
                  "%s: byte %u reads 0x%02x, expected 0x%02x", what, o, map[o - map_offset],
                  pattern(o, phase));
}

static void copy_ranges(struct vkapp *app, const struct memory *src, const struct memory *dst,
                        const struct range *ranges, uint32_t n, bool fill_first)
{
    VkBufferCopy regions[8];
    for (uint32_t i = 0; i < n; i++)
        regions[i] = (VkBufferCopy){ ranges[i].offset, ranges[i].offset, range_size(&ranges[i]) };
    VkCommandBuffer cmd = vkapp_begin(app);
    if (fill_first) {
        vkCmdFillBuffer(cmd, dst->buffer, 0, VK_WHOLE_SIZE, 0xcdcdcdcdu);
        vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
    }
    vkCmdCopyBuffer(cmd, src->buffer, dst->buffer, n, regions);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(app, cmd);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "memory_flush_invalidate_ranges");
    VkDeviceSize atom = app.props.limits.nonCoherentAtomSize;
    APP_CHECK(atom && atom <= 256 && 256 % atom == 0, "nonCoherentAtomSize %llu",
              (unsigned long long)atom);

    struct memory src, dst;
    bool coherent, dst_coherent;
    memory_create(&app, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &coherent, &src);
    memory_create(&app, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &dst_coherent, &dst);
    printf("host coherent: %d\n", coherent);
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    uint32_t flag = coherent;
    vkapp_output_write(out, &flag, 4);

    /* Phase 1: write only the ranges, flush only the ranges (one alone, the
     * rest in one call), GPU copies them, invalidate only the ranges. */
    uint8_t *s = map_at(&app, src.memory, 0, VK_WHOLE_SIZE);
    for (uint32_t i = 0; i < NUM_PHASE1; i++)
        for (uint32_t o = phase1[i].offset; o < phase1[i].offset + range_size(&phase1[i]); o++)
            s[o] = pattern(o, 1);
    VkMappedMemoryRange mr[NUM_PHASE1];
    for (uint32_t i = 0; i < NUM_PHASE1; i++)
        mr[i] = mapped_range(src.memory, &phase1[i]);
    VK_CHECK(vkFlushMappedMemoryRanges(app.device, 1, &mr[0]));
    VK_CHECK(vkFlushMappedMemoryRanges(app.device, NUM_PHASE1 - 1, &mr[1]));
    uint8_t *d = map_at(&app, dst.memory, 0, VK_WHOLE_SIZE);
    copy_ranges(&app, &src, &dst, phase1, NUM_PHASE1, true);
    for (uint32_t i = 0; i < NUM_PHASE1; i++)
        mr[i] = mapped_range(dst.memory, &phase1[i]);
    VK_CHECK(vkInvalidateMappedMemoryRanges(app.device, NUM_PHASE1, mr));
    for (uint32_t i = 0; i < NUM_PHASE1; i++) {
        expect_bytes(d, 0, phase1[i].offset, range_size(&phase1[i]), 1, "phase 1 copy");
        vkapp_output_write(out, d + phase1[i].offset, range_size(&phase1[i]));
    }
    /* Everything else of dst is the GPU's fill once the whole is invalidated. */
    VkMappedMemoryRange whole = mapped_range(dst.memory, &(struct range){ 0, WHOLE_TAIL });
    VK_CHECK(vkInvalidateMappedMemoryRanges(app.device, 1, &whole));
    for (uint32_t o = 0, i = 0; o < SIZE; o++) {
        while (i < NUM_PHASE1 && o >= phase1[i].offset + range_size(&phase1[i]))
            i++;
        bool inside = i < NUM_PHASE1 && o >= phase1[i].offset;
        APP_CHECK(inside || d[o] == 0xcd, "dst byte %u outside the copies is 0x%02x", o, d[o]);
    }
    vkUnmapMemory(app.device, src.memory);

    /* Phase 2: map src at offsets; ppData must show the bytes of phase 1. */
    const uint32_t o1 = 4352 + 768;
    s = map_at(&app, src.memory, o1, VK_WHOLE_SIZE);
    expect_bytes(s, o1, o1, 4352 + 12288 - o1, 1, "map at offset 5120");
    vkUnmapMemory(app.device, src.memory);

    /* An offset that is no multiple of anything: flush ranges stay aligned
     * to the allocation (VkMappedMemoryRange: offset must be a multiple of
     * nonCoherentAtomSize) and inside the mapped range [100, 1100). */
    const uint32_t o2 = 100;
    s = map_at(&app, src.memory, o2, 1000);
    expect_bytes(s, o2, o2, 256 - o2, 1, "map at offset 100");
    const struct range phase2[] = { { 256, 768 }, { 66560, 2048 } };
    for (uint32_t o = phase2[0].offset; o < phase2[0].offset + phase2[0].size; o++)
        s[o - o2] = pattern(o, 2);
    VkMappedMemoryRange f2 = mapped_range(src.memory, &phase2[0]);
    VK_CHECK(vkFlushMappedMemoryRanges(app.device, 1, &f2));
    vkUnmapMemory(app.device, src.memory);

    const uint32_t o3 = 65536;
    s = map_at(&app, src.memory, o3, 16384);
    expect_bytes(s, o3, 66048, 256, 1, "map at offset 65536");
    for (uint32_t o = phase2[1].offset; o < phase2[1].offset + phase2[1].size; o++)
        s[o - o3] = pattern(o, 2);
    f2 = mapped_range(src.memory, &phase2[1]);
    VK_CHECK(vkFlushMappedMemoryRanges(app.device, 1, &f2));

    copy_ranges(&app, &src, &dst, phase2, 2, false);
    for (uint32_t i = 0; i < 2; i++)
        mr[i] = mapped_range(dst.memory, &phase2[i]);
    VK_CHECK(vkInvalidateMappedMemoryRanges(app.device, 2, mr));
    for (uint32_t i = 0; i < 2; i++) {
        expect_bytes(d, 0, phase2[i].offset, phase2[i].size, 2, "phase 2 copy");
        vkapp_output_write(out, d + phase2[i].offset, phase2[i].size);
    }
    vkUnmapMemory(app.device, src.memory);

    /* Phase 3: re-map dst at the second range's offset and invalidate there. */
    vkUnmapMemory(app.device, dst.memory);
    d = map_at(&app, dst.memory, phase2[1].offset, phase2[1].size);
    VK_CHECK(vkInvalidateMappedMemoryRanges(app.device, 1, &mr[1]));
    expect_bytes(d, phase2[1].offset, phase2[1].offset, phase2[1].size, 2, "dst re-mapped");
    vkapp_output_write(out, d, phase2[1].size);
    vkUnmapMemory(app.device, dst.memory);
    vkapp_output_close(out);

    memory_destroy(&app, &dst);
    memory_destroy(&app, &src);
    vkapp_destroy(&app);
    printf("memory_flush_invalidate_ranges: ok, atom %llu, %.2f s\n", (unsigned long long)atom,
           vkapp_now() - t0);
    return 0;
}
