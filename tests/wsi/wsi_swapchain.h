/* wsi_swapchain: the Vulkan side of tests/wsi/wsi_present.c. An instance with
 * VK_KHR_xcb_surface, a device with VK_KHR_swapchain (and, on request,
 * VK_KHR_present_id + VK_KHR_present_wait or the surface/swapchain maintenance1
 * extensions; vkapp's device set-up), the surface of a wsi_window, swapchains
 * on it and a two-frames-in-flight loop that clears each acquired image to one
 * solid color and presents it. */
#ifndef TETHER_TESTS_WSI_SWAPCHAIN_H
#define TETHER_TESTS_WSI_SWAPCHAIN_H

#define VK_USE_PLATFORM_XCB_KHR
#include <vulkan/vulkan.h>

#include "vkapp.h"
#include "wsi_window.h"

#define WSI_MAX_IMAGES 16
#define WSI_FRAMES_IN_FLIGHT 2

/* wsi_target_init() flag: enable VK_KHR_present_id and VK_KHR_present_wait
 * (extensions and features) when the device offers them. */
#define WSI_TARGET_PRESENT_WAIT 0x1u
/* wsi_target_init() flag: enable VK_KHR_get_surface_capabilities2 and
 * VK_EXT_surface_maintenance1 (instance) and VK_EXT_swapchain_maintenance1
 * with its swapchainMaintenance1 feature (device) when all are offered. */
#define WSI_TARGET_MAINTENANCE1 0x2u

/* Instance, device and surface for one window, plus the frame loop's objects. */
struct wsi_target {
    struct vkapp app;
    struct wsi_window *window;
    VkSurfaceKHR surface;
    VkCommandPool pool; /* resettable command buffers, unlike vkapp's pool */
    VkCommandBuffer cmd[WSI_FRAMES_IN_FLIGHT];
    VkFence in_flight[WSI_FRAMES_IN_FLIGHT];
    VkSemaphore acquired[WSI_FRAMES_IN_FLIGHT];
    uint32_t frame; /* frames recorded so far; picks the in-flight slot */
    /* VK_KHR_present_id and VK_KHR_present_wait are enabled (asked for with
     * WSI_TARGET_PRESENT_WAIT, both offered, presentId and presentWait true);
     * when not, present_wait_missing says why. */
    bool present_wait;
    char present_wait_missing[160];
    PFN_vkWaitForPresentKHR wait_for_present; /* NULL unless present_wait */
    /* VK_EXT_surface_maintenance1 and VK_EXT_swapchain_maintenance1 are
     * enabled (asked for with WSI_TARGET_MAINTENANCE1, all three extensions
     * offered, swapchainMaintenance1 true); when not, maintenance1_missing
     * says why. */
    bool maintenance1;
    char maintenance1_missing[200];
    PFN_vkReleaseSwapchainImagesEXT release_images; /* NULL unless maintenance1 */
};

struct wsi_swapchain {
    VkSwapchainKHR swapchain;
    VkSurfaceFormatKHR format;
    VkPresentModeKHR mode;
    VkExtent2D extent;
    uint32_t min_image_count; /* the surface's minImageCount when created */
    uint32_t image_count;
    VkImage images[WSI_MAX_IMAGES];
    /* Signalled by the clear of image i, waited on by its present; reused when
     * image i comes back from vkAcquireNextImageKHR. */
    VkSemaphore rendered[WSI_MAX_IMAGES];
};

/* Human-readable VkResult, with the WSI codes vkapp_result_name() lacks. */
const char *wsi_result_name(VkResult r);
const char *wsi_present_mode_name(VkPresentModeKHR mode);

/**
 * wsi_target_init() - instance (VK_KHR_surface, VK_KHR_xcb_surface), physical
 * device (TETHER_TEST_DEVICE or the first), XCB surface of @window, device with
 * VK_KHR_swapchain on the first graphics queue family, and the frame loop's
 * command buffers, fences and semaphores. Prints "device: <name>". Exits on failure.
 * @flags: WSI_TARGET_PRESENT_WAIT, WSI_TARGET_MAINTENANCE1 or 0. Without
 *         them the instance has exactly the two surface extensions and the
 *         device exactly VK_KHR_swapchain; with them, the extensions named
 *         are enabled where offered (t->present_wait and t->maintenance1 say
 *         whether they were).
 */
void wsi_target_init(struct wsi_target *t, struct wsi_window *window, const char *name,
                     unsigned flags);
void wsi_target_destroy(struct wsi_target *t);

/**
 * wsi_swapchain_create() - a swapchain at the surface's currentExtent.
 * @mode:        present mode (must be one the surface reports)
 * @image_count: images to ask for; 0 asks for minImageCount
 * @old:         the retired swapchain for oldSwapchain, or VK_NULL_HANDLE
 *
 * Picks B8G8R8A8_UNORM when offered, else B8G8R8A8_SRGB; usage
 * COLOR_ATTACHMENT | TRANSFER_DST (the frames are vkCmdClearColorImage).
 */
void wsi_swapchain_create(struct wsi_target *t, struct wsi_swapchain *sc, VkPresentModeKHR mode,
                          uint32_t image_count, VkSwapchainKHR old);

/**
 * wsi_swapchain_create_modes() - wsi_swapchain_create() with
 * VkSwapchainPresentModesCreateInfoEXT listing @modes (needs t->maintenance1;
 * @mode must be among them), so that presents may switch between them with
 * VkSwapchainPresentModeInfoEXT. @count 0: no such struct.
 */
void wsi_swapchain_create_modes(struct wsi_target *t, struct wsi_swapchain *sc,
                                VkPresentModeKHR mode, uint32_t image_count, VkSwapchainKHR old,
                                const VkPresentModeKHR *modes, uint32_t count);

/* Waits for the queue to be idle (presents wait on rendered[]), then
 * wsi_swapchain_destroy_now(). */
void wsi_swapchain_destroy(struct wsi_target *t, struct wsi_swapchain *sc);

/* Destroys the swapchain and its rendered[] semaphores at once: only for a
 * caller that knows every present is done with them (present fences). */
void wsi_swapchain_destroy_now(struct wsi_target *t, struct wsi_swapchain *sc);

/* Records into @cmd: each of @images UNDEFINED -> TRANSFER_DST, cleared to @rgb,
 * -> PRESENT_SRC_KHR. */
void wsi_record_clear(struct wsi_swapchain *sc, VkCommandBuffer cmd, const uint32_t *images,
                      uint32_t count, uint32_t rgb);

/* Per-channel tolerance of the window read back for the swapchain's format:
 * 0 for UNORM (c/255 converts back exactly), 1 for SRGB (encode rounding). */
int wsi_color_tolerance(const struct wsi_swapchain *sc);

/**
 * wsi_frame() - one frame: acquire (semaphore), clear to @rgb, present.
 *
 * Return: VK_SUCCESS, or the first of VK_SUBOPTIMAL_KHR / VK_ERROR_OUT_OF_DATE_KHR
 * that acquire or present returned (on OUT_OF_DATE from acquire nothing is
 * presented). Any other result exits.
 */
VkResult wsi_frame(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t rgb);

/* What a present chains to VkPresentInfoKHR; a zero member leaves its struct out. */
struct wsi_present_extras {
    uint64_t present_id; /* VkPresentIdKHR; needs t->present_wait */
    VkFence fence;       /* VkSwapchainPresentFenceInfoEXT; needs t->maintenance1 */
    bool set_mode;       /* VkSwapchainPresentModeInfoEXT with @mode; needs t->maintenance1 */
    VkPresentModeKHR mode;
};

/* wsi_frame() whose present carries VkPresentIdKHR @present_id (0: no id, and
 * no VkPresentIdKHR at all; non-zero needs t->present_wait). */
VkResult wsi_frame_id(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t rgb,
                      uint64_t present_id);

/* wsi_frame() whose present chains what @x asks for (NULL: nothing). */
VkResult wsi_frame_ext(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t rgb,
                       const struct wsi_present_extras *x);

/**
 * wsi_present_images() - clears the @count acquired @images to @rgb in one
 * submit, waits for it, then presents each (no semaphores: the host wait
 * orders the presents after the clear). Uses the frame loop's first command
 * buffer and fence; exits unless every present returns VK_SUCCESS.
 */
void wsi_present_images(struct wsi_target *t, struct wsi_swapchain *sc, const uint32_t *images,
                        uint32_t count, uint32_t rgb);

/* Submits @cmd (already recorded) waiting on @wait at TRANSFER (if not NULL),
 * signalling @signal (if not NULL) and @fence (if not NULL). */
void wsi_submit(struct wsi_target *t, VkCommandBuffer cmd, VkSemaphore wait, VkSemaphore signal,
                VkFence fence);

/* vkQueuePresentKHR of one image waiting on @wait; returns its result. */
VkResult wsi_present(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t image,
                     VkSemaphore wait);

/* wsi_present() with VkPresentIdKHR @present_id chained (0: none). */
VkResult wsi_present_id(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t image,
                        VkSemaphore wait, uint64_t present_id);

/* wsi_present() chaining what @x asks for (NULL: nothing). */
VkResult wsi_present_ext(struct wsi_target *t, struct wsi_swapchain *sc, uint32_t image,
                         VkSemaphore wait, const struct wsi_present_extras *x);

VkFence wsi_fence_create(struct wsi_target *t);
VkSemaphore wsi_semaphore_create(struct wsi_target *t);

#endif
