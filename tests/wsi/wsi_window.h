/* wsi_window: the X11 side of tests/wsi/wsi_present.c. One xcb window on
 * $DISPLAY, resized on demand, and read back with xcb_get_image so the test sees
 * what the presentation engine really put on screen (not what the app rendered). */
#ifndef TETHER_TESTS_WSI_WINDOW_H
#define TETHER_TESTS_WSI_WINDOW_H

#include <stdbool.h>
#include <stdint.h>
#include <xcb/xcb.h>

struct wsi_window {
    xcb_connection_t *conn;
    xcb_screen_t *screen;
    xcb_window_t window;
    uint32_t width;
    uint32_t height;
    /* How a 24-bit TrueColor pixel of the root visual holds 0xRRGGBB. */
    uint32_t red_mask, green_mask, blue_mask;
    uint8_t bits_per_pixel;
    uint8_t scanline_pad;
};

/* What wsi_window_wait_color() found on its last read back. */
struct wsi_window_mismatch {
    uint32_t width, height;  /* size read back */
    uint32_t count;          /* pixels that differ from the expected color */
    uint32_t first_x, first_y;
    uint32_t first_rgb;      /* 0xRRGGBB at (first_x, first_y) */
};

/**
 * wsi_window_open() - connect to $DISPLAY and map a width x height window.
 * @background_rgb: the window's background pixel (0xRRGGBB); the X server
 *                  paints it on newly exposed areas, so a frame that never
 *                  reached the window shows as this color.
 *
 * Returns after the server reports the window mapped. Exits on failure.
 */
void wsi_window_open(struct wsi_window *w, uint32_t width, uint32_t height,
                     uint32_t background_rgb);

/* Resizes the window; returns once the server has applied the new size. */
void wsi_window_resize(struct wsi_window *w, uint32_t width, uint32_t height);

/* The screen's refresh rate from RandR, or 60 when the server reports none. */
double wsi_window_refresh_hz(struct wsi_window *w);

/**
 * wsi_window_wait_color() - read the window back until it is all one color.
 * @rgb:       expected 0xRRGGBB for every pixel
 * @tolerance: per-channel difference allowed (0 for UNORM formats)
 * @settle_s:  how long to keep reading: presentation may reach the window a
 *             little after vkQueuePresentKHR returned; 0 reads back once (for
 *             what must already be there, e.g. after vkWaitForPresentKHR)
 * @out:       what the last read back found (may be NULL)
 *
 * Return: true when every pixel matched within @settle_s.
 */
bool wsi_window_wait_color(struct wsi_window *w, uint32_t rgb, int tolerance, double settle_s,
                           struct wsi_window_mismatch *out);

void wsi_window_close(struct wsi_window *w);

#endif
