/*
 * The Wayland window backend: frames go into the application's wl_surface as
 * wl_shm buffers (XRGB8888, one memfd pool each); wl_surface.frame paces FIFO.
 * All our objects live on a private wl_event_queue, reached through proxy
 * wrappers, so the application's own dispatching never runs our listeners and
 * ours never runs its.
 *
 * Release handling: the caller's buffers are plain memory and are never
 * attached. show() copies the frame into a wl_buffer of a small ring that the
 * compositor has released (wl_buffer.release), so the caller may write its
 * buffer again as soon as show() returns and the compositor never reads
 * memory being written: a compositor that holds a buffer until the next
 * commit (pixman renderers) or beyond cannot make the caller wait, and it can
 * never see a half-written frame. The price is one copy per frame (about
 * 2 ms for 2560x1600 at memcpy speed), small beside decoding it. When all
 * RING_MAX ring buffers are held, show() waits up to RELEASE_TIMEOUT_NS for a
 * release and otherwise drops the frame.
 */
#include "icd/wsi_display.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#define DEFAULT_REFRESH_MHZ 60000u
/* Buffers the compositor may hold at once: the one on screen, one being
 * replaced, one queued, and one for us to fill. */
#define RING_MAX 4
#define RELEASE_TIMEOUT_NS 100000000ull
/* Frame callbacks stop for surfaces the compositor does not draw (hidden,
 * minimized): pacing then falls back to this timeout. */
#define FRAME_TIMEOUT_MIN_NS 50000000ull
#define FRAME_TIMEOUT_MAX_NS 250000000ull
#define MAX_OUTPUTS 16

/* A wl_buffer of the copy ring. */
struct wl_ring_buffer {
	struct wl_buffer *buffer; /* NULL: free slot */
	void *data;
	size_t size;
	uint32_t width, height;
	bool held; /* committed, wl_buffer.release not seen yet */
};

struct wl_output_info {
	uint32_t name; /* registry name; 0: free slot */
	struct wl_output *output;
	uint32_t mhz;  /* current mode's refresh */
};

struct tether_display_wl {
	struct tether_display base;
	struct wl_display *display;
	struct wl_event_queue *queue;
	struct wl_display *display_wrapper; /* the display, on our queue */
	struct wl_surface *surface;         /* the application's surface, on our queue */
	uint32_t surface_version;
	atomic_bool lost;

	struct tether_mutex lock; /* everything below, and dispatching our queue */
	struct wl_registry *registry;
	struct wl_shm *shm;
	bool xrgb8888;
	struct wl_output_info outputs[MAX_OUTPUTS];
	struct wl_ring_buffer ring[RING_MAX];
	struct wl_callback *frame; /* of the last show(), until it is done or waited for */
	bool frame_done;
	uint64_t frames, release_waits, drops;
};

static struct tether_display_wl *wl(struct tether_display *d)
{
	return (struct tether_display_wl *)d;
}

/* Marks the surface lost for good; says why once. */
static void wl_mark_lost(struct tether_display_wl *w, int err)
{
	if (!atomic_exchange(&w->lost, true))
		TETHER_LOGI("wsi", "Wayland connection failed: %s", strerror(err));
}

/* Whether the connection has failed (a protocol error, or the compositor gone):
 * nothing can be shown on it again. */
static bool wl_is_lost(struct tether_display_wl *w)
{
	int err;

	if (atomic_load(&w->lost))
		return true;
	err = wl_display_get_error(w->display);
	if (err)
		wl_mark_lost(w, err);
	return err != 0;
}

static void buffer_release(void *data, struct wl_buffer *buffer)
{
	((struct wl_ring_buffer *)data)->held = false;
}

static const struct wl_buffer_listener buffer_listener = { .release = buffer_release };

static void frame_done(void *data, struct wl_callback *cb, uint32_t time)
{
	struct tether_display_wl *w = data;

	w->frame_done = true;
	wl_callback_destroy(cb);
	w->frame = NULL;
}

static const struct wl_callback_listener frame_listener = { .done = frame_done };

static void shm_format(void *data, struct wl_shm *shm, uint32_t format)
{
	if (format == WL_SHM_FORMAT_XRGB8888)
		((struct tether_display_wl *)data)->xrgb8888 = true;
}

static const struct wl_shm_listener shm_listener = { .format = shm_format };

static void output_geometry(void *data, struct wl_output *o, int32_t x, int32_t y, int32_t pw,
			    int32_t ph, int32_t subpixel, const char *make, const char *model,
			    int32_t transform)
{
}

static void output_mode(void *data, struct wl_output *o, uint32_t flags, int32_t width,
			int32_t height, int32_t refresh)
{
	if ((flags & WL_OUTPUT_MODE_CURRENT) && refresh > 0)
		((struct wl_output_info *)data)->mhz = (uint32_t)refresh;
}

static void output_done(void *data, struct wl_output *o)
{
}

static void output_scale(void *data, struct wl_output *o, int32_t factor)
{
}

static const struct wl_output_listener output_listener = {
	.geometry = output_geometry,
	.mode = output_mode,
	.done = output_done,
	.scale = output_scale,
};

static void output_release(struct wl_output_info *o)
{
	if (wl_proxy_get_version((struct wl_proxy *)o->output) >= WL_OUTPUT_RELEASE_SINCE_VERSION)
		wl_output_release(o->output);
	else
		wl_output_destroy(o->output);
	memset(o, 0, sizeof(*o));
}

static void registry_global(void *data, struct wl_registry *reg, uint32_t name,
			    const char *interface, uint32_t version)
{
	struct tether_display_wl *w = data;

	if (!strcmp(interface, wl_shm_interface.name) && !w->shm) {
		w->shm = wl_registry_bind(reg, name, &wl_shm_interface, 1);
		wl_shm_add_listener(w->shm, &shm_listener, w);
	} else if (!strcmp(interface, wl_output_interface.name)) {
		for (int i = 0; i < MAX_OUTPUTS; i++) {
			struct wl_output_info *o = &w->outputs[i];
			if (o->name)
				continue;
			/* Version 3 at most: version 4's name and description
			 * events would need listeners we have no use for. */
			o->output = wl_registry_bind(reg, name, &wl_output_interface, version < 3 ? version : 3);
			o->name = name;
			wl_output_add_listener(o->output, &output_listener, o);
			break;
		}
	}
}

static void registry_global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
	struct tether_display_wl *w = data;

	for (int i = 0; i < MAX_OUTPUTS; i++)
		if (w->outputs[i].name == name)
			output_release(&w->outputs[i]);
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

/*
 * Runs our queue's listeners for what has arrived, reading the socket (with
 * the other readers of this display, through prepare_read) until @deadline.
 * Return: 1 when something may have been dispatched, 0 on timeout, -1 when
 * the connection failed. Lock held.
 */
static int wl_dispatch_until(struct tether_display_wl *w, uint64_t deadline)
{
	struct pollfd pfd = { .fd = wl_display_get_fd(w->display), .events = POLLIN };
	uint64_t now;
	int ready;

	if (wl_display_prepare_read_queue(w->display, w->queue) != 0) {
		if (wl_display_dispatch_queue_pending(w->display, w->queue) >= 0)
			return 1;
		wl_mark_lost(w, wl_display_get_error(w->display));
		return -1;
	}
	/* Our requests must be out before we wait for their answers; EAGAIN
	 * (socket full) leaves them buffered for the next flush. EPIPE (the
	 * compositor gone) is not recorded as the display's error. */
	if (wl_display_flush(w->display) < 0 && errno != EAGAIN) {
		wl_mark_lost(w, errno);
		wl_display_cancel_read(w->display);
		return -1;
	}
	now = tether_time_ns();
	if (now >= deadline) {
		wl_display_cancel_read(w->display);
		return 0;
	}
	ready = poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
	if (ready > 0) {
		if (wl_display_read_events(w->display) < 0) {
			wl_mark_lost(w, errno);
			return -1;
		}
	} else {
		wl_display_cancel_read(w->display);
		if (ready < 0 && errno != EINTR) {
			wl_mark_lost(w, errno);
			return -1;
		}
	}
	if (wl_display_dispatch_queue_pending(w->display, w->queue) < 0) {
		wl_mark_lost(w, wl_display_get_error(w->display));
		return -1;
	}
	return 1;
}

static void ring_free(struct wl_ring_buffer *rb)
{
	wl_buffer_destroy(rb->buffer);
	munmap(rb->data, rb->size);
	memset(rb, 0, sizeof(*rb));
}

/* Makes a ring buffer of @width x @height in its own memfd pool. Return: 0 or -1. */
static int ring_alloc(struct tether_display_wl *w, struct wl_ring_buffer *rb, uint32_t width,
		      uint32_t height)
{
	size_t size = (size_t)width * 4 * height;
	struct wl_shm_pool *pool;
	int fd;

	if (size > INT32_MAX) /* wl_shm_pool sizes are int32 */
		return -1;
	fd = memfd_create("tether-wl-frame", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) ||
	    (rb->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		close(fd);
		rb->data = NULL;
		return -1;
	}
	pool = wl_shm_create_pool(w->shm, fd, (int32_t)size);
	rb->buffer = wl_shm_pool_create_buffer(pool, 0, (int32_t)width, (int32_t)height,
					       (int32_t)(width * 4), WL_SHM_FORMAT_XRGB8888);
	/* The buffer keeps the pool's memory; libwayland sends a duplicate of
	 * the descriptor, so ours can go now. */
	wl_shm_pool_destroy(pool);
	close(fd);
	wl_buffer_add_listener(rb->buffer, &buffer_listener, rb);
	rb->size = size;
	rb->width = width;
	rb->height = height;
	rb->held = false;
	return 0;
}

/* A released ring buffer of the given size, made when there is room. Lock held. */
static struct wl_ring_buffer *ring_take(struct tether_display_wl *w, uint32_t width, uint32_t height)
{
	struct wl_ring_buffer *empty = NULL;

	for (int i = 0; i < RING_MAX; i++) {
		struct wl_ring_buffer *rb = &w->ring[i];
		if (!rb->buffer)
			empty = empty ? empty : rb;
		else if (!rb->held && rb->width == width && rb->height == height)
			return rb;
		else if (!rb->held) {
			ring_free(rb); /* from before a resize */
			empty = empty ? empty : rb;
		}
	}
	if (empty && ring_alloc(w, empty, width, height) == 0)
		return empty;
	return NULL;
}

static void wl_destroy(struct tether_display *d)
{
	struct tether_display_wl *w = wl(d);

	for (int i = 0; i < RING_MAX; i++)
		if (w->ring[i].buffer)
			ring_free(&w->ring[i]);
	if (w->frame)
		wl_callback_destroy(w->frame);
	for (int i = 0; i < MAX_OUTPUTS; i++)
		if (w->outputs[i].name)
			output_release(&w->outputs[i]);
	if (w->shm)
		wl_shm_destroy(w->shm);
	if (w->registry)
		wl_registry_destroy(w->registry);
	if (w->surface)
		wl_proxy_wrapper_destroy(w->surface);
	if (w->display_wrapper)
		wl_proxy_wrapper_destroy(w->display_wrapper);
	wl_display_flush(w->display);
	if (w->queue)
		wl_event_queue_destroy(w->queue);
	tether_mutex_destroy(&w->lock);
	free(w);
}

static VkResult wl_extent(struct tether_display *d, VkExtent2D *extent, bool *defined)
{
	/* A wl_surface's size is whatever its buffers are: the swapchain decides
	 * (VkSurfaceCapabilitiesKHR currentExtent 0xFFFFFFFF). */
	extent->width = extent->height = 0;
	*defined = false;
	return wl_is_lost(wl(d)) ? VK_ERROR_SURFACE_LOST_KHR : VK_SUCCESS;
}

static uint32_t wl_refresh_mhz(struct tether_display *d)
{
	struct tether_display_wl *w = wl(d);
	uint32_t mhz = 0;

	tether_mutex_lock(&w->lock);
	if (!wl_is_lost(w))
		wl_display_dispatch_queue_pending(w->display, w->queue); /* outputs come and go */
	for (int i = 0; i < MAX_OUTPUTS; i++)
		if (w->outputs[i].name && w->outputs[i].mhz > mhz)
			mhz = w->outputs[i].mhz;
	tether_mutex_unlock(&w->lock);
	return mhz ? mhz : DEFAULT_REFRESH_MHZ;
}

static bool wl_supports_bgra8(struct tether_display *d)
{
	/* wl_shm: "all renderers should support argb8888 and xrgb8888"; some
	 * compositors never announce them, so their absence is only logged. */
	return wl(d)->shm != NULL;
}

static VkResult wl_buffer_create(struct tether_display *d, uint32_t width, uint32_t height,
				 struct tether_display_buffer **out)
{
	if (wl_is_lost(wl(d)))
		return VK_ERROR_SURFACE_LOST_KHR;
	if (!wl_supports_bgra8(d))
		return TETHER_ERR("wsi", VK_ERROR_FORMAT_NOT_SUPPORTED, "compositor has no XRGB8888 wl_shm");
	if (!width || !height || (uint64_t)width * 4 * height > INT32_MAX)
		return TETHER_ERR("wsi", VK_ERROR_OUT_OF_HOST_MEMORY, "bad Wayland buffer size %ux%u",
				  width, height);
	/* Frames are decoded into plain memory and copied into the wl_shm ring at
	 * show time (see wl_show()). */
	return tether_display_memory_buffer_create(d, width, height, out);
}

/* A ring buffer to copy into, waiting for a release if all are held. Lock held. */
static struct wl_ring_buffer *wl_ring_wait(struct tether_display_wl *w, uint32_t width, uint32_t height)
{
	uint64_t deadline = tether_time_ns() + RELEASE_TIMEOUT_NS;
	struct wl_ring_buffer *rb;
	bool waited = false;

	wl_display_dispatch_queue_pending(w->display, w->queue); /* releases already read */
	while (!(rb = ring_take(w, width, height))) {
		waited = true;
		if (wl_dispatch_until(w, deadline) <= 0)
			break;
	}
	w->release_waits += waited;
	return rb;
}

static VkResult wl_show(struct tether_display *d, struct tether_display_buffer *b)
{
	struct tether_display_wl *w = wl(d);
	struct wl_ring_buffer *rb;

	tether_mutex_lock(&w->lock);
	if (wl_is_lost(w)) {
		tether_mutex_unlock(&w->lock);
		return VK_ERROR_SURFACE_LOST_KHR;
	}
	rb = wl_ring_wait(w, b->width, b->height);
	if (!rb) {
		/* Like MAILBOX: a frame is dropped rather than written over one the
		 * compositor still reads. */
		if (!w->drops++)
			TETHER_LOGW("wsi", "compositor holds every wl_buffer: dropping frames");
		tether_mutex_unlock(&w->lock);
		return wl_is_lost(w) ? VK_ERROR_SURFACE_LOST_KHR : VK_SUCCESS;
	}
	for (uint32_t y = 0; y < b->height; y++)
		memcpy((uint8_t *)rb->data + (size_t)y * b->width * 4, b->pixels + (size_t)y * b->stride,
		       (size_t)b->width * 4);
	wl_surface_attach(w->surface, rb->buffer, 0, 0);
	if (w->surface_version >= WL_SURFACE_DAMAGE_BUFFER_SINCE_VERSION)
		wl_surface_damage_buffer(w->surface, 0, 0, (int32_t)b->width, (int32_t)b->height);
	else
		wl_surface_damage(w->surface, 0, 0, INT32_MAX, INT32_MAX);
	/* One callback per commit: an older one may fire for a repaint that
	 * did not yet show this frame. */
	if (w->frame)
		wl_callback_destroy(w->frame);
	w->frame = wl_surface_frame(w->surface);
	wl_callback_add_listener(w->frame, &frame_listener, w);
	w->frame_done = false;
	wl_surface_commit(w->surface);
	rb->held = true;
	w->frames++;
	if (wl_display_flush(w->display) < 0 && errno != EAGAIN)
		wl_mark_lost(w, errno);
	tether_mutex_unlock(&w->lock);
	return atomic_load(&w->lost) ? VK_ERROR_SURFACE_LOST_KHR : VK_SUCCESS;
}

static VkResult wl_wait_refresh(struct tether_display *d)
{
	struct tether_display_wl *w = wl(d);
	uint32_t mhz = wl_refresh_mhz(d);
	uint64_t timeout = 4 * (1000000000000ull / mhz), deadline;
	VkResult r = VK_SUCCESS;

	if (timeout < FRAME_TIMEOUT_MIN_NS)
		timeout = FRAME_TIMEOUT_MIN_NS;
	if (timeout > FRAME_TIMEOUT_MAX_NS)
		timeout = FRAME_TIMEOUT_MAX_NS;
	deadline = tether_time_ns() + timeout;
	tether_mutex_lock(&w->lock);
	/* No frame pending: the refresh after the last show was waited for already. */
	while (w->frame && !w->frame_done) {
		int got = wl_dispatch_until(w, deadline);
		if (got < 0 || wl_is_lost(w)) {
			r = VK_ERROR_SURFACE_LOST_KHR;
			break;
		}
		if (got == 0) {
			TETHER_LOGD("wsi", "no frame callback in %llu ms", (unsigned long long)(timeout / 1000000));
			break; /* surface not drawn: the timeout paced us */
		}
	}
	if (w->frame) {
		wl_callback_destroy(w->frame);
		w->frame = NULL;
	}
	tether_mutex_unlock(&w->lock);
	return r;
}

static void wl_stats(struct tether_display *d, struct tether_display_stats *out)
{
	struct tether_display_wl *w = wl(d);

	memset(out, 0, sizeof(*out));
	tether_mutex_lock(&w->lock);
	if (!wl_is_lost(w))
		wl_display_dispatch_queue_pending(w->display, w->queue);
	out->frames_shown = w->frames;
	out->release_waits = w->release_waits;
	out->frames_dropped = w->drops;
	for (int i = 0; i < RING_MAX; i++) {
		out->window_buffers += w->ring[i].buffer != NULL;
		out->held_buffers += w->ring[i].buffer && w->ring[i].held;
	}
	tether_mutex_unlock(&w->lock);
}

static const struct tether_display_ops wl_ops = {
	.destroy = wl_destroy,
	.extent = wl_extent,
	.refresh_mhz = wl_refresh_mhz,
	.supports_bgra8 = wl_supports_bgra8,
	.buffer_create = wl_buffer_create,
	.buffer_destroy = tether_display_memory_buffer_destroy,
	.show = wl_show,
	.wait_refresh = wl_wait_refresh,
	.stats = wl_stats,
};

/* Our queue, wrappers and globals. Return: false when the connection failed. */
static bool wl_init(struct tether_display_wl *w, struct wl_surface *surface)
{
	w->queue = wl_display_create_queue(w->display);
	w->display_wrapper = wl_proxy_create_wrapper(w->display);
	w->surface = wl_proxy_create_wrapper(surface);
	if (!w->queue || !w->display_wrapper || !w->surface)
		return false;
	wl_proxy_set_queue((struct wl_proxy *)w->display_wrapper, w->queue);
	wl_proxy_set_queue((struct wl_proxy *)w->surface, w->queue);
	w->surface_version = wl_proxy_get_version((struct wl_proxy *)surface);
	w->registry = wl_display_get_registry(w->display_wrapper);
	if (!w->registry)
		return false;
	wl_registry_add_listener(w->registry, &registry_listener, w);
	/* First the globals, then what binding them sends (formats, modes). */
	return wl_display_roundtrip_queue(w->display, w->queue) >= 0 &&
	       wl_display_roundtrip_queue(w->display, w->queue) >= 0;
}

struct tether_display *tether_display_wayland(struct wl_display *display, struct wl_surface *surface)
{
	struct tether_display_wl *w = calloc(1, sizeof(*w));
	bool ok;

	if (!w)
		return NULL;
	if (tether_mutex_init(&w->lock)) {
		free(w);
		return NULL;
	}
	w->base.ops = &wl_ops;
	w->display = display;
	atomic_init(&w->lost, false);
	tether_mutex_lock(&w->lock);
	ok = wl_init(w, surface);
	tether_mutex_unlock(&w->lock);
	if (!ok && !w->queue) {
		wl_destroy(&w->base);
		return NULL; /* out of memory */
	}
	if (!ok)
		atomic_store(&w->lost, true); /* every call returns VK_ERROR_SURFACE_LOST_KHR */
	TETHER_LOGI("wsi", "Wayland surface: wl_shm %s, %u mHz",
		    !w->shm ? "missing" : w->xrgb8888 ? "with XRGB8888" : "without announced XRGB8888",
		    wl_refresh_mhz(&w->base));
	return &w->base;
}
