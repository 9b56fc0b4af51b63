/* wsi_window: the test window of wsi_present and its read back; see wsi_window.h.
 * Plain xcb (plus RandR for the refresh rate), so that what is checked is the X
 * server's copy of the window, whichever driver presented into it. */
#include "wsi_window.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xcb/randr.h>

#include "vkapp.h"

static xcb_visualtype_t *root_visual(xcb_screen_t *screen)
{
    for (xcb_depth_iterator_t d = xcb_screen_allowed_depths_iterator(screen); d.rem;
         xcb_depth_next(&d)) {
        for (xcb_visualtype_iterator_t v = xcb_depth_visuals_iterator(d.data); v.rem;
             xcb_visualtype_next(&v)) {
            if (v.data->visual_id == screen->root_visual)
                return v.data;
        }
    }
    return NULL;
}

static void find_pixmap_format(struct wsi_window *w)
{
    const xcb_setup_t *setup = xcb_get_setup(w->conn);
    for (xcb_format_iterator_t f = xcb_setup_pixmap_formats_iterator(setup); f.rem;
         xcb_format_next(&f)) {
        if (f.data->depth == w->screen->root_depth) {
            w->bits_per_pixel = f.data->bits_per_pixel;
            w->scanline_pad = f.data->scanline_pad;
        }
    }
    APP_CHECK(w->bits_per_pixel == 32, "root depth %u stored in %u bits per pixel; the read "
              "back handles 32 only (start Xvfb with -screen 0 WxHx24)",
              w->screen->root_depth, w->bits_per_pixel);
    APP_CHECK(setup->image_byte_order == XCB_IMAGE_ORDER_LSB_FIRST,
              "X server image byte order is MSB first; the read back handles LSB first only");
}

/* 0xRRGGBB to a pixel of the root visual. */
static uint32_t rgb_to_pixel(const struct wsi_window *w, uint32_t rgb)
{
    uint32_t pixel = 0;
    const uint32_t masks[3] = {w->red_mask, w->green_mask, w->blue_mask};
    for (int c = 0; c < 3; c++) {
        uint32_t value = (rgb >> (16 - 8 * c)) & 0xff;
        pixel |= (value << __builtin_ctz(masks[c])) & masks[c];
    }
    return pixel;
}

static uint32_t pixel_to_rgb(const struct wsi_window *w, uint32_t pixel)
{
    uint32_t rgb = 0;
    const uint32_t masks[3] = {w->red_mask, w->green_mask, w->blue_mask};
    for (int c = 0; c < 3; c++)
        rgb |= ((pixel & masks[c]) >> __builtin_ctz(masks[c])) << (16 - 8 * c);
    return rgb;
}

/* Blocks until an event of @type for our window arrives (other events dropped). */
static void wait_event(struct wsi_window *w, uint8_t type)
{
    for (;;) {
        xcb_generic_event_t *ev = xcb_wait_for_event(w->conn);
        APP_CHECK(ev, "X connection lost while waiting for event %u", type);
        bool done = (ev->response_type & 0x7f) == type;
        free(ev);
        if (done)
            return;
    }
}

void wsi_window_open(struct wsi_window *w, uint32_t width, uint32_t height,
                     uint32_t background_rgb)
{
    memset(w, 0, sizeof(*w));
    int screen_index = 0;
    w->conn = xcb_connect(NULL, &screen_index);
    APP_CHECK(w->conn && !xcb_connection_has_error(w->conn),
              "cannot connect to the X server (DISPLAY=%s)",
              getenv("DISPLAY") ? getenv("DISPLAY") : "(unset)");
    xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(w->conn));
    for (int i = 0; i < screen_index && it.rem; i++)
        xcb_screen_next(&it);
    APP_CHECK(it.rem, "X screen %d not found", screen_index);
    w->screen = it.data;

    xcb_visualtype_t *visual = root_visual(w->screen);
    APP_CHECK(visual && visual->_class == XCB_VISUAL_CLASS_TRUE_COLOR,
              "root visual is not TrueColor");
    w->red_mask = visual->red_mask;
    w->green_mask = visual->green_mask;
    w->blue_mask = visual->blue_mask;
    APP_CHECK(w->red_mask && w->green_mask && w->blue_mask, "root visual without RGB masks");
    find_pixmap_format(w);

    w->window = xcb_generate_id(w->conn);
    const uint32_t values[2] = {
        rgb_to_pixel(w, background_rgb),
        XCB_EVENT_MASK_STRUCTURE_NOTIFY | XCB_EVENT_MASK_EXPOSURE,
    };
    xcb_create_window(w->conn, XCB_COPY_FROM_PARENT, w->window, w->screen->root, 0, 0,
                      (uint16_t)width, (uint16_t)height, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT,
                      w->screen->root_visual, XCB_CW_BACK_PIXEL | XCB_CW_EVENT_MASK, values);
    static const char title[] = "tether wsi_present";
    xcb_change_property(w->conn, XCB_PROP_MODE_REPLACE, w->window, XCB_ATOM_WM_NAME,
                        XCB_ATOM_STRING, 8, sizeof(title) - 1, title);
    xcb_map_window(w->conn, w->window);
    xcb_flush(w->conn);
    wait_event(w, XCB_MAP_NOTIFY);
    w->width = width;
    w->height = height;
}

void wsi_window_resize(struct wsi_window *w, uint32_t width, uint32_t height)
{
    const uint32_t values[2] = {width, height};
    xcb_configure_window(w->conn, w->window,
                         XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT, values);
    /* The geometry round trip returns after the server applied the configure. */
    xcb_get_geometry_reply_t *g =
        xcb_get_geometry_reply(w->conn, xcb_get_geometry(w->conn, w->window), NULL);
    APP_CHECK(g && g->width == width && g->height == height,
              "window did not take the size %ux%u", width, height);
    free(g);
    w->width = width;
    w->height = height;
}

double wsi_window_refresh_hz(struct wsi_window *w)
{
    xcb_randr_get_screen_info_reply_t *info = xcb_randr_get_screen_info_reply(
        w->conn, xcb_randr_get_screen_info(w->conn, w->screen->root), NULL);
    double hz = info && info->rate ? (double)info->rate : 60.0;
    free(info);
    return hz;
}

/* One read back of the whole window against @rgb; fills @out. */
static void read_back(struct wsi_window *w, uint32_t rgb, int tolerance,
                      struct wsi_window_mismatch *out)
{
    memset(out, 0, sizeof(*out));
    out->width = w->width;
    out->height = w->height;
    xcb_generic_error_t *err = NULL;
    xcb_get_image_reply_t *img = xcb_get_image_reply(
        w->conn,
        xcb_get_image(w->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, w->window, 0, 0,
                      (uint16_t)w->width, (uint16_t)w->height, UINT32_MAX),
        &err);
    APP_CHECK(img, "xcb_get_image of %ux%u failed (X error %d)", w->width, w->height,
              err ? err->error_code : -1);
    const uint8_t *data = xcb_get_image_data(img);
    const uint32_t stride =
        ((w->width * w->bits_per_pixel + w->scanline_pad - 1) / w->scanline_pad) *
        w->scanline_pad / 8;
    APP_CHECK((uint64_t)xcb_get_image_data_length(img) >= (uint64_t)stride * w->height,
              "short xcb_get_image reply");
    for (uint32_t y = 0; y < w->height; y++) {
        const uint8_t *row = data + (size_t)y * stride;
        for (uint32_t x = 0; x < w->width; x++) {
            uint32_t pixel;
            memcpy(&pixel, row + 4 * x, 4);
            uint32_t got = pixel_to_rgb(w, pixel);
            bool same = true;
            for (int c = 0; c < 3; c++) {
                int a = (int)((got >> (8 * c)) & 0xff), b = (int)((rgb >> (8 * c)) & 0xff);
                same = same && abs(a - b) <= tolerance;
            }
            if (!same && out->count++ == 0) {
                out->first_x = x;
                out->first_y = y;
                out->first_rgb = got;
            }
        }
    }
    free(img);
}

bool wsi_window_wait_color(struct wsi_window *w, uint32_t rgb, int tolerance, double settle_s,
                           struct wsi_window_mismatch *out)
{
    struct wsi_window_mismatch local;
    struct wsi_window_mismatch *m = out ? out : &local;
    const double deadline = vkapp_now() + settle_s;
    for (;;) {
        read_back(w, rgb, tolerance, m);
        if (m->count == 0)
            return true;
        /* >=: a settle_s of 0 is exactly one read back. */
        if (vkapp_now() >= deadline)
            return false;
        usleep(20 * 1000);
    }
}

void wsi_window_close(struct wsi_window *w)
{
    xcb_destroy_window(w->conn, w->window);
    xcb_disconnect(w->conn);
    memset(w, 0, sizeof(*w));
}
