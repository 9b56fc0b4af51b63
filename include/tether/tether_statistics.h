/*
 * tether's statistics for programs: a Vulkan program running on tether can
 * ask the driver how its frames travel. The function is a device-level
 * command that only tether's driver answers:
 *
 *   PFN_vkGetSwapchainStatisticsTETHER get = (PFN_vkGetSwapchainStatisticsTETHER)
 *           vkGetDeviceProcAddr(device, "vkGetSwapchainStatisticsTETHER");
 *   if (get) { struct VkSwapchainStatisticsTETHER st = {0}; get(device, swapchain, &st); }
 *
 * On any other driver vkGetDeviceProcAddr returns NULL. No layer knows this
 * command, so a layer that wraps handles (the validation layer's unique
 * handles) passes its own swapchain handle through: tether answers
 * VK_ERROR_UNKNOWN for a handle it did not create, and VK_NULL_HANDLE asks
 * for the device's newest swapchain, which works under any layer.
 */
#ifndef TETHER_STATISTICS_H
#define TETHER_STATISTICS_H

#include <stdint.h>
#include <vulkan/vulkan.h>

typedef struct VkSwapchainStatisticsTETHER {
	uint64_t framesPresented; /* vkQueuePresentKHR calls that sent an image */
	uint64_t framesShown;     /* put into the window */
	uint64_t framesDropped;   /* replaced before being shown (MAILBOX) */
	uint64_t framesFailed;    /* the server could not copy the image out */
	uint64_t bytesReceived;   /* frame bytes on the link, headers included */
	/* Time from vkQueuePresentKHR to the pixels being in the window, over the
	 * last 1024 frames shown, in microseconds. */
	uint32_t latencyMedianUs;
	uint32_t latency99Us;
	uint32_t latencyLastUs;
	uint32_t latencySamples;
} VkSwapchainStatisticsTETHER;

typedef VkResult(VKAPI_PTR *PFN_vkGetSwapchainStatisticsTETHER)(VkDevice device, VkSwapchainKHR swapchain,
								 VkSwapchainStatisticsTETHER *pStatistics);

#endif
