/* api_device: set-up of the api_*.c programs; see api_device.h. Plain Vulkan
 * 1.3 through the loader, so native and tether runs make the same calls. */
#include "api_device.h"

#include <stdlib.h>
#include <string.h>

void api_instance_init(struct vkapp *app, const char *name)
{
    memset(app, 0, sizeof(*app));
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
    uint32_t count = 0;
    VK_CHECK(vkEnumeratePhysicalDevices(app->instance, &count, NULL));
    APP_CHECK(count > 0, "no Vulkan physical device");
    VkPhysicalDevice *devs = calloc(count, sizeof(*devs));
    APP_CHECK(devs, "out of memory");
    VK_CHECK(vkEnumeratePhysicalDevices(app->instance, &count, devs));
    uint32_t index = 0;
    const char *env = getenv("TETHER_TEST_DEVICE");
    if (env && *env) {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        APP_CHECK(*end == '\0' && v < count, "TETHER_TEST_DEVICE=%s: not an index below %u",
                  env, count);
        index = (uint32_t)v;
    }
    app->physical_device = devs[index];
    free(devs);
    vkGetPhysicalDeviceProperties(app->physical_device, &app->props);
    vkGetPhysicalDeviceMemoryProperties(app->physical_device, &app->mem_props);
    printf("device: %s\n", app->props.deviceName);
    fflush(stdout);
    APP_CHECK(app->props.apiVersion >= VK_API_VERSION_1_3, "device supports Vulkan %u.%u only",
              VK_API_VERSION_MAJOR(app->props.apiVersion),
              VK_API_VERSION_MINOR(app->props.apiVersion));
}

bool api_has_extension(const struct vkapp *app, const char *name)
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

void api_device_create(struct vkapp *app, VkQueueFlags queue_flags,
                       const VkPhysicalDeviceFeatures2 *features,
                       const char *const *extensions, uint32_t extension_count)
{
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(app->physical_device, &count, NULL);
    VkQueueFamilyProperties *qf = calloc(count ? count : 1, sizeof(*qf));
    APP_CHECK(qf, "out of memory");
    vkGetPhysicalDeviceQueueFamilyProperties(app->physical_device, &count, qf);
    app->queue_family = UINT32_MAX;
    for (uint32_t i = 0; i < count && app->queue_family == UINT32_MAX; i++) {
        if ((qf[i].queueFlags & queue_flags) == queue_flags) {
            app->queue_family = i;
            app->queue_family_props = qf[i];
        }
    }
    free(qf);
    APP_CHECK(app->queue_family != UINT32_MAX, "no queue family with flags 0x%x",
              (unsigned)queue_flags);
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = app->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = features,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = extension_count,
        .ppEnabledExtensionNames = extensions,
    };
    VK_CHECK(vkCreateDevice(app->physical_device, &dci, NULL, &app->device));
    vkGetDeviceQueue(app->device, app->queue_family, 0, &app->queue);
    APP_CHECK(app->queue != VK_NULL_HANDLE, "vkGetDeviceQueue gave no queue");
    app->pipeline_statistics = features && features->features.pipelineStatisticsQuery;

    VkCommandPoolCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = app->queue_family,
    };
    VK_CHECK(vkCreateCommandPool(app->device, &cpci, NULL, &app->command_pool));
    VkPipelineCacheCreateInfo pcci = { .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO };
    VK_CHECK(vkCreatePipelineCache(app->device, &pcci, NULL, &app->pipeline_cache));
}

void api_destroy(struct vkapp *app)
{
    vkapp_destroy(app);
}
