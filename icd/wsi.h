/*
 * Window-system integration in the client driver. A surface is the client's
 * window; a swapchain is the client's too: it decides which image the
 * application may render into next, paces presents to the display, and puts
 * the frames the server streams back into the window. Only the images live
 * on the server. See docs/PRESENTATION.md.
 */
#ifndef TETHER_ICD_WSI_H
#define TETHER_ICD_WSI_H

#include "icd/icd.h"
#include "icd/wsi_display.h"
#include "protocol/present.h"

struct tether_icd_surface {
	struct tether_display *display;
	bool extent_defined; /* X11: the window's size; Wayland, headless: the app's choice */
};

static inline struct tether_icd_surface *tether_icd_surface_from(VkSurfaceKHR s)
{
	return (struct tether_icd_surface *)(uintptr_t)s;
}

enum tether_image_state {
	TETHER_IMAGE_AVAILABLE, /* the application may acquire it */
	TETHER_IMAGE_ACQUIRED,  /* the application renders into it */
	TETHER_IMAGE_PRESENTED, /* on its way back from the server */
	TETHER_IMAGE_QUEUED,    /* decoded into its buffer, waiting to be shown */
};

/* Present-to-window latencies kept for statistics (a ring of the last ones). */
#define TETHER_LATENCY_SAMPLES 1024

struct tether_icd_swapchain {
	uint64_t id; /* also the VkSwapchainKHR handle */
	struct tether_icd_device *device;
	struct tether_icd_surface *surface;
	struct tether_icd_frames *frames;
	struct tether_icd_swapchain *next; /* in frames->swapchains */
	struct tether_icd_swapchain *next_live; /* in the list of all live swapchains */
	VkExtent2D extent;
	VkFormat format;
	VkPresentModeKHR mode;
	uint32_t image_count;
	uint64_t image_ids[TETHER_SWAPCHAIN_MAX_IMAGES];
	struct tether_display_buffer *buffers[TETHER_SWAPCHAIN_MAX_IMAGES];

	struct tether_mutex lock;
	struct tether_cond changed;
	enum tether_image_state state[TETHER_SWAPCHAIN_MAX_IMAGES];
	uint64_t present_ns[TETHER_SWAPCHAIN_MAX_IMAGES];
	uint64_t present_id[TETHER_SWAPCHAIN_MAX_IMAGES]; /* VK_KHR_present_id, 0 when none */
	VkPresentModeKHR frame_mode[TETHER_SWAPCHAIN_MAX_IMAGES]; /* the mode of its present */
	uint32_t queue[TETHER_SWAPCHAIN_MAX_IMAGES];      /* QUEUED images, oldest first */
	uint32_t queue_head, queue_count;
	uint64_t next_seq;
	uint64_t present_id_done; /* VK_KHR_present_wait: highest id shown (or replaced) */
	VkResult status;   /* sticky: VK_ERROR_OUT_OF_DATE_KHR once retired, or the loss */
	bool stopping;
	struct tether_thread *presenter;

	/* statistics, under lock */
	uint64_t frames_shown, frames_dropped, frames_failed;
	uint64_t bytes_received;
	uint32_t latency_us[TETHER_LATENCY_SAMPLES];
	uint64_t latency_count;
};

/* Whether @name is a window-system extension this build implements. */
bool tether_icd_wsi_extension(const char *name, bool device);

/* The frame channel of one connection, and the swapchains it feeds. */
struct tether_icd_frames;

/* Opens (once per connection) the frame channel and its receiver thread. */
VkResult tether_icd_frames_get(struct tether_icd_conn *c, struct tether_icd_frames **out);
/* The receiver decodes frames of @sc from now on / no longer. */
void tether_icd_frames_attach(struct tether_icd_frames *f, struct tether_icd_swapchain *sc);
void tether_icd_frames_detach(struct tether_icd_frames *f, struct tether_icd_swapchain *sc);
/* Stops the receiver and closes the channel of @c (instance destruction). */
void tether_icd_frames_close(struct tether_icd_conn *c);
/* Frame codecs this build decodes, for the server's choice. */
uint32_t tether_icd_frames_codecs(void);

/* Presenter side (wsi_swapchain.c): an image's frame is decoded and ready
 * to show, or it failed (@status) and the image is free again. */
void tether_icd_swapchain_frame_ready(struct tether_icd_swapchain *sc, uint32_t image, VkResult status,
				      uint64_t bytes);
/* The frame channel is gone: every waiter wakes with @status. */
void tether_icd_swapchain_lost(struct tether_icd_swapchain *sc, VkResult status);

#endif
