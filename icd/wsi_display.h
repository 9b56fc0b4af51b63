/*
 * The client's window backends: put the frames that come back from tetherd
 * (decoded B8G8R8A8 pixels) into the window behind a VkSurfaceKHR, and pace
 * FIFO presentation by that window's display. X11 (xcb, also for Xlib
 * surfaces) in wsi_x11.c, Wayland in wsi_wayland.c, no window at all in
 * wsi_headless.c; the swapchain code sees only the functions below.
 */
#ifndef TETHER_WSI_DISPLAY_H
#define TETHER_WSI_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#ifdef VK_USE_PLATFORM_XCB_KHR
#include <xcb/xcb.h>
#endif
#ifdef VK_USE_PLATFORM_XLIB_KHR
#include <X11/Xlib.h>
#endif
#ifdef VK_USE_PLATFORM_WAYLAND_KHR
#include <wayland-client.h>
#endif

struct tether_display; /* one per VkSurfaceKHR */

/* One per swapchain image. Pixels are B8G8R8A8 (little-endian 0xAARRGGBB
 * words), tightly packed rows: stride == width * 4. */
struct tether_display_buffer {
	uint8_t *pixels; /* width*height pixels, rows `stride` bytes apart, writable by the caller */
	uint32_t stride, width, height;
};

/* What a display has done so far, for logs, `tether top` and tests. */
struct tether_display_stats {
	uint64_t frames_shown;   /* show() calls that reached the window */
	uint32_t window_buffers; /* Wayland: wl_buffers of the copy ring now */
	uint32_t held_buffers;   /* Wayland: of those, not yet released by the compositor */
	uint64_t release_waits;  /* Wayland: shows that had to wait for a release */
	uint64_t frames_dropped; /* Wayland: shows skipped because the compositor held every buffer */
	bool shm;                /* X11: buffers are MIT-SHM segments (false: PutImage) */
	bool present;            /* X11: wait_refresh() follows Present's MSC (false: a clock) */
};

/*
 * Creation. A display is always returned unless memory runs out (NULL): a
 * window that is already gone or unusable gives a display whose calls return
 * VK_ERROR_SURFACE_LOST_KHR, as vkCreate*SurfaceKHR cannot report it.
 */
#ifdef VK_USE_PLATFORM_XCB_KHR
/**
 * tether_display_xcb() - a display for an X11 window, on the application's connection
 * Only checked requests, replies and our own Present event queue are used, so
 * the application's events and errors stay its own. TETHER_X11_SHM=off forces
 * PutImage, =sysv forces SysV segments instead of memfd; TETHER_X11_PRESENT=off
 * paces by the clock instead of Present (tests, odd servers).
 */
struct tether_display *tether_display_xcb(xcb_connection_t *conn, xcb_window_t window);
#endif
#ifdef VK_USE_PLATFORM_XLIB_KHR
/** tether_display_xlib() - tether_display_xcb() on XGetXCBConnection(@dpy). */
struct tether_display *tether_display_xlib(Display *dpy, Window window);
#endif
#ifdef VK_USE_PLATFORM_WAYLAND_KHR
/**
 * tether_display_wayland() - a display for a wl_surface the application gave a role
 * Everything runs on a private wl_event_queue through proxy wrappers, so the
 * application's dispatch never sees our events. A roundtrip on that queue
 * finds wl_shm and the outputs' refresh rates.
 */
struct tether_display *tether_display_wayland(struct wl_display *display, struct wl_surface *surface);
#endif
/**
 * tether_display_headless() - a display without a window (VK_EXT_headless_surface)
 * show() counts frames; with TETHER_HEADLESS_DUMP_DIR set, each shown frame
 * is also written there as frame_NNNNN.ppm (numbered per display from 0).
 */
struct tether_display *tether_display_headless(void);

/* Backend interface: what each wsi_*.c provides. Only they use it. */
struct tether_display_ops {
	void (*destroy)(struct tether_display *d);
	VkResult (*extent)(struct tether_display *d, VkExtent2D *extent, bool *defined);
	uint32_t (*refresh_mhz)(struct tether_display *d);
	bool (*supports_bgra8)(struct tether_display *d);
	VkResult (*buffer_create)(struct tether_display *d, uint32_t width, uint32_t height,
				  struct tether_display_buffer **out);
	void (*buffer_destroy)(struct tether_display *d, struct tether_display_buffer *b);
	VkResult (*show)(struct tether_display *d, struct tether_display_buffer *b);
	VkResult (*wait_refresh)(struct tether_display *d);
	void (*stats)(struct tether_display *d, struct tether_display_stats *out);
};

/* Buffers in plain memory (headless; Wayland, which copies them into its
 * wl_shm ring), for backends to share: wsi_headless.c. */
VkResult tether_display_memory_buffer_create(struct tether_display *d, uint32_t width, uint32_t height,
					     struct tether_display_buffer **out);
void tether_display_memory_buffer_destroy(struct tether_display *d, struct tether_display_buffer *b);

/* Head of every backend's display. */
struct tether_display {
	const struct tether_display_ops *ops;
};

/** tether_display_destroy() - free a display; its buffers must be destroyed first. NULL is ignored. */
static inline void tether_display_destroy(struct tether_display *d)
{
	if (d)
		d->ops->destroy(d);
}

/**
 * tether_display_extent() - the window's size now
 * *defined=false where the surface has none (Wayland, headless: the
 * application chooses, VkSurfaceCapabilitiesKHR currentExtent 0xFFFFFFFF).
 * Callable from any thread, concurrently with show().
 * Return: VK_SUCCESS, or VK_ERROR_SURFACE_LOST_KHR when the window is gone.
 */
static inline VkResult tether_display_extent(struct tether_display *d, VkExtent2D *extent, bool *defined)
{
	return d->ops->extent(d, extent, defined);
}

/**
 * tether_display_refresh_mhz() - refresh rate of the monitor showing the window, in millihertz
 * X11: RandR's mode of the CRTC under the window's centre; Wayland: the
 * current mode of the fastest wl_output (a client cannot see which output
 * shows a surface it does not own the listener of); 60000 when unknown;
 * headless: 0 (unpaced).
 */
static inline uint32_t tether_display_refresh_mhz(struct tether_display *d)
{
	return d->ops->refresh_mhz(d);
}

/**
 * tether_display_supports_bgra8() - whether the window can show B8G8R8A8 pixels
 * X11: a TrueColor visual of depth 24 or 32 with red mask 0xff0000, 32 bits
 * per pixel and LSBFirst image byte order (false e.g. for a 16-bit visual);
 * Wayland: wl_shm offers XRGB8888 (always, unless wl_shm is missing).
 */
static inline bool tether_display_supports_bgra8(struct tether_display *d)
{
	return d->ops->supports_bgra8(d);
}

/**
 * tether_display_buffer_create() - a buffer of @width x @height pixels for show()
 * X11: an MIT-SHM segment where the server has it and is local, else plain
 * memory; Wayland, headless: plain memory (see show()).
 * Return: VK_SUCCESS, VK_ERROR_OUT_OF_HOST_MEMORY (also for a size the window
 * system cannot take), VK_ERROR_SURFACE_LOST_KHR, or
 * VK_ERROR_FORMAT_NOT_SUPPORTED when supports_bgra8() is false.
 */
static inline VkResult tether_display_buffer_create(struct tether_display *d, uint32_t width,
						    uint32_t height, struct tether_display_buffer **out)
{
	return d->ops->buffer_create(d, width, height, out);
}

/** tether_display_buffer_destroy() - free a buffer; never while show() runs on it. NULL is ignored. */
static inline void tether_display_buffer_destroy(struct tether_display *d, struct tether_display_buffer *b)
{
	if (b)
		d->ops->buffer_destroy(d, b);
}

/**
 * tether_display_show() - put @b into the window at (0,0), at the buffer's size
 * Returns once the window system has taken the pixels: the caller may write
 * @b again at once, and no torn or half-written buffer is ever shown.
 * X11 SHM: ShmPutImage and a round trip (the server has read the segment when
 * it answers). Wayland: @b is copied into a wl_buffer the compositor has
 * released (see wsi_wayland.c), so the compositor never reads memory the
 * caller writes. Headless: counts (and maybe dumps) the frame.
 * Return: VK_SUCCESS, or VK_ERROR_SURFACE_LOST_KHR when the window (or the
 * connection to its server) is gone.
 */
static inline VkResult tether_display_show(struct tether_display *d, struct tether_display_buffer *b)
{
	return d->ops->show(d, b);
}

/**
 * tether_display_wait_refresh() - FIFO pacing: block until the display's next
 * vertical refresh after the last show()
 * X11: Present NotifyMSC/CompleteNotify on our own special event queue when
 * the server has Present, else a clock at the refresh rate; Wayland: the
 * wl_surface.frame callback requested by the last show(), with a timeout for
 * surfaces the compositor does not draw (hidden, minimized); headless: at once.
 * Return: VK_SUCCESS, or VK_ERROR_SURFACE_LOST_KHR when the window is gone.
 */
static inline VkResult tether_display_wait_refresh(struct tether_display *d)
{
	return d->ops->wait_refresh(d);
}

/** tether_display_get_stats() - counters and the paths a display took (see struct tether_display_stats). */
static inline void tether_display_get_stats(struct tether_display *d, struct tether_display_stats *out)
{
	d->ops->stats(d, out);
}

#endif /* TETHER_WSI_DISPLAY_H */
