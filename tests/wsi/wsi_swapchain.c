/* wsi_swapchain: instance/device/surface set-up, swapchains and the solid-color
 * frame loop of wsi_present; see wsi_swapchain.h. Plain Vulkan through the
 * loader, so the same calls reach lavapipe natively and tether's ICD. */
#include "wsi_swapchain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *wsi_result_name(VkResult r)
{
    switch (r) {
    case VK_SUBOPTIMAL_KHR: return "VK_SUBOPTIMAL_KHR";
    case VK_ERROR_OUT_OF_DATE_KHR: return "VK_ERROR_OUT_OF_DATE_KHR";
    case VK_ERROR_SURFACE_LOST_KHR: return "VK_ERROR_SURFACE_LOST_KHR";
    case VK_ERROR_NATIVE_WINDOW_IN_USE_KHR: return "VK_ERROR_NATIVE_WINDOW_IN_USE_KHR";
    default: return vkapp_result_name(r);
    }
}

const char *wsi_present_mode_name(VkPresentModeKHR mode)
{
    switch (mode) {
    case VK_PRESENT_MODE_IMMEDIATE_KHR: return "IMMEDIATE";
    case VK_PRESENT_MODE_MAILBOX_KHR: return "MAILBOX";
    case VK_PRESENT_MODE_FIFO_KHR: return "FIFO";
    case VK_PRESENT_MODE_FIFO_RELAXED_KHR: return "FIFO_RELAXED";
    default: return "(other present mode)";
    }
}

/* Whether the loader (with its layers and drivers) offers instance extension @name. */
static bool instance_has_extension(const char *name)
{
    uint32_t count = 0;
    VK_CHECK(vkEnumerateInstanceExtensionProperties(NULL, &count, NULL));
    VkExtensionProperties *props = calloc(count ? count : 1, sizeof(*props));
    APP_CHECK(props, "out of memory");
    VK_CHECK(vkEnumerateInstanceExtensionProperties(NULL, &count, props));
    bool found = false;
    for (uint32_t i = 0; i < count && !found; i++)
        found = !strcmp(props[i].extensionName, name);
    free(props);
    return found;
}

/* The instance: the two surface extensions, plus VK_EXT_surface_maintenance1
 * and the VK_KHR_get_surface_capabilities2 it requires when @flags asks for
 * maintenance1 and both are offered; otherwise t->maintenance1_missing says
 * why (device_create() finishes the decision). */
static void instance_create(struct wsi_target *t, const char *name, unsigned flags)
{
    struct vkapp *app = &t->app;
    static const char *const extensions[] = {
        VK_KHR_SURFACE_EXTENSION_NAME,
        VK_KHR_XCB_SURFACE_EXTENSION_NAME,
        VK_KHR_GET_SURFACE_CAPABILITIES_2_EXTENSION_NAME,
        VK_EXT_SURFACE_MAINTENANCE_1_EXTENSION_NAME,
    };
    snprintf(t->maintenance1_missing, sizeof(t->maintenance1_missing), "not asked for");
    bool maintenance1 = false;
    if (flags & WSI_TARGET_MAINTENANCE1) {
        const bool caps2 = instance_has_extension(VK_KHR_GET_SURFACE_CAPABILITIES_2_EXTENSION_NAME);
        const bool surface = instance_has_extension(VK_EXT_SURFACE_MAINTENANCE_1_EXTENSION_NAME);
        maintenance1 = caps2 && surface;
        if (!maintenance1)
            snprintf(t->maintenance1_missing, sizeof(t->maintenance1_missing),
                     "the instance does not offer both (%s: %s, %s: %s)",
                     VK_KHR_GET_SURFACE_CAPABILITIES_2_EXTENSION_NAME,
                     caps2 ? "offered" : "not offered", VK_EXT_SURFACE_MAINTENANCE_1_EXTENSION_NAME,
                     surface ? "offered" : "not offered");
    }
    /* Set for now; device_create() clears it when the device lacks its part. */
    t->maintenance1 = maintenance1;
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
        .enabledExtensionCount = maintenance1 ? 4 : 2,
        .ppEnabledExtensionNames = extensions,
    };
    VK_CHECK(vkCreateInstance(&ici, NULL, &app->instance));

    uint32_t count = 0;
    VK_CHECK(vkEnumeratePhysicalDevices(app->instance, &count, NULL));
    APP_CHECK(count > 0 && count <= 16, "%u Vulkan physical devices", count);
    VkPhysicalDevice devs[16];
    VK_CHECK(vkEnumeratePhysicalDevices(app->instance, &count, devs));
    /* Same device choice as vkapp_instance_init(). */
    const char *env = getenv("TETHER_TEST_DEVICE");
    uint32_t index = env && *env ? (uint32_t)strtoul(env, NULL, 10) : 0;
    APP_CHECK(index < count, "TETHER_TEST_DEVICE=%s: not an index below %u", env, count);
    app->physical_device = devs[index];
    vkGetPhysicalDeviceProperties(app->physical_device, &app->props);
    vkGetPhysicalDeviceMemoryProperties(app->physical_device, &app->mem_props);
    printf("device: %s\n", app->props.deviceName);
    fflush(stdout);
}

/* Whether the device has VK_KHR_present_id and VK_KHR_present_wait with their
 * features; when not, writes why into t->present_wait_missing. The feature
 * structs are chained only where both extensions are offered: elsewhere the
 * driver would skip them unread and the answer would mean nothing. */
static bool present_wait_offered(struct wsi_target *t)
{
    const bool has_id = vkapp_has_extension(&t->app, VK_KHR_PRESENT_ID_EXTENSION_NAME);
    const bool has_wait = vkapp_has_extension(&t->app, VK_KHR_PRESENT_WAIT_EXTENSION_NAME);
    if (!has_id || !has_wait) {
        snprintf(t->present_wait_missing, sizeof(t->present_wait_missing),
                 "the device does not offer both (%s: %s, %s: %s)",
                 VK_KHR_PRESENT_ID_EXTENSION_NAME, has_id ? "offered" : "not offered",
                 VK_KHR_PRESENT_WAIT_EXTENSION_NAME, has_wait ? "offered" : "not offered");
        return false;
    }
    VkPhysicalDevicePresentWaitFeaturesKHR wait = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_WAIT_FEATURES_KHR,
    };
    VkPhysicalDevicePresentIdFeaturesKHR id = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_ID_FEATURES_KHR,
        .pNext = &wait,
    };
    VkPhysicalDeviceFeatures2 f2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &id,
    };
    vkGetPhysicalDeviceFeatures2(t->app.physical_device, &f2);
    if (!id.presentId || !wait.presentWait) {
        snprintf(t->present_wait_missing, sizeof(t->present_wait_missing),
                 "the device offers both extensions but reports presentId %u, presentWait %u",
                 id.presentId, wait.presentWait);
        return false;
    }
    return true;
}

/* Whether the device has VK_EXT_swapchain_maintenance1 with its feature (the
 * instance part was settled by instance_create()); when not, says why in
 * t->maintenance1_missing. */
static bool swapchain_maintenance1_offered(struct wsi_target *t)
{
    if (!vkapp_has_extension(&t->app, VK_EXT_SWAPCHAIN_MAINTENANCE_1_EXTENSION_NAME)) {
        snprintf(t->maintenance1_missing, sizeof(t->maintenance1_missing),
                 "the device does not offer %s", VK_EXT_SWAPCHAIN_MAINTENANCE_1_EXTENSION_NAME);
        return false;
    }
    VkPhysicalDeviceSwapchainMaintenance1FeaturesEXT m1 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SWAPCHAIN_MAINTENANCE_1_FEATURES_EXT,
    };
    VkPhysicalDeviceFeatures2 f2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &m1,
    };
    vkGetPhysicalDeviceFeatures2(t->app.physical_device, &f2);
    if (!m1.swapchainMaintenance1) {
        snprintf(t->maintenance1_missing, sizeof(t->maintenance1_missing),
                 "the device offers %s but reports swapchainMaintenance1 0",
                 VK_EXT_SWAPCHAIN_MAINTENANCE_1_EXTENSION_NAME);
        return false;
    }
    return true;
}

/* A device-level command of an extension: the loader exports none, so it
 * comes from vkGetDeviceProcAddr (which goes straight to the driver). */
static PFN_vkVoidFunction device_command(struct wsi_target *t, const char *name)
{
    PFN_vkVoidFunction f = vkGetDeviceProcAddr(t->app.device, name);
    APP_CHECK(f, "vkGetDeviceProcAddr(%s) is NULL with its extension enabled", name);
    return f;
}

/* The device: VK_KHR_swapchain, plus present id and present wait, and
 * swapchain maintenance1 (extensions and features) when @flags asks and the
 * device has them. VK_KHR_present_wait requires VK_KHR_present_id and
 * VK_KHR_swapchain, VK_EXT_swapchain_maintenance1 requires VK_KHR_swapchain
 * and VK_EXT_surface_maintenance1 (their extension dependencies). */
static void device_create(struct wsi_target *t, unsigned flags)
{
    APP_CHECK(vkapp_has_extension(&t->app, VK_KHR_SWAPCHAIN_EXTENSION_NAME),
              "device does not offer VK_KHR_swapchain");
    const char *dev_ext[4] = {VK_KHR_SWAPCHAIN_EXTENSION_NAME};
    uint32_t ext_count = 1;
    snprintf(t->present_wait_missing, sizeof(t->present_wait_missing), "not asked for");
    t->present_wait = (flags & WSI_TARGET_PRESENT_WAIT) && present_wait_offered(t);
    t->maintenance1 = t->maintenance1 && swapchain_maintenance1_offered(t);

    /* Each feature struct is chained only with its extension enabled. */
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    VkPhysicalDevicePresentWaitFeaturesKHR wait = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_WAIT_FEATURES_KHR,
        .presentWait = VK_TRUE,
    };
    VkPhysicalDevicePresentIdFeaturesKHR id = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_ID_FEATURES_KHR,
        .presentId = VK_TRUE,
    };
    VkPhysicalDeviceSwapchainMaintenance1FeaturesEXT m1 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SWAPCHAIN_MAINTENANCE_1_FEATURES_EXT,
        .swapchainMaintenance1 = VK_TRUE,
    };
    if (t->present_wait) {
        dev_ext[ext_count++] = VK_KHR_PRESENT_ID_EXTENSION_NAME;
        dev_ext[ext_count++] = VK_KHR_PRESENT_WAIT_EXTENSION_NAME;
        wait.pNext = f2.pNext;
        id.pNext = &wait;
        f2.pNext = &id;
    }
    if (t->maintenance1) {
        dev_ext[ext_count++] = VK_EXT_SWAPCHAIN_MAINTENANCE_1_EXTENSION_NAME;
        m1.pNext = f2.pNext;
        f2.pNext = &m1;
    }
    vkapp_device_create(&t->app, &(struct vkapp_device_options){
        .queue_flags = VK_QUEUE_GRAPHICS_BIT,
        .features = f2.pNext ? &f2 : NULL,
        .extensions = dev_ext,
        .extension_count = ext_count,
    });
    if (t->present_wait) {
        t->present_wait_missing[0] = '\0';
        t->wait_for_present = (PFN_vkWaitForPresentKHR)device_command(t, "vkWaitForPresentKHR");
    }
    if (t->maintenance1) {
        t->maintenance1_missing[0] = '\0';
        t->release_images =
            (PFN_vkReleaseSwapchainImagesEXT)device_command(t, "vkReleaseSwapchainImagesEXT");
    }
}

void wsi_target_init(struct wsi_target *t, struct wsi_window *window, const char *name,
                     unsigned flags)
{
    memset(t, 0, sizeof(*t));
    t->window = window;
    instance_create(t, name, flags);

    VkXcbSurfaceCreateInfoKHR sci = {
        .sType = VK_STRUCTURE_TYPE_XCB_SURFACE_CREATE_INFO_KHR,
        .connection = window->conn,
        .window = window->window,
    };
    VK_CHECK(vkCreateXcbSurfaceKHR(t->app.instance, &sci, NULL, &t->surface));

    device_create(t, flags);

    VkCommandPoolCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = t->app.queue_family,
    };
    VK_CHECK(vkCreateCommandPool(t->app.device, &cpci, NULL, &t->pool));
    VkCommandBufferAllocateInfo cbai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = t->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = WSI_FRAMES_IN_FLIGHT,
    };
    VK_CHECK(vkAllocateCommandBuffers(t->app.device, &cbai, t->cmd));
    for (int i = 0; i < WSI_FRAMES_IN_FLIGHT; i++) {
        VkFenceCreateInfo fci = {
            .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
            .flags = VK_FENCE_CREATE_SIGNALED_BIT,
        };
        VK_CHECK(vkCreateFence(t->app.device, &fci, NULL, &t->in_flight[i]));
        t->acquired[i] = wsi_semaphore_create(t);
    }
}

void wsi_target_destroy(struct wsi_target *t)
{
    VK_CHECK(vkDeviceWaitIdle(t->app.device));
    for (int i = 0; i < WSI_FRAMES_IN_FLIGHT; i++) {
        vkDestroyFence(t->app.device, t->in_flight[i], NULL);
        vkDestroySemaphore(t->app.device, t->acquired[i], NULL);
    }
    vkDestroyCommandPool(t->app.device, t->pool, NULL);
    vkDestroySurfaceKHR(t->app.instance, t->surface, NULL);
    vkapp_destroy(&t->app);
    memset(t, 0, sizeof(*t));
}

VkFence wsi_fence_create(struct wsi_target *t)
{
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    VK_CHECK(vkCreateFence(t->app.device, &fci, NULL, &fence));
    return fence;
}

VkSemaphore wsi_semaphore_create(struct wsi_target *t)
{
    VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    VkSemaphore sem;
    VK_CHECK(vkCreateSemaphore(t->app.device, &sci, NULL, &sem));
    return sem;
}

static VkSurfaceFormatKHR pick_format(struct wsi_target *t)
{
    uint32_t count = 0;
    VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(t->app.physical_device, t->surface, &count,
                                                  NULL));
    VkSurfaceFormatKHR *formats = calloc(count ? count : 1, sizeof(*formats));
    APP_CHECK(formats, "out of memory");
    VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(t->app.physical_device, t->surface, &count,
                                                  formats));
    VkSurfaceFormatKHR chosen = {VK_FORMAT_UNDEFINED, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR};
    for (uint32_t i = 0; i < count; i++) {
        if (formats[i].colorSpace != VK_COLOR_SPACE_SRGB_NONLINEAR_KHR)
            continue;
        if (formats[i].format == VK_FORMAT_B8G8R8A8_UNORM ||
            (formats[i].format == VK_FORMAT_B8G8R8A8_SRGB && chosen.format == VK_FORMAT_UNDEFINED))
            chosen = formats[i];
    }
    free(formats);
    APP_CHECK(chosen.format != VK_FORMAT_UNDEFINED,
              "surface offers neither B8G8R8A8_UNORM nor B8G8R8A8_SRGB (SRGB_NONLINEAR)");
    return chosen;
}

void wsi_swapchain_create(struct wsi_target *t, struct wsi_swapchain *sc, VkPresentModeKHR mode,
                          uint32_t image_count, VkSwapchainKHR old)
{
    wsi_swapchain_create_modes(t, sc, mode, image_count, old, NULL, 0);
}

void wsi_swapchain_create_modes(struct wsi_target *t, struct wsi_swapchain *sc,
                                VkPresentModeKHR mode, uint32_t image_count, VkSwapchainKHR old,
                                const VkPresentModeKHR *modes, uint32_t count)
{
    APP_CHECK(!count || t->maintenance1, "present modes list without swapchain maintenance1");
    memset(sc, 0, sizeof(*sc));
    VkSurfaceCapabilitiesKHR caps;
    VK_CHECK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(t->app.physical_device, t->surface,
                                                       &caps));
    /* X11 surfaces report the window's size as currentExtent, and min and max
     * extents equal to it: the swapchain must use exactly that size. */
    APP_CHECK(caps.currentExtent.width != UINT32_MAX,
              "X11 surface reports no currentExtent (0xFFFFFFFF)");
    APP_CHECK(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT,
              "swapchain images cannot be TRANSFER_DST (supportedUsageFlags 0x%x); the test "
              "clears them with vkCmdClearColorImage", caps.supportedUsageFlags);
    uint32_t want = image_count ? image_count : caps.minImageCount;
    if (want < caps.minImageCount)
        want = caps.minImageCount;
    if (caps.maxImageCount && want > caps.maxImageCount)
        want = caps.maxImageCount;
    VkCompositeAlphaFlagBitsKHR alpha =
        (caps.supportedCompositeAlpha & VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR)
            ? VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
            : VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR;
    APP_CHECK(caps.supportedCompositeAlpha & alpha, "neither OPAQUE nor INHERIT composite alpha");

    sc->format = pick_format(t);
    sc->mode = mode;
    sc->extent = caps.currentExtent;
    sc->min_image_count = caps.minImageCount;
    /* VkSwapchainPresentModesCreateInfoEXT: the modes later presents may pick
     * with VkSwapchainPresentModeInfoEXT; presentMode must be among them. */
    const VkSwapchainPresentModesCreateInfoEXT modes_ci = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_MODES_CREATE_INFO_EXT,
        .presentModeCount = count,
        .pPresentModes = modes,
    };
    VkSwapchainCreateInfoKHR ci = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
        .pNext = count ? &modes_ci : NULL,
        .surface = t->surface,
        .minImageCount = want,
        .imageFormat = sc->format.format,
        .imageColorSpace = sc->format.colorSpace,
        .imageExtent = sc->extent,
        .imageArrayLayers = 1,
        .imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
        .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .preTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
        .compositeAlpha = alpha,
        .presentMode = mode,
        .clipped = VK_TRUE,
        .oldSwapchain = old,
    };
    VK_CHECK(vkCreateSwapchainKHR(t->app.device, &ci, NULL, &sc->swapchain));
    VK_CHECK(vkGetSwapchainImagesKHR(t->app.device, sc->swapchain, &sc->image_count, NULL));
    APP_CHECK(sc->image_count >= want && sc->image_count <= WSI_MAX_IMAGES,
              "swapchain has %u images, asked for at least %u (test handles up to %d)",
              sc->image_count, want, WSI_MAX_IMAGES);
    VK_CHECK(vkGetSwapchainImagesKHR(t->app.device, sc->swapchain, &sc->image_count,
                                     sc->images));
    for (uint32_t i = 0; i < sc->image_count; i++)
        sc->rendered[i] = wsi_semaphore_create(t);
}

void wsi_swapchain_destroy(struct wsi_target *t, struct wsi_swapchain *sc)
{
    /* Presents wait on rendered[]: only an idle queue lets them go. */
    VK_CHECK(vkQueueWaitIdle(t->app.queue));
    wsi_swapchain_destroy_now(t, sc);
}

void wsi_swapchain_destroy_now(struct wsi_target *t, struct wsi_swapchain *sc)
{
    for (uint32_t i = 0; i < sc->image_count; i++)
        vkDestroySemaphore(t->app.device, sc->rendered[i], NULL);
    vkDestroySwapchainKHR(t->app.device, sc->swapchain, NULL);
    memset(sc, 0, sizeof(*sc));
}

/* The float clear value that stores byte @c in the swapchain's format. */
static float channel(const struct wsi_swapchain *sc, uint32_t c)
{
    float v = (float)c / 255.0f;
    if (sc->format.format != VK_FORMAT_B8G8R8A8_SRGB)
        return v;
    /* sRGB EOTF (the inverse of what the format's store applies), "Khronos
     * Data Format Specification, sRGB transfer functions". */
    return v <= 0.04045f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
}

int wsi_color_tolerance(const struct wsi_swapchain *sc)
{
    return sc->format.format == VK_FORMAT_B8G8R8A8_SRGB ? 1 : 0;
}

void wsi_record_clear(struct wsi_swapchain *sc, VkCommandBuffer cmd, const uint32_t *images,
                      uint32_t count, uint32_t rgb)
{
    const VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    const VkClearColorValue color = {.float32 = {
        channel(sc, (rgb >> 16) & 0xff), channel(sc, (rgb >> 8) & 0xff), channel(sc, rgb & 0xff),
        1.0f}};
    for (uint32_t i = 0; i < count; i++) {
        VkImage image = sc->images[images[i]];
        /* srcStage TRANSFER: the acquire semaphore is waited on at TRANSFER, so
         * the layout transition is ordered after the presentation engine let go
         * of the image ("Swapchain Image Acquire and Present" in the spec's
         * synchronization examples, with TRANSFER for COLOR_ATTACHMENT_OUTPUT). */
        VkImageMemoryBarrier to_dst = {
            .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
            .srcAccessMask = 0,
            .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
            .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
            .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .image = image,
            .subresourceRange = range,
        };
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             0, 0, NULL, 0, NULL, 1, &to_dst);
        vkCmdClearColorImage(cmd, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1, &range);
        /* Present needs no access mask: the semaphore signalled after this
         * submit makes the writes available to the presentation engine. */
        VkImageMemoryBarrier to_present = to_dst;
        to_present.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        to_present.dstAccessMask = 0;
        to_present.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
        to_present.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0, NULL, 1,
                             &to_present);
    }
}

void wsi_submit(struct wsi_target *t, VkCommandBuffer cmd, VkSemaphore wait, VkSemaphore signal,
                VkFence fence)
{
    const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .waitSemaphoreCount = wait ? 1 : 0,
        .pWaitSemaphores = &wait,
        .pWaitDstStageMask = &wait_stage,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
        .signalSemaphoreCount = signal ? 1 : 0,
        .pSignalSemaphores = &signal,
    };
    VK_CHECK(vkQueueSubmit(t->app.queue, 1, &si, fence));
}

void wsi_present_images(struct wsi_target *t, struct wsi_swapchain *sc, const uint32_t *images,
                        uint32_t count, uint32_t rgb)
{
    const VkDevice dev = t->app.device;
    VkCommandBuffer cmd = t->cmd[0];
    VK_CHECK(vkWaitForFences(dev, 1, &t->in_flight[0], VK_TRUE, UINT64_MAX));
    VK_CHECK(vkResetFences(dev, 1, &t->in_flight[0]));
    VK_CHECK(vkResetCommandBuffer(cmd, 0));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    wsi_record_clear(sc, cmd, images, count, rgb);
    VK_CHECK(vkEndCommandBuffer(cmd));
    wsi_submit(t, cmd, VK_NULL_HANDLE, VK_NULL_HANDLE, t->in_flight[0]);
    VK_CHECK(vkWaitForFences(dev, 1, &t->in_flight[0], VK_TRUE, UINT64_MAX));
    /* "Each element of pSwapchains member of pPresentInfo must be unique":
     * one present per image. */
    for (uint32_t i = 0; i < count; i++)
        VK_CHECK(wsi_present(t, sc, images[i], VK_NULL_HANDLE));
}

VkResult wsi_present(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t image,
                     VkSemaphore wait)
{
    return wsi_present_id(t, sc, image, wait, 0);
}

VkResult wsi_present_id(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t image,
                        VkSemaphore wait, uint64_t present_id)
{
    const struct wsi_present_extras x = {.present_id = present_id};
    return wsi_present_ext(t, sc, image, wait, &x);
}

VkResult wsi_present_ext(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t image,
                         VkSemaphore wait, const struct wsi_present_extras *x)
{
    static const struct wsi_present_extras none;
    x = x ? x : &none;
    /* VkPresentIdKHR may be chained only with VK_KHR_present_id enabled; an id
     * of 0 would mean "no id" anyway, so leave the struct out then. */
    APP_CHECK(!x->present_id || t->present_wait, "present id %llu without VK_KHR_present_id",
              (unsigned long long)x->present_id);
    APP_CHECK((!x->fence && !x->set_mode) || t->maintenance1,
              "present fence or mode without VK_EXT_swapchain_maintenance1");
    /* Vulkan 1.3.239's headers declare pNext of the two maintenance1 structs
     * non-const (later headers fix it), hence the casts. */
    void *chain = NULL;
    const VkPresentIdKHR ids = {
        .sType = VK_STRUCTURE_TYPE_PRESENT_ID_KHR,
        .swapchainCount = 1,
        .pPresentIds = &x->present_id,
    };
    if (x->present_id)
        chain = (void *)&ids;
    const VkSwapchainPresentFenceInfoEXT fences = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_FENCE_INFO_EXT,
        .pNext = chain,
        .swapchainCount = 1,
        .pFences = &x->fence,
    };
    if (x->fence)
        chain = (void *)&fences;
    const VkSwapchainPresentModeInfoEXT modes = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_MODE_INFO_EXT,
        .pNext = chain,
        .swapchainCount = 1,
        .pPresentModes = &x->mode,
    };
    if (x->set_mode)
        chain = (void *)&modes;
    VkResult per_swapchain = VK_RESULT_MAX_ENUM;
    VkPresentInfoKHR pi = {
        .sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
        .pNext = chain,
        .waitSemaphoreCount = wait ? 1 : 0,
        .pWaitSemaphores = &wait,
        .swapchainCount = 1,
        .pSwapchains = &sc->swapchain,
        .pImageIndices = &image,
        .pResults = &per_swapchain,
    };
    VkResult r = vkQueuePresentKHR(t->app.queue, &pi);
    /* With one swapchain, pResults[0] is the call's own result. */
    APP_CHECK(per_swapchain == r, "vkQueuePresentKHR returned %s but pResults[0] is %s",
              wsi_result_name(r), wsi_result_name(per_swapchain));
    return r;
}

static bool is_stale(VkResult r)
{
    return r == VK_SUBOPTIMAL_KHR || r == VK_ERROR_OUT_OF_DATE_KHR;
}

VkResult wsi_frame(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t rgb)
{
    return wsi_frame_id(t, sc, rgb, 0);
}

VkResult wsi_frame_id(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t rgb,
                      uint64_t present_id)
{
    const struct wsi_present_extras x = {.present_id = present_id};
    return wsi_frame_ext(t, sc, rgb, &x);
}

VkResult wsi_frame_ext(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t rgb,
                       const struct wsi_present_extras *x)
{
    const uint32_t slot = t->frame % WSI_FRAMES_IN_FLIGHT;
    VK_CHECK(vkWaitForFences(t->app.device, 1, &t->in_flight[slot], VK_TRUE, 10ull * 1000000000));

    uint32_t image = UINT32_MAX;
    VkResult acquire = vkAcquireNextImageKHR(t->app.device, sc->swapchain, UINT64_MAX,
                                             t->acquired[slot], VK_NULL_HANDLE, &image);
    if (acquire == VK_ERROR_OUT_OF_DATE_KHR)
        return acquire;
    APP_CHECK(acquire == VK_SUCCESS || acquire == VK_SUBOPTIMAL_KHR,
              "vkAcquireNextImageKHR(UINT64_MAX) returned %s", wsi_result_name(acquire));
    APP_CHECK(image < sc->image_count, "acquired image index %u of %u", image, sc->image_count);

    VK_CHECK(vkResetFences(t->app.device, 1, &t->in_flight[slot]));
    VkCommandBuffer cmd = t->cmd[slot];
    VK_CHECK(vkResetCommandBuffer(cmd, 0));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    wsi_record_clear(sc, cmd, &image, 1, rgb);
    VK_CHECK(vkEndCommandBuffer(cmd));
    wsi_submit(t, cmd, t->acquired[slot], sc->rendered[image], t->in_flight[slot]);
    t->frame++;

    VkResult present = wsi_present_ext(t, sc, image, sc->rendered[image], x);
    APP_CHECK(present == VK_SUCCESS || is_stale(present), "vkQueuePresentKHR returned %s",
              wsi_result_name(present));
    return acquire != VK_SUCCESS ? acquire : present;
}
