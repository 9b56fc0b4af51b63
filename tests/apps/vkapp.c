/* vkapp: shared helper of tether's Vulkan test programs; see vkapp.h.
 * Plain Vulkan 1.3 through the loader, nothing tether-specific, so that what
 * the programs do natively and through tether is the same call sequence. */
#include "vkapp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct vkapp_output {
    FILE *file;
    const char *path;
};

void vkapp_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

const char *vkapp_result_name(VkResult result)
{
    switch (result) {
#define R(x) case x: return #x
    R(VK_SUCCESS); R(VK_NOT_READY); R(VK_TIMEOUT); R(VK_EVENT_SET); R(VK_EVENT_RESET);
    R(VK_INCOMPLETE); R(VK_ERROR_OUT_OF_HOST_MEMORY); R(VK_ERROR_OUT_OF_DEVICE_MEMORY);
    R(VK_ERROR_INITIALIZATION_FAILED); R(VK_ERROR_DEVICE_LOST);
    R(VK_ERROR_MEMORY_MAP_FAILED); R(VK_ERROR_LAYER_NOT_PRESENT);
    R(VK_ERROR_EXTENSION_NOT_PRESENT); R(VK_ERROR_FEATURE_NOT_PRESENT);
    R(VK_ERROR_INCOMPATIBLE_DRIVER); R(VK_ERROR_TOO_MANY_OBJECTS);
    R(VK_ERROR_FORMAT_NOT_SUPPORTED); R(VK_ERROR_FRAGMENTED_POOL); R(VK_ERROR_UNKNOWN);
    R(VK_ERROR_OUT_OF_POOL_MEMORY); R(VK_ERROR_INVALID_EXTERNAL_HANDLE);
    R(VK_ERROR_FRAGMENTATION); R(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS);
    R(VK_PIPELINE_COMPILE_REQUIRED);
#undef R
    default: return "VkResult(?)";
    }
}

void vkapp_check(VkResult result, const char *expr, const char *file, int line)
{
    if (result != VK_SUCCESS)
        vkapp_fail(file, line, "%s returned %s (%d)", expr, vkapp_result_name(result),
                   (int)result);
}

void vkapp_expect(VkResult result, VkResult want, const char *expr, const char *file,
                  int line)
{
    if (result != want)
        vkapp_fail(file, line, "%s returned %s (%d), expected %s", expr,
                   vkapp_result_name(result), (int)result, vkapp_result_name(want));
}

static VkPhysicalDevice pick_physical_device(VkInstance instance)
{
    uint32_t count = 0;
    VK_CHECK(vkEnumeratePhysicalDevices(instance, &count, NULL));
    APP_CHECK(count > 0, "no Vulkan physical device");
    VkPhysicalDevice *devs = calloc(count, sizeof(*devs));
    APP_CHECK(devs, "out of memory");
    VK_CHECK(vkEnumeratePhysicalDevices(instance, &count, devs));

    uint32_t index = 0;
    const char *env = getenv("TETHER_TEST_DEVICE");
    if (env && *env) {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        APP_CHECK(*end == '\0' && v < count,
                  "TETHER_TEST_DEVICE=%s: not an index below %u", env, count);
        index = (uint32_t)v;
    }
    VkPhysicalDevice pd = devs[index];
    free(devs);
    return pd;
}

void vkapp_instance_init(struct vkapp *app, const char *name)
{
    memset(app, 0, sizeof(*app));
    uint32_t loader_version = 0;
    VK_CHECK(vkEnumerateInstanceVersion(&loader_version));
    APP_CHECK(loader_version >= VK_API_VERSION_1_3, "loader older than Vulkan 1.3");

    VkApplicationInfo ai = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = name,
        .applicationVersion = 1,
        .pEngineName = "tether-tests",
        .apiVersion = VK_API_VERSION_1_3,
    };
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &ai,
    };
    VK_CHECK(vkCreateInstance(&ici, NULL, &app->instance));

    app->physical_device = pick_physical_device(app->instance);
    vkGetPhysicalDeviceProperties(app->physical_device, &app->props);
    vkGetPhysicalDeviceMemoryProperties(app->physical_device, &app->mem_props);
    printf("device: %s\n", app->props.deviceName);
    fflush(stdout);
    APP_CHECK(app->props.apiVersion >= VK_API_VERSION_1_3,
              "device supports Vulkan %u.%u only", VK_API_VERSION_MAJOR(app->props.apiVersion),
              VK_API_VERSION_MINOR(app->props.apiVersion));
}

bool vkapp_has_extension(const struct vkapp *app, const char *name)
{
    uint32_t count = 0;
    VK_CHECK(vkEnumerateDeviceExtensionProperties(app->physical_device, NULL, &count, NULL));
    VkExtensionProperties *ext = calloc(count ? count : 1, sizeof(*ext));
    APP_CHECK(ext, "out of memory");
    VK_CHECK(vkEnumerateDeviceExtensionProperties(app->physical_device, NULL, &count, ext));
    bool found = false;
    for (uint32_t i = 0; i < count && !found; i++)
        found = strcmp(ext[i].extensionName, name) == 0;
    free(ext);
    return found;
}

static void pick_queue_family(struct vkapp *app, VkQueueFlags want)
{
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(app->physical_device, &count, NULL);
    VkQueueFamilyProperties *qf = calloc(count ? count : 1, sizeof(*qf));
    APP_CHECK(qf, "out of memory");
    vkGetPhysicalDeviceQueueFamilyProperties(app->physical_device, &count, qf);
    app->queue_family = UINT32_MAX;
    for (uint32_t i = 0; i < count && app->queue_family == UINT32_MAX; i++) {
        if ((qf[i].queueFlags & want) == want) {
            app->queue_family = i;
            app->queue_family_props = qf[i];
        }
    }
    free(qf);
    APP_CHECK(app->queue_family != UINT32_MAX, "no queue family with flags 0x%x",
              (unsigned)want);
}

void vkapp_device_create(struct vkapp *app, const struct vkapp_device_options *opt)
{
    pick_queue_family(app, opt->queue_flags);
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = app->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = opt->features,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = opt->extension_count,
        .ppEnabledExtensionNames = opt->extensions,
    };
    VK_CHECK(vkCreateDevice(app->physical_device, &dci, NULL, &app->device));
    if (opt->get_queue2) {
        VkDeviceQueueInfo2 qi = {
            .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
            .queueFamilyIndex = app->queue_family,
            .queueIndex = 0,
        };
        vkGetDeviceQueue2(app->device, &qi, &app->queue);
    } else {
        vkGetDeviceQueue(app->device, app->queue_family, 0, &app->queue);
    }
    APP_CHECK(app->queue != VK_NULL_HANDLE, "no queue from the device");
    app->pipeline_statistics = opt->features && opt->features->features.pipelineStatisticsQuery;

    VkCommandPoolCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = app->queue_family,
    };
    VK_CHECK(vkCreateCommandPool(app->device, &cpci, NULL, &app->command_pool));
    VkPipelineCacheCreateInfo pcci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
    };
    VK_CHECK(vkCreatePipelineCache(app->device, &pcci, NULL, &app->pipeline_cache));
}

void vkapp_init(struct vkapp *app, const char *name)
{
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
    APP_CHECK(f12.timelineSemaphore && f12.hostQueryReset && f13.synchronization2 &&
                  f13.maintenance4,
              "device lacks Vulkan 1.3 mandatory features");

    /* Enable only what the programs use: a remote driver must pass the exact
     * feature chain through, so keep it small and explicit. */
    VkPhysicalDeviceVulkan13Features en13 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
        .synchronization2 = VK_TRUE,
        /* glslang's SPIR-V 1.6 (--target-env vulkan1.3) declares the workgroup
         * size with LocalSizeId, which needs maintenance4 (VUID-RuntimeSpirv-
         * LocalSizeId-06434). */
        .maintenance4 = VK_TRUE,
    };
    VkPhysicalDeviceVulkan12Features en12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = &en13,
        .timelineSemaphore = VK_TRUE,
        .hostQueryReset = VK_TRUE,
    };
    VkPhysicalDeviceFeatures2 en2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &en12,
        .features.pipelineStatisticsQuery = f2.features.pipelineStatisticsQuery,
    };
    vkapp_device_create(app, &(struct vkapp_device_options){
        .queue_flags = VK_QUEUE_COMPUTE_BIT,
        .features = &en2,
        .get_queue2 = true,
    });
}

void vkapp_destroy(struct vkapp *app)
{
    VK_CHECK(vkDeviceWaitIdle(app->device));
    vkDestroyPipelineCache(app->device, app->pipeline_cache, NULL);
    vkDestroyCommandPool(app->device, app->command_pool, NULL);
    vkDestroyDevice(app->device, NULL);
    vkDestroyInstance(app->instance, NULL);
    memset(app, 0, sizeof(*app));
}

uint32_t vkapp_find_memory_type(const struct vkapp *app, uint32_t type_bits,
                                VkMemoryPropertyFlags required,
                                VkMemoryPropertyFlags preferred)
{
    const VkPhysicalDeviceMemoryProperties *mp = &app->mem_props;
    VkMemoryPropertyFlags want = required | preferred;
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        if ((type_bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want)
            return i;
    }
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        if ((type_bits & (1u << i)) &&
            (mp->memoryTypes[i].propertyFlags & required) == required)
            return i;
    }
    vkapp_fail(__FILE__, __LINE__, "no memory type with flags 0x%x in bits 0x%x",
               (unsigned)required, type_bits);
}

void vkapp_buffer_create(struct vkapp *app, VkDeviceSize size, VkBufferUsageFlags usage,
                         VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred,
                         unsigned flags, struct vkapp_buffer *out)
{
    memset(out, 0, sizeof(*out));
    out->size = size;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_CHECK(vkCreateBuffer(app->device, &bci, NULL, &out->buffer));

    /* The *2 query path, with the dedicated-allocation chain a driver may fill. */
    VkMemoryDedicatedRequirements dedicated = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS,
    };
    VkMemoryRequirements2 req = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2,
        .pNext = &dedicated,
    };
    VkBufferMemoryRequirementsInfo2 rqi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
        .buffer = out->buffer,
    };
    vkGetBufferMemoryRequirements2(app->device, &rqi, &req);
    APP_CHECK(req.memoryRequirements.size >= size, "memory requirement smaller than buffer");

    out->memory_type = vkapp_find_memory_type(app, req.memoryRequirements.memoryTypeBits,
                                              required, preferred);
    out->memory_flags = app->mem_props.memoryTypes[out->memory_type].propertyFlags;
    VkMemoryDedicatedAllocateInfo dai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .buffer = out->buffer,
    };
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = dedicated.prefersDedicatedAllocation ? &dai : NULL,
        .allocationSize = req.memoryRequirements.size,
        .memoryTypeIndex = out->memory_type,
    };
    VK_CHECK(vkAllocateMemory(app->device, &mai, NULL, &out->memory));
    VkBindBufferMemoryInfo bind = {
        .sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO,
        .buffer = out->buffer,
        .memory = out->memory,
        .memoryOffset = 0,
    };
    VK_CHECK(vkBindBufferMemory2(app->device, 1, &bind));
    if (flags & VKAPP_MAP) {
        APP_CHECK(out->memory_flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                  "mapping a non-host-visible buffer");
        VK_CHECK(vkMapMemory(app->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->map));
    }
}

void vkapp_buffer_destroy(struct vkapp *app, struct vkapp_buffer *buf)
{
    if (buf->map)
        vkUnmapMemory(app->device, buf->memory);
    vkDestroyBuffer(app->device, buf->buffer, NULL);
    vkFreeMemory(app->device, buf->memory, NULL);
    memset(buf, 0, sizeof(*buf));
}

VkShaderModule vkapp_shader_module(struct vkapp *app, const char *path)
{
    FILE *f = fopen(path, "rb");
    APP_CHECK(f, "cannot open SPIR-V %s", path);
    APP_CHECK(fseek(f, 0, SEEK_END) == 0, "seek %s", path);
    long len = ftell(f);
    APP_CHECK(len > 0 && len % 4 == 0, "bad SPIR-V size %ld in %s", len, path);
    rewind(f);
    uint32_t *code = malloc((size_t)len);
    APP_CHECK(code, "out of memory");
    APP_CHECK(fread(code, 1, (size_t)len, f) == (size_t)len, "short read of %s", path);
    fclose(f);
    VkShaderModuleCreateInfo smci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = (size_t)len,
        .pCode = code,
    };
    VkShaderModule module;
    VK_CHECK(vkCreateShaderModule(app->device, &smci, NULL, &module));
    free(code);
    return module;
}

void vkapp_pipeline_create(struct vkapp *app, const char *spv_path, uint32_t num_buffers,
                           uint32_t push_size, struct vkapp_pipeline *out)
{
    VkDescriptorSetLayoutBinding bindings[8];
    APP_CHECK(num_buffers <= 8, "too many bindings");
    for (uint32_t i = 0; i < num_buffers; i++) {
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    }
    VkDescriptorSetLayoutCreateInfo dslci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = num_buffers,
        .pBindings = bindings,
    };
    VK_CHECK(vkCreateDescriptorSetLayout(app->device, &dslci, NULL, &out->set_layout));
    VkPushConstantRange pcr = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .offset = 0,
        .size = push_size,
    };
    VkPipelineLayoutCreateInfo plci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &out->set_layout,
        .pushConstantRangeCount = push_size ? 1 : 0,
        .pPushConstantRanges = &pcr,
    };
    VK_CHECK(vkCreatePipelineLayout(app->device, &plci, NULL, &out->layout));

    VkShaderModule module = vkapp_shader_module(app, spv_path);
    VkComputePipelineCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
        },
        .layout = out->layout,
    };
    VK_CHECK(vkCreateComputePipelines(app->device, app->pipeline_cache, 1, &cpci, NULL,
                                      &out->pipeline));
    /* VkShaderModule: may be destroyed once the pipelines using it exist. */
    vkDestroyShaderModule(app->device, module, NULL);
}

void vkapp_pipeline_destroy(struct vkapp *app, struct vkapp_pipeline *pl)
{
    vkDestroyPipeline(app->device, pl->pipeline, NULL);
    vkDestroyPipelineLayout(app->device, pl->layout, NULL);
    vkDestroyDescriptorSetLayout(app->device, pl->set_layout, NULL);
    memset(pl, 0, sizeof(*pl));
}

VkDescriptorPool vkapp_descriptor_pool_create(struct vkapp *app, uint32_t max_sets,
                                              uint32_t max_buffers)
{
    VkDescriptorPoolSize size = {
        .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = max_sets * max_buffers,
    };
    VkDescriptorPoolCreateInfo dpci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
        .maxSets = max_sets,
        .poolSizeCount = 1,
        .pPoolSizes = &size,
    };
    VkDescriptorPool pool;
    VK_CHECK(vkCreateDescriptorPool(app->device, &dpci, NULL, &pool));
    return pool;
}

VkDescriptorSet vkapp_descriptor_set_create(struct vkapp *app, VkDescriptorPool pool,
                                            VkDescriptorSetLayout layout,
                                            const struct vkapp_buffer *const *buffers,
                                            uint32_t n)
{
    VkDescriptorSetAllocateInfo dsai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &layout,
    };
    VkDescriptorSet set;
    VK_CHECK(vkAllocateDescriptorSets(app->device, &dsai, &set));
    VkDescriptorBufferInfo infos[8];
    VkWriteDescriptorSet writes[8];
    APP_CHECK(n <= 8, "too many bindings");
    for (uint32_t i = 0; i < n; i++) {
        infos[i] = (VkDescriptorBufferInfo){
            .buffer = buffers[i]->buffer,
            .offset = 0,
            .range = VK_WHOLE_SIZE,
        };
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[i],
        };
    }
    vkUpdateDescriptorSets(app->device, n, writes, 0, NULL);
    return set;
}

VkCommandBuffer vkapp_begin(struct vkapp *app)
{
    VkCommandBufferAllocateInfo cbai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = app->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkCommandBuffer cmd;
    VK_CHECK(vkAllocateCommandBuffers(app->device, &cbai, &cmd));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    return cmd;
}

void vkapp_submit_wait(struct vkapp *app, VkCommandBuffer cmd)
{
    VK_CHECK(vkEndCommandBuffer(cmd));
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VkFence fence;
    VK_CHECK(vkCreateFence(app->device, &fci, NULL, &fence));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    VK_CHECK(vkQueueSubmit(app->queue, 1, &si, fence));
    VK_CHECK(vkWaitForFences(app->device, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000));
    vkDestroyFence(app->device, fence, NULL);
    vkFreeCommandBuffers(app->device, app->command_pool, 1, &cmd);
}

void vkapp_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                   VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                   VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
}

void vkapp_buffer_barrier2(VkCommandBuffer cmd, VkBuffer buffer, VkPipelineStageFlags2 src_stage,
                           VkAccessFlags2 src_access, VkPipelineStageFlags2 dst_stage,
                           VkAccessFlags2 dst_access)
{
    VkBufferMemoryBarrier2 b = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER_2,
        .srcStageMask = src_stage,
        .srcAccessMask = src_access,
        .dstStageMask = dst_stage,
        .dstAccessMask = dst_access,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .buffer = buffer,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
    VkDependencyInfo dep = {
        .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
        .bufferMemoryBarrierCount = 1,
        .pBufferMemoryBarriers = &b,
    };
    vkCmdPipelineBarrier2(cmd, &dep);
}

void vkapp_pipeline_cache_roundtrip(struct vkapp *app)
{
    size_t size = 0;
    VK_CHECK(vkGetPipelineCacheData(app->device, app->pipeline_cache, &size, NULL));
    /* VkPipelineCacheHeaderVersionOne is at least 16 + VK_UUID_SIZE bytes. */
    APP_CHECK(size >= 16 + VK_UUID_SIZE, "pipeline cache data of %zu bytes", size);
    void *data = malloc(size);
    APP_CHECK(data, "out of memory");
    VK_CHECK(vkGetPipelineCacheData(app->device, app->pipeline_cache, &size, data));
    const uint32_t *hdr = data;
    APP_CHECK(hdr[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE, "cache header version %u",
              hdr[1]);
    APP_CHECK(memcmp((const uint8_t *)data + 16, app->props.pipelineCacheUUID,
                     VK_UUID_SIZE) == 0,
              "pipeline cache UUID differs from the device's");

    VkPipelineCacheCreateInfo pcci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkPipelineCache copy;
    VK_CHECK(vkCreatePipelineCache(app->device, &pcci, NULL, &copy));
    VK_CHECK(vkMergePipelineCaches(app->device, app->pipeline_cache, 1, &copy));
    vkDestroyPipelineCache(app->device, copy, NULL);
    free(data);
}

struct vkapp_output *vkapp_output_open(const char *path)
{
    struct vkapp_output *out = calloc(1, sizeof(*out));
    APP_CHECK(out, "out of memory");
    out->path = path;
    out->file = fopen(path, "wb");
    APP_CHECK(out->file, "cannot create %s", path);
    return out;
}

void vkapp_output_write(struct vkapp_output *out, const void *data, size_t size)
{
    APP_CHECK(fwrite(data, 1, size, out->file) == size, "write to %s failed", out->path);
}

void vkapp_output_close(struct vkapp_output *out)
{
    APP_CHECK(fclose(out->file) == 0, "closing %s failed", out->path);
    free(out);
}

double vkapp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
