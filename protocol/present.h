/*
 * Presentation on the wire. Swapchains are the client's: the server only
 * holds their images (ordinary VkImages) and, on every present, copies the
 * presented image out on the GPU and streams it back over the session's
 * frame channel. These are tether's own commands for that, and the FRAME
 * message that carries one presented image.
 */
#ifndef TETHER_PROTOCOL_PRESENT_H
#define TETHER_PROTOCOL_PRESENT_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/stream.h"

enum tether_present_command {
	/* client -> server, answered: create the images of a swapchain */
	TETHER_CMD_SWAPCHAIN_CREATE = 0x110,
	/* client -> server: frames of it still in flight finish, then it goes */
	TETHER_CMD_SWAPCHAIN_DESTROY = 0x111,
	/* client -> server: copy out and send the presented images */
	TETHER_CMD_PRESENT = 0x112,
	/* client -> server: an acquired image is free: signal the semaphore/fence */
	TETHER_CMD_ACQUIRE_SIGNAL = 0x113,
};

/* Bounds on what a client may ask for (the server's input is hostile). */
#define TETHER_SWAPCHAIN_MAX_IMAGES 16u
#define TETHER_SWAPCHAIN_MAX_EXTENT 16384u
#define TETHER_PRESENT_MAX_SWAPCHAINS 16u
#define TETHER_PRESENT_MAX_WAITS 64u
#define TETHER_SWAPCHAIN_MAX_VIEW_FORMATS 16u
#define TETHER_SWAPCHAIN_MAX_FAMILIES 16u

/* TETHER_CMD_SWAPCHAIN_CREATE arguments; the reply is one VkResult (i32). */
struct tether_swapchain_desc {
	uint64_t device;    /* wire id (encoded) / real handle (decoded) */
	uint64_t swapchain; /* the client's id for the swapchain */
	uint32_t format;    /* VkFormat of the images: 4 bytes per texel */
	uint32_t width, height, layers;
	uint32_t usage;       /* VkImageUsageFlags the application asked for */
	uint32_t image_flags; /* VkImageCreateFlags (mutable format) */
	uint32_t sharing;     /* VkSharingMode */
	uint32_t family_count;
	uint32_t families[TETHER_SWAPCHAIN_MAX_FAMILIES];
	uint32_t view_format_count;
	uint32_t view_formats[TETHER_SWAPCHAIN_MAX_VIEW_FORMATS];
	uint32_t codecs; /* mask of the frame codecs the client decodes */
	uint32_t image_count;
	uint64_t images[TETHER_SWAPCHAIN_MAX_IMAGES]; /* client ids of the images */
};

void tether_swapchain_desc_encode(struct tether_encoder *e, const struct tether_swapchain_desc *s);
/* Decodes and checks the bounds above; the device handle is resolved. */
bool tether_swapchain_desc_decode(struct tether_decoder *d, struct tether_swapchain_desc *s);

/* One image of a present. */
struct tether_present_item {
	uint64_t swapchain;
	uint32_t image;
	uint64_t seq;   /* the client's frame number, returned in the FRAME */
	uint64_t fence; /* VK_EXT_swapchain_maintenance1 present fence (id / handle), or 0 */
};

/* TETHER_CMD_PRESENT arguments. */
struct tether_present_desc {
	uint64_t queue; /* wire id / real handle */
	uint32_t wait_count;
	uint64_t waits[TETHER_PRESENT_MAX_WAITS]; /* binary semaphores, ids / handles */
	uint32_t count;
	struct tether_present_item items[TETHER_PRESENT_MAX_SWAPCHAINS];
};

void tether_present_desc_encode(struct tether_encoder *e, const struct tether_present_desc *p);
bool tether_present_desc_decode(struct tether_decoder *d, struct tether_present_desc *p);

/*
 * FRAME message (server -> client, on the frame channel): this header, then
 * the codec payload (protocol/frame_codec.h) of width x height texels.
 * status is VK_SUCCESS, or the VkResult that kept the image from being
 * copied out (no payload follows): the client releases the image either way.
 */
struct tether_frame_header {
	uint64_t swapchain;
	uint64_t seq;
	uint32_t image;
	int32_t status;
	uint32_t width, height;
	uint64_t gpu_done_ns; /* server: copy-out finished, relative to the present's arrival */
	uint64_t encode_ns;   /* server: time spent compressing */
};
#define TETHER_FRAME_HEADER_SIZE 48

void tether_frame_header_encode(const struct tether_frame_header *h, uint8_t out[TETHER_FRAME_HEADER_SIZE]);
/* Return: 0, or -EPROTO for a short message or an impossible size. */
int tether_frame_header_decode(const uint8_t *in, size_t size, struct tether_frame_header *h);

#endif
