/* wsi_present: presentation to an X11 window, checked from the window's side.
 * Each check renders solid colors with vkCmdClearColorImage, presents them and
 * reads the window back with xcb_get_image, so the same program judges lavapipe's
 * own WSI natively and tether's ICD (frames crossing the link) alike.
 *
 *   wsi_present [--size WxH] [--spec-timing] [--require-present-wait]
 *               [--require-maintenance1] [CHECK...]
 *   wsi_present --no-destroy
 *   wsi_present --abandon
 *
 * CHECK is queries, present-modes, acquire, resize, present-wait or
 * maintenance1 (default: all, in that order). present-wait enables
 * VK_KHR_present_id and VK_KHR_present_wait where the device offers them and
 * passes with a note where it does not, unless --require-present-wait;
 * maintenance1 does the same for VK_EXT_surface_maintenance1 and
 * VK_EXT_swapchain_maintenance1 (wsi_maintenance1.c), unless
 * --require-maintenance1. --no-destroy presents a few frames and returns from
 * main with the swapchain, surface, device and instance still alive.
 * --abandon presents an image waiting on a semaphore nothing will ever signal
 * and returns from main at once (invalid usage on purpose: a client that
 * leaves the server's copy-out waiting forever; run without the validation
 * layer, and through tether only). Exit status 0 = passed. */
#include <stdlib.h>
#include <string.h>

#include "wsi_maintenance1.h"
#include "wsi_swapchain.h"
#include "wsi_window.h"

/* Background of the test window: no frame color has green 0, so a pixel of
 * this color is a place no present reached. */
#define BACKGROUND_RGB 0xff00ffu
#define FRAMES_PER_MODE 60
/* How long a presented frame may take to reach the window (asynchronous
 * presentation through tether: a few ms; allow for a loaded machine). */
#define SETTLE_S 3.0

struct options {
    uint32_t width, height;
    /* Enforce what Mesa's software X11 path cannot do on Xvfb: FIFO paced by
     * the refresh rate, finite-timeout acquires that wait and say VK_TIMEOUT. */
    bool spec_timing;
    /* Fail the present-wait check when the device lacks present id/wait
     * (tether's ICD implements both; Mesa 22.3's lavapipe has neither). */
    bool require_present_wait;
    /* Fail the maintenance1 check when the surface/swapchain maintenance1
     * extensions are missing or a present mode of the surface is not
     * compatible with FIFO (tether's ICD implements both, every mode
     * compatible with every other; Mesa 22.3's lavapipe has neither). */
    bool require_maintenance1;
};

/* A solid color for frame @frame of series @series; green is never 0. */
static uint32_t frame_rgb(uint32_t series, uint32_t frame)
{
    uint32_t r = (frame * 7u + 40u) & 0xffu;
    uint32_t g = 30u + 45u * (series % 5u);
    uint32_t b = (255u - frame * 3u) & 0xffu;
    return r << 16 | g << 8 | b;
}

/* Fails with what the window showed when it is not all @rgb at its size. */
static void expect_window(struct wsi_window *w, const struct wsi_swapchain *sc, uint32_t rgb,
                          const char *what)
{
    struct wsi_window_mismatch m;
    if (wsi_window_wait_color(w, rgb, wsi_color_tolerance(sc), SETTLE_S, &m))
        return;
    vkapp_fail(__FILE__, __LINE__,
               "%s: window %ux%u not all #%06x %.1f s after the last present: %u pixels differ, "
               "first at (%u,%u) = #%06x%s", what, m.width, m.height, rgb, SETTLE_S, m.count,
               m.first_x, m.first_y, m.first_rgb,
               m.first_rgb == BACKGROUND_RGB ? " (the window background: never presented)" : "");
}

static uint32_t surface_present_modes(struct wsi_target *t, VkPresentModeKHR *modes,
                                      uint32_t max)
{
    uint32_t count = max;
    VK_CHECK(vkGetPhysicalDeviceSurfacePresentModesKHR(t->app.physical_device, t->surface,
                                                       &count, modes));
    return count;
}

/* Surface queries: what an application reads before it creates a swapchain. */
static void check_queries(struct wsi_target *t)
{
    struct wsi_window *w = t->window;
    VkPhysicalDevice pd = t->app.physical_device;
    VkBool32 supported = VK_FALSE;
    VK_CHECK(vkGetPhysicalDeviceSurfaceSupportKHR(pd, t->app.queue_family, t->surface,
                                                  &supported));
    APP_CHECK(supported, "vkGetPhysicalDeviceSurfaceSupportKHR: graphics family %u cannot present",
              t->app.queue_family);
    APP_CHECK(vkGetPhysicalDeviceXcbPresentationSupportKHR(pd, t->app.queue_family, w->conn,
                                                           w->screen->root_visual),
              "vkGetPhysicalDeviceXcbPresentationSupportKHR false for the root visual");

    VkSurfaceCapabilitiesKHR caps;
    VK_CHECK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(pd, t->surface, &caps));
    APP_CHECK(caps.currentExtent.width == w->width && caps.currentExtent.height == w->height,
              "currentExtent %ux%u, window is %ux%u", caps.currentExtent.width,
              caps.currentExtent.height, w->width, w->height);
    APP_CHECK(caps.minImageCount >= 1 &&
                  (caps.maxImageCount == 0 || caps.maxImageCount >= caps.minImageCount),
              "image counts min %u max %u", caps.minImageCount, caps.maxImageCount);
    APP_CHECK(caps.supportedUsageFlags & VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
              "supportedUsageFlags 0x%x lacks COLOR_ATTACHMENT (required by the spec)",
              caps.supportedUsageFlags);
    APP_CHECK(caps.supportedTransforms & VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
              "supportedTransforms 0x%x lacks IDENTITY", caps.supportedTransforms);
    printf("caps: currentExtent %ux%u, images %u..%u, usage 0x%x, alpha 0x%x\n",
           caps.currentExtent.width, caps.currentExtent.height, caps.minImageCount,
           caps.maxImageCount, caps.supportedUsageFlags, caps.supportedCompositeAlpha);

    uint32_t count = 0;
    VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(pd, t->surface, &count, NULL));
    APP_CHECK(count > 0 && count <= 64, "%u surface formats", count);
    VkSurfaceFormatKHR formats[64];
    bool bgra8 = false;
    VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(pd, t->surface, &count, formats));
    for (uint32_t i = 0; i < count; i++)
        bgra8 = bgra8 || formats[i].format == VK_FORMAT_B8G8R8A8_UNORM ||
                formats[i].format == VK_FORMAT_B8G8R8A8_SRGB;
    APP_CHECK(bgra8, "surface formats lack B8G8R8A8_UNORM and B8G8R8A8_SRGB");
    if (count > 1) {
        /* The two-call idiom: a short array gets VK_INCOMPLETE, not an error. */
        uint32_t one = 1;
        VK_EXPECT(vkGetPhysicalDeviceSurfaceFormatsKHR(pd, t->surface, &one, formats),
                  VK_INCOMPLETE);
        APP_CHECK(one == 1, "short formats query wrote count %u", one);
    }

    VkPresentModeKHR modes[16];
    uint32_t nmodes = surface_present_modes(t, modes, 16);
    bool fifo = false;
    printf("present modes:");
    for (uint32_t i = 0; i < nmodes; i++) {
        printf(" %s", wsi_present_mode_name(modes[i]));
        fifo = fifo || modes[i] == VK_PRESENT_MODE_FIFO_KHR;
    }
    printf("\n");
    APP_CHECK(fifo, "surface does not offer FIFO (every surface must)");
    printf("PASS queries\n");
}

/* Renders FRAMES_PER_MODE frames in @mode; returns their duration in seconds. */
static double run_mode(struct wsi_target *t, VkPresentModeKHR mode, uint32_t series)
{
    struct wsi_swapchain sc;
    wsi_swapchain_create(t, &sc, mode, 0, VK_NULL_HANDLE);
    const double t0 = vkapp_now();
    for (uint32_t f = 0; f < FRAMES_PER_MODE; f++) {
        VkResult r = wsi_frame(t, &sc, frame_rgb(series, f));
        APP_CHECK(r == VK_SUCCESS, "%s frame %u: %s with an unchanged window",
                  wsi_present_mode_name(mode), f, wsi_result_name(r));
    }
    const double elapsed = vkapp_now() - t0;
    VK_CHECK(vkQueueWaitIdle(t->app.queue));
    char what[64];
    snprintf(what, sizeof(what), "%s, after %d frames", wsi_present_mode_name(mode),
             FRAMES_PER_MODE);
    expect_window(t->window, &sc, frame_rgb(series, FRAMES_PER_MODE - 1), what);
    printf("%s: %u images (%s), %d frames in %.3f s, window shows the last frame\n",
           wsi_present_mode_name(mode), sc.image_count,
           sc.format.format == VK_FORMAT_B8G8R8A8_UNORM ? "B8G8R8A8_UNORM" : "B8G8R8A8_SRGB",
           FRAMES_PER_MODE, elapsed);
    wsi_swapchain_destroy(t, &sc);
    return elapsed;
}

/* Every present mode the surface offers shows its last frame; FIFO is paced by
 * the display's refresh (required with --spec-timing) and, when it is, MAILBOX
 * and IMMEDIATE are not slower than FIFO. */
static void check_present_modes(struct wsi_target *t, const struct options *opt)
{
    VkPresentModeKHR modes[16];
    uint32_t nmodes = surface_present_modes(t, modes, 16);
    double fifo_s = run_mode(t, VK_PRESENT_MODE_FIFO_KHR, 0);

    /* FIFO: one image per vertical blank, so 60 frames take at least about
     * (60 - images queued ahead)/refresh; 0.8 * 60/refresh leaves room for the
     * swapchain's images and timer slack. */
    const double hz = wsi_window_refresh_hz(t->window);
    const double paced_s = 0.8 * FRAMES_PER_MODE / hz;
    const bool paced = fifo_s >= paced_s;
    if (paced) {
        printf("FIFO is paced: %.3f s >= %.3f s at %.0f Hz\n", fifo_s, paced_s, hz);
    } else if (opt->spec_timing) {
        vkapp_fail(__FILE__, __LINE__, "FIFO not paced: %d frames in %.3f s, expected >= %.3f s "
                   "at %.0f Hz (VK_PRESENT_MODE_FIFO_KHR waits for the vertical blank)",
                   FRAMES_PER_MODE, fifo_s, paced_s, hz);
    } else {
        /* Mesa's software WSI on an X server without DRI3 (Xvfb) draws each
         * present with PutImage at once, so lavapipe's FIFO is not paced there;
         * the native run reports it and the tether run (--spec-timing)
         * requires pacing. */
        printf("note: FIFO not paced (%.3f s < %.3f s at %.0f Hz); not required here\n", fifo_s,
               paced_s, hz);
    }

    for (uint32_t i = 0; i < nmodes; i++) {
        if (modes[i] == VK_PRESENT_MODE_FIFO_KHR)
            continue;
        if (modes[i] != VK_PRESENT_MODE_MAILBOX_KHR && modes[i] != VK_PRESENT_MODE_IMMEDIATE_KHR &&
            modes[i] != VK_PRESENT_MODE_FIFO_RELAXED_KHR) {
            printf("skipping present mode %d\n", (int)modes[i]);
            continue;
        }
        double s = run_mode(t, modes[i], i + 1);
        /* MAILBOX and IMMEDIATE never wait for the vertical blank, so neither
         * may be much slower than a paced FIFO. An unpaced FIFO is as fast as
         * the CPU, and comparing two CPU-bound timings only measures the
         * machine's load: no check then. */
        if (paced && modes[i] != VK_PRESENT_MODE_FIFO_RELAXED_KHR)
            APP_CHECK(s <= fifo_s * 1.5 + 0.25, "%s slower than FIFO: %.3f s vs %.3f s",
                      wsi_present_mode_name(modes[i]), s, fifo_s);
    }
    printf("PASS present-modes\n");
}

static void begin(VkCommandBuffer cmd)
{
    VK_CHECK(vkResetCommandBuffer(cmd, 0));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
}

/* Acquires with a fence until the presentation engine has no image left to
 * give; returns how many were acquired into @held. Spec (vkAcquireNextImageKHR):
 * with at most S - minImageCount images acquired, an acquire must return in
 * finite time; beyond that only finite timeouts are allowed. */
static uint32_t acquire_all(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t *held)
{
    const VkDevice dev = t->app.device;
    const uint32_t guaranteed = sc->image_count - sc->min_image_count + 1;
    uint32_t n = 0;
    for (;;) {
        VkFence fence = wsi_fence_create(t);
        uint64_t timeout = n < guaranteed ? UINT64_MAX : 0;
        uint32_t image = UINT32_MAX;
        VkResult r = vkAcquireNextImageKHR(dev, sc->swapchain, timeout, VK_NULL_HANDLE, fence,
                                           &image);
        if (r == VK_NOT_READY && n >= guaranteed) {
            /* Nothing acquired: the fence must be left alone. */
            VK_EXPECT(vkGetFenceStatus(dev, fence), VK_NOT_READY);
            vkDestroyFence(dev, fence, NULL);
            return n;
        }
        APP_CHECK(r == VK_SUCCESS, "acquire #%u (timeout %s, %u of %u images held): %s", n + 1,
                  timeout ? "UINT64_MAX" : "0", n, sc->image_count, wsi_result_name(r));
        /* "fence ... will be signaled when the presentation engine has released
         * ownership of the image": acquire with a fence signals it. */
        VK_CHECK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 5ull * 1000000000));
        vkDestroyFence(dev, fence, NULL);
        for (uint32_t i = 0; i < n; i++)
            APP_CHECK(held[i] != image, "image %u acquired twice without a present", image);
        APP_CHECK(n < sc->image_count, "acquired more images than the swapchain has");
        held[n++] = image;
    }
}

/* One frame whose acquire uses @sem or @fence (the other VK_NULL_HANDLE). */
static void acquired_frame(struct wsi_target *t, struct wsi_swapchain *sc, VkSemaphore sem,
                           VkFence fence, uint32_t rgb)
{
    const VkDevice dev = t->app.device;
    uint32_t image;
    VK_CHECK(vkAcquireNextImageKHR(dev, sc->swapchain, UINT64_MAX, sem, fence, &image));
    if (fence)
        VK_CHECK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 5ull * 1000000000));
    VkCommandBuffer cmd = t->cmd[0];
    VK_CHECK(vkResetFences(dev, 1, &t->in_flight[0]));
    begin(cmd);
    wsi_record_clear(sc, cmd, &image, 1, rgb);
    VK_CHECK(vkEndCommandBuffer(cmd));
    /* With a semaphore, the submit's wait is what orders the clear after the
     * presentation engine's last read of the image. */
    wsi_submit(t, cmd, sem, sc->rendered[image], t->in_flight[0]);
    VK_CHECK(wsi_present(t, sc, image, sc->rendered[image]));
    VK_CHECK(vkWaitForFences(dev, 1, &t->in_flight[0], VK_TRUE, 10ull * 1000000000));
}

/* vkAcquireNextImageKHR: VK_NOT_READY / VK_TIMEOUT when no image is free,
 * fences and semaphores signalled on acquire. */
static void check_acquire(struct wsi_target *t, const struct options *opt)
{
    const VkDevice dev = t->app.device;
    struct wsi_swapchain sc;
    wsi_swapchain_create(t, &sc, VK_PRESENT_MODE_FIFO_KHR, 0, VK_NULL_HANDLE);
    VK_CHECK(vkWaitForFences(dev, 1, &t->in_flight[0], VK_TRUE, UINT64_MAX));

    uint32_t held[WSI_MAX_IMAGES];
    uint32_t n = acquire_all(t, &sc, held);
    printf("acquire: held %u of %u images (minImageCount %u) before VK_NOT_READY\n", n,
           sc.image_count, sc.min_image_count);

    VkFence fence = wsi_fence_create(t);
    uint32_t image = UINT32_MAX;
    VK_EXPECT(vkAcquireNextImageKHR(dev, sc.swapchain, 0, VK_NULL_HANDLE, fence, &image),
              VK_NOT_READY);
    const uint64_t timeout_ns = 20ull * 1000000;
    const double t0 = vkapp_now();
    VkResult r = vkAcquireNextImageKHR(dev, sc.swapchain, timeout_ns, VK_NULL_HANDLE, fence,
                                       &image);
    const double waited = vkapp_now() - t0;
    VK_EXPECT(vkGetFenceStatus(dev, fence), VK_NOT_READY);
    APP_CHECK(waited < 2.0, "20 ms acquire returned after %.1f ms", waited * 1e3);
    /* "VK_TIMEOUT is returned if timeout is greater than zero and no image
     * became available within the time allowed": so it waited that long (1 ms
     * of clock slack). */
    if (r == VK_TIMEOUT && waited >= 0.019) {
        printf("acquire: timeout 0 -> VK_NOT_READY, 20 ms -> VK_TIMEOUT after %.1f ms\n",
               waited * 1e3);
    } else if (!opt->spec_timing && r == VK_NOT_READY) {
        /* Mesa's software X11 path without DRI3 (Xvfb) polls its images once
         * and answers VK_NOT_READY whatever the timeout. */
        printf("note: 20 ms acquire with no image free returned VK_NOT_READY after %.1f ms "
               "(the spec says VK_TIMEOUT after 20 ms); not required here\n", waited * 1e3);
    } else {
        vkapp_fail(__FILE__, __LINE__, "20 ms acquire with no image free returned %s after "
                   "%.1f ms; expected VK_TIMEOUT after >= 20 ms", wsi_result_name(r),
                   waited * 1e3);
    }

    wsi_present_images(t, &sc, held, n, frame_rgb(0, 1));
    expect_window(t->window, &sc, frame_rgb(0, 1), "presenting every held image");

    VkSemaphore sem = wsi_semaphore_create(t);
    acquired_frame(t, &sc, sem, VK_NULL_HANDLE, frame_rgb(1, 2));
    expect_window(t->window, &sc, frame_rgb(1, 2), "frame acquired with a semaphore");
    VK_CHECK(vkResetFences(dev, 1, &fence));
    acquired_frame(t, &sc, VK_NULL_HANDLE, fence, frame_rgb(2, 3));
    expect_window(t->window, &sc, frame_rgb(2, 3), "frame acquired with a fence");
    printf("acquire: semaphore-waited and fence-waited frames reach the window\n");

    wsi_swapchain_destroy(t, &sc);
    vkDestroySemaphore(dev, sem, NULL);
    vkDestroyFence(dev, fence, NULL);
    printf("PASS acquire\n");
}

/* Resize while presenting: the swapchain must report OUT_OF_DATE or SUBOPTIMAL
 * within a few frames, and one re-created (oldSwapchain) at the surface's new
 * currentExtent fills the resized window. */
static void check_resize(struct wsi_target *t, const struct options *opt)
{
    enum { BEFORE = 5, NOTICE_WITHIN = 10, AFTER = 10 };
    const uint32_t new_w = opt->width + opt->width / 4, new_h = opt->height - opt->height / 4;
    struct wsi_swapchain sc;
    wsi_swapchain_create(t, &sc, VK_PRESENT_MODE_FIFO_KHR, 0, VK_NULL_HANDLE);
    uint32_t frame = 0;
    for (; frame < BEFORE; frame++)
        APP_CHECK(wsi_frame(t, &sc, frame_rgb(3, frame)) == VK_SUCCESS,
                  "frame %u before the resize not VK_SUCCESS", frame);

    wsi_window_resize(t->window, new_w, new_h);
    VkResult r = VK_SUCCESS;
    uint32_t noticed = 0;
    for (; noticed < NOTICE_WITHIN && r == VK_SUCCESS; noticed++, frame++)
        r = wsi_frame(t, &sc, frame_rgb(3, frame));
    APP_CHECK(r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR,
              "window resized to %ux%u, still VK_SUCCESS after %d frames of a %ux%u swapchain",
              new_w, new_h, NOTICE_WITHIN, sc.extent.width, sc.extent.height);
    printf("resize: %s on frame %u after the resize\n", wsi_result_name(r), noticed);

    VK_CHECK(vkDeviceWaitIdle(t->app.device));
    VkSurfaceCapabilitiesKHR caps;
    VK_CHECK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(t->app.physical_device, t->surface, &caps));
    APP_CHECK(caps.currentExtent.width == new_w && caps.currentExtent.height == new_h,
              "currentExtent %ux%u after resizing the window to %ux%u", caps.currentExtent.width,
              caps.currentExtent.height, new_w, new_h);
    struct wsi_swapchain fresh;
    wsi_swapchain_create(t, &fresh, VK_PRESENT_MODE_FIFO_KHR, 0, sc.swapchain);
    wsi_swapchain_destroy(t, &sc);

    for (uint32_t i = 0; i < AFTER; i++, frame++) {
        r = wsi_frame(t, &fresh, frame_rgb(3, frame));
        APP_CHECK(r == VK_SUCCESS, "frame %u of the re-created %ux%u swapchain: %s", i,
                  fresh.extent.width, fresh.extent.height, wsi_result_name(r));
    }
    VK_CHECK(vkQueueWaitIdle(t->app.queue));
    expect_window(t->window, &fresh, frame_rgb(3, frame - 1), "after the resize");
    printf("resize: %ux%u swapchain fills the %ux%u window\n", fresh.extent.width,
           fresh.extent.height, new_w, new_h);
    wsi_swapchain_destroy(t, &fresh);
    printf("PASS resize\n");
}

/* VK_KHR_present_wait check: frames per present mode, ids 1..PRESENT_WAIT_FRAMES. */
#define PRESENT_WAIT_FRAMES 30
/* A presented frame: FIFO shows one per refresh with up to imageCount - 1
 * queued ahead, so 2 s is tens of refreshes even on a loaded machine. */
#define PRESENT_WAIT_TIMEOUT_NS (2ull * 1000000000)
/* An id never presented: the wait must last its whole timeout; >= 45 ms is
 * required, leaving 5 ms for the implementation's clock and ours to disagree. */
#define NEVER_PRESENTED_TIMEOUT_NS (50ull * 1000000)

/* vkWaitForPresentKHR on @sc for @id; stores how long it took in @waited_s. */
static VkResult wait_for_present(struct wsi_target *t, struct wsi_swapchain *sc, uint64_t id,
                                 uint64_t timeout_ns, double *waited_s)
{
    const double t0 = vkapp_now();
    VkResult r = t->wait_for_present(t->app.device, sc->swapchain, id, timeout_ns);
    *waited_s = vkapp_now() - t0;
    return r;
}

/* What a read-back color is, for a failure message: frame k of @series, the
 * background, or neither. */
static void describe_color(uint32_t series, uint32_t rgb, int tolerance, char *out, size_t size)
{
    if (rgb == BACKGROUND_RGB) {
        snprintf(out, size, "the window background: nothing presented yet");
        return;
    }
    for (uint32_t k = 1; k <= PRESENT_WAIT_FRAMES; k++) {
        const uint32_t want = frame_rgb(series, k);
        bool same = true;
        for (int c = 0; c < 3; c++)
            same = same && abs((int)((rgb >> (8 * c)) & 0xff) -
                               (int)((want >> (8 * c)) & 0xff)) <= tolerance;
        if (same) {
            snprintf(out, size, "frame %u's color", k);
            return;
        }
    }
    snprintf(out, size, "no frame's color");
}

/* PRESENT_WAIT_FRAMES frames in @mode with present ids 1..N, each waited for
 * and then found in the window; then waits for ids reached and never presented. */
static void present_wait_mode(struct wsi_target *t, VkPresentModeKHR mode, uint32_t series)
{
    const char *name = wsi_present_mode_name(mode);
    struct wsi_swapchain sc;
    wsi_swapchain_create(t, &sc, mode, 0, VK_NULL_HANDLE);
    const int tolerance = wsi_color_tolerance(&sc);
    double waited, longest = 0.0, total = 0.0;
    VkResult r;
    for (uint32_t k = 1; k <= PRESENT_WAIT_FRAMES; k++) {
        const uint32_t rgb = frame_rgb(series, k);
        /* VkPresentIdKHR: each id must be greater than the swapchain's previous
         * ones (VUID-VkPresentIdKHR-presentIds-04999); a fresh swapchain per
         * mode lets every mode count from 1. */
        r = wsi_frame_id(t, &sc, rgb, k);
        APP_CHECK(r == VK_SUCCESS, "%s frame %u: %s with an unchanged window", name, k,
                  wsi_result_name(r));
        r = wait_for_present(t, &sc, k, PRESENT_WAIT_TIMEOUT_NS, &waited);
        APP_CHECK(r == VK_SUCCESS, "%s: vkWaitForPresentKHR(id %u, 2 s) returned %s after "
                  "%.1f ms", name, k, wsi_result_name(r), waited * 1e3);
        /* present wait: the call returns once the frame with that id (or a
         * later one) has been presented, i.e. is in the window. No later frame
         * exists yet, so the window must show frame k itself: one read back,
         * no settling. */
        struct wsi_window_mismatch m;
        if (!wsi_window_wait_color(t->window, rgb, tolerance, 0.0, &m)) {
            char what[64];
            describe_color(series, m.first_rgb, tolerance, what, sizeof(what));
            vkapp_fail(__FILE__, __LINE__,
                       "%s: vkWaitForPresentKHR(id %u) returned VK_SUCCESS after %.1f ms, but "
                       "the window does not show frame %u (#%06x) yet: %u of %ux%u pixels "
                       "differ, first at (%u,%u) = #%06x (%s)", name, k, waited * 1e3, k, rgb,
                       m.count, m.width, m.height, m.first_x, m.first_y, m.first_rgb, what);
        }
        longest = waited > longest ? waited : longest;
        total += waited;
    }

    /* Ids already reached: timeout 0 cannot wait, so VK_SUCCESS there means
     * the id was known reached; an older id with a long timeout returns at once. */
    r = wait_for_present(t, &sc, PRESENT_WAIT_FRAMES, 0, &waited);
    APP_CHECK(r == VK_SUCCESS, "%s: vkWaitForPresentKHR(id %d shown, timeout 0) returned %s",
              name, PRESENT_WAIT_FRAMES, wsi_result_name(r));
    r = wait_for_present(t, &sc, 1, PRESENT_WAIT_TIMEOUT_NS, &waited);
    APP_CHECK(r == VK_SUCCESS && waited < 0.1, "%s: vkWaitForPresentKHR(id 1, long shown, 2 s) "
              "returned %s after %.1f ms; expected VK_SUCCESS at once", name,
              wsi_result_name(r), waited * 1e3);

    /* An id never presented: VK_TIMEOUT, at once with timeout 0 and after the
     * whole timeout otherwise ("VK_TIMEOUT ... the timeout has expired"). */
    const uint64_t never = PRESENT_WAIT_FRAMES + 5;
    r = wait_for_present(t, &sc, never, 0, &waited);
    APP_CHECK(r == VK_TIMEOUT, "%s: vkWaitForPresentKHR(id %llu never presented, timeout 0) "
              "returned %s after %.1f ms; expected VK_TIMEOUT", name,
              (unsigned long long)never, wsi_result_name(r), waited * 1e3);
    r = wait_for_present(t, &sc, never, NEVER_PRESENTED_TIMEOUT_NS, &waited);
    APP_CHECK(r == VK_TIMEOUT && waited >= 0.045 && waited < 2.0,
              "%s: vkWaitForPresentKHR(id %llu never presented, 50 ms) returned %s after "
              "%.1f ms; expected VK_TIMEOUT after 50 ms", name, (unsigned long long)never,
              wsi_result_name(r), waited * 1e3);
    printf("%s: %u images, %d frames each waited for (mean %.1f ms, longest %.1f ms) and "
           "then in the window; reached ids VK_SUCCESS at once; id %llu: VK_TIMEOUT after "
           "%.1f ms\n", name, sc.image_count, PRESENT_WAIT_FRAMES,
           total / PRESENT_WAIT_FRAMES * 1e3, longest * 1e3, (unsigned long long)never,
           waited * 1e3);
    wsi_swapchain_destroy(t, &sc);
}

/* VK_KHR_present_wait: vkWaitForPresentKHR(id) returns once that frame is in
 * the window, in FIFO, IMMEDIATE and MAILBOX (each where the surface offers it). */
static void check_present_wait(struct wsi_target *t, const struct options *opt)
{
    if (!t->present_wait) {
        APP_CHECK(!opt->require_present_wait, "present-wait required (--require-present-wait), "
                  "but %s", t->present_wait_missing);
        /* Debian 12's lavapipe (Mesa 22.3) offers neither extension. */
        printf("note: present wait not checked: %s\n", t->present_wait_missing);
        printf("PASS present-wait (not offered here)\n");
        return;
    }
    static const VkPresentModeKHR wanted[] = {
        VK_PRESENT_MODE_FIFO_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR, VK_PRESENT_MODE_MAILBOX_KHR,
    };
    VkPresentModeKHR modes[16];
    const uint32_t nmodes = surface_present_modes(t, modes, 16);
    for (uint32_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        bool offered = false;
        for (uint32_t j = 0; j < nmodes; j++)
            offered = offered || modes[j] == wanted[i];
        if (offered)
            present_wait_mode(t, wanted[i], i);
        else
            printf("note: surface does not offer %s; present wait not checked in it\n",
                   wsi_present_mode_name(wanted[i]));
    }
    printf("PASS present-wait\n");
}

/* Presents a few frames and leaves everything alive: exit must still be clean
 * (the driver's exit-time teardown, and through tether the server session
 * ending with objects still in its tables). */
static int run_no_destroy(const struct options *opt)
{
    static struct wsi_window window;
    static struct wsi_target target;
    static struct wsi_swapchain sc;
    wsi_window_open(&window, opt->width, opt->height, BACKGROUND_RGB);
    wsi_target_init(&target, &window, "wsi_present --no-destroy", 0);
    wsi_swapchain_create(&target, &sc, VK_PRESENT_MODE_FIFO_KHR, 0, VK_NULL_HANDLE);
    for (uint32_t f = 0; f < 10; f++)
        APP_CHECK(wsi_frame(&target, &sc, frame_rgb(4, f)) == VK_SUCCESS, "frame %u", f);
    printf("PASS no-destroy: returning from main with the swapchain, surface, device and "
           "instance alive and frames in flight\n");
    fflush(stdout);
    return 0;
}

/* A hostile-ish client: one image presented waiting on a binary semaphore
 * that nothing will ever signal, then return from main with everything alive.
 * Invalid on purpose (VUID-vkQueuePresentKHR-pWaitSemaphores-01295: a wait
 * semaphore must be signalled or have a signal operation submitted before
 * it), hence no validation layer in the run: through tether the server's
 * copy-out of the image waits forever, and tetherd must still end the session
 * once the client is gone (run_wsi_present.py checks that). Natively the
 * driver's queue would just hang, so there is no native run. */
static int run_abandon(const struct options *opt)
{
    static struct wsi_window window;
    static struct wsi_target target;
    static struct wsi_swapchain sc;
    wsi_window_open(&window, opt->width, opt->height, BACKGROUND_RGB);
    wsi_target_init(&target, &window, "wsi_present --abandon", 0);
    wsi_swapchain_create(&target, &sc, VK_PRESENT_MODE_FIFO_KHR, 0, VK_NULL_HANDLE);
    /* An acquire names a semaphore or a fence (VUID-vkAcquireNextImageKHR-
     * semaphore-01780); the fence says the image is ours. */
    VkFence acquired = wsi_fence_create(&target);
    uint32_t image = UINT32_MAX;
    VK_CHECK(vkAcquireNextImageKHR(target.app.device, sc.swapchain, UINT64_MAX, VK_NULL_HANDLE,
                                   acquired, &image));
    VK_CHECK(vkWaitForFences(target.app.device, 1, &acquired, VK_TRUE, 5ull * 1000000000));
    VkSemaphore never = wsi_semaphore_create(&target);
    VkResult r = wsi_present(&target, &sc, image, never);
    APP_CHECK(r == VK_SUCCESS, "present of image %u waiting on a never-signalled semaphore: %s",
              image, wsi_result_name(r));
    printf("PASS abandon: image %u presented waiting on a semaphore nothing signals; returning "
           "from main with it pending and everything alive\n", image);
    fflush(stdout);
    return 0;
}

static void parse_size(const char *s, struct options *opt)
{
    unsigned w, h;
    APP_CHECK(sscanf(s, "%ux%u", &w, &h) == 2 && w >= 16 && h >= 16 && w <= 4096 && h <= 4096,
              "bad --size %s (WxH)", s);
    opt->width = w;
    opt->height = h;
}

int main(int argc, char **argv)
{
    /* Line-buffered, so progress and a failure on stderr keep their order in a log. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct options opt = {.width = 500, .height = 500};
    bool no_destroy = false, abandon = false;
    const char *checks[8];
    int nchecks = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc)
            parse_size(argv[++i], &opt);
        else if (!strcmp(argv[i], "--spec-timing"))
            opt.spec_timing = true;
        else if (!strcmp(argv[i], "--require-present-wait"))
            opt.require_present_wait = true;
        else if (!strcmp(argv[i], "--require-maintenance1"))
            opt.require_maintenance1 = true;
        else if (!strcmp(argv[i], "--no-destroy"))
            no_destroy = true;
        else if (!strcmp(argv[i], "--abandon"))
            abandon = true;
        else if (argv[i][0] != '-' && nchecks < 8)
            checks[nchecks++] = argv[i];
        else
            vkapp_fail(__FILE__, __LINE__, "usage: %s [--size WxH] [--spec-timing] "
                       "[--require-present-wait] [--require-maintenance1] [--no-destroy] "
                       "[--abandon] "
                       "[queries|present-modes|acquire|resize|present-wait|maintenance1...]",
                       argv[0]);
    }
    if (no_destroy)
        return run_no_destroy(&opt);
    if (abandon)
        return run_abandon(&opt);
    if (nchecks == 0) {
        static const char *const all[] = {"queries", "present-modes", "acquire", "resize",
                                          "present-wait", "maintenance1"};
        for (nchecks = 0; nchecks < 6; nchecks++)
            checks[nchecks] = all[nchecks];
    }
    /* Present id/wait and the maintenance1 extensions are enabled only for
     * the checks that use them: the others run on an instance with the two
     * surface extensions and a device with VK_KHR_swapchain alone. */
    unsigned flags = 0;
    for (int i = 0; i < nchecks; i++) {
        if (!strcmp(checks[i], "present-wait"))
            flags |= WSI_TARGET_PRESENT_WAIT;
        else if (!strcmp(checks[i], "maintenance1"))
            flags |= WSI_TARGET_MAINTENANCE1;
    }

    struct wsi_window window;
    struct wsi_target target;
    wsi_window_open(&window, opt.width, opt.height, BACKGROUND_RGB);
    wsi_target_init(&target, &window, "wsi_present", flags);
    for (int i = 0; i < nchecks; i++) {
        if (!strcmp(checks[i], "queries"))
            check_queries(&target);
        else if (!strcmp(checks[i], "present-modes"))
            check_present_modes(&target, &opt);
        else if (!strcmp(checks[i], "acquire"))
            check_acquire(&target, &opt);
        else if (!strcmp(checks[i], "resize"))
            check_resize(&target, &opt);
        else if (!strcmp(checks[i], "present-wait"))
            check_present_wait(&target, &opt);
        else if (!strcmp(checks[i], "maintenance1"))
            wsi_check_maintenance1(&target, &(struct wsi_maintenance1_options){
                .require = opt.require_maintenance1,
                .background_rgb = BACKGROUND_RGB,
                .settle_s = SETTLE_S,
            });
        else
            vkapp_fail(__FILE__, __LINE__, "unknown check %s", checks[i]);
    }
    wsi_target_destroy(&target);
    wsi_window_close(&window);
    return 0;
}
