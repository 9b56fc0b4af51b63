/* wsi_maintenance1: surface and swapchain maintenance1 checked from the window's
 * side; see wsi_maintenance1.h. Every frame is a solid color read back with
 * xcb_get_image (wsi_window), so the same program judges a native driver and
 * tether's ICD alike. */
#include "wsi_maintenance1.h"

#include <string.h>
#include <unistd.h>

#include "include/tether/tether_statistics.h"

#define MAX_MODES 16
/* Frames presented FIFO, IMMEDIATE, MAILBOX, FIFO... (the modes compatible with
 * FIFO, in that order): 3 * 10 + 1, so the last one is FIFO again whatever
 * subset is offered. */
#define SWITCH_FRAMES 31
/* Frames presented back to back, none waited for, before the swapchain goes. */
#define BURST_FRAMES 6
/* A present fence signals once the present's semaphore waits are done and the
 * image is free of it: with FIFO showing one image per refresh, 2 s is many
 * refreshes even on a loaded machine. */
#define PRESENT_FENCE_TIMEOUT_NS (2ull * 1000000000)
/* Acquires that must succeed: finite, so a broken release fails the check
 * rather than hanging it (UINT64_MAX would also be valid while fewer than
 * imageCount - minImageCount + 1 images are held). */
#define ACQUIRE_TIMEOUT_NS (2ull * 1000000000)
/* Frames presented without VkSwapchainPresentModeInfoEXT after one present
 * that named a mode. FIFO shows one per refresh with the swapchain's images
 * queued ahead, so they take at least about 0.8 * 60/refresh s (the
 * present-modes check's bound); unpaced through tether they take ~0.06 s at
 * 500x500 (a tenth of FIFO's 1 s at 60 Hz), and half of 60/refresh leaves
 * room for a loaded machine. */
#define STICKY_FRAMES 60
#define PACED_FRACTION 0.8
#define UNPACED_FRACTION 0.5
/* Frames queued in FIFO before one MAILBOX frame on a swapchain of
 * QUEUED_FIFO_FRAMES + 1 images, all presented back to back. */
#define QUEUED_FIFO_FRAMES 3

/* Frame @k's color, distinct for k < 64 (red); green never 0, so never the
 * background's 0xff00ff. */
static uint32_t frame_rgb(uint32_t k)
{
    const uint32_t r = 20u + 3u * (k & 63u), g = 200u - 2u * (k & 63u), b = (k * 37u) & 0xffu;
    return r << 16 | g << 8 | b;
}

static void expect_window(struct wsi_target *t, const struct wsi_swapchain *sc, uint32_t rgb,
                          const struct wsi_maintenance1_options *opt, const char *what)
{
    struct wsi_window_mismatch m;
    if (wsi_window_wait_color(t->window, rgb, wsi_color_tolerance(sc), opt->settle_s, &m))
        return;
    vkapp_fail(__FILE__, __LINE__,
               "%s: window %ux%u not all #%06x %.1f s after the last present: %u pixels differ, "
               "first at (%u,%u) = #%06x%s", what, m.width, m.height, rgb, opt->settle_s,
               m.count, m.first_x, m.first_y, m.first_rgb,
               m.first_rgb == opt->background_rgb ? " (the window background: never presented)"
                                                  : "");
}

static bool has_mode(const VkPresentModeKHR *modes, uint32_t n, VkPresentModeKHR mode)
{
    for (uint32_t i = 0; i < n; i++)
        if (modes[i] == mode)
            return true;
    return false;
}

static void print_modes(const char *what, const VkPresentModeKHR *modes, uint32_t n)
{
    printf("%s", what);
    for (uint32_t i = 0; i < n; i++)
        printf(" %s", wsi_present_mode_name(modes[i]));
    printf("\n");
}

/* What vkGetPhysicalDeviceSurfaceCapabilities2KHR says for one present mode. */
struct mode_caps {
    VkSurfaceCapabilitiesKHR caps;
    VkSurfacePresentScalingCapabilitiesEXT scaling;
    VkPresentModeKHR compatible[MAX_MODES];
    uint32_t compatible_count;
};

/* vkGetPhysicalDeviceSurfaceCapabilities2KHR with VkSurfacePresentModeEXT
 * @mode; VkSurfacePresentModeCompatibilityEXT takes an array of @capacity
 * (NULL when 0: the count query). VUID-...-pNext-07776/07777: both output
 * structs need VkSurfacePresentModeEXT in the surface info. The scaling
 * capabilities ride with the array query only: the validation layer 1.3.239,
 * handed them with the count query, records an empty compatible-mode list for
 * @mode and then reports every mode of VkSwapchainPresentModesCreateInfoEXT
 * as incompatible (VUID-...-pPresentModes-07763). */
static void query_caps(struct wsi_target *t, VkPresentModeKHR mode, uint32_t capacity,
                       struct mode_caps *out)
{
    memset(out, 0, sizeof(*out));
    VkSurfacePresentModeEXT present_mode = {
        .sType = VK_STRUCTURE_TYPE_SURFACE_PRESENT_MODE_EXT,
        .presentMode = mode,
    };
    const VkPhysicalDeviceSurfaceInfo2KHR info = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SURFACE_INFO_2_KHR,
        .pNext = &present_mode,
        .surface = t->surface,
    };
    out->scaling.sType = VK_STRUCTURE_TYPE_SURFACE_PRESENT_SCALING_CAPABILITIES_EXT;
    VkSurfacePresentModeCompatibilityEXT compat = {
        .sType = VK_STRUCTURE_TYPE_SURFACE_PRESENT_MODE_COMPATIBILITY_EXT,
        .pNext = capacity ? &out->scaling : NULL,
        .presentModeCount = capacity,
        .pPresentModes = capacity ? out->compatible : NULL,
    };
    VkSurfaceCapabilities2KHR caps2 = {
        .sType = VK_STRUCTURE_TYPE_SURFACE_CAPABILITIES_2_KHR,
        .pNext = &compat,
    };
    VK_CHECK(vkGetPhysicalDeviceSurfaceCapabilities2KHR(t->app.physical_device, &info, &caps2));
    out->caps = caps2.surfaceCapabilities;
    out->compatible_count = compat.presentModeCount;
}

/* The scaled extents bracket the swapchain extents (VkSurfacePresentScaling-
 * CapabilitiesEXT: min "smaller than or equal to" minImageExtent, max "greater
 * than or equal to" maxImageExtent), unless both are the special 0xFFFFFFFF. */
static void check_scaling(const char *name, const struct mode_caps *mc)
{
    const VkSurfacePresentScalingCapabilitiesEXT *s = &mc->scaling;
    const VkExtent2D lo = s->minScaledImageExtent, hi = s->maxScaledImageExtent;
    if (lo.width == UINT32_MAX && lo.height == UINT32_MAX) {
        APP_CHECK(hi.width == UINT32_MAX && hi.height == UINT32_MAX, "%s: minScaledImageExtent "
                  "is the special value, maxScaledImageExtent %ux%u is not", name, hi.width,
                  hi.height);
        return;
    }
    APP_CHECK(lo.width <= hi.width && lo.height <= hi.height,
              "%s: minScaledImageExtent %ux%u above maxScaledImageExtent %ux%u", name, lo.width,
              lo.height, hi.width, hi.height);
    APP_CHECK(lo.width <= mc->caps.minImageExtent.width &&
                  lo.height <= mc->caps.minImageExtent.height,
              "%s: minScaledImageExtent %ux%u above minImageExtent %ux%u", name, lo.width,
              lo.height, mc->caps.minImageExtent.width, mc->caps.minImageExtent.height);
    APP_CHECK(hi.width >= mc->caps.maxImageExtent.width &&
                  hi.height >= mc->caps.maxImageExtent.height,
              "%s: maxScaledImageExtent %ux%u below maxImageExtent %ux%u", name, hi.width,
              hi.height, mc->caps.maxImageExtent.width, mc->caps.maxImageExtent.height);
}

/* The per-mode surface queries for @mode (one the surface offers); returns
 * what they said. */
static void check_mode_caps(struct wsi_target *t, VkPresentModeKHR mode,
                            const VkPresentModeKHR *surface_modes, uint32_t nsurface,
                            struct mode_caps *mc)
{
    const char *name = wsi_present_mode_name(mode);
    struct wsi_window *w = t->window;
    /* The two-call idiom: the count, then an array of exactly that size. */
    query_caps(t, mode, 0, mc);
    const uint32_t count = mc->compatible_count;
    APP_CHECK(count >= 1 && count <= MAX_MODES, "%s: %u compatible present modes", name, count);
    query_caps(t, mode, count, mc);
    APP_CHECK(mc->compatible_count == count, "%s: %u compatible modes counted, %u written into "
              "an array of %u", name, count, mc->compatible_count, count);
    /* "The implementation must include the present mode passed to
     * VkSurfacePresentModeEXT in pPresentModes" */
    APP_CHECK(has_mode(mc->compatible, count, mode), "%s is not among its own compatible modes",
              name);
    for (uint32_t i = 0; i < count; i++) {
        /* A swapchain may list only modes the surface offers
         * (VUID-VkSwapchainPresentModesCreateInfoEXT-None-07762). */
        APP_CHECK(has_mode(surface_modes, nsurface, mc->compatible[i]),
                  "%s: compatible mode %s (%d) is not a present mode of the surface", name,
                  wsi_present_mode_name(mc->compatible[i]), (int)mc->compatible[i]);
        APP_CHECK(!has_mode(mc->compatible, i, mc->compatible[i]),
                  "%s: compatible mode %s listed twice", name,
                  wsi_present_mode_name(mc->compatible[i]));
    }

    const VkSurfaceCapabilitiesKHR *caps = &mc->caps;
    APP_CHECK(caps->currentExtent.width == w->width && caps->currentExtent.height == w->height,
              "%s: currentExtent %ux%u, window is %ux%u", name, caps->currentExtent.width,
              caps->currentExtent.height, w->width, w->height);
    APP_CHECK(caps->minImageCount >= 1 &&
                  (caps->maxImageCount == 0 || caps->maxImageCount >= caps->minImageCount),
              "%s: image counts min %u max %u", name, caps->minImageCount, caps->maxImageCount);
    check_scaling(name, mc);
    printf("%s: images %u..%u, scaling 0x%x (gravity x 0x%x y 0x%x), scaled extents "
           "%ux%u..%ux%u;", name, caps->minImageCount, caps->maxImageCount,
           mc->scaling.supportedPresentScaling, mc->scaling.supportedPresentGravityX,
           mc->scaling.supportedPresentGravityY, mc->scaling.minScaledImageExtent.width,
           mc->scaling.minScaledImageExtent.height, mc->scaling.maxScaledImageExtent.width,
           mc->scaling.maxScaledImageExtent.height);
    print_modes(" compatible:", mc->compatible, count);
}

/* Surface queries per present mode; returns the modes compatible with FIFO in
 * @fifo_compatible. */
static uint32_t check_surface_queries(struct wsi_target *t,
                                      const struct wsi_maintenance1_options *opt,
                                      VkPresentModeKHR *fifo_compatible)
{
    VkPresentModeKHR modes[MAX_MODES];
    uint32_t nmodes = MAX_MODES;
    VK_CHECK(vkGetPhysicalDeviceSurfacePresentModesKHR(t->app.physical_device, t->surface,
                                                       &nmodes, modes));
    print_modes("surface present modes:", modes, nmodes);
    APP_CHECK(has_mode(modes, nmodes, VK_PRESENT_MODE_FIFO_KHR), "surface does not offer FIFO");

    /* A short array: "at most presentModeCount values will be written", and
     * "the implementation must include the present mode passed to
     * VkSurfacePresentModeEXT in pPresentModes, unless presentModeCount is
     * zero": with room for one, the mode asked about is the one written,
     * whichever mode it is. Asked before the full queries, so that the last
     * answer a validation layer in the application records for each mode is
     * the whole list (see query_caps()). */
    for (uint32_t i = 0; i < nmodes; i++) {
        struct mode_caps one;
        query_caps(t, modes[i], 1, &one);
        APP_CHECK(one.compatible_count == 1 && one.compatible[0] == modes[i],
                  "%s: compatibility query with room for 1 mode wrote %u, the first %s "
                  "(VkSurfacePresentModeCompatibilityEXT must include the mode asked about)",
                  wsi_present_mode_name(modes[i]), one.compatible_count,
                  one.compatible_count ? wsi_present_mode_name(one.compatible[0]) : "-");
    }

    uint32_t nfifo = 0;
    for (uint32_t i = 0; i < nmodes; i++) {
        struct mode_caps mc;
        check_mode_caps(t, modes[i], modes, nmodes, &mc);
        if (modes[i] != VK_PRESENT_MODE_FIFO_KHR)
            continue;
        nfifo = mc.compatible_count;
        memcpy(fifo_compatible, mc.compatible, nfifo * sizeof(*fifo_compatible));
    }

    if (opt->require) {
        for (uint32_t i = 0; i < nmodes; i++)
            APP_CHECK(has_mode(fifo_compatible, nfifo, modes[i]),
                      "%s is not compatible with FIFO (the surface offers it, and tether's "
                      "presenter paces each frame by its own mode)",
                      wsi_present_mode_name(modes[i]));
    }
    printf("maintenance1: surface queries per present mode consistent; with room for one "
           "mode, each query writes the mode asked about\n");
    return nfifo;
}

/* vkWaitForFences on frame @k's present fence; must signal within 2 s. */
static void wait_present_fence(struct wsi_target *t, VkFence fence, uint32_t k,
                               VkPresentModeKHR mode, double *longest)
{
    const double t0 = vkapp_now();
    VkResult r = vkWaitForFences(t->app.device, 1, &fence, VK_TRUE, PRESENT_FENCE_TIMEOUT_NS);
    const double waited = vkapp_now() - t0;
    APP_CHECK(r == VK_SUCCESS, "present fence of frame %u (%s): vkWaitForFences(2 s) returned %s "
              "after %.1f ms", k, wsi_present_mode_name(mode), wsi_result_name(r), waited * 1e3);
    *longest = waited > *longest ? waited : *longest;
}

/* Frame @k: a fresh color, the present mode @mode, a present fence. */
static void switched_frame(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t k,
                           VkPresentModeKHR mode, VkFence fence)
{
    const struct wsi_present_extras x = {.fence = fence, .set_mode = true, .mode = mode};
    VkResult r = wsi_frame_ext(t, sc, frame_rgb(k), &x);
    APP_CHECK(r == VK_SUCCESS, "frame %u presented in %s: %s with an unchanged window", k,
              wsi_present_mode_name(mode), wsi_result_name(r));
}

/* One swapchain created with the modes compatible with FIFO, presents that
 * switch the mode each frame, a present fence on every present; the window
 * shows the last frame; then a burst of frames whose fences alone tell when
 * the swapchain and its semaphores may be destroyed. */
static void check_mode_switching(struct wsi_target *t, const struct wsi_maintenance1_options *opt,
                                 const VkPresentModeKHR *compatible, uint32_t ncompatible)
{
    static const VkPresentModeKHR order[] = {
        VK_PRESENT_MODE_FIFO_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR, VK_PRESENT_MODE_MAILBOX_KHR,
    };
    VkPresentModeKHR seq[3];
    uint32_t nseq = 0;
    for (uint32_t i = 0; i < 3; i++)
        if (has_mode(compatible, ncompatible, order[i]))
            seq[nseq++] = order[i];
    print_modes("maintenance1: presents switch between", seq, nseq);

    struct wsi_swapchain sc;
    wsi_swapchain_create_modes(t, &sc, VK_PRESENT_MODE_FIFO_KHR, 0, VK_NULL_HANDLE, compatible,
                               ncompatible);
    VkFence fences[SWITCH_FRAMES + BURST_FRAMES];
    for (uint32_t k = 0; k < SWITCH_FRAMES + BURST_FRAMES; k++)
        fences[k] = wsi_fence_create(t);

    /* Each present's fence is waited for after the next present, so one
     * present is always outstanding as in a real frame loop. */
    double longest = 0.0;
    const double t0 = vkapp_now();
    for (uint32_t k = 0; k < SWITCH_FRAMES; k++) {
        switched_frame(t, &sc, k, seq[k % nseq], fences[k]);
        if (k > 0)
            wait_present_fence(t, fences[k - 1], k - 1, seq[(k - 1) % nseq], &longest);
    }
    wait_present_fence(t, fences[SWITCH_FRAMES - 1], SWITCH_FRAMES - 1,
                       seq[(SWITCH_FRAMES - 1) % nseq], &longest);
    const double elapsed = vkapp_now() - t0;
    expect_window(t, &sc, frame_rgb(SWITCH_FRAMES - 1), opt,
                  "last of the frames switching present modes");
    printf("maintenance1: %d frames switching modes in %.3f s, every present fence signalled "
           "(longest wait %.1f ms), window shows the last frame\n", SWITCH_FRAMES, elapsed,
           longest * 1e3);

    /* VkSwapchainPresentFenceInfoEXT: once the fences signal, the present's
     * wait semaphores and the swapchain may be destroyed: no vkQueueWaitIdle
     * first. (The validation layer does not know present fences, issue #7025
     * of Vulkan-ValidationLayers: run in the application it reports these
     * semaphores in use. Through tether it runs in tetherd, where the fence is
     * signalled by an ordinary submit and the check is meaningful.) */
    for (uint32_t k = SWITCH_FRAMES; k < SWITCH_FRAMES + BURST_FRAMES; k++)
        switched_frame(t, &sc, k, seq[k % nseq], fences[k]);
    longest = 0.0;
    for (uint32_t k = SWITCH_FRAMES; k < SWITCH_FRAMES + BURST_FRAMES; k++)
        wait_present_fence(t, fences[k], k, seq[k % nseq], &longest);
    for (uint32_t k = 0; k < SWITCH_FRAMES + BURST_FRAMES; k++)
        VK_CHECK(vkGetFenceStatus(t->app.device, fences[k]));
    wsi_swapchain_destroy_now(t, &sc);
    for (uint32_t k = 0; k < SWITCH_FRAMES + BURST_FRAMES; k++)
        vkDestroyFence(t->app.device, fences[k], NULL);
    printf("maintenance1: %d more frames back to back, their present fences signalled "
           "(longest wait %.1f ms), swapchain destroyed without waiting for the queue\n",
           BURST_FRAMES, longest * 1e3);
}

/* vkAcquireNextImageKHR with a fresh fence, waited for when the acquire
 * succeeds ("the fence ... will be signaled when the presentation engine has
 * released ownership of the image"), so the image is free for a release
 * (VUID-VkReleaseSwapchainImagesInfoEXT-pImageIndices-07786). */
static VkResult acquire(struct wsi_target *t, struct wsi_swapchain *sc, uint64_t timeout,
                        uint32_t *image)
{
    const VkDevice dev = t->app.device;
    VkFence fence = wsi_fence_create(t);
    *image = UINT32_MAX;
    VkResult r = vkAcquireNextImageKHR(dev, sc->swapchain, timeout, VK_NULL_HANDLE, fence, image);
    if (r == VK_SUCCESS) {
        APP_CHECK(*image < sc->image_count, "acquired image index %u of %u", *image,
                  sc->image_count);
        VK_CHECK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 5ull * 1000000000));
    } else {
        /* Nothing acquired: the fence must be left alone. */
        VK_EXPECT(vkGetFenceStatus(dev, fence), VK_NOT_READY);
    }
    vkDestroyFence(dev, fence, NULL);
    return r;
}

/* Acquires until no image is left (timeout 0 beyond the imageCount -
 * minImageCount + 1 that must come in finite time); appends to @held[*n]. */
static void acquire_all(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t *held,
                        uint32_t *n)
{
    const uint32_t guaranteed = sc->image_count - sc->min_image_count + 1;
    for (;;) {
        const uint64_t timeout = *n < guaranteed ? ACQUIRE_TIMEOUT_NS : 0;
        uint32_t image;
        VkResult r = acquire(t, sc, timeout, &image);
        if (r == VK_NOT_READY && timeout == 0)
            return;
        APP_CHECK(r == VK_SUCCESS, "acquire #%u (timeout %s, %u of %u images held): %s", *n + 1,
                  timeout ? "2 s" : "0", *n, sc->image_count, wsi_result_name(r));
        APP_CHECK(*n < sc->image_count,
                  "acquired more images than the swapchain has");
        for (uint32_t i = 0; i < *n; i++)
            APP_CHECK(held[i] != image, "image %u acquired twice without a present or release",
                      image);
        held[(*n)++] = image;
    }
}

static void release(struct wsi_target *t, struct wsi_swapchain *sc, const uint32_t *images,
                    uint32_t count)
{
    const VkReleaseSwapchainImagesInfoEXT info = {
        .sType = VK_STRUCTURE_TYPE_RELEASE_SWAPCHAIN_IMAGES_INFO_EXT,
        .swapchain = sc->swapchain,
        .imageIndexCount = count,
        .pImageIndices = images,
    };
    VK_CHECK(t->release_images(t->app.device, &info));
}

/* vkReleaseSwapchainImagesEXT: acquired images given back unpresented can be
 * acquired again, one or all of them, and the swapchain presents afterwards. */
static void check_release(struct wsi_target *t, const struct wsi_maintenance1_options *opt)
{
    struct wsi_swapchain sc;
    wsi_swapchain_create(t, &sc, VK_PRESENT_MODE_FIFO_KHR, 0, VK_NULL_HANDLE);
    uint32_t first, again;
    VK_CHECK(acquire(t, &sc, ACQUIRE_TIMEOUT_NS, &first));
    release(t, &sc, &first, 1);
    VkResult r = acquire(t, &sc, ACQUIRE_TIMEOUT_NS, &again);
    APP_CHECK(r == VK_SUCCESS, "acquire after releasing image %u: %s", first, wsi_result_name(r));
    release(t, &sc, &again, 1);
    printf("maintenance1: image %u acquired, released, then image %u acquired and released\n",
           first, again);

    /* Every image the presentation engine gives, then one of them back: with
     * nothing presented, the released image is the only one free. */
    uint32_t held[WSI_MAX_IMAGES], n = 0;
    acquire_all(t, &sc, held, &n);
    const uint32_t all = n;
    APP_CHECK(all >= 1, "no image acquirable from a fresh swapchain");
    release(t, &sc, &held[n - 1], 1);
    r = acquire(t, &sc, 0, &again);
    APP_CHECK(r == VK_SUCCESS, "all %u acquirable images held, image %u released: acquire with "
              "timeout 0 returned %s", all, held[n - 1], wsi_result_name(r));
    held[n - 1] = again;

    /* All of them back in one call: all acquirable again, the first at once. */
    release(t, &sc, held, n);
    n = 0;
    r = acquire(t, &sc, 0, &held[0]);
    APP_CHECK(r == VK_SUCCESS, "all %u acquired images released: acquire with timeout 0 "
              "returned %s", all, wsi_result_name(r));
    n = 1;
    acquire_all(t, &sc, held, &n);
    APP_CHECK(n == all, "%u images acquirable before releasing them all, %u after", all, n);
    printf("maintenance1: %u of %u images acquired, one released and re-acquired with timeout "
           "0, all released and re-acquired\n", all, sc.image_count);

    /* Re-acquired images are the swapchain's as before: presented, they reach
     * the window. (Presented rather than released once more: the validation
     * layer 1.3.239 does not count releases, so a later UINT64_MAX acquire
     * would look like one beyond imageCount - minImageCount + 1 to it.) */
    wsi_present_images(t, &sc, held, n, frame_rgb(40));
    expect_window(t, &sc, frame_rgb(40), opt, "re-acquired images presented");
    printf("maintenance1: the re-acquired images presented reach the window\n");
    wsi_swapchain_destroy(t, &sc);
}

/* STICKY_FRAMES frames after one present in @mode given with
 * VkSwapchainPresentModeInfoEXT, none of them with the struct; returns their
 * duration in seconds. @k: the first frame's number (its color). */
static double sticky_series(struct wsi_target *t, struct wsi_swapchain *sc, VkPresentModeKHR mode,
                            uint32_t k)
{
    const struct wsi_present_extras x = {.set_mode = true, .mode = mode};
    VkResult r = wsi_frame_ext(t, sc, frame_rgb(k), &x);
    APP_CHECK(r == VK_SUCCESS, "frame %u presented in %s: %s with an unchanged window", k,
              wsi_present_mode_name(mode), wsi_result_name(r));
    const double t0 = vkapp_now();
    for (uint32_t f = 1; f <= STICKY_FRAMES; f++) {
        r = wsi_frame(t, sc, frame_rgb(k + f));
        APP_CHECK(r == VK_SUCCESS, "frame %u, the %u-th without a present mode after one in %s: "
                  "%s with an unchanged window", k + f, f, wsi_present_mode_name(mode),
                  wsi_result_name(r));
    }
    return vkapp_now() - t0;
}

/* VkSwapchainPresentModeInfoEXT "defines the presentation modes used for the
 * current and subsequent presentation operations": a mode named once holds
 * until another present names one; the swapchain's presentMode is only where
 * it starts. Created in IMMEDIATE, one FIFO present makes the next
 * STICKY_FRAMES paced; then one IMMEDIATE present makes the next
 * STICKY_FRAMES unpaced again. */
static void check_sticky_mode(struct wsi_target *t, const struct wsi_maintenance1_options *opt,
                              const VkPresentModeKHR *compatible, uint32_t ncompatible)
{
    if (!has_mode(compatible, ncompatible, VK_PRESENT_MODE_IMMEDIATE_KHR)) {
        printf("note: IMMEDIATE not compatible with FIFO here; mode persistence not checked\n");
        return;
    }
    struct wsi_swapchain sc;
    wsi_swapchain_create_modes(t, &sc, VK_PRESENT_MODE_IMMEDIATE_KHR, 0, VK_NULL_HANDLE,
                               compatible, ncompatible);
    const double hz = wsi_window_refresh_hz(t->window);
    const double refreshes_s = STICKY_FRAMES / hz;
    const double fifo_s = sticky_series(t, &sc, VK_PRESENT_MODE_FIFO_KHR, 0);
    const double immediate_s = sticky_series(t, &sc, VK_PRESENT_MODE_IMMEDIATE_KHR,
                                             STICKY_FRAMES + 1);
    VK_CHECK(vkQueueWaitIdle(t->app.queue));
    expect_window(t, &sc, frame_rgb(2 * STICKY_FRAMES + 1), opt,
                  "last of the frames after one IMMEDIATE present");
    printf("maintenance1: swapchain created IMMEDIATE; after one FIFO present %d frames without "
           "a mode took %.3f s, after one IMMEDIATE present %.3f s (%d refreshes at %.0f Hz: "
           "%.3f s)\n", STICKY_FRAMES, fifo_s, immediate_s, STICKY_FRAMES, hz, refreshes_s);
    if (opt->require) {
        /* Only tether's presenter is known to pace FIFO on Xvfb (Mesa's
         * software X11 path draws each present at once): the timings are
         * judged in the tether run, as --spec-timing does for present-modes. */
        APP_CHECK(fifo_s >= PACED_FRACTION * refreshes_s,
                  "FIFO given with one present does not hold for the next: %d frames without "
                  "a mode took %.3f s, FIFO needs >= %.3f s at %.0f Hz (the swapchain was "
                  "created IMMEDIATE)", STICKY_FRAMES, fifo_s, PACED_FRACTION * refreshes_s, hz);
        APP_CHECK(immediate_s < UNPACED_FRACTION * refreshes_s,
                  "IMMEDIATE given with one present does not hold for the next: %d frames "
                  "without a mode took %.3f s, >= %.3f s (half of %d refreshes at %.0f Hz: "
                  "paced like FIFO)", STICKY_FRAMES, immediate_s,
                  UNPACED_FRACTION * refreshes_s, STICKY_FRAMES, hz);
    }
    wsi_swapchain_destroy(t, &sc);
}

/* Clears each of @images[i] to @rgb[i] in one submit and waits for it, so
 * presents without semaphores can follow back to back. */
static void clear_images(struct wsi_target *t, struct wsi_swapchain *sc, const uint32_t *images,
                         const uint32_t *rgb, uint32_t count)
{
    const VkDevice dev = t->app.device;
    VkCommandBuffer cmd = t->cmd[0];
    VK_CHECK(vkWaitForFences(dev, 1, &t->in_flight[0], VK_TRUE, 10ull * 1000000000));
    VK_CHECK(vkResetFences(dev, 1, &t->in_flight[0]));
    VK_CHECK(vkResetCommandBuffer(cmd, 0));
    const VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    for (uint32_t i = 0; i < count; i++)
        wsi_record_clear(sc, cmd, &images[i], 1, rgb[i]);
    VK_CHECK(vkEndCommandBuffer(cmd));
    wsi_submit(t, cmd, VK_NULL_HANDLE, VK_NULL_HANDLE, t->in_flight[0]);
    VK_CHECK(vkWaitForFences(dev, 1, &t->in_flight[0], VK_TRUE, 10ull * 1000000000));
}

/* tether's statistics of the device's newest swapchain once every frame
 * presented is accounted for (shown, dropped or failed), or after @settle_s. */
static VkSwapchainStatisticsTETHER settled_statistics(struct wsi_target *t,
                                                      PFN_vkGetSwapchainStatisticsTETHER get,
                                                      double settle_s)
{
    const double deadline = vkapp_now() + settle_s;
    VkSwapchainStatisticsTETHER st;
    for (;;) {
        memset(&st, 0, sizeof(st));
        /* VK_NULL_HANDLE: the newest swapchain of the device (a layer may
         * wrap handles; tether_statistics.h). */
        VK_CHECK(get(t->app.device, VK_NULL_HANDLE, &st));
        if (st.framesShown + st.framesDropped + st.framesFailed >= st.framesPresented ||
            vkapp_now() > deadline)
            return st;
        usleep(5 * 1000);
    }
}

/* VkSwapchainPresentModeInfoEXT: "images that have already been queued for
 * presentation will continue to be presented according to the previous
 * present mode", so a MAILBOX present replaces queued MAILBOX frames only and
 * frames queued in FIFO are each shown. QUEUED_FIFO_FRAMES FIFO presents
 * then one MAILBOX present, back to back on a swapchain with an image for
 * each: tether's statistics must count every one shown, none dropped. */
static void check_mailbox_keeps_fifo(struct wsi_target *t,
                                     const struct wsi_maintenance1_options *opt,
                                     const VkPresentModeKHR *compatible, uint32_t ncompatible)
{
    enum { FRAMES = QUEUED_FIFO_FRAMES + 1 };
    /* Only tether's driver answers this name (tether_statistics.h). */
    PFN_vkGetSwapchainStatisticsTETHER get = (PFN_vkGetSwapchainStatisticsTETHER)
        vkGetDeviceProcAddr(t->app.device, "vkGetSwapchainStatisticsTETHER");
    if (!get || !has_mode(compatible, ncompatible, VK_PRESENT_MODE_MAILBOX_KHR)) {
        APP_CHECK(!opt->require, "vkGetSwapchainStatisticsTETHER %s, MAILBOX %s: tether's ICD "
                  "answers the one and makes the other compatible with FIFO",
                  get ? "found" : "not found",
                  has_mode(compatible, ncompatible, VK_PRESENT_MODE_MAILBOX_KHR)
                      ? "compatible with FIFO" : "not compatible with FIFO");
        printf("note: no tether statistics or no MAILBOX; FIFO frames before a MAILBOX one "
               "not checked\n");
        return;
    }
    struct wsi_swapchain sc;
    wsi_swapchain_create_modes(t, &sc, VK_PRESENT_MODE_FIFO_KHR, FRAMES, VK_NULL_HANDLE,
                               compatible, ncompatible);
    /* Nothing presented yet, so every image is free; beyond the imageCount -
     * minImageCount + 1 guaranteed, a finite timeout is the valid way to ask. */
    const uint32_t guaranteed = sc.image_count - sc.min_image_count + 1;
    uint32_t images[FRAMES], rgb[FRAMES];
    for (uint32_t i = 0; i < FRAMES; i++) {
        VkResult r = acquire(t, &sc, i < guaranteed ? ACQUIRE_TIMEOUT_NS : 0, &images[i]);
        APP_CHECK(r == VK_SUCCESS, "acquire %u of %d on a fresh %u-image swapchain: %s", i + 1,
                  FRAMES, sc.image_count, wsi_result_name(r));
        rgb[i] = frame_rgb(48 + i);
    }
    clear_images(t, &sc, images, rgb, FRAMES);
    for (uint32_t i = 0; i < FRAMES; i++) {
        const struct wsi_present_extras x = {
            .set_mode = true,
            .mode = i < QUEUED_FIFO_FRAMES ? VK_PRESENT_MODE_FIFO_KHR : VK_PRESENT_MODE_MAILBOX_KHR,
        };
        VK_CHECK(wsi_present_ext(t, &sc, images[i], VK_NULL_HANDLE, &x));
    }
    const VkSwapchainStatisticsTETHER st = settled_statistics(t, get, opt->settle_s);
    APP_CHECK(st.framesPresented == FRAMES && st.framesShown == FRAMES &&
                  st.framesDropped == 0 && st.framesFailed == 0,
              "%d FIFO presents then 1 MAILBOX present: tether counts %llu presented, %llu "
              "shown, %llu dropped, %llu failed; expected %d shown, none dropped (a MAILBOX "
              "frame may replace queued MAILBOX frames only)", QUEUED_FIFO_FRAMES,
              (unsigned long long)st.framesPresented, (unsigned long long)st.framesShown,
              (unsigned long long)st.framesDropped, (unsigned long long)st.framesFailed, FRAMES);
    expect_window(t, &sc, rgb[FRAMES - 1], opt, "the MAILBOX frame after queued FIFO frames");
    printf("maintenance1: %d FIFO frames then 1 MAILBOX frame back to back on %u images: %llu "
           "shown, %llu dropped, window shows the MAILBOX frame\n", QUEUED_FIFO_FRAMES,
           sc.image_count, (unsigned long long)st.framesShown,
           (unsigned long long)st.framesDropped);
    wsi_swapchain_destroy(t, &sc);
}

void wsi_check_maintenance1(struct wsi_target *t, const struct wsi_maintenance1_options *opt)
{
    if (!t->maintenance1) {
        APP_CHECK(!opt->require, "maintenance1 required (--require-maintenance1), but %s",
                  t->maintenance1_missing);
        /* Debian 12's lavapipe (Mesa 22.3) offers neither extension. */
        printf("note: surface/swapchain maintenance1 not checked: %s\n",
               t->maintenance1_missing);
        printf("PASS maintenance1 (not offered here)\n");
        return;
    }
    VkPresentModeKHR compatible[MAX_MODES];
    const uint32_t ncompatible = check_surface_queries(t, opt, compatible);
    check_mode_switching(t, opt, compatible, ncompatible);
    check_release(t, opt);
    check_sticky_mode(t, opt, compatible, ncompatible);
    check_mailbox_keeps_fifo(t, opt, compatible, ncompatible);
    printf("PASS maintenance1\n");
}
