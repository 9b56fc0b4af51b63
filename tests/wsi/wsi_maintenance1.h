/* wsi_maintenance1: the maintenance1 check of tests/wsi/wsi_present.c.
 * VK_EXT_surface_maintenance1's per-present-mode surface queries and
 * VK_EXT_swapchain_maintenance1's present mode switching (a mode named once
 * holds for later presents; frames already queued keep theirs), present
 * fences and vkReleaseSwapchainImagesEXT, judged from the window's side like
 * the other checks and, where the driver is tether's, from its statistics. */
#ifndef TETHER_TESTS_WSI_MAINTENANCE1_H
#define TETHER_TESTS_WSI_MAINTENANCE1_H

#include "wsi_swapchain.h"

struct wsi_maintenance1_options {
    /* Fail when the extensions are missing; require every present mode of
     * the surface to be compatible with FIFO, FIFO paced and IMMEDIATE not,
     * and vkGetSwapchainStatisticsTETHER: tether's ICD implements both
     * extensions and paces each frame by its own mode on any X server
     * (docs/PRESENTATION.md); Mesa 22.3's lavapipe offers neither. */
    bool require;
    uint32_t background_rgb; /* the window's background (a place no present reached) */
    double settle_s;         /* how long a presented frame may take to reach the window */
};

/**
 * wsi_check_maintenance1() - the "maintenance1" check; prints PASS or exits.
 * @t: a target made with WSI_TARGET_MAINTENANCE1; when t->maintenance1 is
 *     false the check passes with a note, unless @opt->require
 */
void wsi_check_maintenance1(struct wsi_target *t, const struct wsi_maintenance1_options *opt);

#endif
