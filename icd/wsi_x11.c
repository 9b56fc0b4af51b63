/*
 * The X11 window backend, for xcb and Xlib surfaces alike: frames go into the
 * window with MIT-SHM when the server is local (memfd or SysV segments), with
 * PutImage in request-sized strips otherwise; Present's NotifyMSC paces FIFO.
 * Everything runs on the application's own connection without touching its
 * event queue: every request is checked or has a reply, and Present events
 * arrive on a special event queue of our own.
 */
#include "icd/wsi_display.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>
#include <X11/Xlib-xcb.h>
#include <xcb/present.h>
#include <xcb/randr.h>
#include <xcb/shm.h>

#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#define DEFAULT_REFRESH_MHZ 60000u
/* X11 drawables are at most 32767 pixels wide or high (16-bit signed coordinates). */
#define X11_MAX_DIMENSION 32767u
/* PutImage strips checked per round trip: bounds the cookies kept. */
#define PUT_BATCH 64
/* Present waits longer than this mean the window is not on any CRTC (unmapped,
 * off screen): pacing falls back to the timeout itself. */
#define PRESENT_TIMEOUT_MIN_NS 50000000ull
#define PRESENT_TIMEOUT_MAX_NS 250000000ull

enum x11_shm {
	X11_SHM_NONE, /* PutImage */
	X11_SHM_SYSV, /* shmget segments, ShmAttach */
	X11_SHM_FD,   /* memfd segments, ShmAttachFd (MIT-SHM 1.2, Unix socket) */
};

struct x11_buffer {
	struct tether_display_buffer base;
	xcb_shm_seg_t seg; /* 0: plain memory, shown with PutImage */
	enum x11_shm mem;  /* how pixels was allocated */
	size_t size;
};

struct tether_display_x11 {
	struct tether_display base;
	xcb_connection_t *conn;
	xcb_window_t window, root;
	xcb_gcontext_t gc;
	uint8_t depth;
	bool bgra8;
	atomic_bool lost;
	_Atomic uint32_t refresh_mhz;
	uint32_t max_request_bytes;
	xcb_present_event_t present_eid;
	xcb_special_event_t *present_events; /* NULL: no Present, pace by the clock */

	struct tether_mutex lock; /* everything below */
	enum x11_shm shm;         /* what new buffers get; drops to NONE when attaching fails */
	uint64_t frames;
	bool shown_since_wait;
	uint64_t last_show_ns, clock_origin_ns;
	uint32_t serial;          /* of the last NotifyMSC sent */
	bool notify_pending;      /* its CompleteNotify not seen yet */
	xcb_void_cookie_t notify_cookie;
};

static struct tether_display_x11 *x11(struct tether_display *d)
{
	return (struct tether_display_x11 *)d;
}

/* Turns an X error on one of our requests into a VkResult. The window going
 * away (BadWindow, BadDrawable) loses the surface for good. */
static VkResult x11_error(struct tether_display_x11 *x, xcb_generic_error_t *err, const char *what)
{
	uint8_t code = err ? err->error_code : 0;

	free(err);
	if (!err && !xcb_connection_has_error(x->conn))
		return VK_SUCCESS;
	if (!err || code == XCB_WINDOW || code == XCB_DRAWABLE) {
		if (!atomic_exchange(&x->lost, true))
			TETHER_LOGI("wsi", "X11 window 0x%x gone (%s: %s)", x->window, what,
				    err ? "bad window" : "connection closed");
		return VK_ERROR_SURFACE_LOST_KHR;
	}
	return TETHER_ERR("wsi", VK_ERROR_SURFACE_LOST_KHR, "X11 %s failed: error %u", what, code);
}

/* Round trip: when its reply arrives, every earlier request has been processed. */
static void x11_sync(xcb_connection_t *conn)
{
	free(xcb_get_input_focus_reply(conn, xcb_get_input_focus(conn), NULL));
}

/* Whether pixels of @vid (depth @depth) are B8G8R8A8 bytes as we store them. */
static bool x11_visual_bgra8(const xcb_setup_t *setup, uint8_t depth, xcb_visualid_t vid)
{
	bool format_ok = false;

	if (setup->image_byte_order != XCB_IMAGE_ORDER_LSB_FIRST || (depth != 24 && depth != 32))
		return false;
	for (xcb_format_iterator_t f = xcb_setup_pixmap_formats_iterator(setup); f.rem; xcb_format_next(&f))
		if (f.data->depth == depth)
			format_ok = f.data->bits_per_pixel == 32 && f.data->scanline_pad <= 32;
	if (!format_ok)
		return false;
	for (xcb_screen_iterator_t s = xcb_setup_roots_iterator(setup); s.rem; xcb_screen_next(&s)) {
		xcb_depth_iterator_t di = xcb_screen_allowed_depths_iterator(s.data);
		for (; di.rem; xcb_depth_next(&di)) {
			xcb_visualtype_iterator_t v = xcb_depth_visuals_iterator(di.data);
			for (; v.rem; xcb_visualtype_next(&v)) {
				const xcb_visualtype_t *t = v.data;
				if (t->visual_id != vid)
					continue;
				return (t->_class == XCB_VISUAL_CLASS_TRUE_COLOR ||
					t->_class == XCB_VISUAL_CLASS_DIRECT_COLOR) &&
				       t->red_mask == 0xff0000 && t->green_mask == 0xff00 &&
				       t->blue_mask == 0xff;
			}
		}
	}
	return false;
}

/* Refresh of a RandR mode in mHz: pixel clock over pixels per frame. */
static uint32_t x11_mode_mhz(const xcb_randr_mode_info_t *m)
{
	uint64_t num = (uint64_t)m->dot_clock * 1000, den = (uint64_t)m->htotal * m->vtotal;

	if (m->mode_flags & XCB_RANDR_MODE_FLAG_INTERLACE)
		num *= 2;
	if (m->mode_flags & XCB_RANDR_MODE_FLAG_DOUBLE_SCAN)
		den *= 2;
	return den ? (uint32_t)((num + den / 2) / den) : 0;
}

/* The refresh of the CRTC that holds (@cx, @cy), else of the first lit one; 0: none lit. */
static uint32_t x11_crtc_mhz(xcb_connection_t *conn, xcb_randr_get_screen_resources_current_reply_t *res,
			     int cx, int cy)
{
	int ncrtc = xcb_randr_get_screen_resources_current_crtcs_length(res);
	int nmode = xcb_randr_get_screen_resources_current_modes_length(res);
	xcb_randr_crtc_t *crtcs = xcb_randr_get_screen_resources_current_crtcs(res);
	xcb_randr_mode_info_t *modes = xcb_randr_get_screen_resources_current_modes(res);
	uint32_t mhz = 0;

	for (int i = 0; i < ncrtc; i++) {
		xcb_randr_get_crtc_info_reply_t *c = xcb_randr_get_crtc_info_reply(conn,
			xcb_randr_get_crtc_info(conn, crtcs[i], res->config_timestamp), NULL);
		uint32_t m = 0;
		bool under;
		for (int j = 0; c && c->mode && j < nmode; j++)
			if (modes[j].id == c->mode)
				m = x11_mode_mhz(&modes[j]);
		under = c && cx >= c->x && cy >= c->y && cx < c->x + c->width && cy < c->y + c->height;
		free(c);
		if (m && under)
			return m;
		if (m && !mhz)
			mhz = m;
	}
	return mhz;
}

/* The refresh rate of the monitor under the window's centre; 0 when RandR cannot tell. */
static uint32_t x11_randr_mhz(struct tether_display_x11 *x)
{
	const xcb_query_extension_reply_t *ext = xcb_get_extension_data(x->conn, &xcb_randr_id);
	xcb_randr_get_screen_resources_current_reply_t *res;
	xcb_translate_coordinates_reply_t *pos;
	xcb_get_geometry_reply_t *geo;
	xcb_randr_query_version_reply_t *ver;
	uint32_t mhz = 0;

	if (!ext || !ext->present)
		return 0;
	/* Ask for the newest version xcb knows: the server remembers the answer
	 * per client, and a lower one would downgrade the application's RandR. */
	ver = xcb_randr_query_version_reply(x->conn, xcb_randr_query_version(x->conn,
			XCB_RANDR_MAJOR_VERSION, XCB_RANDR_MINOR_VERSION), NULL);
	bool new_enough = ver && (ver->major_version > 1 || ver->minor_version >= 3);
	free(ver);
	if (!new_enough)
		return 0;
	geo = xcb_get_geometry_reply(x->conn, xcb_get_geometry(x->conn, x->window), NULL);
	pos = xcb_translate_coordinates_reply(x->conn,
			xcb_translate_coordinates(x->conn, x->window, x->root, 0, 0), NULL);
	res = xcb_randr_get_screen_resources_current_reply(x->conn,
			xcb_randr_get_screen_resources_current(x->conn, x->root), NULL);
	if (geo && pos && res)
		mhz = x11_crtc_mhz(x->conn, res, pos->dst_x + geo->width / 2, pos->dst_y + geo->height / 2);
	free(geo);
	free(pos);
	free(res);
	return mhz;
}

/* Whether the connection is a Unix socket: file descriptors cannot cross TCP,
 * and trying would end the application's connection. */
static bool x11_conn_is_unix(xcb_connection_t *conn)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(xcb_get_file_descriptor(conn), (struct sockaddr *)&sa, &len))
		return false;
	return sa.ss_family == AF_UNIX;
}

/* Which MIT-SHM path this connection can take (TETHER_X11_SHM may force one down). */
static enum x11_shm x11_shm_probe(xcb_connection_t *conn)
{
	const char *env = tether_getenv("TETHER_X11_SHM");
	const xcb_query_extension_reply_t *ext = xcb_get_extension_data(conn, &xcb_shm_id);
	xcb_shm_query_version_reply_t *ver;
	xcb_generic_error_t *err;
	bool fd_ok;

	if (env && (!strcmp(env, "off") || !strcmp(env, "0")))
		return X11_SHM_NONE;
	if (!ext || !ext->present)
		return X11_SHM_NONE;
	ver = xcb_shm_query_version_reply(conn, xcb_shm_query_version(conn), NULL);
	if (!ver)
		return X11_SHM_NONE;
	fd_ok = ver->major_version > 1 || (ver->major_version == 1 && ver->minor_version >= 2);
	free(ver);
	/* A server answers every MIT-SHM request but QueryVersion from a remote
	 * client with BadRequest; a local client detaching a segment it never
	 * attached gets BadShmSeg instead. */
	err = xcb_request_check(conn, xcb_shm_detach_checked(conn, 0));
	bool local = err && err->error_code != XCB_REQUEST;
	free(err);
	if (!local)
		return X11_SHM_NONE;
	if (env && !strcmp(env, "sysv"))
		return X11_SHM_SYSV;
	return fd_ok && x11_conn_is_unix(conn) ? X11_SHM_FD : X11_SHM_SYSV;
}

/* Selects CompleteNotify events for the window onto a queue of our own. */
static void x11_present_init(struct tether_display_x11 *x)
{
	const xcb_query_extension_reply_t *ext = xcb_get_extension_data(x->conn, &xcb_present_id);
	const char *env = tether_getenv("TETHER_X11_PRESENT");
	xcb_present_query_version_reply_t *ver;
	xcb_generic_error_t *err;

	if (!ext || !ext->present || (env && (!strcmp(env, "off") || !strcmp(env, "0"))))
		return;
	ver = xcb_present_query_version_reply(x->conn, xcb_present_query_version(x->conn,
			XCB_PRESENT_MAJOR_VERSION, XCB_PRESENT_MINOR_VERSION), NULL);
	if (!ver)
		return;
	free(ver);
	x->present_eid = xcb_generate_id(x->conn);
	err = xcb_request_check(x->conn, xcb_present_select_input_checked(x->conn, x->present_eid,
			x->window, XCB_PRESENT_EVENT_MASK_COMPLETE_NOTIFY));
	if (err) {
		x11_error(x, err, "PresentSelectInput");
		return;
	}
	x->present_events = xcb_register_for_special_xge(x->conn, &xcb_present_id, x->present_eid, NULL);
}

static void x11_destroy(struct tether_display *d)
{
	struct tether_display_x11 *x = x11(d);

	/* Errors (the window may be gone already) are discarded, never queued
	 * for the application. */
	if (x->present_events) {
		xcb_discard_reply(x->conn, xcb_present_select_input_checked(x->conn, x->present_eid,
				  x->window, 0).sequence);
		if (x->notify_pending)
			xcb_discard_reply(x->conn, x->notify_cookie.sequence);
		xcb_unregister_for_special_event(x->conn, x->present_events);
	}
	if (x->gc)
		xcb_discard_reply(x->conn, xcb_free_gc_checked(x->conn, x->gc).sequence);
	xcb_flush(x->conn);
	tether_mutex_destroy(&x->lock);
	free(x);
}

static VkResult x11_extent(struct tether_display *d, VkExtent2D *extent, bool *defined)
{
	struct tether_display_x11 *x = x11(d);
	xcb_generic_error_t *err = NULL;
	xcb_get_geometry_reply_t *geo;

	*defined = true;
	extent->width = extent->height = 0;
	if (atomic_load(&x->lost))
		return VK_ERROR_SURFACE_LOST_KHR;
	geo = xcb_get_geometry_reply(x->conn, xcb_get_geometry(x->conn, x->window), &err);
	if (!geo)
		return x11_error(x, err, "GetGeometry");
	extent->width = geo->width;
	extent->height = geo->height;
	free(geo);
	return VK_SUCCESS;
}

static uint32_t x11_refresh_mhz(struct tether_display *d)
{
	struct tether_display_x11 *x = x11(d);
	uint32_t mhz = atomic_load(&x->lost) ? 0 : x11_randr_mhz(x);

	if (mhz)
		atomic_store(&x->refresh_mhz, mhz);
	return atomic_load(&x->refresh_mhz);
}

static bool x11_supports_bgra8(struct tether_display *d)
{
	return x11(d)->bgra8;
}

/* Maps a memfd and has the server map it too. Return: 0, or -1 to fall back. */
static int x11_attach_fd(struct tether_display_x11 *x, struct x11_buffer *b)
{
	int fd = memfd_create("tether-x11-frame", MFD_CLOEXEC);
	xcb_generic_error_t *err;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)b->size) ||
	    (b->base.pixels = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		b->base.pixels = NULL;
		close(fd);
		return -1;
	}
	b->seg = xcb_generate_id(x->conn);
	/* xcb owns (and closes) the descriptor from here on. */
	err = xcb_request_check(x->conn, xcb_shm_attach_fd_checked(x->conn, b->seg, fd, 1));
	if (err) {
		TETHER_LOGI("wsi", "ShmAttachFd failed (error %u)", err->error_code);
		free(err);
		munmap(b->base.pixels, b->size);
		b->base.pixels = NULL;
		b->seg = 0;
		return -1;
	}
	b->mem = X11_SHM_FD;
	return 0;
}

/* A SysV segment the server attaches read-only. Return: 0, or -1 to fall back. */
static int x11_attach_sysv(struct tether_display_x11 *x, struct x11_buffer *b)
{
	int id = shmget(IPC_PRIVATE, b->size, IPC_CREAT | 0600);
	xcb_generic_error_t *err;
	void *p;

	if (id < 0)
		return -1;
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		shmctl(id, IPC_RMID, NULL);
		return -1;
	}
	b->seg = xcb_generate_id(x->conn);
	err = xcb_request_check(x->conn, xcb_shm_attach_checked(x->conn, b->seg, (uint32_t)id, 1));
	/* Both sides are attached (or the server never will be): the segment
	 * may go as soon as both detach, and never outlives a crash. */
	shmctl(id, IPC_RMID, NULL);
	if (err) {
		/* A server in another IPC namespace (a container) cannot see it. */
		TETHER_LOGI("wsi", "ShmAttach failed (error %u)", err->error_code);
		free(err);
		shmdt(p);
		b->seg = 0;
		return -1;
	}
	b->base.pixels = p;
	b->mem = X11_SHM_SYSV;
	return 0;
}

static VkResult x11_buffer_create(struct tether_display *d, uint32_t width, uint32_t height,
				  struct tether_display_buffer **out)
{
	struct tether_display_x11 *x = x11(d);
	struct x11_buffer *b;
	int got = -1;

	if (atomic_load(&x->lost))
		return VK_ERROR_SURFACE_LOST_KHR;
	if (!x->bgra8)
		return TETHER_ERR("wsi", VK_ERROR_FORMAT_NOT_SUPPORTED,
				  "X11 window 0x%x cannot show B8G8R8A8 (depth %u)", x->window, x->depth);
	if (!width || !height || width > X11_MAX_DIMENSION || height > X11_MAX_DIMENSION)
		return TETHER_ERR("wsi", VK_ERROR_OUT_OF_HOST_MEMORY, "bad X11 buffer size %ux%u",
				  width, height);
	b = calloc(1, sizeof(*b));
	if (!b)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	b->base.width = width;
	b->base.height = height;
	b->base.stride = width * 4;
	b->size = (size_t)b->base.stride * height;

	tether_mutex_lock(&x->lock);
	if (x->shm == X11_SHM_FD)
		got = x11_attach_fd(x, b);
	if (got && x->shm != X11_SHM_NONE)
		got = x11_attach_sysv(x, b);
	if (got && x->shm != X11_SHM_NONE) {
		TETHER_LOGW("wsi", "MIT-SHM unusable on this X server: frames go by PutImage");
		x->shm = X11_SHM_NONE;
	}
	tether_mutex_unlock(&x->lock);
	if (got) {
		b->mem = X11_SHM_NONE;
		b->base.pixels = calloc(1, b->size);
		if (!b->base.pixels) {
			free(b);
			return TETHER_ERR("wsi", VK_ERROR_OUT_OF_HOST_MEMORY,
					  "no memory for a %ux%u buffer", width, height);
		}
	}
	*out = &b->base;
	return VK_SUCCESS;
}

static void x11_buffer_destroy(struct tether_display *d, struct tether_display_buffer *base)
{
	struct tether_display_x11 *x = x11(d);
	struct x11_buffer *b = (struct x11_buffer *)base;

	/* The server keeps its own mapping until it processes the detach. */
	if (b->seg) {
		xcb_discard_reply(x->conn, xcb_shm_detach_checked(x->conn, b->seg).sequence);
		xcb_flush(x->conn);
	}
	if (b->mem == X11_SHM_FD)
		munmap(b->base.pixels, b->size);
	else if (b->mem == X11_SHM_SYSV)
		shmdt(b->base.pixels);
	else
		free(b->base.pixels);
	free(b);
}

/* ShmPutImage, then the check's round trip: the server reads the segment
 * while it processes the request, so once it answers the pixels are taken. */
static VkResult x11_show_shm(struct tether_display_x11 *x, struct x11_buffer *b)
{
	const struct tether_display_buffer *p = &b->base;
	xcb_void_cookie_t c = xcb_shm_put_image_checked(x->conn, x->window, x->gc,
			p->width, p->height, 0, 0, p->width, p->height, 0, 0, x->depth,
			XCB_IMAGE_FORMAT_Z_PIXMAP, 0, b->seg, 0);
	return x11_error(x, xcb_request_check(x->conn, c), "ShmPutImage");
}

/* Checks a batch of strips with one round trip; the first error wins. */
static VkResult x11_check_strips(struct tether_display_x11 *x, xcb_void_cookie_t *c, unsigned n)
{
	VkResult r = VK_SUCCESS;

	x11_sync(x->conn);
	for (unsigned i = 0; i < n; i++) {
		xcb_generic_error_t *err = xcb_request_check(x->conn, c[i]);
		if (r == VK_SUCCESS)
			r = x11_error(x, err, "PutImage");
		else
			free(err);
	}
	return r;
}

/* PutImage in strips of whole rows, each below the maximum request length
 * (BIG-REQUESTS raises it where the server has it). The data is copied into
 * the request, but the round trip still tells of errors and keeps a slow
 * remote server from being buried under frames. */
static VkResult x11_show_put(struct tether_display_x11 *x, struct x11_buffer *b)
{
	const struct tether_display_buffer *p = &b->base;
	/* The request's fixed part, plus BIG-REQUESTS' extended length word. */
	uint32_t room = x->max_request_bytes - (uint32_t)sizeof(xcb_put_image_request_t) - 4;
	uint32_t rows = room / p->stride;
	xcb_void_cookie_t cookies[PUT_BATCH];
	unsigned n = 0;
	VkResult r = VK_SUCCESS;

	if (!rows)
		return TETHER_ERR("wsi", VK_ERROR_SURFACE_LOST_KHR,
				  "a %u-pixel row exceeds the X server's request size", p->width);
	for (uint32_t y = 0; y < p->height && r == VK_SUCCESS; y += rows) {
		uint32_t h = p->height - y < rows ? p->height - y : rows;
		cookies[n++] = xcb_put_image_checked(x->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, x->window, x->gc,
				p->width, h, 0, (int16_t)y, 0, x->depth, h * p->stride,
				p->pixels + (size_t)y * p->stride);
		if (n == PUT_BATCH) {
			r = x11_check_strips(x, cookies, n);
			n = 0;
		}
	}
	if (n)
		r = x11_check_strips(x, cookies, n);
	return r;
}

/* Asks Present for a CompleteNotify at the next MSC (divisor 1, remainder 0:
 * the first vblank after now). Lock held. */
static void x11_notify_next_msc(struct tether_display_x11 *x)
{
	if (x->notify_pending)
		xcb_discard_reply(x->conn, x->notify_cookie.sequence);
	x->serial++;
	x->notify_cookie = xcb_present_notify_msc_checked(x->conn, x->window, x->serial, 0, 1, 0);
	x->notify_pending = true;
	xcb_flush(x->conn);
}

static VkResult x11_show(struct tether_display *d, struct tether_display_buffer *base)
{
	struct tether_display_x11 *x = x11(d);
	struct x11_buffer *b = (struct x11_buffer *)base;
	VkResult r;

	if (atomic_load(&x->lost))
		return VK_ERROR_SURFACE_LOST_KHR;
	tether_mutex_lock(&x->lock);
	r = b->seg ? x11_show_shm(x, b) : x11_show_put(x, b);
	if (r == VK_SUCCESS) {
		x->frames++;
		x->shown_since_wait = true;
		x->last_show_ns = tether_time_ns();
		if (x->present_events)
			x11_notify_next_msc(x);
	}
	tether_mutex_unlock(&x->lock);
	return r;
}

/* Sleeps until the next tick of a clock at the refresh rate after the last show. Lock held. */
static void x11_wait_clock(struct tether_display_x11 *x)
{
	uint32_t mhz = atomic_load(&x->refresh_mhz);
	uint64_t period = 1000000000000ull / (mhz ? mhz : DEFAULT_REFRESH_MHZ);
	uint64_t now = tether_time_ns(), next;

	if (!x->clock_origin_ns)
		x->clock_origin_ns = x->last_show_ns;
	next = x->clock_origin_ns + ((x->last_show_ns - x->clock_origin_ns) / period + 1) * period;
	if (next > now)
		tether_sleep_ns(next - now);
}

/* Takes our queue's events until CompleteNotify for the pending serial has
 * come. Return: 1 when it has, 0 when none came before @deadline, <0 when
 * the connection failed. Lock held. */
static int x11_take_notify(struct tether_display_x11 *x, uint64_t deadline)
{
	struct pollfd pfd = { .fd = xcb_get_file_descriptor(x->conn), .events = POLLIN };

	for (;;) {
		xcb_generic_event_t *ev;
		bool done = false;
		while ((ev = xcb_poll_for_special_event(x->conn, x->present_events))) {
			const xcb_present_complete_notify_event_t *cn = (const void *)ev;
			if (cn->event_type == XCB_PRESENT_COMPLETE_NOTIFY &&
			    cn->kind == XCB_PRESENT_COMPLETE_KIND_NOTIFY_MSC && cn->serial == x->serial)
				done = true;
			free(ev);
		}
		if (done)
			return 1;
		if (xcb_connection_has_error(x->conn))
			return -1;
		uint64_t now = tether_time_ns();
		if (now >= deadline)
			return 0;
		/* Short slices: another thread of the application may read the
		 * socket and leave our event in the queue without waking us. */
		uint64_t slice = deadline - now < 2000000 ? deadline - now : 2000000;
		if (poll(&pfd, 1, (int)((slice + 999999) / 1000000)) > 0)
			tether_sleep_ns(100000); /* let a reading thread take it */
	}
}

static VkResult x11_wait_present(struct tether_display_x11 *x)
{
	uint32_t mhz = atomic_load(&x->refresh_mhz);
	uint64_t timeout = 4 * (1000000000000ull / (mhz ? mhz : DEFAULT_REFRESH_MHZ));
	xcb_generic_error_t *err;
	int got;

	if (timeout < PRESENT_TIMEOUT_MIN_NS)
		timeout = PRESENT_TIMEOUT_MIN_NS;
	if (timeout > PRESENT_TIMEOUT_MAX_NS)
		timeout = PRESENT_TIMEOUT_MAX_NS;
	if (!x->notify_pending)
		x11_notify_next_msc(x);
	got = x11_take_notify(x, tether_time_ns() + timeout);
	if (got > 0) {
		xcb_discard_reply(x->conn, x->notify_cookie.sequence);
		x->notify_pending = false;
		return VK_SUCCESS;
	}
	/* No vblank came: the window is unmapped or off every CRTC, or gone. */
	err = got < 0 ? NULL : xcb_request_check(x->conn, x->notify_cookie);
	x->notify_pending = false;
	return x11_error(x, err, "PresentNotifyMSC");
}

static VkResult x11_wait_refresh(struct tether_display *d)
{
	struct tether_display_x11 *x = x11(d);
	VkResult r = VK_SUCCESS;

	if (atomic_load(&x->lost))
		return VK_ERROR_SURFACE_LOST_KHR;
	tether_mutex_lock(&x->lock);
	/* The refresh after the last show has passed when we waited for it already. */
	if (x->shown_since_wait) {
		if (x->present_events)
			r = x11_wait_present(x);
		else
			x11_wait_clock(x);
		x->shown_since_wait = false;
	}
	tether_mutex_unlock(&x->lock);
	return r;
}

static void x11_stats(struct tether_display *d, struct tether_display_stats *out)
{
	struct tether_display_x11 *x = x11(d);

	memset(out, 0, sizeof(*out));
	tether_mutex_lock(&x->lock);
	out->frames_shown = x->frames;
	out->shm = x->shm != X11_SHM_NONE;
	out->present = x->present_events != NULL;
	tether_mutex_unlock(&x->lock);
}

static const struct tether_display_ops x11_ops = {
	.destroy = x11_destroy,
	.extent = x11_extent,
	.refresh_mhz = x11_refresh_mhz,
	.supports_bgra8 = x11_supports_bgra8,
	.buffer_create = x11_buffer_create,
	.buffer_destroy = x11_buffer_destroy,
	.show = x11_show,
	.wait_refresh = x11_wait_refresh,
	.stats = x11_stats,
};

/* Learns the window's depth, visual and root, and makes its GC. Return: false
 * when the window (or the connection) is unusable. */
static bool x11_window_init(struct tether_display_x11 *x)
{
	xcb_generic_error_t *err = NULL;
	xcb_get_geometry_cookie_t gc = xcb_get_geometry(x->conn, x->window);
	xcb_get_window_attributes_cookie_t ac = xcb_get_window_attributes(x->conn, x->window);
	xcb_get_geometry_reply_t *geo = xcb_get_geometry_reply(x->conn, gc, &err);
	xcb_get_window_attributes_reply_t *attr;
	uint32_t no_exposures = 0;

	if (!geo) {
		xcb_discard_reply(x->conn, ac.sequence);
		x11_error(x, err, "GetGeometry");
		return false;
	}
	x->depth = geo->depth;
	x->root = geo->root;
	free(geo);
	attr = xcb_get_window_attributes_reply(x->conn, ac, &err);
	if (!attr) {
		x11_error(x, err, "GetWindowAttributes");
		return false;
	}
	x->bgra8 = x11_visual_bgra8(xcb_get_setup(x->conn), x->depth, attr->visual);
	free(attr);
	/* No GraphicsExpose/NoExpose events: they would land in the application's queue. */
	x->gc = xcb_generate_id(x->conn);
	err = xcb_request_check(x->conn, xcb_create_gc_checked(x->conn, x->gc, x->window,
			XCB_GC_GRAPHICS_EXPOSURES, &no_exposures));
	if (err) {
		x->gc = 0;
		x11_error(x, err, "CreateGC");
		return false;
	}
	return true;
}

struct tether_display *tether_display_xcb(xcb_connection_t *conn, xcb_window_t window)
{
	struct tether_display_x11 *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	if (tether_mutex_init(&x->lock)) {
		free(x);
		return NULL;
	}
	x->base.ops = &x11_ops;
	x->conn = conn;
	x->window = window;
	atomic_init(&x->lost, false);
	atomic_init(&x->refresh_mhz, DEFAULT_REFRESH_MHZ);
	if (!x11_window_init(x)) {
		atomic_store(&x->lost, true); /* every call returns VK_ERROR_SURFACE_LOST_KHR */
		return &x->base;
	}
	/* In 4-byte units; with BIG-REQUESTS (enabled here if the application has not) up to 16 MiB. */
	x->max_request_bytes = xcb_get_maximum_request_length(conn) * 4;
	if (x->bgra8)
		x->shm = x11_shm_probe(conn);
	x11_present_init(x);
	uint32_t mhz = x11_randr_mhz(x);
	if (mhz)
		atomic_store(&x->refresh_mhz, mhz);
	TETHER_LOGI("wsi", "X11 window 0x%x: depth %u%s, %s, %s, %u mHz", window, x->depth,
		    x->bgra8 ? "" : " (cannot show B8G8R8A8)",
		    x->shm == X11_SHM_FD ? "MIT-SHM (memfd)" : x->shm == X11_SHM_SYSV ? "MIT-SHM (SysV)" : "PutImage",
		    x->present_events ? "Present pacing" : "clock pacing", atomic_load(&x->refresh_mhz));
	return &x->base;
}

struct tether_display *tether_display_xlib(Display *dpy, Window window)
{
	return tether_display_xcb(XGetXCBConnection(dpy), (xcb_window_t)window);
}
