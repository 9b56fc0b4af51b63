/*
 * Logical devices and their queues. The queues a device will ever hand out
 * are known from VkDeviceCreateInfo, so they are created with the device and
 * vkGetDeviceQueue is answered locally, always with the same handle.
 */
#include "icd/icd.h"
#include "icd/wsi.h"

#include <stdlib.h>
#include <string.h>

#include "tether_icd_entrypoints.h"
#include "tether_wire.h"

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateDevice(VkPhysicalDevice physicalDevice,
						       const VkDeviceCreateInfo *pCreateInfo,
						       const VkAllocationCallbacks *pAllocator,
						       VkDevice *pDevice)
{
	struct tether_icd_physical_device *pd = (struct tether_icd_physical_device *)physicalDevice;
	struct tether_icd_conn *c = pd->base.conn;
	for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++)
		if (!tether_icd_conn_has_extension(c, pCreateInfo->ppEnabledExtensionNames[i]) &&
		    !tether_icd_wsi_extension(pCreateInfo->ppEnabledExtensionNames[i], true))
			return TETHER_ERR("icd", VK_ERROR_EXTENSION_NOT_PRESENT,
					  "device extension %s is not carried by tether",
					  pCreateInfo->ppEnabledExtensionNames[i]);
	struct tether_icd_device *dev = calloc(1, sizeof(*dev));
	uint32_t nq = 0;
	for (uint32_t i = 0; i < pCreateInfo->queueCreateInfoCount; i++)
		nq += pCreateInfo->pQueueCreateInfos[i].queueCount;
	if (dev)
		dev->queues = calloc(nq ? nq : 1, sizeof(*dev->queues));
	if (!dev || !dev->queues) {
		free(dev);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	tether_icd_dispatchable_init(&dev->base, c, tether_icd_new_id());
	dev->physical = pd;
	dev->queue_count = nq;
	tether_mutex_init(&dev->pool_lock);
	tether_mutex_init(&dev->template_lock);

	VkDevice handle = (VkDevice)dev;
	struct tether_decoder *d;
	VkResult r = VK_ERROR_INITIALIZATION_FAILED;
	/* The server's device gets the carried extensions and VK_KHR_swapchain
	 * (images in PRESENT_SRC_KHR); the rest of presentation is the ICD's. */
	VkDeviceCreateInfo info = *pCreateInfo;
	const char *names[256];
	if (pCreateInfo->enabledExtensionCount > 256) {
		free(dev->queues);
		free(dev);
		return TETHER_ERR("icd", VK_ERROR_EXTENSION_NOT_PRESENT, "%u device extensions",
				  pCreateInfo->enabledExtensionCount);
	}
	info.ppEnabledExtensionNames = names;
	info.enabledExtensionCount = 0;
	for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++) {
		const char *name = pCreateInfo->ppEnabledExtensionNames[i];
		if (!tether_icd_wsi_extension(name, true) || !strcmp(name, VK_KHR_SWAPCHAIN_EXTENSION_NAME))
			names[info.enabledExtensionCount++] = name;
	}
	struct tether_encoder *e = tether_icd_conn_lock(c);
	/* The device and each of its queues are objects on the server. */
	r = tether_icd_conn_reserve_locked(c, 1 + (uint64_t)nq, "vkCreateDevice");
	if (r == VK_SUCCESS) {
		tether_encode_cmd_vkCreateDevice(e, physicalDevice, &info, NULL, &handle);
		r = VK_ERROR_INITIALIZATION_FAILED;
		if (tether_icd_conn_call(c, &d) == VK_SUCCESS)
			r = tether_decode_reply_vkCreateDevice(d, physicalDevice, &info, NULL, &handle);
	}
	tether_icd_conn_unlock(c);
	if (r != VK_SUCCESS) {
		free(dev->queues);
		free(dev);
		return r;
	}
	/* The server learns each queue's id the way an application would ask for it. */
	e = tether_icd_conn_lock(c);
	uint32_t q = 0;
	for (uint32_t i = 0; i < pCreateInfo->queueCreateInfoCount; i++) {
		const VkDeviceQueueCreateInfo *qi = &pCreateInfo->pQueueCreateInfos[i];
		for (uint32_t j = 0; j < qi->queueCount; j++, q++) {
			struct tether_icd_queue *queue = &dev->queues[q];
			tether_icd_dispatchable_init(&queue->base, c, tether_icd_new_id());
			queue->device = dev;
			queue->family = qi->queueFamilyIndex;
			queue->index = j;
			queue->flags = qi->flags;
			VkDeviceQueueInfo2 info = {
				.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
				.flags = qi->flags,
				.queueFamilyIndex = qi->queueFamilyIndex,
				.queueIndex = j,
			};
			VkQueue qh = (VkQueue)queue;
			tether_encode_cmd_vkGetDeviceQueue2(e, handle, &info, &qh);
		}
	}
	tether_icd_conn_unlock_async(c);
	*pDevice = handle;
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_DestroyDevice(VkDevice device, const VkAllocationCallbacks *pAllocator)
{
	if (!device)
		return;
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	struct tether_encoder *e = tether_icd_conn_lock(c);
	tether_encode_cmd_vkDestroyDevice(e, device, NULL);
	tether_icd_conn_flush_locked(c);
	tether_icd_conn_unlock(c);
	tether_icd_memory_destroy_all(dev);
	tether_icd_command_pools_destroy_all(dev);
	tether_icd_templates_destroy_all(dev);
	tether_mutex_destroy(&dev->pool_lock);
	tether_mutex_destroy(&dev->template_lock);
	free(dev->queues);
	free(dev);
}

static struct tether_icd_queue *find_queue(struct tether_icd_device *dev, uint32_t family,
					   uint32_t index, VkDeviceQueueCreateFlags flags)
{
	for (uint32_t i = 0; i < dev->queue_count; i++) {
		struct tether_icd_queue *q = &dev->queues[i];
		if (q->family == family && q->index == index && q->flags == flags)
			return q;
	}
	return NULL;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_GetDeviceQueue(VkDevice device, uint32_t queueFamilyIndex,
						     uint32_t queueIndex, VkQueue *pQueue)
{
	*pQueue = (VkQueue)find_queue((struct tether_icd_device *)device, queueFamilyIndex, queueIndex, 0);
}

VKAPI_ATTR void VKAPI_CALL tether_icd_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *pQueueInfo,
						      VkQueue *pQueue)
{
	*pQueue = (VkQueue)find_queue((struct tether_icd_device *)device, pQueueInfo->queueFamilyIndex,
				      pQueueInfo->queueIndex, pQueueInfo->flags);
}

/* Dispatchable handles travel as the ids inside them; all others are ids. */
static uint64_t handle_to_wire(void *ctx, VkObjectType type, uint64_t handle)
{
	switch (type) {
	case VK_OBJECT_TYPE_INSTANCE:
	case VK_OBJECT_TYPE_PHYSICAL_DEVICE:
	case VK_OBJECT_TYPE_DEVICE:
	case VK_OBJECT_TYPE_QUEUE:
	case VK_OBJECT_TYPE_COMMAND_BUFFER:
		return ((const struct tether_icd_dispatchable *)(uintptr_t)handle)->id;
	default:
		return handle;
	}
}

static const char *handle_from_wire(void *ctx, VkObjectType type, uint64_t id, uint64_t *handle)
{
	switch (type) {
	case VK_OBJECT_TYPE_INSTANCE:
	case VK_OBJECT_TYPE_PHYSICAL_DEVICE:
	case VK_OBJECT_TYPE_DEVICE:
	case VK_OBJECT_TYPE_QUEUE:
	case VK_OBJECT_TYPE_COMMAND_BUFFER:
		/* never returned by the server: replies name no such objects */
		return "reply names a dispatchable object";
	default:
		*handle = id;
		return NULL;
	}
}

const struct tether_handle_ops tether_icd_handle_ops = {handle_to_wire, handle_from_wire};
