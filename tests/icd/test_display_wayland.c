/*
 * Tests of the Wayland window backend (icd/wsi_wayland.c) against a real
 * compositor (headless weston with the desktop shell, started by
 * with_display_server.py): the application maps an xdg_toplevel, the backend
 * shows frames into it; frame callbacks must pace, a buffer the compositor
 * holds must never be written, the application's events must stay its own,
 * and a compositor that goes away must be reported, not crash.
 * Run one test per CTest entry: test_display_wayland <test name>.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"
#include "icd/wsi_display.h"
#include "tests/cmocka_named.h"
#include "transport/platform/platform.h"

/* What a Vulkan application does before vkCreateWaylandSurfaceKHR: its own
 * objects on the default queue, with its own listeners. */
struct app {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct xdg_wm_base *wm;
	struct wl_surface *surface;
	struct xdg_surface *xsurface;
	struct xdg_toplevel *toplevel;
	bool configured;
	int enters;
	uint32_t width, height;
};

static void wm_ping(void *data, struct xdg_wm_base *wm, uint32_t serial)
{
	xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener wm_listener = { .ping = wm_ping };

static void xsurface_configure(void *data, struct xdg_surface *xs, uint32_t serial)
{
	xdg_surface_ack_configure(xs, serial);
	((struct app *)data)->configured = true;
}

static const struct xdg_surface_listener xsurface_listener = { .configure = xsurface_configure };

static void toplevel_configure(void *data, struct xdg_toplevel *t, int32_t w, int32_t h, struct wl_array *states)
{
	struct app *a = data;

	if (w > 0 && h > 0) {
		a->width = (uint32_t)w;
		a->height = (uint32_t)h;
	}
}

static void toplevel_close(void *data, struct xdg_toplevel *t)
{
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void surface_enter(void *data, struct wl_surface *s, struct wl_output *o)
{
	((struct app *)data)->enters++;
}

static void surface_leave(void *data, struct wl_surface *s, struct wl_output *o)
{
}

static const struct wl_surface_listener surface_listener = { .enter = surface_enter, .leave = surface_leave };

static void registry_global(void *data, struct wl_registry *reg, uint32_t name, const char *iface,
			    uint32_t version)
{
	struct app *a = data;

	if (!strcmp(iface, wl_compositor_interface.name))
		a->compositor = wl_registry_bind(reg, name, &wl_compositor_interface, version < 4 ? version : 4);
	else if (!strcmp(iface, xdg_wm_base_interface.name))
		a->wm = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
}

static void registry_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_remove,
};

/* Connects and maps a toplevel of the size the shell asks for, else 640x480. */
static void app_open(struct app *a)
{
	memset(a, 0, sizeof(*a));
	a->display = wl_display_connect(NULL);
	if (!a->display)
		fail_msg("cannot connect to the compositor (WAYLAND_DISPLAY=%s)", getenv("WAYLAND_DISPLAY"));
	struct wl_registry *reg = wl_display_get_registry(a->display);
	wl_registry_add_listener(reg, &registry_listener, a);
	assert_true(wl_display_roundtrip(a->display) >= 0);
	wl_registry_destroy(reg);
	assert_non_null(a->compositor);
	assert_non_null(a->wm);
	xdg_wm_base_add_listener(a->wm, &wm_listener, a);
	a->surface = wl_compositor_create_surface(a->compositor);
	wl_surface_add_listener(a->surface, &surface_listener, a);
	a->xsurface = xdg_wm_base_get_xdg_surface(a->wm, a->surface);
	xdg_surface_add_listener(a->xsurface, &xsurface_listener, a);
	a->toplevel = xdg_surface_get_toplevel(a->xsurface);
	xdg_toplevel_add_listener(a->toplevel, &toplevel_listener, a);
	xdg_toplevel_set_title(a->toplevel, "tether display test");
	wl_surface_commit(a->surface);
	while (!a->configured)
		assert_true(wl_display_dispatch(a->display) >= 0);
	if (!a->width) {
		a->width = 640;
		a->height = 480;
	}
}

static void app_close(struct app *a)
{
	xdg_toplevel_destroy(a->toplevel);
	xdg_surface_destroy(a->xsurface);
	wl_surface_destroy(a->surface);
	xdg_wm_base_destroy(a->wm);
	wl_compositor_destroy(a->compositor);
	wl_display_disconnect(a->display);
}

static void fill(struct tether_display_buffer *b, uint32_t seed)
{
	for (uint32_t y = 0; y < b->height; y++) {
		uint32_t *row = (uint32_t *)(void *)(b->pixels + (size_t)y * b->stride);
		for (uint32_t x = 0; x < b->width; x++)
			row[x] = 0xff000000u | ((x + seed) & 0xff) << 16 | ((y * 3 + seed) & 0xff) << 8 | (seed & 0xff);
	}
}

static struct tether_display *display_for(struct app *a)
{
	struct tether_display *d = tether_display_wayland(a->display, a->surface);

	assert_non_null(d);
	assert_true(tether_display_supports_bgra8(d));
	return d;
}

static void display_wayland_extent_undefined(void **state)
{
	struct app a;
	struct tether_display *d;
	VkExtent2D e;
	bool defined = true;

	app_open(&a);
	d = display_for(&a);
	assert_int_equal(tether_display_extent(d, &e, &defined), VK_SUCCESS);
	assert_false(defined);
	tether_display_destroy(d);
	app_close(&a);
}

static void display_wayland_frame_callbacks_pace(void **state)
{
	struct tether_display_buffer *b;
	struct tether_display_stats st;
	struct tether_display *d;
	struct app a;
	uint32_t mhz;
	uint64_t t0, elapsed, period;
	const int frames = 30;

	app_open(&a);
	d = display_for(&a);
	mhz = tether_display_refresh_mhz(d);
	assert_true(mhz >= 1000 && mhz <= 1000000);
	period = 1000000000000ull / mhz;
	assert_int_equal(tether_display_buffer_create(d, a.width, a.height, &b), VK_SUCCESS);
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
	t0 = tether_time_ns();
	assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS); /* nothing shown since */
	assert_true(tether_time_ns() - t0 < period / 2);
	tether_display_get_stats(d, &st);
	assert_int_equal(st.frames_shown, frames);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	app_close(&a);
}

/* Frames shown back to back: the compositor still holds the last wl_buffer
 * when the next show comes, so each show must take another one of the ring,
 * and the ring must stay bounded. */
static void display_wayland_held_buffers_not_reused(void **state)
{
	struct tether_display_buffer *b;
	struct tether_display_stats st;
	struct tether_display *d;
	struct app a;

	app_open(&a);
	d = display_for(&a);
	assert_int_equal(tether_display_buffer_create(d, a.width, a.height, &b), VK_SUCCESS);
	fill(b, 0);
	assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
	tether_display_get_stats(d, &st);
	assert_int_equal(st.window_buffers, 1);
	assert_int_equal(st.held_buffers, 1);
	fill(b, 1);
	assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
	tether_display_get_stats(d, &st);
	assert_int_equal(st.window_buffers, 2); /* the held one was not written */
	for (uint32_t i = 2; i < 60; i++) {
		fill(b, i);
		assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
		tether_display_get_stats(d, &st);
		assert_true(st.window_buffers >= 2 && st.window_buffers <= 4);
		assert_true(st.held_buffers <= st.window_buffers);
	}
	/* Once the compositor has drawn the last frame, it releases the rest. */
	assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
	fill(b, 99);
	assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
	assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
	tether_display_get_stats(d, &st);
	printf("ring %u, held %u, waits for a release %llu\n", st.window_buffers, st.held_buffers,
	       (unsigned long long)st.release_waits);
	assert_true(st.held_buffers <= 2);
	assert_int_equal(st.frames_shown + st.frames_dropped, 61);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	app_close(&a);
}

/* A swapchain recreated at another size: old-size buffers go once released. */
static void display_wayland_resize_replaces_buffers(void **state)
{
	static const uint32_t sizes[][2] = { { 640, 480 }, { 320, 200 }, { 1, 1 }, { 800, 600 } };
	struct tether_display_stats st;
	struct tether_display *d;
	struct app a;

	app_open(&a);
	d = display_for(&a);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct tether_display_buffer *b;
		assert_int_equal(tether_display_buffer_create(d, sizes[i][0], sizes[i][1], &b), VK_SUCCESS);
		for (uint32_t f = 0; f < 5; f++) {
			fill(b, f);
			assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
			assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
			tether_display_get_stats(d, &st);
			assert_true(st.window_buffers <= 4);
		}
		tether_display_buffer_destroy(d, b);
	}
	tether_display_destroy(d);
	app_close(&a);
}

/* Our events never reach the application's queue, and its own still do:
 * wl_surface.enter, sent when our first frame maps the surface, is its. */
static void display_wayland_app_events_untouched(void **state)
{
	struct tether_display_buffer *b;
	struct tether_display *d;
	struct app a;

	app_open(&a);
	d = display_for(&a);
	assert_int_equal(tether_display_buffer_create(d, a.width, a.height, &b), VK_SUCCESS);
	for (uint32_t i = 0; i < 5; i++) {
		fill(b, i);
		assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
		assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
	}
	assert_int_equal(a.enters, 0); /* nobody dispatched the application's queue */
	assert_true(wl_display_roundtrip(a.display) >= 0);
	assert_int_equal(a.enters, 1);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	/* The application goes on using its connection after us. */
	assert_true(wl_display_roundtrip(a.display) >= 0);
	app_close(&a);
}

static void display_wayland_compositor_gone_reports_lost(void **state)
{
	const char *pid = getenv("TETHER_TEST_SERVER_PID");
	struct tether_display_buffer *b;
	struct tether_display *d;
	struct app a;
	VkResult r = VK_SUCCESS;
	VkExtent2D e;
	bool defined;

	assert_non_null(pid);
	app_open(&a);
	d = display_for(&a);
	assert_int_equal(tether_display_buffer_create(d, a.width, a.height, &b), VK_SUCCESS);
	fill(b, 1);
	assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
	assert_int_equal(kill((pid_t)atoi(pid), SIGKILL), 0);
	for (int i = 0; i < 50 && r == VK_SUCCESS; i++) {
		r = tether_display_show(d, b);
		if (r == VK_SUCCESS)
			r = tether_display_wait_refresh(d);
	}
	assert_int_equal(r, VK_ERROR_SURFACE_LOST_KHR);
	assert_int_equal(tether_display_show(d, b), VK_ERROR_SURFACE_LOST_KHR);
	assert_int_equal(tether_display_extent(d, &e, &defined), VK_ERROR_SURFACE_LOST_KHR);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	app_close(&a); /* the application cleans up on a dead connection too */
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(display_wayland_extent_undefined),
	cmocka_unit_test(display_wayland_frame_callbacks_pace),
	cmocka_unit_test(display_wayland_held_buffers_not_reused),
	cmocka_unit_test(display_wayland_resize_replaces_buffers),
	cmocka_unit_test(display_wayland_app_events_untouched),
	cmocka_unit_test(display_wayland_compositor_gone_reports_lost),
};

TETHER_CMOCKA_MAIN(tests)
