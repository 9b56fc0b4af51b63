/*
 * Swapchains on the server: the images a client's swapchain renders into,
 * and what copies a presented image out to host memory. The swapchain
 * itself (acquire, present modes, the window) lives in the client's ICD.
 */
#ifndef TETHER_SERVER_SWAPCHAIN_H
#define TETHER_SERVER_SWAPCHAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "protocol/present.h"
#include "server/session.h"

struct tether_srv_swapchain_image {
	uint64_t id; /* the client's id of the VkImage */
	VkImage image;
	VkDeviceMemory memory;
	VkBuffer staging; /* the copy-out target, linear, width * 4 bytes a row */
	VkDeviceMemory staging_memory;
	const uint8_t *mapped;
	bool coherent;
	VkCommandBuffer copy; /* records the copy-out, for queue family copy_family */
	VkFence fence;        /* signalled when the copy-out is done */
	bool in_flight;       /* presented; its FRAME is not sent yet */
};

struct tether_srv_swapchain {
	struct tether_srv_swapchain *next;
	uint64_t id;
	VkDevice device;
	const struct tether_srv_dispatch *dt;
	uint32_t width, height;
	VkFormat format;
	uint32_t codecs; /* frame codecs the client decodes */
	VkCommandPool pool;
	uint32_t pool_family; /* UINT32_MAX: no pool yet */
	uint32_t image_count;
	struct tether_srv_swapchain_image images[TETHER_SWAPCHAIN_MAX_IMAGES];
	unsigned in_flight; /* images presented and not yet sent (frame pipeline lock) */
};

bool tether_srv_execute_present(struct tether_srv_session *s, uint32_t id, struct tether_decoder *d,
				struct tether_encoder *r);
/* Destroys the swapchains of @device (before the device goes). */
void tether_srv_swapchains_release_device(struct tether_srv_session *s, VkDevice device);
/* Stops the frame path and forgets every swapchain (session end). */
void tether_srv_swapchains_release_all(struct tether_srv_session *s);

#endif
