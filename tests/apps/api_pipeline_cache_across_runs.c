/* api_pipeline_cache_across_runs: a pipeline cache saved by one device and
 * loaded by the next. Run 1 creates compute pipelines with a cache, checks
 * the cache header (VkPipelineCacheHeaderVersionOne: vendorID, deviceID,
 * pipelineCacheUUID equal the device's), reads it with a short buffer
 * (VK_INCOMPLETE) and whole, and writes it to argv[2]; the device and
 * instance are destroyed. Run 2 (a new instance and device in the same
 * process) creates a cache from the file and creates pipelines with
 * VK_PIPELINE_CREATE_FAIL_ON_PIPELINE_COMPILE_REQUIRED_BIT (1.3
 * pipelineCreationCacheControl): cached, uncached, in one batch, after
 * compiling, and from a cache with a foreign UUID. Whatever the driver does,
 * a failed pipeline must be VK_NULL_HANDLE. Output: the header facts and
 * every VkResult and handle state (never the cache bytes). */
#include "render_util.h"

#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE (16u + VK_UUID_SIZE)

struct shader {
    const char *name;
    uint32_t buffers, push;
};

static const struct shader shaders[] = {
    { "iota", 1, 12 },                 /* iota.spv (existing shader) */
    { "memory_pattern.comp", 1, 16 },
    { "memory_hash.comp", 2, 12 },     /* never created in run 1 */
};
enum { IOTA, PATTERN, HASH, NUM_SHADERS };

struct run {
    struct vkapp app;
    VkDescriptorSetLayout set_layout[2]; /* 1 and 2 storage buffers */
    VkPipelineLayout layout[NUM_SHADERS];
    VkShaderModule module[NUM_SHADERS];
};

struct facts {
    int32_t results[32];
    uint32_t count;
};

static void record(struct facts *f, int32_t v)
{
    APP_CHECK(f->count < 32, "too many facts");
    f->results[f->count++] = v;
}

static void run_begin(struct run *r, const char *name)
{
    vkapp_instance_init(&r->app, name);
    VkPhysicalDeviceVulkan13Features f13 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
        .pipelineCreationCacheControl = VK_TRUE,
        .maintenance4 = VK_TRUE,
    };
    VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                     .pNext = &f13 };
    vkapp_device_create(&r->app, &(struct vkapp_device_options){
        .queue_flags = VK_QUEUE_COMPUTE_BIT, .features = &f2 });
    for (uint32_t n = 0; n < 2; n++) {
        VkDescriptorSetLayoutBinding b[2];
        for (uint32_t i = 0; i <= n; i++)
            b[i] = (VkDescriptorSetLayoutBinding){ i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                                   VK_SHADER_STAGE_COMPUTE_BIT, NULL };
        VkDescriptorSetLayoutCreateInfo ci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
            .bindingCount = n + 1,
            .pBindings = b,
        };
        VK_CHECK(vkCreateDescriptorSetLayout(r->app.device, &ci, NULL, &r->set_layout[n]));
    }
    for (uint32_t s = 0; s < NUM_SHADERS; s++) {
        r->layout[s] = render_pipeline_layout(&r->app, r->set_layout[shaders[s].buffers - 1],
                                              VK_SHADER_STAGE_COMPUTE_BIT, shaders[s].push);
        r->module[s] = render_shader(&r->app, shaders[s].name);
    }
}

static void run_end(struct run *r)
{
    for (uint32_t s = 0; s < NUM_SHADERS; s++) {
        vkDestroyShaderModule(r->app.device, r->module[s], NULL);
        vkDestroyPipelineLayout(r->app.device, r->layout[s], NULL);
    }
    for (uint32_t n = 0; n < 2; n++)
        vkDestroyDescriptorSetLayout(r->app.device, r->set_layout[n], NULL);
    vkapp_destroy(&r->app);
}

static VkComputePipelineCreateInfo pipeline_info(const struct run *r, uint32_t s,
                                                 VkPipelineCreateFlags flags)
{
    return (VkComputePipelineCreateInfo){
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .flags = flags,
        .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                   .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = r->module[s],
                   .pName = "main" },
        .layout = r->layout[s],
    };
}

/* Creates pipelines of @which with @flags, records the result and, per
 * pipeline, whether it exists; checks a failed one is VK_NULL_HANDLE. */
static VkResult create(struct run *r, VkPipelineCache cache, const uint32_t *which, uint32_t n,
                       VkPipelineCreateFlags flags, struct facts *f)
{
    VkComputePipelineCreateInfo ci[NUM_SHADERS];
    VkPipeline p[NUM_SHADERS];
    for (uint32_t i = 0; i < n; i++) {
        ci[i] = pipeline_info(r, which[i], flags);
        p[i] = (VkPipeline)(uintptr_t)0x1; /* must be overwritten either way */
    }
    VkResult res = vkCreateComputePipelines(r->app.device, cache, n, ci, NULL, p);
    APP_CHECK(res == VK_SUCCESS || res == VK_PIPELINE_COMPILE_REQUIRED,
              "vkCreateComputePipelines returned %s", vkapp_result_name(res));
    record(f, res);
    for (uint32_t i = 0; i < n; i++) {
        APP_CHECK(p[i] != (VkPipeline)(uintptr_t)0x1, "pipeline %u not written", i);
        APP_CHECK(res != VK_SUCCESS || p[i] != VK_NULL_HANDLE,
                  "VK_SUCCESS but pipeline %u is VK_NULL_HANDLE", i);
        record(f, p[i] != VK_NULL_HANDLE);
        if (p[i])
            vkDestroyPipeline(r->app.device, p[i], NULL);
    }
    return res;
}

static VkPipelineCache cache_create(struct run *r, const void *data, size_t size)
{
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkPipelineCache cache;
    VK_CHECK(vkCreatePipelineCache(r->app.device, &ci, NULL, &cache));
    return cache;
}

/* Checks VkPipelineCacheHeaderVersionOne against the device. */
static void check_header(const struct vkapp *app, const uint8_t *data, size_t size,
                         struct facts *f)
{
    APP_CHECK(size >= HEADER_SIZE, "pipeline cache data of %zu bytes", size);
    uint32_t h[4];
    memcpy(h, data, sizeof(h));
    APP_CHECK(h[0] >= HEADER_SIZE, "headerSize %u", h[0]);
    APP_CHECK(h[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE, "headerVersion %u", h[1]);
    APP_CHECK(h[2] == app->props.vendorID, "cache vendorID 0x%x, device 0x%x", h[2],
              app->props.vendorID);
    APP_CHECK(h[3] == app->props.deviceID, "cache deviceID 0x%x, device 0x%x", h[3],
              app->props.deviceID);
    APP_CHECK(memcmp(data + 16, app->props.pipelineCacheUUID, VK_UUID_SIZE) == 0,
              "cache UUID differs from the device's pipelineCacheUUID");
    record(f, (int32_t)h[1]);
    record(f, (int32_t)h[2]);
    record(f, (int32_t)h[3]);
}

static void *cache_data(struct run *r, VkPipelineCache cache, size_t *size, struct facts *f)
{
    VK_CHECK(vkGetPipelineCacheData(r->app.device, cache, size, NULL));
    uint8_t *data = malloc(*size);
    APP_CHECK(data, "out of memory");
    /* A buffer of just the header: at most that many bytes, VK_INCOMPLETE
     * when the cache holds more (vkGetPipelineCacheData). */
    size_t short_size = HEADER_SIZE;
    VkResult res = vkGetPipelineCacheData(r->app.device, cache, &short_size, data);
    APP_CHECK(res == (*size > HEADER_SIZE ? VK_INCOMPLETE : VK_SUCCESS) &&
                  short_size <= HEADER_SIZE,
              "short vkGetPipelineCacheData: %s, %zu bytes", vkapp_result_name(res), short_size);
    record(f, res);
    VK_CHECK(vkGetPipelineCacheData(r->app.device, cache, size, data));
    check_header(&r->app, data, *size, f);
    return data;
}

static void run1(const char *path, struct facts *f)
{
    struct run r;
    run_begin(&r, "api_pipeline_cache_across_runs 1");
    VkPipelineCache cache = cache_create(&r, NULL, 0);
    const uint32_t which[2] = { IOTA, PATTERN };
    create(&r, cache, which, 2, 0, f);
    size_t size;
    void *data = cache_data(&r, cache, &size, f);
    FILE *file = fopen(path, "wb");
    APP_CHECK(file && fwrite(data, 1, size, file) == size && fclose(file) == 0,
              "cannot write %s", path);
    free(data);
    vkDestroyPipelineCache(r.app.device, cache, NULL);
    run_end(&r);
}

static void run2(const char *path, struct facts *f)
{
    FILE *file = fopen(path, "rb");
    APP_CHECK(file, "cannot open %s", path);
    APP_CHECK(fseek(file, 0, SEEK_END) == 0, "seek %s", path);
    long len = ftell(file);
    APP_CHECK(len >= (long)HEADER_SIZE, "cache file of %ld bytes", len);
    rewind(file);
    uint8_t *data = malloc((size_t)len);
    APP_CHECK(data && fread(data, 1, (size_t)len, file) == (size_t)len, "short read of %s",
              path);
    fclose(file);

    struct run r;
    run_begin(&r, "api_pipeline_cache_across_runs 2");
    const VkPipelineCreateFlags fail = VK_PIPELINE_CREATE_FAIL_ON_PIPELINE_COMPILE_REQUIRED_BIT;
    VkPipelineCache cache = cache_create(&r, data, (size_t)len);
    const uint32_t iota[1] = { IOTA }, batch[2] = { PATTERN, HASH }, hash[1] = { HASH };
    VkResult cached = create(&r, cache, iota, 1, fail, f);
    create(&r, cache, batch, 2, fail, f);
    /* Compile the missing one, then it too must come from the cache. */
    create(&r, cache, hash, 1, 0, f);
    create(&r, cache, hash, 1, fail, f);
    printf("pipeline from the loaded cache with FAIL_ON_PIPELINE_COMPILE_REQUIRED: %s\n",
           vkapp_result_name(cached));

    /* Merging the loaded cache into an empty one keeps its header valid. */
    VkPipelineCache merged = cache_create(&r, NULL, 0);
    VK_CHECK(vkMergePipelineCaches(r.app.device, merged, 1, &cache));
    size_t size;
    free(cache_data(&r, merged, &size, f));

    /* Data from a "different device" (flipped UUID) must be accepted and
     * ignored (vkCreatePipelineCache: incompatible data is not an error). */
    data[16] ^= 0xff;
    VkPipelineCache foreign = cache_create(&r, data, (size_t)len);
    create(&r, foreign, iota, 1, fail, f);
    vkDestroyPipelineCache(r.app.device, foreign, NULL);
    vkDestroyPipelineCache(r.app.device, merged, NULL);
    vkDestroyPipelineCache(r.app.device, cache, NULL);
    run_end(&r);
    free(data);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 3, "usage: %s OUTPUT CACHE_FILE", argv[0]);
    double t0 = vkapp_now();
    struct facts f = { .count = 0 };
    run1(argv[2], &f);
    run2(argv[2], &f);
    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, &f.count, 4);
    vkapp_output_write(out, f.results, f.count * 4);
    vkapp_output_close(out);
    printf("facts:");
    for (uint32_t i = 0; i < f.count; i++)
        printf(" %d", f.results[i]);
    printf("\napi_pipeline_cache_across_runs: ok, %.2f s\n", vkapp_now() - t0);
    return 0;
}
