/* memory_many_mapped: 64 HOST_COHERENT allocations of assorted sizes (4 KiB
 * to 4 MiB, not all page multiples) mapped at once, each with its own CPU
 * pattern; one submit copies them all into one big buffer. Then half are
 * unmapped and mapped again (contents must persist), some rewritten, copied
 * again; then they are freed in a shuffled order with new allocations made
 * in between. Output: per-allocation FNV-1a hashes of each copy. */
#include "vkapp.h"

#include <stdlib.h>
#include <string.h>

#define COUNT 64u
#define EXTRA 4u

struct alloc {
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint32_t size; /* bytes, a multiple of 4 */
    uint32_t *map; /* NULL while unmapped */
    uint32_t generation;
    VkDeviceSize big_offset;
};

static uint32_t lcg_state = 12345u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

static uint32_t word_at(uint32_t index, uint32_t generation, uint32_t j)
{
    uint32_t x = (index * 0x01000193u) ^ (generation * 0x9e3779b1u) ^ (j * 0x85ebca77u);
    return x ^ (x >> 13);
}

static uint32_t fnv(const uint32_t *w, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ w[i]) * 16777619u;
    return h;
}

/* Mostly small sizes, every fourth up to 4 MiB; one in three not a page multiple. */
static uint32_t pick_size(uint32_t i)
{
    if (i == 0)
        return 4u << 20;
    if (i == 1)
        return 4096;
    uint32_t shift = (i % 4 == 0) ? lcg() % 11 : lcg() % 6;
    uint32_t size = 4096u << shift;
    if (i % 3 == 1 && size > 8192)
        size -= 4 * (1 + lcg() % 1000);
    return size;
}

static void alloc_create(struct vkapp *app, uint32_t size, struct alloc *a)
{
    VkDeviceSize big_offset = a->big_offset;
    memset(a, 0, sizeof(*a));
    a->size = size;
    a->big_offset = big_offset;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_CHECK(vkCreateBuffer(app->device, &bci, NULL, &a->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(app->device, a->buffer, &req);
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = vkapp_find_memory_type(
            app, req.memoryTypeBits,
            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0),
    };
    VK_CHECK(vkAllocateMemory(app->device, &mai, NULL, &a->memory));
    VK_CHECK(vkBindBufferMemory(app->device, a->buffer, a->memory, 0));
    VK_CHECK(vkMapMemory(app->device, a->memory, 0, VK_WHOLE_SIZE, 0, (void **)&a->map));
}

static void alloc_write(struct alloc *a, uint32_t index, uint32_t generation)
{
    a->generation = generation;
    for (uint32_t j = 0; j < a->size / 4; j++)
        a->map[j] = word_at(index, generation, j);
}

static void alloc_expect(const uint32_t *words, const struct alloc *a, uint32_t index,
                         const char *what)
{
    for (uint32_t j = 0; j < a->size / 4; j++)
        APP_CHECK(words[j] == word_at(index, a->generation, j),
                  "%s: allocation %u (%u bytes) word %u is 0x%08x, expected 0x%08x", what,
                  index, a->size, j, words[j], word_at(index, a->generation, j));
}

/* One submit copies every live allocation into @big; checks and hashes. */
static void copy_all(struct vkapp *app, struct alloc *allocs, uint32_t n,
                     const struct vkapp_buffer *big, struct vkapp_output *out, const char *what)
{
    VkCommandBuffer cmd = vkapp_begin(app);
    for (uint32_t i = 0; i < n; i++) {
        if (!allocs[i].buffer)
            continue;
        VkBufferCopy region = { 0, allocs[i].big_offset, allocs[i].size };
        vkCmdCopyBuffer(cmd, allocs[i].buffer, big->buffer, 1, &region);
    }
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vkapp_submit_wait(app, cmd);
    for (uint32_t i = 0; i < n; i++) {
        if (!allocs[i].buffer)
            continue;
        const uint32_t *words = (const uint32_t *)((const uint8_t *)big->map +
                                                   allocs[i].big_offset);
        alloc_expect(words, &allocs[i], i, what);
        uint32_t h = fnv(words, allocs[i].size / 4);
        vkapp_output_write(out, &h, 4);
    }
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "memory_many_mapped");

    struct alloc allocs[COUNT + EXTRA];
    memset(allocs, 0, sizeof(allocs));
    VkDeviceSize total = 0;
    for (uint32_t i = 0; i < COUNT + EXTRA; i++) {
        uint32_t size = pick_size(i);
        if (i < COUNT) {
            alloc_create(&app, size, &allocs[i]);
            alloc_write(&allocs[i], i, 1);
        } else {
            allocs[i].size = size; /* made later, after half are freed */
        }
        allocs[i].big_offset = total;
        total += size;
    }
    printf("%u allocations, %llu bytes mapped at once\n", COUNT,
           (unsigned long long)allocs[COUNT].big_offset);
    struct vkapp_buffer big;
    vkapp_buffer_create(&app, total, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        VK_MEMORY_PROPERTY_HOST_CACHED_BIT, VKAPP_MAP, &big);
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    copy_all(&app, allocs, COUNT, &big, out, "first copy");

    /* Unmap the even ones; mapping again must show what was written. */
    for (uint32_t i = 0; i < COUNT; i += 2) {
        vkUnmapMemory(app.device, allocs[i].memory);
        allocs[i].map = NULL;
    }
    for (uint32_t i = 0; i < COUNT; i += 2) {
        VK_CHECK(vkMapMemory(app.device, allocs[i].memory, 0, VK_WHOLE_SIZE, 0,
                             (void **)&allocs[i].map));
        alloc_expect(allocs[i].map, &allocs[i], i, "re-mapped");
    }
    /* New contents in every third one, re-mapped or not. */
    for (uint32_t i = 0; i < COUNT; i += 3)
        alloc_write(&allocs[i], i, 2);
    copy_all(&app, allocs, COUNT, &big, out, "second copy");

    /* Free in a shuffled order, mapped or not (vkFreeMemory unmaps); after
     * half are gone, make the EXTRA allocations and copy everything alive. */
    uint32_t order[COUNT];
    for (uint32_t i = 0; i < COUNT; i++)
        order[i] = i;
    for (uint32_t i = COUNT - 1; i > 0; i--) {
        uint32_t j = lcg() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t k = 0; k < COUNT; k++) {
        struct alloc *a = &allocs[order[k]];
        if (k % 2)
            vkUnmapMemory(app.device, a->memory);
        vkDestroyBuffer(app.device, a->buffer, NULL);
        vkFreeMemory(app.device, a->memory, NULL);
        a->buffer = VK_NULL_HANDLE;
        if (k == COUNT / 2) {
            for (uint32_t i = COUNT; i < COUNT + EXTRA; i++) {
                alloc_create(&app, allocs[i].size, &allocs[i]);
                alloc_write(&allocs[i], i, 3);
            }
            copy_all(&app, allocs, COUNT + EXTRA, &big, out, "copy after frees");
        }
    }
    vkapp_output_close(out);
    for (uint32_t i = COUNT; i < COUNT + EXTRA; i++) {
        vkDestroyBuffer(app.device, allocs[i].buffer, NULL);
        vkFreeMemory(app.device, allocs[i].memory, NULL);
    }
    vkapp_buffer_destroy(&app, &big);
    vkapp_destroy(&app);
    printf("memory_many_mapped: ok, %.2f s\n", vkapp_now() - t0);
    return 0;
}
