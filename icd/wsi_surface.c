/*
 * Surfaces: the client's windows. Every answer about a surface comes from
 * the window itself (its size, whether it still exists), never from the
 * server, whose GPU has no display attached to this window.
 */
#include "icd/wsi.h"

#include <stdlib.h>
#include <string.h>

#include "tether_icd_entrypoints.h"

/* Formats a window shows without conversion (X11 and wl_shm are BGRX). */
static const VkSurfaceFormatKHR surface_formats[] = {
	{VK_FORMAT_B8G8R8A8_SRGB, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR},
	{VK_FORMAT_B8G8R8A8_UNORM, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR},
};

static const VkPresentModeKHR present_modes[] = {
	VK_PRESENT_MODE_FIFO_KHR,
	VK_PRESENT_MODE_MAILBOX_KHR,
	VK_PRESENT_MODE_IMMEDIATE_KHR,
};

#define SUPPORTED_USAGE                                                                                         \
	(VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT |       \
	 VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT)

bool tether_icd_wsi_extension(const char *name, bool device)
{
	for (uint32_t i = 0; i < tether_icd_wsi_extension_count; i++)
		if (tether_icd_wsi_extensions[i].device == device &&
		    !strcmp(tether_icd_wsi_extensions[i].props.extensionName, name))
			return true;
	return false;
}

static VkResult surface_new(struct tether_display *display, bool extent_defined, VkSurfaceKHR *out)
{
	if (!display)
		return TETHER_ERR("wsi", VK_ERROR_INITIALIZATION_FAILED, "cannot use the window of the surface");
	struct tether_icd_surface *s = calloc(1, sizeof(*s));
	if (!s) {
		tether_display_destroy(display);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	s->display = display;
	s->extent_defined = extent_defined;
	*out = (VkSurfaceKHR)(uintptr_t)s;
	return VK_SUCCESS;
}

#ifdef VK_USE_PLATFORM_XCB_KHR
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateXcbSurfaceKHR(VkInstance instance,
							      const VkXcbSurfaceCreateInfoKHR *pCreateInfo,
							      const VkAllocationCallbacks *pAllocator,
							      VkSurfaceKHR *pSurface)
{
	return surface_new(tether_display_xcb(pCreateInfo->connection, pCreateInfo->window), true, pSurface);
}

VKAPI_ATTR VkBool32 VKAPI_CALL tether_icd_GetPhysicalDeviceXcbPresentationSupportKHR(
	VkPhysicalDevice physicalDevice, uint32_t queueFamilyIndex, xcb_connection_t *connection,
	xcb_visualid_t visual_id)
{
	return VK_TRUE;
}
#endif

#ifdef VK_USE_PLATFORM_XLIB_KHR
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateXlibSurfaceKHR(VkInstance instance,
							       const VkXlibSurfaceCreateInfoKHR *pCreateInfo,
							       const VkAllocationCallbacks *pAllocator,
							       VkSurfaceKHR *pSurface)
{
	return surface_new(tether_display_xlib(pCreateInfo->dpy, pCreateInfo->window), true, pSurface);
}

VKAPI_ATTR VkBool32 VKAPI_CALL tether_icd_GetPhysicalDeviceXlibPresentationSupportKHR(
	VkPhysicalDevice physicalDevice, uint32_t queueFamilyIndex, Display *dpy, VisualID visualID)
{
	return VK_TRUE;
}
#endif

#ifdef VK_USE_PLATFORM_WAYLAND_KHR
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateWaylandSurfaceKHR(VkInstance instance,
								  const VkWaylandSurfaceCreateInfoKHR *pCreateInfo,
								  const VkAllocationCallbacks *pAllocator,
								  VkSurfaceKHR *pSurface)
{
	return surface_new(tether_display_wayland(pCreateInfo->display, pCreateInfo->surface), false, pSurface);
}

VKAPI_ATTR VkBool32 VKAPI_CALL tether_icd_GetPhysicalDeviceWaylandPresentationSupportKHR(
	VkPhysicalDevice physicalDevice, uint32_t queueFamilyIndex, struct wl_display *display)
{
	return VK_TRUE;
}
#endif

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateHeadlessSurfaceEXT(VkInstance instance,
								   const VkHeadlessSurfaceCreateInfoEXT *pCreateInfo,
								   const VkAllocationCallbacks *pAllocator,
								   VkSurfaceKHR *pSurface)
{
	return surface_new(tether_display_headless(), false, pSurface);
}

VKAPI_ATTR void VKAPI_CALL tether_icd_DestroySurfaceKHR(VkInstance instance, VkSurfaceKHR surface,
							const VkAllocationCallbacks *pAllocator)
{
	struct tether_icd_surface *s = tether_icd_surface_from(surface);
	if (!s)
		return;
	tether_display_destroy(s->display);
	free(s);
}

/* Any queue that can copy can present: the copy-out is a transfer command. */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetPhysicalDeviceSurfaceSupportKHR(VkPhysicalDevice physicalDevice,
									     uint32_t queueFamilyIndex,
									     VkSurfaceKHR surface,
									     VkBool32 *pSupported)
{
	uint32_t n = 0;
	tether_icd_GetPhysicalDeviceQueueFamilyProperties(physicalDevice, &n, NULL);
	VkQueueFamilyProperties props[64];
	if (n > 64)
		n = 64;
	tether_icd_GetPhysicalDeviceQueueFamilyProperties(physicalDevice, &n, props);
	*pSupported = queueFamilyIndex < n &&
		      (props[queueFamilyIndex].queueFlags &
		       (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT | VK_QUEUE_TRANSFER_BIT));
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetPhysicalDeviceSurfaceCapabilitiesKHR(
	VkPhysicalDevice physicalDevice, VkSurfaceKHR surface, VkSurfaceCapabilitiesKHR *caps)
{
	struct tether_icd_surface *s = tether_icd_surface_from(surface);
	VkExtent2D extent = {0, 0};
	bool defined = false;
	VkResult r = tether_display_extent(s->display, &extent, &defined);
	if (r != VK_SUCCESS)
		return r;
	memset(caps, 0, sizeof(*caps));
	caps->minImageCount = 2;
	caps->maxImageCount = TETHER_SWAPCHAIN_MAX_IMAGES;
	if (defined) {
		/* A window's swapchain is its size (as X11 drivers say it). */
		caps->currentExtent = extent;
		caps->minImageExtent = extent;
		caps->maxImageExtent = extent;
	} else {
		caps->currentExtent = (VkExtent2D){UINT32_MAX, UINT32_MAX};
		caps->minImageExtent = (VkExtent2D){1, 1};
		caps->maxImageExtent = (VkExtent2D){TETHER_SWAPCHAIN_MAX_EXTENT, TETHER_SWAPCHAIN_MAX_EXTENT};
	}
	caps->maxImageArrayLayers = 1;
	caps->supportedTransforms = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR;
	caps->currentTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR;
	caps->supportedCompositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR | VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR;
	caps->supportedUsageFlags = SUPPORTED_USAGE;
	return VK_SUCCESS;
}

/* VK_EXT_surface_maintenance1: the present mode a query is about (FIFO when
 * not named, or not one of ours). */
static VkPresentModeKHR asked_mode(const VkPhysicalDeviceSurfaceInfo2KHR *info)
{
	for (const VkBaseInStructure *in = info->pNext; in; in = in->pNext)
		if (in->sType == VK_STRUCTURE_TYPE_SURFACE_PRESENT_MODE_EXT) {
			VkPresentModeKHR m = ((const VkSurfacePresentModeEXT *)in)->presentMode;
			for (uint32_t i = 0; i < sizeof(present_modes) / sizeof(present_modes[0]); i++)
				if (present_modes[i] == m)
					return m;
		}
	return VK_PRESENT_MODE_FIFO_KHR;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetPhysicalDeviceSurfaceCapabilities2KHR(
	VkPhysicalDevice physicalDevice, const VkPhysicalDeviceSurfaceInfo2KHR *pSurfaceInfo,
	VkSurfaceCapabilities2KHR *pSurfaceCapabilities)
{
	VkResult r = tether_icd_GetPhysicalDeviceSurfaceCapabilitiesKHR(physicalDevice, pSurfaceInfo->surface,
									&pSurfaceCapabilities->surfaceCapabilities);
	const VkSurfaceCapabilitiesKHR *caps = &pSurfaceCapabilities->surfaceCapabilities;
	for (VkBaseOutStructure *o = pSurfaceCapabilities->pNext; o; o = o->pNext) {
		switch ((int)o->sType) {
		case VK_STRUCTURE_TYPE_SURFACE_PROTECTED_CAPABILITIES_KHR:
			((VkSurfaceProtectedCapabilitiesKHR *)o)->supportsProtected = VK_FALSE;
			break;
		case VK_STRUCTURE_TYPE_SURFACE_PRESENT_SCALING_CAPABILITIES_EXT: {
			/* Frames are shown at their size: no scaling, no gravity. */
			VkSurfacePresentScalingCapabilitiesEXT *sc = (VkSurfacePresentScalingCapabilitiesEXT *)o;
			sc->supportedPresentScaling = 0;
			sc->supportedPresentGravityX = 0;
			sc->supportedPresentGravityY = 0;
			sc->minScaledImageExtent = caps->minImageExtent;
			sc->maxScaledImageExtent = caps->maxImageExtent;
			break;
		}
		case VK_STRUCTURE_TYPE_SURFACE_PRESENT_MODE_COMPATIBILITY_EXT: {
			/* The presenter paces each frame by its own mode: all switch freely.
			 * The mode asked about comes first, so a short array holds it. */
			VkSurfacePresentModeCompatibilityEXT *pc = (VkSurfacePresentModeCompatibilityEXT *)o;
			const uint32_t total = sizeof(present_modes) / sizeof(present_modes[0]);
			if (pc->pPresentModes) {
				VkPresentModeKHR asked = asked_mode(pSurfaceInfo);
				uint32_t n = 0;
				if (pc->presentModeCount)
					pc->pPresentModes[n++] = asked;
				for (uint32_t i = 0; i < total && n < pc->presentModeCount; i++)
					if (present_modes[i] != asked)
						pc->pPresentModes[n++] = present_modes[i];
				pc->presentModeCount = n;
			} else {
				pc->presentModeCount = total;
			}
			break;
		}
		default:
			break;
		}
	}
	return r;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetPhysicalDeviceSurfaceFormatsKHR(VkPhysicalDevice physicalDevice,
									     VkSurfaceKHR surface,
									     uint32_t *pSurfaceFormatCount,
									     VkSurfaceFormatKHR *pSurfaceFormats)
{
	const uint32_t total = sizeof(surface_formats) / sizeof(surface_formats[0]);
	if (surface && !tether_display_supports_bgra8(tether_icd_surface_from(surface)->display)) {
		*pSurfaceFormatCount = 0;
		return VK_SUCCESS;
	}
	if (!pSurfaceFormats) {
		*pSurfaceFormatCount = total;
		return VK_SUCCESS;
	}
	uint32_t n = *pSurfaceFormatCount < total ? *pSurfaceFormatCount : total;
	memcpy(pSurfaceFormats, surface_formats, n * sizeof(*pSurfaceFormats));
	*pSurfaceFormatCount = n;
	return n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetPhysicalDeviceSurfaceFormats2KHR(
	VkPhysicalDevice physicalDevice, const VkPhysicalDeviceSurfaceInfo2KHR *pSurfaceInfo,
	uint32_t *pSurfaceFormatCount, VkSurfaceFormat2KHR *pSurfaceFormats)
{
	if (!pSurfaceFormats)
		return tether_icd_GetPhysicalDeviceSurfaceFormatsKHR(physicalDevice, pSurfaceInfo->surface,
								     pSurfaceFormatCount, NULL);
	VkSurfaceFormatKHR formats[sizeof(surface_formats) / sizeof(surface_formats[0])];
	uint32_t n = *pSurfaceFormatCount < 2 ? *pSurfaceFormatCount : 2;
	VkResult r = tether_icd_GetPhysicalDeviceSurfaceFormatsKHR(physicalDevice, pSurfaceInfo->surface, &n,
								   formats);
	for (uint32_t i = 0; i < n; i++)
		pSurfaceFormats[i].surfaceFormat = formats[i];
	*pSurfaceFormatCount = n;
	return r;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetPhysicalDeviceSurfacePresentModesKHR(VkPhysicalDevice physicalDevice,
										  VkSurfaceKHR surface,
										  uint32_t *pPresentModeCount,
										  VkPresentModeKHR *pPresentModes)
{
	const uint32_t total = sizeof(present_modes) / sizeof(present_modes[0]);
	if (!pPresentModes) {
		*pPresentModeCount = total;
		return VK_SUCCESS;
	}
	uint32_t n = *pPresentModeCount < total ? *pPresentModeCount : total;
	memcpy(pPresentModes, present_modes, n * sizeof(*pPresentModes));
	*pPresentModeCount = n;
	return n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetPhysicalDevicePresentRectanglesKHR(VkPhysicalDevice physicalDevice,
										VkSurfaceKHR surface,
										uint32_t *pRectCount, VkRect2D *pRects)
{
	if (!pRects) {
		*pRectCount = 1;
		return VK_SUCCESS;
	}
	if (*pRectCount < 1)
		return VK_INCOMPLETE;
	VkExtent2D extent = {0, 0};
	bool defined = false;
	VkResult r = tether_display_extent(tether_icd_surface_from(surface)->display, &extent, &defined);
	if (r != VK_SUCCESS)
		return r;
	pRects[0] = (VkRect2D){{0, 0}, defined ? extent : (VkExtent2D){UINT32_MAX, UINT32_MAX}};
	*pRectCount = 1;
	return VK_SUCCESS;
}

/* One GPU per device group: presentation is always local. */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetDeviceGroupPresentCapabilitiesKHR(
	VkDevice device, VkDeviceGroupPresentCapabilitiesKHR *caps)
{
	memset(caps->presentMask, 0, sizeof(caps->presentMask));
	caps->presentMask[0] = 1;
	caps->modes = VK_DEVICE_GROUP_PRESENT_MODE_LOCAL_BIT_KHR;
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetDeviceGroupSurfacePresentModesKHR(VkDevice device,
									       VkSurfaceKHR surface,
									       VkDeviceGroupPresentModeFlagsKHR *pModes)
{
	*pModes = VK_DEVICE_GROUP_PRESENT_MODE_LOCAL_BIT_KHR;
	return VK_SUCCESS;
}
