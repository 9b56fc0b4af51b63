/*
 * Tests of the X11 window backend (icd/wsi_x11.c) against a real X server
 * (Xvfb, started by with_display_server.py): frames read back with GetImage
 * must match every pixel on each path (MIT-SHM memfd and SysV, PutImage in
 * strips), the window's size and its death must be reported, the
 * application's events must stay its own, and wait_refresh must pace.
 * Run one test per CTest entry: test_display_x11 <test name>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <X11/Xlib.h>
#include <X11/Xlib-xcb.h>
#include <xcb/xcb.h>

#include "icd/wsi_display.h"
#include "tests/cmocka_named.h"
#include "transport/platform/platform.h"

struct xwin {
	xcb_connection_t *conn;
	xcb_screen_t *screen;
	xcb_window_t win;
};

static void x_sync(xcb_connection_t *c)
{
	free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL));
}

/* A depth-32 TrueColor visual (Composite's ARGB one), or 0. */
static xcb_visualid_t argb_visual(xcb_screen_t *s)
{
	for (xcb_depth_iterator_t d = xcb_screen_allowed_depths_iterator(s); d.rem; xcb_depth_next(&d)) {
		if (d.data->depth != 32)
			continue;
		for (xcb_visualtype_iterator_t v = xcb_depth_visuals_iterator(d.data); v.rem; xcb_visualtype_next(&v))
			if (v.data->_class == XCB_VISUAL_CLASS_TRUE_COLOR && v.data->red_mask == 0xff0000)
				return v.data->visual_id;
	}
	return 0;
}

/* A mapped window of the root's depth, or of depth 32 with @argb; the
 * application selects StructureNotify on it, as toolkits do. */
static void xwin_open_depth(struct xwin *w, uint16_t width, uint16_t height, bool argb)
{
	uint32_t mask = XCB_CW_BACK_PIXEL | XCB_CW_BORDER_PIXEL | XCB_CW_EVENT_MASK;
	uint32_t values[4] = { 0, 0, XCB_EVENT_MASK_STRUCTURE_NOTIFY };
	xcb_visualid_t visual;
	uint8_t depth;

	w->conn = xcb_connect(NULL, NULL);
	assert_int_equal(xcb_connection_has_error(w->conn), 0);
	w->screen = xcb_setup_roots_iterator(xcb_get_setup(w->conn)).data;
	depth = w->screen->root_depth;
	visual = w->screen->root_visual;
	if (argb) {
		visual = argb_visual(w->screen);
		assert_true(visual != 0);
		depth = 32;
		values[3] = xcb_generate_id(w->conn);
		xcb_create_colormap(w->conn, XCB_COLORMAP_ALLOC_NONE, values[3], w->screen->root, visual);
		mask |= XCB_CW_COLORMAP;
	}
	w->win = xcb_generate_id(w->conn);
	xcb_create_window(w->conn, depth, w->win, w->screen->root, 0, 0, width, height, 0,
			  XCB_WINDOW_CLASS_INPUT_OUTPUT, visual, mask, values);
	xcb_map_window(w->conn, w->win);
	x_sync(w->conn);
}

static void xwin_open(struct xwin *w, uint16_t width, uint16_t height)
{
	xwin_open_depth(w, width, height, false);
}

static void xwin_close(struct xwin *w)
{
	xcb_disconnect(w->conn);
}

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t seed)
{
	uint32_t b = (x * 7 + y * 13 + seed * 101) & 0xff;
	uint32_t g = ((x ^ y) + seed * 37) & 0xff;
	uint32_t r = (x * y + seed * 3 + (x >> 8) * 11) & 0xff;
	return 0xff000000u | r << 16 | g << 8 | b;
}

static void fill(struct tether_display_buffer *b, uint32_t seed)
{
	for (uint32_t y = 0; y < b->height; y++) {
		uint32_t *row = (uint32_t *)(void *)(b->pixels + (size_t)y * b->stride);
		for (uint32_t x = 0; x < b->width; x++)
			row[x] = pattern(x, y, seed);
	}
}

/* Reads the window back with GetImage and compares every pixel with the
 * pattern (colour bits only on a depth-24 window). */
static void check_pixels(struct xwin *w, uint32_t width, uint32_t height, uint32_t seed, uint32_t mask)
{
	xcb_get_image_reply_t *img = xcb_get_image_reply(w->conn, xcb_get_image(w->conn,
		XCB_IMAGE_FORMAT_Z_PIXMAP, w->win, 0, 0, (uint16_t)width, (uint16_t)height, ~0u), NULL);
	uint64_t wrong = 0;
	uint32_t fx = 0, fy = 0, fgot = 0;

	assert_non_null(img);
	assert_true(xcb_get_image_data_length(img) >= (int)(width * height * 4));
	const uint32_t *px = (const uint32_t *)(const void *)xcb_get_image_data(img);
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++) {
			uint32_t got = px[(size_t)y * width + x] & mask;
			if (got != (pattern(x, y, seed) & mask) && !wrong++) {
				fx = x;
				fy = y;
				fgot = got;
			}
		}
	free(img);
	if (wrong)
		fail_msg("%llu pixels differ; first at (%u,%u): 0x%08x, want 0x%08x",
			 (unsigned long long)wrong, fx, fy, fgot, pattern(fx, fy, seed) & mask);
}

/* Shows three frames through two buffers and reads each one back. */
static void show_and_check(struct xwin *w, struct tether_display *d, uint32_t width, uint32_t height,
			   uint32_t mask)
{
	struct tether_display_buffer *b[2];

	for (int i = 0; i < 2; i++) {
		assert_int_equal(tether_display_buffer_create(d, width, height, &b[i]), VK_SUCCESS);
		assert_int_equal(b[i]->stride, width * 4);
	}
	for (uint32_t seed = 1; seed <= 3; seed++) {
		struct tether_display_buffer *cur = b[seed % 2];
		fill(cur, seed);
		assert_int_equal(tether_display_show(d, cur), VK_SUCCESS);
		/* show() returned: the pixels are the server's, so writing the
		 * buffer now must not change what the window shows. */
		memset(cur->pixels, 0x55, (size_t)cur->stride * height);
		check_pixels(w, width, height, seed, mask);
	}
	for (int i = 0; i < 2; i++)
		tether_display_buffer_destroy(d, b[i]);
}

static void expect_path(struct tether_display *d, bool shm)
{
	struct tether_display_stats st;

	tether_display_get_stats(d, &st);
	assert_int_equal(st.shm, shm);
}

static void pixels_exact_with(const char *shm_env, bool expect_shm, uint16_t width, uint16_t height)
{
	struct xwin w;
	struct tether_display *d;

	if (shm_env)
		setenv("TETHER_X11_SHM", shm_env, 1);
	else
		unsetenv("TETHER_X11_SHM");
	xwin_open(&w, width, height);
	d = tether_display_xcb(w.conn, w.win);
	assert_non_null(d);
	assert_true(tether_display_supports_bgra8(d));
	show_and_check(&w, d, width, height, 0xffffff);
	expect_path(d, expect_shm); /* after the buffers: attaching them did not fail */
	tether_display_destroy(d);
	xwin_close(&w);
}

static void display_x11_shm_memfd_pixels_exact(void **state)
{
	pixels_exact_with(NULL, true, 301, 157);
}

static void display_x11_shm_sysv_pixels_exact(void **state)
{
	pixels_exact_with("sysv", true, 301, 157);
}

static void display_x11_put_image_pixels_exact(void **state)
{
	pixels_exact_with("off", false, 301, 157);
}

/* Xvfb run with MIT-SHM turned off: the probe finds no SHM, PutImage it is. */
static void display_x11_no_mit_shm_falls_back_to_put_image(void **state)
{
	pixels_exact_with(NULL, false, 301, 157);
}

/* A frame larger than the largest request (16 MiB with BIG-REQUESTS) goes
 * in strips; needs an Xvfb screen of at least 4200x1100. */
static void display_x11_put_image_strips_pixels_exact(void **state)
{
	xcb_connection_t *c = xcb_connect(NULL, NULL);
	uint64_t max = (uint64_t)xcb_get_maximum_request_length(c) * 4;

	assert_true(4200ull * 1100 * 4 > max);
	xcb_disconnect(c);
	pixels_exact_with("off", false, 4200, 1100);
}

static void display_x11_depth32_visual_pixels_exact(void **state)
{
	struct xwin w;
	struct tether_display *d;

	unsetenv("TETHER_X11_SHM");
	xwin_open_depth(&w, 200, 120, true);
	d = tether_display_xcb(w.conn, w.win);
	assert_true(tether_display_supports_bgra8(d));
	show_and_check(&w, d, 200, 120, 0xffffffff);
	tether_display_destroy(d);
	xwin_close(&w);
}

static void display_x11_xlib_pixels_exact(void **state)
{
	Display *dpy = XOpenDisplay(NULL);
	struct xwin w;
	struct tether_display *d;

	assert_non_null(dpy);
	unsetenv("TETHER_X11_SHM");
	Window win = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 160, 90, 0, 0, 0);
	XSelectInput(dpy, win, StructureNotifyMask);
	XMapWindow(dpy, win);
	XSync(dpy, False);
	d = tether_display_xlib(dpy, win);
	assert_non_null(d);
	w.conn = XGetXCBConnection(dpy);
	w.win = (xcb_window_t)win;
	show_and_check(&w, d, 160, 90, 0xffffff);
	tether_display_destroy(d);
	/* Xlib still has its own MapNotify: nothing of ours took it. */
	XEvent ev;
	assert_true(XCheckTypedWindowEvent(dpy, win, MapNotify, &ev));
	XCloseDisplay(dpy);
}

/* Takes the application's queued events; fails on an X error among them
 * (ours must never land there). Return: the last ConfigureNotify's size. */
static VkExtent2D drain_app_events(xcb_connection_t *c, int *configures)
{
	VkExtent2D last = { 0, 0 };
	xcb_generic_event_t *ev;

	*configures = 0;
	while ((ev = xcb_poll_for_event(c))) {
		uint8_t type = ev->response_type & 0x7f;
		if (type == 0)
			fail_msg("X error %u reached the application's queue",
				 ((xcb_generic_error_t *)ev)->error_code);
		if (type == XCB_CONFIGURE_NOTIFY) {
			const xcb_configure_notify_event_t *cn = (const void *)ev;
			last.width = cn->width;
			last.height = cn->height;
			++*configures;
		}
		free(ev);
	}
	return last;
}

static void display_x11_extent_follows_resize(void **state)
{
	static const uint32_t sizes[][2] = { { 400, 300 }, { 37, 1000 }, { 1280, 1 }, { 640, 480 } };
	struct xwin w;
	struct tether_display *d;
	VkExtent2D e;
	bool defined;
	int configures;

	xwin_open(&w, 320, 200);
	d = tether_display_xcb(w.conn, w.win);
	assert_int_equal(tether_display_extent(d, &e, &defined), VK_SUCCESS);
	assert_true(defined);
	assert_int_equal(e.width, 320);
	assert_int_equal(e.height, 200);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		xcb_configure_window(w.conn, w.win, XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT, sizes[i]);
		assert_int_equal(tether_display_extent(d, &e, &defined), VK_SUCCESS);
		assert_int_equal(e.width, sizes[i][0]);
		assert_int_equal(e.height, sizes[i][1]);
		/* Our round trip read the ConfigureNotify off the socket: it must
		 * still be the application's. */
		VkExtent2D seen = drain_app_events(w.conn, &configures);
		assert_int_equal(configures, 1);
		assert_int_equal(seen.width, sizes[i][0]);
		assert_int_equal(seen.height, sizes[i][1]);
	}
	tether_display_destroy(d);
	xwin_close(&w);
}

static void window_destroyed_with(const char *shm_env)
{
	struct tether_display_buffer *b;
	struct tether_display *d;
	struct xwin w;
	VkExtent2D e;
	bool defined;
	int configures;
	VkResult r;

	setenv("TETHER_X11_SHM", shm_env, 1);
	xwin_open(&w, 64, 48);
	d = tether_display_xcb(w.conn, w.win);
	assert_int_equal(tether_display_buffer_create(d, 64, 48, &b), VK_SUCCESS);
	fill(b, 9);
	assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
	assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
	xcb_destroy_window(w.conn, w.win);
	x_sync(w.conn);
	r = tether_display_show(d, b);
	assert_true(r == VK_ERROR_SURFACE_LOST_KHR || r == VK_ERROR_OUT_OF_DATE_KHR);
	assert_int_equal(tether_display_extent(d, &e, &defined), VK_ERROR_SURFACE_LOST_KHR);
	r = tether_display_wait_refresh(d);
	assert_true(r == VK_SUCCESS || r == VK_ERROR_SURFACE_LOST_KHR);
	r = tether_display_show(d, b);
	assert_true(r == VK_ERROR_SURFACE_LOST_KHR || r == VK_ERROR_OUT_OF_DATE_KHR);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	x_sync(w.conn);
	/* The application's connection lives on, with no error of ours queued. */
	assert_int_equal(xcb_connection_has_error(w.conn), 0);
	drain_app_events(w.conn, &configures);
	xwin_close(&w);
}

static void display_x11_window_destroyed_errors_not_crash(void **state)
{
	window_destroyed_with("auto");
	window_destroyed_with("sysv");
	window_destroyed_with("off");
}

/* A display made for a window already gone reports the loss on every call. */
static void display_x11_gone_before_create_reports_lost(void **state)
{
	struct tether_display_buffer *b = NULL;
	struct tether_display *d;
	struct xwin w;
	VkExtent2D e;
	bool defined;
	int configures;

	xwin_open(&w, 64, 48);
	xcb_destroy_window(w.conn, w.win);
	x_sync(w.conn);
	d = tether_display_xcb(w.conn, w.win);
	assert_non_null(d);
	assert_int_equal(tether_display_extent(d, &e, &defined), VK_ERROR_SURFACE_LOST_KHR);
	assert_int_equal(tether_display_buffer_create(d, 64, 48, &b), VK_ERROR_SURFACE_LOST_KHR);
	assert_null(b);
	tether_display_destroy(d);
	x_sync(w.conn);
	drain_app_events(w.conn, &configures);
	xwin_close(&w);
}

static void paces_with(bool present)
{
	struct tether_display_buffer *b;
	struct tether_display_stats st;
	struct tether_display *d;
	struct xwin w;
	uint32_t mhz;
	uint64_t t0, elapsed, period;
	const int frames = 30;

	xwin_open(&w, 128, 128);
	d = tether_display_xcb(w.conn, w.win);
	mhz = tether_display_refresh_mhz(d);
	assert_true(mhz >= 1000 && mhz <= 1000000);
	period = 1000000000000ull / mhz;
	tether_display_get_stats(d, &st);
	assert_int_equal(st.present, present);
	assert_int_equal(tether_display_buffer_create(d, 128, 128, &b), VK_SUCCESS);
	t0 = tether_time_ns();
	for (int i = 0; i < frames; i++) {
		fill(b, (uint32_t)i);
		assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
		assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
	}
	elapsed = tether_time_ns() - t0;
	printf("%d frames in %.1f ms at %u mHz\n", frames, elapsed / 1e6, mhz);
	/* Sanity bounds only: paced at all, and not stuck on timeouts. */
	assert_true(elapsed >= frames * period / 2);
	assert_true(elapsed <= frames * 4 * period + 2000000000ull);
	/* The refresh after the last show has been waited for: no wait now. */
	t0 = tether_time_ns();
	assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
	assert_true(tether_time_ns() - t0 < period / 2);
	tether_display_get_stats(d, &st);
	assert_int_equal(st.frames_shown, frames);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	xwin_close(&w);
}

/* Xvfb has Present: its (fake) CRTC's MSC paces. */
static void display_x11_wait_refresh_paces(void **state)
{
	unsetenv("TETHER_X11_PRESENT");
	paces_with(true);
}

/* Without Present, a clock at the refresh rate (RandR's, or the default
 * 60 Hz where Xvfb runs without RandR) paces. */
static void display_x11_wait_refresh_clock_paces(void **state)
{
	setenv("TETHER_X11_PRESENT", "off", 1);
	paces_with(false);
}

/* Xvfb run with a 16-bit screen: no visual of the window holds B8G8R8A8. */
static void display_x11_16bit_visual_not_bgra8(void **state)
{
	struct tether_display_buffer *b = NULL;
	struct tether_display *d;
	struct xwin w;
	VkExtent2D e;
	bool defined;

	xwin_open(&w, 100, 50);
	assert_int_equal(w.screen->root_depth, 16);
	d = tether_display_xcb(w.conn, w.win);
	assert_false(tether_display_supports_bgra8(d));
	assert_int_equal(tether_display_buffer_create(d, 100, 50, &b), VK_ERROR_FORMAT_NOT_SUPPORTED);
	assert_int_equal(tether_display_extent(d, &e, &defined), VK_SUCCESS);
	assert_int_equal(e.width, 100);
	tether_display_destroy(d);
	xwin_close(&w);
}

struct extent_poller {
	struct tether_display *d;
	volatile int stop;
	int calls, failures;
};

static void *poll_extent(void *arg)
{
	struct extent_poller *p = arg;

	while (!p->stop) {
		VkExtent2D e;
		bool defined;
		if (tether_display_extent(p->d, &e, &defined) != VK_SUCCESS || e.width != 256)
			p->failures++;
		p->calls++;
	}
	return NULL;
}

static void display_x11_extent_concurrent_with_show(void **state)
{
	struct extent_poller p = { 0 };
	struct tether_display_buffer *b;
	struct tether_thread *t;
	struct xwin w;

	xwin_open(&w, 256, 256);
	p.d = tether_display_xcb(w.conn, w.win);
	assert_int_equal(tether_display_buffer_create(p.d, 256, 256, &b), VK_SUCCESS);
	assert_int_equal(tether_thread_create(&t, poll_extent, &p), 0);
	for (uint32_t i = 0; i < 100; i++) {
		fill(b, i);
		assert_int_equal(tether_display_show(p.d, b), VK_SUCCESS);
	}
	check_pixels(&w, 256, 256, 99, 0xffffff);
	p.stop = 1;
	assert_int_equal(tether_thread_join(t), 0);
	assert_true(p.calls > 0);
	assert_int_equal(p.failures, 0);
	tether_display_buffer_destroy(p.d, b);
	tether_display_destroy(p.d);
	xwin_close(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(display_x11_shm_memfd_pixels_exact),
	cmocka_unit_test(display_x11_shm_sysv_pixels_exact),
	cmocka_unit_test(display_x11_put_image_pixels_exact),
	cmocka_unit_test(display_x11_no_mit_shm_falls_back_to_put_image),
	cmocka_unit_test(display_x11_put_image_strips_pixels_exact),
	cmocka_unit_test(display_x11_depth32_visual_pixels_exact),
	cmocka_unit_test(display_x11_xlib_pixels_exact),
	cmocka_unit_test(display_x11_extent_follows_resize),
	cmocka_unit_test(display_x11_window_destroyed_errors_not_crash),
	cmocka_unit_test(display_x11_gone_before_create_reports_lost),
	cmocka_unit_test(display_x11_wait_refresh_paces),
	cmocka_unit_test(display_x11_wait_refresh_clock_paces),
	cmocka_unit_test(display_x11_16bit_visual_not_bgra8),
	cmocka_unit_test(display_x11_extent_concurrent_with_show),
};

TETHER_CMOCKA_MAIN(tests)
