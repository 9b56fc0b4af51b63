/* api_device: instance and device set-up for the api_*.c test programs, which
 * need features and extensions vkapp_init()/render_init() do not enable (inline
 * uniform blocks, push descriptors, buffer device address, private data...).
 * Fills a struct vkapp so the vkapp_* and render_* helpers work on it. */
#ifndef TETHER_TESTS_API_DEVICE_H
#define TETHER_TESTS_API_DEVICE_H

#include "render_util.h"

/**
 * api_instance_init() - instance and physical device, no device yet.
 * Picks TETHER_TEST_DEVICE (an index) or the first device, requires Vulkan 1.3,
 * fills props and mem_props and prints "device: <deviceName>".
 */
void api_instance_init(struct vkapp *app, const char *name);

/* Whether the physical device offers the device extension @name. */
bool api_has_extension(const struct vkapp *app, const char *name);

/**
 * api_device_create() - device, queue, command pool and pipeline cache.
 * @queue_flags: flags the queue family must have
 * @features:    VkPhysicalDeviceFeatures2 chain to enable (pNext of the create info)
 * @extensions:  device extensions to enable
 */
void api_device_create(struct vkapp *app, VkQueueFlags queue_flags,
                       const VkPhysicalDeviceFeatures2 *features,
                       const char *const *extensions, uint32_t extension_count);

/* Destroys pool, cache, device and instance (vkapp_destroy()). */
void api_destroy(struct vkapp *app);

#endif
