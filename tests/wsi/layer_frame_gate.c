/* layer_frame_gate: an explicit Vulkan layer (VK_LAYER_TETHER_frame_gate) used by
 * tests/wsi/vkcube_screenshot.py. After the application's K-th vkQueuePresentKHR
 * it waits for the device to idle, tells the test through a file and holds the
 * application until the test says go, so the test can screenshot a window that
 * shows frame K and nothing later. It also reports the window of the last XCB
 * surface created, so the test need not guess which window is the app's.
 *
 * Environment (all read at the first present):
 *   TETHER_FRAME_GATE_AT         K, the 1-based present to stop after (unset: pass through)
 *   TETHER_FRAME_GATE_READY      file written when frame K is presented and idle
 *   TETHER_FRAME_GATE_GO         file whose appearance releases the application
 *   TETHER_FRAME_GATE_TIMEOUT_S  how long to hold at most (default 60)
 */
#define VK_USE_PLATFORM_XCB_KHR
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#define GATE_EXPORT __attribute__((visibility("default")))
#define GATE_MAX_OBJECTS 16

/* What the layer keeps per VkInstance: the next layer's entry points. */
struct gate_instance {
    void *key; /* the loader's dispatch key, shared with the physical devices */
    VkInstance instance;
    PFN_vkGetInstanceProcAddr next_gipa;
    PFN_vkDestroyInstance destroy_instance;
    PFN_vkCreateXcbSurfaceKHR create_xcb_surface;
};

/* What the layer keeps per VkDevice; its queues share the device's dispatch key. */
struct gate_device {
    void *key;
    VkDevice device;
    PFN_vkGetDeviceProcAddr next_gdpa;
    PFN_vkDestroyDevice destroy_device;
    PFN_vkDeviceWaitIdle device_wait_idle;
    PFN_vkQueuePresentKHR queue_present;
};

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gate_instance gate_instances[GATE_MAX_OBJECTS];
static struct gate_device gate_devices[GATE_MAX_OBJECTS];
static atomic_uint gate_presents;
static atomic_uint gate_window; /* xcb_window_t of the last XCB surface */

static void *dispatch_key(const void *handle)
{
    return *(void *const *)handle;
}

static void gate_log(const char *fmt, const char *arg)
{
    fprintf(stderr, "frame gate: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
}

/* Linear lookups: an application has one or two instances and devices. */
static struct gate_instance *instance_find(void *key)
{
    struct gate_instance *found = NULL;
    pthread_mutex_lock(&gate_lock);
    for (int i = 0; i < GATE_MAX_OBJECTS && !found; i++)
        if (gate_instances[i].key == key)
            found = &gate_instances[i];
    pthread_mutex_unlock(&gate_lock);
    return found;
}

static struct gate_device *device_find(void *key)
{
    struct gate_device *found = NULL;
    pthread_mutex_lock(&gate_lock);
    for (int i = 0; i < GATE_MAX_OBJECTS && !found; i++)
        if (gate_devices[i].key == key)
            found = &gate_devices[i];
    pthread_mutex_unlock(&gate_lock);
    return found;
}

/* Claims a free slot (key NULL) and stamps it with @key, under the lock. */
static struct gate_instance *instance_add(void *key)
{
    struct gate_instance *slot = NULL;
    pthread_mutex_lock(&gate_lock);
    for (int i = 0; i < GATE_MAX_OBJECTS && !slot; i++)
        if (!gate_instances[i].key)
            slot = &gate_instances[i];
    if (slot)
        slot->key = key;
    pthread_mutex_unlock(&gate_lock);
    return slot;
}

static struct gate_device *device_add(void *key)
{
    struct gate_device *slot = NULL;
    pthread_mutex_lock(&gate_lock);
    for (int i = 0; i < GATE_MAX_OBJECTS && !slot; i++)
        if (!gate_devices[i].key)
            slot = &gate_devices[i];
    if (slot)
        slot->key = key;
    pthread_mutex_unlock(&gate_lock);
    return slot;
}

static void release_slot(void *slot, size_t size)
{
    pthread_mutex_lock(&gate_lock);
    memset(slot, 0, size);
    pthread_mutex_unlock(&gate_lock);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Writes the ready file whole (temporary name, then rename) so the test never
 * reads half of it. */
static void write_ready(const char *path, unsigned frame, VkResult present_result)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        gate_log("cannot write %s", tmp);
        return;
    }
    fprintf(f, "frame=%u\nwindow=0x%x\npresent_result=%d\n", frame,
            (unsigned)atomic_load(&gate_window), (int)present_result);
    fclose(f);
    if (rename(tmp, path) != 0)
        gate_log("cannot rename to %s", path);
}

static void wait_for_go(const char *path, double timeout_s)
{
    const double deadline = now_s() + timeout_s;
    struct stat st;
    while (stat(path, &st) != 0) {
        if (now_s() > deadline) {
            gate_log("no go file %s in time: letting the application go on", path);
            return;
        }
        usleep(5000);
    }
}

/* The gate itself: device idle, "ready", then hold until "go". */
static void gate_hold(struct gate_device *dev, unsigned frame, VkResult present_result)
{
    const char *ready = getenv("TETHER_FRAME_GATE_READY");
    const char *go = getenv("TETHER_FRAME_GATE_GO");
    const char *timeout_env = getenv("TETHER_FRAME_GATE_TIMEOUT_S");
    double timeout_s = timeout_env ? atof(timeout_env) : 60.0;

    /* vkDeviceWaitIdle covers the queue's rendering of frame K; the display of
     * it may still lag (the presentation engine is asynchronous), which is why
     * the test retries its screenshot until it is stable. */
    VkResult r = dev->device_wait_idle(dev->device);
    if (r != VK_SUCCESS)
        fprintf(stderr, "frame gate: vkDeviceWaitIdle returned %d\n", (int)r);
    if (!ready || !go) {
        gate_log("%s", "TETHER_FRAME_GATE_READY or _GO unset: not holding");
        return;
    }
    write_ready(ready, frame, present_result);
    wait_for_go(go, timeout_s);
}

static VKAPI_ATTR VkResult VKAPI_CALL gate_QueuePresentKHR(VkQueue queue,
                                                          const VkPresentInfoKHR *info)
{
    struct gate_device *dev = device_find(dispatch_key(queue));
    if (!dev)
        return VK_ERROR_DEVICE_LOST;
    VkResult result = dev->queue_present(queue, info);
    unsigned frame = atomic_fetch_add(&gate_presents, 1) + 1;
    const char *at = getenv("TETHER_FRAME_GATE_AT");
    if (at && strtoul(at, NULL, 10) == frame)
        gate_hold(dev, frame, result);
    return result;
}

static VKAPI_ATTR VkResult VKAPI_CALL gate_CreateXcbSurfaceKHR(
    VkInstance instance, const VkXcbSurfaceCreateInfoKHR *info,
    const VkAllocationCallbacks *allocator, VkSurfaceKHR *surface)
{
    struct gate_instance *inst = instance_find(dispatch_key(instance));
    if (!inst || !inst->create_xcb_surface)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    VkResult r = inst->create_xcb_surface(instance, info, allocator, surface);
    if (r == VK_SUCCESS)
        atomic_store(&gate_window, info->window);
    return r;
}

static VkLayerInstanceCreateInfo *instance_link_info(const VkInstanceCreateInfo *ci)
{
    for (const VkBaseInStructure *s = ci->pNext; s; s = s->pNext) {
        VkLayerInstanceCreateInfo *li = (VkLayerInstanceCreateInfo *)s;
        if (s->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO &&
            li->function == VK_LAYER_LINK_INFO)
            return li;
    }
    return NULL;
}

static VkLayerDeviceCreateInfo *device_link_info(const VkDeviceCreateInfo *ci)
{
    for (const VkBaseInStructure *s = ci->pNext; s; s = s->pNext) {
        VkLayerDeviceCreateInfo *li = (VkLayerDeviceCreateInfo *)s;
        if (s->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO &&
            li->function == VK_LAYER_LINK_INFO)
            return li;
    }
    return NULL;
}

static VKAPI_ATTR VkResult VKAPI_CALL gate_CreateInstance(const VkInstanceCreateInfo *ci,
                                                         const VkAllocationCallbacks *allocator,
                                                         VkInstance *out)
{
    /* Loader layer interface: take our link, advance the chain for the next layer. */
    VkLayerInstanceCreateInfo *link = instance_link_info(ci);
    if (!link || !link->u.pLayerInfo)
        return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    link->u.pLayerInfo = link->u.pLayerInfo->pNext;
    PFN_vkCreateInstance create = (PFN_vkCreateInstance)next_gipa(NULL, "vkCreateInstance");
    if (!create)
        return VK_ERROR_INITIALIZATION_FAILED;
    VkResult r = create(ci, allocator, out);
    if (r != VK_SUCCESS)
        return r;

    struct gate_instance *inst = instance_add(dispatch_key(*out));
    if (!inst) {
        gate_log("%s", "too many instances");
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    inst->instance = *out;
    inst->next_gipa = next_gipa;
    inst->destroy_instance = (PFN_vkDestroyInstance)next_gipa(*out, "vkDestroyInstance");
    inst->create_xcb_surface =
        (PFN_vkCreateXcbSurfaceKHR)next_gipa(*out, "vkCreateXcbSurfaceKHR");
    return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL gate_DestroyInstance(VkInstance instance,
                                                      const VkAllocationCallbacks *allocator)
{
    struct gate_instance *inst = instance ? instance_find(dispatch_key(instance)) : NULL;
    if (!inst)
        return;
    PFN_vkDestroyInstance destroy = inst->destroy_instance;
    release_slot(inst, sizeof(*inst));
    destroy(instance, allocator);
}

static VKAPI_ATTR VkResult VKAPI_CALL gate_CreateDevice(VkPhysicalDevice pd,
                                                       const VkDeviceCreateInfo *ci,
                                                       const VkAllocationCallbacks *allocator,
                                                       VkDevice *out)
{
    struct gate_instance *inst = instance_find(dispatch_key(pd));
    VkLayerDeviceCreateInfo *link = device_link_info(ci);
    if (!inst || !link || !link->u.pLayerInfo)
        return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkGetDeviceProcAddr next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
    link->u.pLayerInfo = link->u.pLayerInfo->pNext;
    PFN_vkCreateDevice create = (PFN_vkCreateDevice)next_gipa(inst->instance, "vkCreateDevice");
    if (!create)
        return VK_ERROR_INITIALIZATION_FAILED;
    VkResult r = create(pd, ci, allocator, out);
    if (r != VK_SUCCESS)
        return r;

    struct gate_device *dev = device_add(dispatch_key(*out));
    if (!dev) {
        gate_log("%s", "too many devices");
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    dev->device = *out;
    dev->next_gdpa = next_gdpa;
    dev->destroy_device = (PFN_vkDestroyDevice)next_gdpa(*out, "vkDestroyDevice");
    dev->device_wait_idle = (PFN_vkDeviceWaitIdle)next_gdpa(*out, "vkDeviceWaitIdle");
    dev->queue_present = (PFN_vkQueuePresentKHR)next_gdpa(*out, "vkQueuePresentKHR");
    return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL gate_DestroyDevice(VkDevice device,
                                                    const VkAllocationCallbacks *allocator)
{
    struct gate_device *dev = device ? device_find(dispatch_key(device)) : NULL;
    if (!dev)
        return;
    PFN_vkDestroyDevice destroy = dev->destroy_device;
    release_slot(dev, sizeof(*dev));
    destroy(device, allocator);
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL gate_GetDeviceProcAddr(VkDevice device,
                                                                      const char *name);

static PFN_vkVoidFunction device_intercept(const char *name)
{
    if (!strcmp(name, "vkGetDeviceProcAddr"))
        return (PFN_vkVoidFunction)gate_GetDeviceProcAddr;
    if (!strcmp(name, "vkDestroyDevice"))
        return (PFN_vkVoidFunction)gate_DestroyDevice;
    if (!strcmp(name, "vkQueuePresentKHR"))
        return (PFN_vkVoidFunction)gate_QueuePresentKHR;
    return NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL gate_GetDeviceProcAddr(VkDevice device,
                                                                      const char *name)
{
    struct gate_device *dev = device ? device_find(dispatch_key(device)) : NULL;
    if (!dev)
        return NULL;
    PFN_vkVoidFunction next = dev->next_gdpa(device, name);
    PFN_vkVoidFunction ours = device_intercept(name);
    /* vkQueuePresentKHR only where the device enabled the swapchain extension. */
    return ours && next ? ours : next;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL gate_GetInstanceProcAddr(VkInstance instance,
                                                                        const char *name)
{
    if (!strcmp(name, "vkGetInstanceProcAddr"))
        return (PFN_vkVoidFunction)gate_GetInstanceProcAddr;
    if (!strcmp(name, "vkCreateInstance"))
        return (PFN_vkVoidFunction)gate_CreateInstance;
    struct gate_instance *inst = instance ? instance_find(dispatch_key(instance)) : NULL;
    if (!inst)
        return NULL;
    if (!strcmp(name, "vkDestroyInstance"))
        return (PFN_vkVoidFunction)gate_DestroyInstance;
    if (!strcmp(name, "vkCreateDevice"))
        return (PFN_vkVoidFunction)gate_CreateDevice;
    PFN_vkVoidFunction next = inst->next_gipa(instance, name);
    if (next && !strcmp(name, "vkCreateXcbSurfaceKHR"))
        return (PFN_vkVoidFunction)gate_CreateXcbSurfaceKHR;
    PFN_vkVoidFunction ours = device_intercept(name);
    return ours && next ? ours : next;
}

/* Loader-layer interface version 2: the loader asks for our two entry points. */
GATE_EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v)
{
    if (!v || v->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT)
        return VK_ERROR_INITIALIZATION_FAILED;
    if (v->loaderLayerInterfaceVersion > 2)
        v->loaderLayerInterfaceVersion = 2;
    if (v->loaderLayerInterfaceVersion < 2)
        return VK_ERROR_INITIALIZATION_FAILED;
    v->pfnGetInstanceProcAddr = gate_GetInstanceProcAddr;
    v->pfnGetDeviceProcAddr = gate_GetDeviceProcAddr;
    v->pfnGetPhysicalDeviceProcAddr = NULL;
    return VK_SUCCESS;
}
