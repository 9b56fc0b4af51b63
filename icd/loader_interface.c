/*
 * What the Khronos loader sees of tether: the ICD interface entry points
 * ("Loader-ICD interface", LoaderDriverInterface.md) and the name lookups
 * behind vkGetInstanceProcAddr and vkGetDeviceProcAddr.
 */
#include "icd/icd.h"

#include <stdlib.h>
#include <string.h>

#include "include/tether/tether_statistics.h"

#include "tether_icd_entrypoints.h"

#if defined(_WIN32)
#define TETHER_EXPORT __declspec(dllexport)
#else
#define TETHER_EXPORT __attribute__((visibility("default")))
#endif

/* Version 5: physical-device proc addrs, and apiVersion handled by the ICD. */
#define TETHER_LOADER_INTERFACE_VERSION 5

static int entry_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tether_icd_entrypoint *)elem)->name);
}

static const struct tether_icd_entrypoint *lookup(const char *name)
{
	if (!name)
		return NULL;
	return bsearch(name, tether_icd_entrypoints, tether_icd_entrypoint_count,
		       sizeof(tether_icd_entrypoints[0]), entry_cmp);
}

/* tether's own device-level commands (include/tether/), not in vk.xml. */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetSwapchainStatisticsTETHER(VkDevice device, VkSwapchainKHR swapchain,
									VkSwapchainStatisticsTETHER *st);

static PFN_vkVoidFunction tether_own(const char *name)
{
	if (name && !strcmp(name, "vkGetSwapchainStatisticsTETHER"))
		return (PFN_vkVoidFunction)tether_icd_GetSwapchainStatisticsTETHER;
	return NULL;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tether_icd_GetInstanceProcAddr(VkInstance instance, const char *pName)
{
	const struct tether_icd_entrypoint *e = lookup(pName);
	if (!e)
		return instance ? tether_own(pName) : NULL;
	/* Without an instance only global commands may be asked for. */
	if (!instance && e->level != TETHER_ICD_LEVEL_GLOBAL && strcmp(pName, "vkGetInstanceProcAddr"))
		return NULL;
	return e->fn;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tether_icd_GetDeviceProcAddr(VkDevice device, const char *pName)
{
	const struct tether_icd_entrypoint *e = lookup(pName);
	if (!e)
		return tether_own(pName);
	if (e->level != TETHER_ICD_LEVEL_DEVICE && strcmp(pName, "vkGetDeviceProcAddr"))
		return NULL;
	return e->fn;
}

TETHER_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vk_icdNegotiateLoaderICDInterfaceVersion(uint32_t *pSupportedVersion)
{
	if (*pSupportedVersion > TETHER_LOADER_INTERFACE_VERSION)
		*pSupportedVersion = TETHER_LOADER_INTERFACE_VERSION;
	return VK_SUCCESS;
}

TETHER_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vk_icdGetInstanceProcAddr(VkInstance instance,
										 const char *pName)
{
	return tether_icd_GetInstanceProcAddr(instance, pName);
}

TETHER_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vk_icdGetPhysicalDeviceProcAddr(VkInstance instance,
										       const char *pName)
{
	const struct tether_icd_entrypoint *e = lookup(pName);
	return e && e->level == TETHER_ICD_LEVEL_PHYSICAL_DEVICE ? e->fn : NULL;
}
