/*
 * Instances and physical devices. vkCreateInstance opens the session with
 * tetherd; the server's physical devices are enumerated once and their
 * properties cached, so the queries apps repeat most never cross the link.
 */
#include "icd/icd.h"
#include "icd/wsi.h"

#include <stdlib.h>

#include "tether_icd_entrypoints.h"
#include "tether_wire.h"

/* The newest core version this build's protocol carries. */
#define TETHER_ICD_MAX_API VK_MAKE_API_VERSION(0, 1, 3, VK_HEADER_VERSION)

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EnumerateInstanceVersion(uint32_t *pApiVersion)
{
	*pApiVersion = TETHER_ICD_MAX_API;
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EnumerateInstanceLayerProperties(uint32_t *pPropertyCount,
									   VkLayerProperties *pProperties)
{
	*pPropertyCount = 0;
	return VK_SUCCESS;
}

/*
 * Instance extensions are answered locally (there is no session yet): the
 * carried ones are all queries that the server's Vulkan 1.1+ core provides.
 */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EnumerateInstanceExtensionProperties(
	const char *pLayerName, uint32_t *pPropertyCount, VkExtensionProperties *pProperties)
{
	if (pLayerName)
		return VK_ERROR_LAYER_NOT_PRESENT;
	uint32_t n = 0;
	VkResult result = VK_SUCCESS;
	for (uint32_t i = 0; i < tether_carried_extension_count; i++) {
		const struct tether_extension_info *e = &tether_carried_extension_info[i];
		if (!e->instance)
			continue;
		if (pProperties) {
			if (n == *pPropertyCount) {
				result = VK_INCOMPLETE;
				break;
			}
			memset(&pProperties[n], 0, sizeof(pProperties[n]));
			snprintf(pProperties[n].extensionName, sizeof(pProperties[n].extensionName), "%s", e->name);
			pProperties[n].specVersion = e->spec_version;
		}
		n++;
	}
	for (uint32_t i = 0; i < tether_icd_wsi_extension_count && result == VK_SUCCESS; i++) {
		const struct tether_icd_wsi_extension *e = &tether_icd_wsi_extensions[i];
		if (e->device)
			continue;
		if (pProperties) {
			if (n == *pPropertyCount) {
				result = VK_INCOMPLETE;
				break;
			}
			pProperties[n] = e->props;
		}
		n++;
	}
	*pPropertyCount = n;
	return result;
}

static VkResult enumerate_remote(struct tether_icd_instance *inst)
{
	struct tether_icd_conn *c = inst->base.conn;
	uint32_t count = 0;
	VkInstance vk_inst = (VkInstance)inst;
	VkResult r = VK_ERROR_DEVICE_LOST;
	struct tether_decoder *d;

	struct tether_encoder *e = tether_icd_conn_lock(c);
	tether_encode_cmd_vkEnumeratePhysicalDevices(e, vk_inst, &count, NULL);
	if (tether_icd_conn_call(c, &d) == VK_SUCCESS)
		r = tether_decode_reply_vkEnumeratePhysicalDevices(d, vk_inst, &count, NULL);
	tether_icd_conn_unlock(c);
	if (r != VK_SUCCESS)
		return r;
	inst->physical_devices = calloc(count ? count : 1, sizeof(*inst->physical_devices));
	VkPhysicalDevice *handles = calloc(count ? count : 1, sizeof(*handles));
	if (!inst->physical_devices || !handles) {
		free(handles);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct tether_icd_physical_device *pd = &inst->physical_devices[i];
		tether_icd_dispatchable_init(&pd->base, c, tether_icd_new_id());
		pd->instance = inst;
		handles[i] = (VkPhysicalDevice)pd;
	}
	e = tether_icd_conn_lock(c);
	r = tether_icd_conn_reserve_locked(c, count, "vkEnumeratePhysicalDevices");
	if (r == VK_SUCCESS) {
		tether_encode_cmd_vkEnumeratePhysicalDevices(e, vk_inst, &count, handles);
		r = VK_ERROR_DEVICE_LOST;
	}
	if (r == VK_ERROR_DEVICE_LOST && tether_icd_conn_call(c, &d) == VK_SUCCESS)
		r = tether_decode_reply_vkEnumeratePhysicalDevices(d, vk_inst, &count, handles);
	tether_icd_conn_unlock(c);
	free(handles);
	if (r < 0)
		return r;
	inst->physical_device_count = count;
	for (uint32_t i = 0; i < count; i++) {
		struct tether_icd_physical_device *pd = &inst->physical_devices[i];
		VkPhysicalDevice h = (VkPhysicalDevice)pd;
		e = tether_icd_conn_lock(c);
		tether_encode_cmd_vkGetPhysicalDeviceProperties(e, h, &pd->properties);
		if (tether_icd_conn_call(c, &d) == VK_SUCCESS)
			tether_decode_reply_vkGetPhysicalDeviceProperties(d, h, &pd->properties);
		tether_icd_conn_unlock(c);
		if (VK_API_VERSION_MINOR(pd->properties.apiVersion) > 3 ||
		    VK_API_VERSION_MAJOR(pd->properties.apiVersion) > 1)
			pd->properties.apiVersion = TETHER_ICD_MAX_API;
		tether_icd_GetPhysicalDeviceMemoryProperties(h, &pd->memory);
	}
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateInstance(const VkInstanceCreateInfo *pCreateInfo,
							 const VkAllocationCallbacks *pAllocator,
							 VkInstance *pInstance)
{
	const char *app = pCreateInfo->pApplicationInfo ? pCreateInfo->pApplicationInfo->pApplicationName
							: NULL;
	for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++) {
		const char *name = pCreateInfo->ppEnabledExtensionNames[i];
		bool known = false;
		for (uint32_t j = 0; j < tether_carried_extension_count && !known; j++)
			known = tether_carried_extension_info[j].instance &&
				!strcmp(tether_carried_extension_info[j].name, name);
		if (!known && !tether_icd_wsi_extension(name, false))
			return TETHER_ERR("icd", VK_ERROR_EXTENSION_NOT_PRESENT,
					  "instance extension %s is not carried by tether", name);
	}
	struct tether_icd_instance *inst = calloc(1, sizeof(*inst));
	if (!inst)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	struct tether_icd_conn *c;
	VkResult r = tether_icd_conn_open(app, &c);
	if (r != VK_SUCCESS) {
		free(inst);
		return r;
	}
	tether_icd_dispatchable_init(&inst->base, c, tether_icd_new_id());
	inst->api_version = pCreateInfo->pApplicationInfo && pCreateInfo->pApplicationInfo->apiVersion
				    ? pCreateInfo->pApplicationInfo->apiVersion
				    : VK_API_VERSION_1_0;
	VkInstance handle = (VkInstance)inst;
	struct tether_encoder *e = tether_icd_conn_lock(c);
	struct tether_decoder *d;
	r = tether_icd_conn_reserve_locked(c, 1, "vkCreateInstance");
	if (r == VK_SUCCESS) {
		tether_encode_cmd_vkCreateInstance(e, pCreateInfo, NULL, &handle);
		r = VK_ERROR_INITIALIZATION_FAILED;
	}
	if (r == VK_ERROR_INITIALIZATION_FAILED && tether_icd_conn_call(c, &d) == VK_SUCCESS)
		r = tether_decode_reply_vkCreateInstance(d, pCreateInfo, NULL, &handle);
	tether_icd_conn_unlock(c);
	if (r == VK_SUCCESS)
		r = enumerate_remote(inst);
	if (r != VK_SUCCESS) {
		free(inst->physical_devices);
		tether_icd_conn_close(c);
		free(inst);
		return r;
	}
	*pInstance = handle;
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_DestroyInstance(VkInstance instance,
						      const VkAllocationCallbacks *pAllocator)
{
	if (!instance)
		return;
	struct tether_icd_instance *inst = (struct tether_icd_instance *)instance;
	struct tether_icd_conn *c = inst->base.conn;
	struct tether_encoder *e = tether_icd_conn_lock(c);
	tether_encode_cmd_vkDestroyInstance(e, instance, NULL);
	tether_icd_conn_unlock_async(c);
	tether_icd_frames_close(c);
	tether_icd_conn_close(c);
	for (uint32_t i = 0; i < inst->physical_device_count; i++)
		free(inst->physical_devices[i].extensions);
	free(inst->physical_devices);
	free(inst);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EnumeratePhysicalDevices(VkInstance instance,
								   uint32_t *pPhysicalDeviceCount,
								   VkPhysicalDevice *pPhysicalDevices)
{
	struct tether_icd_instance *inst = (struct tether_icd_instance *)instance;
	if (!pPhysicalDevices) {
		*pPhysicalDeviceCount = inst->physical_device_count;
		return VK_SUCCESS;
	}
	uint32_t n = *pPhysicalDeviceCount < inst->physical_device_count ? *pPhysicalDeviceCount
									 : inst->physical_device_count;
	for (uint32_t i = 0; i < n; i++)
		pPhysicalDevices[i] = (VkPhysicalDevice)&inst->physical_devices[i];
	*pPhysicalDeviceCount = n;
	return n < inst->physical_device_count ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_GetPhysicalDeviceProperties(VkPhysicalDevice physicalDevice,
								  VkPhysicalDeviceProperties *pProperties)
{
	*pProperties = ((struct tether_icd_physical_device *)physicalDevice)->properties;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_GetPhysicalDeviceProperties2(VkPhysicalDevice physicalDevice,
								   VkPhysicalDeviceProperties2 *pProperties)
{
	struct tether_icd_conn *c = tether_icd_conn_of(physicalDevice);
	struct tether_encoder *e = tether_icd_conn_lock(c);
	struct tether_decoder *d;
	tether_encode_cmd_vkGetPhysicalDeviceProperties2(e, physicalDevice, pProperties);
	if (tether_icd_conn_call(c, &d) == VK_SUCCESS) {
		tether_decode_reply_vkGetPhysicalDeviceProperties2(d, physicalDevice, pProperties);
		if (d->fatal)
			tether_icd_conn_fail(c, d->error);
	}
	tether_icd_conn_unlock(c);
	pProperties->properties.apiVersion =
		((struct tether_icd_physical_device *)physicalDevice)->properties.apiVersion;
}

/* The server's extension list, asked for once: two-call idiom, then the
 * ones both ends carry (the others could not be encoded, so an application
 * must not be able to enable them). Connection lock held. */
static VkResult fetch_extensions(struct tether_icd_physical_device *pd)
{
	struct tether_icd_conn *c = pd->base.conn;
	VkPhysicalDevice h = (VkPhysicalDevice)pd;
	uint32_t total = 0;
	VkResult r = VK_ERROR_DEVICE_LOST;
	struct tether_decoder *d;
	tether_encode_cmd_vkEnumerateDeviceExtensionProperties(tether_icd_conn_lock_held(c), h, NULL, &total, NULL);
	if (tether_icd_conn_call(c, &d) == VK_SUCCESS)
		r = tether_decode_reply_vkEnumerateDeviceExtensionProperties(d, h, NULL, &total, NULL);
	if (r < 0)
		return r;
	VkExtensionProperties *all = calloc(total ? total : 1, sizeof(*all));
	if (!all)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	r = VK_ERROR_DEVICE_LOST;
	tether_encode_cmd_vkEnumerateDeviceExtensionProperties(tether_icd_conn_lock_held(c), h, NULL, &total, all);
	if (tether_icd_conn_call(c, &d) == VK_SUCCESS)
		r = tether_decode_reply_vkEnumerateDeviceExtensionProperties(d, h, NULL, &total, all);
	if (r < 0) {
		free(all);
		return r;
	}
	uint32_t n = 0;
	/* Window-system extensions are the ICD's own; VK_KHR_swapchain is offered
	 * where the server's device has it, so images can be in PRESENT_SRC_KHR. */
	bool swapchain = false;
	for (uint32_t i = 0; i < total; i++)
		if (tether_icd_conn_has_extension(c, all[i].extensionName) ||
		    tether_icd_wsi_extension(all[i].extensionName, true)) {
			swapchain |= !strcmp(all[i].extensionName, VK_KHR_SWAPCHAIN_EXTENSION_NAME);
			all[n++] = all[i];
		}
	/* The rest of presentation (present id, present wait) is the ICD's alone. */
	VkExtensionProperties *more = swapchain ? realloc(all, (n + tether_icd_wsi_extension_count) * sizeof(*all)) : NULL;
	if (more) {
		all = more;
		for (uint32_t i = 0; i < tether_icd_wsi_extension_count; i++) {
			const VkExtensionProperties *e = &tether_icd_wsi_extensions[i].props;
			bool have = false;
			for (uint32_t j = 0; j < n && !have; j++)
				have = !strcmp(all[j].extensionName, e->extensionName);
			if (tether_icd_wsi_extensions[i].device && !have)
				all[n++] = *e;
		}
	}
	pd->extensions = all;
	pd->extension_count = n;
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EnumerateDeviceExtensionProperties(
	VkPhysicalDevice physicalDevice, const char *pLayerName, uint32_t *pPropertyCount,
	VkExtensionProperties *pProperties)
{
	if (pLayerName)
		return VK_ERROR_LAYER_NOT_PRESENT;
	struct tether_icd_physical_device *pd = (struct tether_icd_physical_device *)physicalDevice;
	struct tether_icd_conn *c = pd->base.conn;
	tether_icd_conn_lock(c);
	VkResult r = pd->extensions ? VK_SUCCESS : fetch_extensions(pd);
	tether_icd_conn_unlock(c);
	if (r != VK_SUCCESS)
		return r;
	if (!pProperties) {
		*pPropertyCount = pd->extension_count;
		return VK_SUCCESS;
	}
	uint32_t n = *pPropertyCount < pd->extension_count ? *pPropertyCount : pd->extension_count;
	memcpy(pProperties, pd->extensions, n * sizeof(*pProperties));
	*pPropertyCount = n;
	return n < pd->extension_count ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EnumerateDeviceLayerProperties(VkPhysicalDevice physicalDevice,
									 uint32_t *pPropertyCount,
									 VkLayerProperties *pProperties)
{
	*pPropertyCount = 0;
	return VK_SUCCESS;
}

/* Each remote GPU is its own device group: tether does not join GPUs across
 * a link (VkPhysicalDeviceGroupProperties with one member, as most drivers). */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EnumeratePhysicalDeviceGroups(
	VkInstance instance, uint32_t *pPhysicalDeviceGroupCount,
	VkPhysicalDeviceGroupProperties *pPhysicalDeviceGroupProperties)
{
	struct tether_icd_instance *inst = (struct tether_icd_instance *)instance;
	if (!pPhysicalDeviceGroupProperties) {
		*pPhysicalDeviceGroupCount = inst->physical_device_count;
		return VK_SUCCESS;
	}
	uint32_t n = *pPhysicalDeviceGroupCount < inst->physical_device_count ? *pPhysicalDeviceGroupCount
									      : inst->physical_device_count;
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceGroupProperties *g = &pPhysicalDeviceGroupProperties[i];
		g->physicalDeviceCount = 1;
		memset(g->physicalDevices, 0, sizeof(g->physicalDevices));
		g->physicalDevices[0] = (VkPhysicalDevice)&inst->physical_devices[i];
		g->subsetAllocation = VK_FALSE;
	}
	*pPhysicalDeviceGroupCount = n;
	return n < inst->physical_device_count ? VK_INCOMPLETE : VK_SUCCESS;
}
