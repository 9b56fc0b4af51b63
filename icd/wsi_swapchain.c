/*
 * Swapchains. Each image is, at any time, available to acquire, acquired by
 * the application, presented (its frame on the way back), or queued to be
 * shown. Acquire waits locally for an available image; present sends one
 * command and returns. A presenter thread per swapchain shows queued frames
 * with the present mode's pacing and frees each image once the window system
 * has its pixels:
 *   FIFO       every frame, one per display refresh; the queue is bounded by
 *              the images, so a fast application waits in acquire
 *   MAILBOX    at each refresh the newest frame; older queued ones are dropped
 *   IMMEDIATE  every frame as soon as it arrives, unpaced
 */
#include "icd/wsi.h"

#include <stdlib.h>
#include <string.h>

#include "include/tether/tether_statistics.h"
#include "tether_icd_entrypoints.h"

static struct tether_icd_swapchain *swapchain_from(VkSwapchainKHR h)
{
	return (struct tether_icd_swapchain *)(uintptr_t)h;
}

/* Every live swapchain, newest first: tether's own commands check handles
 * against it (no layer knows them, so none unwraps their handles). */
static struct tether_mutex live_lock;
static struct tether_icd_swapchain *live;

__attribute__((constructor)) static void live_init(void)
{
	tether_mutex_init(&live_lock);
}

static void live_add(struct tether_icd_swapchain *sc)
{
	tether_mutex_lock(&live_lock);
	sc->next_live = live;
	live = sc;
	tether_mutex_unlock(&live_lock);
}

static void live_remove(struct tether_icd_swapchain *sc)
{
	tether_mutex_lock(&live_lock);
	for (struct tether_icd_swapchain **p = &live; *p; p = &(*p)->next_live)
		if (*p == sc) {
			*p = sc->next_live;
			break;
		}
	tether_mutex_unlock(&live_lock);
}

static uint32_t latency_sample_us(uint64_t ns)
{
	uint64_t us = ns / 1000;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Frees image @i for acquire (lock held). */
static void release_locked(struct tether_icd_swapchain *sc, uint32_t i)
{
	sc->state[i] = TETHER_IMAGE_AVAILABLE;
	tether_cond_broadcast(&sc->changed);
}

static void *presenter_main(void *arg)
{
	struct tether_icd_swapchain *sc = arg;
	struct tether_display *display = sc->surface->display;
	tether_mutex_lock(&sc->lock);
	for (;;) {
		while (!sc->queue_count && !sc->stopping)
			tether_cond_wait(&sc->changed, &sc->lock);
		if (sc->stopping)
			break;
		uint32_t pick = sc->queue[sc->queue_head];
		if (sc->frame_mode[pick] == VK_PRESENT_MODE_MAILBOX_KHR) {
			/* Only the newest queued frame is shown; the others are replaced. */
			while (sc->queue_count > 1 && sc->frame_mode[pick] == VK_PRESENT_MODE_MAILBOX_KHR) {
				release_locked(sc, pick);
				sc->frames_dropped++;
				sc->queue_head = (sc->queue_head + 1) % TETHER_SWAPCHAIN_MAX_IMAGES;
				sc->queue_count--;
				pick = sc->queue[sc->queue_head];
			}
		}
		sc->queue_head = (sc->queue_head + 1) % TETHER_SWAPCHAIN_MAX_IMAGES;
		sc->queue_count--;
		const bool paced = sc->frame_mode[pick] != VK_PRESENT_MODE_IMMEDIATE_KHR;
		tether_mutex_unlock(&sc->lock);

		VkResult r = tether_display_show(display, sc->buffers[pick]);
		uint64_t shown = tether_time_ns();

		tether_mutex_lock(&sc->lock);
		if (r != VK_SUCCESS && sc->status == VK_SUCCESS)
			sc->status = r;
		sc->latency_us[sc->latency_count % TETHER_LATENCY_SAMPLES] =
			latency_sample_us(shown - sc->present_ns[pick]);
		sc->latency_count++;
		sc->frames_shown++;
		if (sc->present_id[pick] > sc->present_id_done)
			sc->present_id_done = sc->present_id[pick];
		release_locked(sc, pick);
		if (paced && r == VK_SUCCESS) {
			tether_mutex_unlock(&sc->lock);
			tether_display_wait_refresh(display);
			tether_mutex_lock(&sc->lock);
		}
	}
	tether_mutex_unlock(&sc->lock);
	return NULL;
}

void tether_icd_swapchain_frame_ready(struct tether_icd_swapchain *sc, uint32_t image, VkResult status,
				      uint64_t bytes)
{
	tether_mutex_lock(&sc->lock);
	sc->bytes_received += bytes;
	if (sc->state[image] != TETHER_IMAGE_PRESENTED) {
		TETHER_LOGW("frames", "FRAME for image %u that was not presented", image);
	} else if (status != VK_SUCCESS) {
		sc->frames_failed++;
		if (sc->present_id[image] > sc->present_id_done)
			sc->present_id_done = sc->present_id[image];
		release_locked(sc, image);
	} else {
		/* MAILBOX: a newer frame replaces the waiting MAILBOX frames at once,
		 * so their images are free without waiting for a refresh; frames
		 * queued in another mode keep it and are shown. */
		if (sc->frame_mode[image] == VK_PRESENT_MODE_MAILBOX_KHR) {
			uint32_t kept = 0;
			for (uint32_t k = 0; k < sc->queue_count; k++) {
				uint32_t q = sc->queue[(sc->queue_head + k) % TETHER_SWAPCHAIN_MAX_IMAGES];
				if (sc->frame_mode[q] == VK_PRESENT_MODE_MAILBOX_KHR) {
					release_locked(sc, q);
					sc->frames_dropped++;
				} else {
					sc->queue[(sc->queue_head + kept++) % TETHER_SWAPCHAIN_MAX_IMAGES] = q;
				}
			}
			sc->queue_count = kept;
		}
		sc->state[image] = TETHER_IMAGE_QUEUED;
		sc->queue[(sc->queue_head + sc->queue_count) % TETHER_SWAPCHAIN_MAX_IMAGES] = image;
		sc->queue_count++;
		tether_cond_broadcast(&sc->changed);
	}
	tether_mutex_unlock(&sc->lock);
}

void tether_icd_swapchain_lost(struct tether_icd_swapchain *sc, VkResult status)
{
	tether_mutex_lock(&sc->lock);
	if (sc->status == VK_SUCCESS || sc->status == VK_ERROR_OUT_OF_DATE_KHR)
		sc->status = status;
	/* Frames still on the way will never come: their images are free. */
	for (uint32_t i = 0; i < sc->image_count; i++)
		if (sc->state[i] == TETHER_IMAGE_PRESENTED)
			sc->state[i] = TETHER_IMAGE_AVAILABLE;
	tether_cond_broadcast(&sc->changed);
	tether_mutex_unlock(&sc->lock);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Median and 99th percentile of the latencies kept, in microseconds. */
static void latency_stats(struct tether_icd_swapchain *sc, uint32_t *median, uint32_t *p99)
{
	uint64_t n = sc->latency_count < TETHER_LATENCY_SAMPLES ? sc->latency_count : TETHER_LATENCY_SAMPLES;
	*median = *p99 = 0;
	if (!n)
		return;
	uint32_t sorted[TETHER_LATENCY_SAMPLES];
	memcpy(sorted, sc->latency_us, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_u32);
	*median = sorted[n / 2];
	*p99 = sorted[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetSwapchainStatisticsTETHER(VkDevice device, VkSwapchainKHR swapchain,
									VkSwapchainStatisticsTETHER *st)
{
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	tether_mutex_lock(&live_lock);
	struct tether_icd_swapchain *sc = live;
	while (sc && (swapchain ? sc != swapchain_from(swapchain) : sc->device != dev))
		sc = sc->next_live;
	if (!sc) {
		tether_mutex_unlock(&live_lock);
		return TETHER_ERR("wsi", VK_ERROR_UNKNOWN,
				  "vkGetSwapchainStatisticsTETHER: not a tether swapchain (a layer wrapping handles? "
				  "pass VK_NULL_HANDLE for the device's newest swapchain)");
	}
	tether_mutex_lock(&sc->lock);
	st->framesPresented = sc->next_seq;
	st->framesShown = sc->frames_shown;
	st->framesDropped = sc->frames_dropped;
	st->framesFailed = sc->frames_failed;
	st->bytesReceived = sc->bytes_received;
	latency_stats(sc, &st->latencyMedianUs, &st->latency99Us);
	st->latencyLastUs = sc->latency_count ? sc->latency_us[(sc->latency_count - 1) % TETHER_LATENCY_SAMPLES] : 0;
	st->latencySamples = sc->latency_count < TETHER_LATENCY_SAMPLES ? (uint32_t)sc->latency_count
									 : TETHER_LATENCY_SAMPLES;
	tether_mutex_unlock(&sc->lock);
	tether_mutex_unlock(&live_lock);
	return VK_SUCCESS;
}

/* Frames presented before a swapchain goes are shown first (as a local
 * driver finishes its queued presents), for at most a second. */
static void finish_presents(struct tether_icd_swapchain *sc)
{
	const uint64_t deadline = tether_time_ns() + 1000000000ull;
	tether_mutex_lock(&sc->lock);
	for (;;) {
		bool pending = false;
		for (uint32_t i = 0; i < sc->image_count; i++)
			pending |= sc->state[i] == TETHER_IMAGE_PRESENTED || sc->state[i] == TETHER_IMAGE_QUEUED;
		uint64_t now = tether_time_ns();
		if (!pending || sc->status != VK_SUCCESS || now >= deadline)
			break;
		tether_cond_timedwait(&sc->changed, &sc->lock, deadline - now);
	}
	sc->stopping = true;
	tether_cond_broadcast(&sc->changed);
	tether_mutex_unlock(&sc->lock);
}

static void swapchain_free(struct tether_icd_swapchain *sc)
{
	for (uint32_t i = 0; i < sc->image_count; i++)
		if (sc->buffers[i])
			tether_display_buffer_destroy(sc->surface->display, sc->buffers[i]);
	tether_cond_destroy(&sc->changed);
	tether_mutex_destroy(&sc->lock);
	free(sc);
}

/* The server frees the swapchain's images once its frames in flight are sent. */
static void send_destroy(VkDevice device, struct tether_icd_swapchain *sc)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	struct tether_encoder *e = tether_icd_conn_lock(c);
	size_t start = tether_enc_cmd_begin(e, TETHER_CMD_SWAPCHAIN_DESTROY);
	tether_enc_handle(e, VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)device);
	tether_enc_u64(e, sc->id);
	tether_enc_cmd_end(e, start);
	tether_icd_conn_unlock_async(c);
}

/* The modes the presenter implements; anything else is shown as FIFO. */
static VkPresentModeKHR present_mode(VkPresentModeKHR m)
{
	return m == VK_PRESENT_MODE_MAILBOX_KHR || m == VK_PRESENT_MODE_IMMEDIATE_KHR ? m : VK_PRESENT_MODE_FIFO_KHR;
}

static bool format_ok(VkFormat f)
{
	return f == VK_FORMAT_B8G8R8A8_UNORM || f == VK_FORMAT_B8G8R8A8_SRGB;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateSwapchainKHR(VkDevice device,
							     const VkSwapchainCreateInfoKHR *pCreateInfo,
							     const VkAllocationCallbacks *pAllocator,
							     VkSwapchainKHR *pSwapchain)
{
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	const VkSwapchainCreateInfoKHR *ci = pCreateInfo;
	if (!format_ok(ci->imageFormat) || ci->imageArrayLayers != 1 || !ci->imageExtent.width ||
	    !ci->imageExtent.height || ci->imageExtent.width > TETHER_SWAPCHAIN_MAX_EXTENT ||
	    ci->imageExtent.height > TETHER_SWAPCHAIN_MAX_EXTENT)
		return TETHER_ERR("wsi", VK_ERROR_INITIALIZATION_FAILED, "unsupported swapchain (%ux%u, format %d)",
				  ci->imageExtent.width, ci->imageExtent.height, ci->imageFormat);
	if (ci->oldSwapchain) {
		/* The old swapchain is retired: its unacquired images are no more. */
		struct tether_icd_swapchain *old = swapchain_from(ci->oldSwapchain);
		tether_mutex_lock(&old->lock);
		if (old->status == VK_SUCCESS)
			old->status = VK_ERROR_OUT_OF_DATE_KHR;
		tether_cond_broadcast(&old->changed);
		tether_mutex_unlock(&old->lock);
	}
	struct tether_icd_frames *frames;
	VkResult r = tether_icd_frames_get(c, &frames);
	if (r != VK_SUCCESS)
		return r;

	struct tether_icd_swapchain *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	sc->id = (uint64_t)(uintptr_t)sc;
	sc->device = dev;
	sc->surface = tether_icd_surface_from(ci->surface);
	sc->frames = frames;
	sc->extent = ci->imageExtent;
	sc->format = ci->imageFormat;
	sc->mode = present_mode(ci->presentMode);
	sc->image_count = ci->minImageCount < 2 ? 2 : ci->minImageCount;
	if (sc->image_count > TETHER_SWAPCHAIN_MAX_IMAGES)
		sc->image_count = TETHER_SWAPCHAIN_MAX_IMAGES;
	tether_mutex_init(&sc->lock);
	tether_cond_init(&sc->changed);

	struct tether_swapchain_desc desc = {
		.device = (uint64_t)(uintptr_t)device,
		.swapchain = sc->id,
		.format = ci->imageFormat,
		.width = ci->imageExtent.width,
		.height = ci->imageExtent.height,
		.layers = 1,
		.usage = ci->imageUsage,
		.sharing = ci->imageSharingMode,
		.codecs = tether_icd_frames_codecs(),
		.image_count = sc->image_count,
	};
	if (ci->imageSharingMode == VK_SHARING_MODE_CONCURRENT) {
		desc.family_count = ci->queueFamilyIndexCount < TETHER_SWAPCHAIN_MAX_FAMILIES
					    ? ci->queueFamilyIndexCount
					    : TETHER_SWAPCHAIN_MAX_FAMILIES;
		memcpy(desc.families, ci->pQueueFamilyIndices, desc.family_count * sizeof(uint32_t));
	}
	if (ci->flags & VK_SWAPCHAIN_CREATE_MUTABLE_FORMAT_BIT_KHR) {
		desc.image_flags = VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT;
		for (const VkBaseInStructure *in = ci->pNext; in; in = in->pNext)
			if (in->sType == VK_STRUCTURE_TYPE_IMAGE_FORMAT_LIST_CREATE_INFO) {
				const VkImageFormatListCreateInfo *list = (const void *)in;
				for (uint32_t i = 0; i < list->viewFormatCount &&
						     desc.view_format_count < TETHER_SWAPCHAIN_MAX_VIEW_FORMATS; i++)
					desc.view_formats[desc.view_format_count++] = list->pViewFormats[i];
			}
	}
	r = tether_icd_conn_reserve(c, sc->image_count, "vkCreateSwapchainKHR");
	for (uint32_t i = 0; i < sc->image_count && r == VK_SUCCESS; i++) {
		sc->image_ids[i] = desc.images[i] = tether_icd_new_id();
		r = tether_display_buffer_create(sc->surface->display, sc->extent.width, sc->extent.height,
						 &sc->buffers[i]);
	}
	if (r == VK_SUCCESS) {
		struct tether_encoder *e = tether_icd_conn_lock(c);
		size_t start = tether_enc_cmd_begin(e, TETHER_CMD_SWAPCHAIN_CREATE);
		tether_swapchain_desc_encode(e, &desc);
		tether_enc_cmd_end(e, start);
		struct tether_decoder *d;
		r = tether_icd_conn_call(c, &d);
		if (r == VK_SUCCESS) {
			r = (VkResult)(int32_t)tether_dec_u32(d);
			if (d->fatal)
				r = VK_ERROR_DEVICE_LOST;
		}
		tether_icd_conn_unlock(c);
	}
	if (r != VK_SUCCESS) {
		swapchain_free(sc);
		return r;
	}
	if (tether_thread_create(&sc->presenter, presenter_main, sc) < 0) {
		send_destroy(device, sc);
		swapchain_free(sc);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	tether_icd_frames_attach(frames, sc);
	live_add(sc);
	TETHER_LOGI("wsi", "swapchain %ux%u, %u images, present mode %d", sc->extent.width, sc->extent.height,
		    sc->image_count, sc->mode);
	*pSwapchain = (VkSwapchainKHR)(uintptr_t)sc;
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_DestroySwapchainKHR(VkDevice device, VkSwapchainKHR swapchain,
							  const VkAllocationCallbacks *pAllocator)
{
	struct tether_icd_swapchain *sc = swapchain_from(swapchain);
	if (!sc)
		return;
	live_remove(sc);
	finish_presents(sc);
	tether_thread_join(sc->presenter);
	tether_icd_frames_detach(sc->frames, sc);

	send_destroy(device, sc);

	uint32_t median, p99;
	latency_stats(sc, &median, &p99);
	TETHER_LOGI("wsi",
		    "swapchain %ux%u: %llu frames shown, %llu dropped, %llu failed; present-to-window median %.2f ms, "
		    "p99 %.2f ms; %.0f bytes per frame on the link",
		    sc->extent.width, sc->extent.height, (unsigned long long)sc->frames_shown,
		    (unsigned long long)sc->frames_dropped, (unsigned long long)sc->frames_failed, median / 1000.0,
		    p99 / 1000.0,
		    sc->next_seq ? (double)sc->bytes_received / (double)sc->next_seq : 0.0);
	swapchain_free(sc);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetSwapchainImagesKHR(VkDevice device, VkSwapchainKHR swapchain,
								uint32_t *pSwapchainImageCount,
								VkImage *pSwapchainImages)
{
	struct tether_icd_swapchain *sc = swapchain_from(swapchain);
	if (!pSwapchainImages) {
		*pSwapchainImageCount = sc->image_count;
		return VK_SUCCESS;
	}
	uint32_t n = *pSwapchainImageCount < sc->image_count ? *pSwapchainImageCount : sc->image_count;
	for (uint32_t i = 0; i < n; i++)
		pSwapchainImages[i] = (VkImage)(uintptr_t)sc->image_ids[i];
	*pSwapchainImageCount = n;
	return n < sc->image_count ? VK_INCOMPLETE : VK_SUCCESS;
}

/* VK_SUBOPTIMAL_KHR never; VK_ERROR_OUT_OF_DATE_KHR when the window no longer
 * has the swapchain's size (X11 drivers answer the same). */
static VkResult window_check(struct tether_icd_swapchain *sc)
{
	VkExtent2D extent;
	bool defined = false;
	VkResult r = tether_display_extent(sc->surface->display, &extent, &defined);
	if (r != VK_SUCCESS)
		return r;
	if (defined && (extent.width != sc->extent.width || extent.height != sc->extent.height))
		return VK_ERROR_OUT_OF_DATE_KHR;
	return VK_SUCCESS;
}

static VkResult acquire(VkDevice device, struct tether_icd_swapchain *sc, uint64_t timeout, VkSemaphore semaphore,
			VkFence fence, uint32_t *pImageIndex)
{
	VkResult r = window_check(sc);
	if (r != VK_SUCCESS)
		return r;
	const uint64_t start = tether_time_ns();
	const uint64_t deadline = timeout > UINT64_MAX - start ? UINT64_MAX : start + timeout;
	tether_mutex_lock(&sc->lock);
	for (;;) {
		if (sc->status != VK_SUCCESS) {
			r = sc->status;
			break;
		}
		uint32_t i = 0;
		while (i < sc->image_count && sc->state[i] != TETHER_IMAGE_AVAILABLE)
			i++;
		if (i < sc->image_count) {
			sc->state[i] = TETHER_IMAGE_ACQUIRED;
			*pImageIndex = i;
			r = VK_SUCCESS;
			break;
		}
		uint64_t now = tether_time_ns();
		if (timeout == 0 || now >= deadline) {
			r = timeout == 0 ? VK_NOT_READY : VK_TIMEOUT;
			break;
		}
		tether_cond_timedwait(&sc->changed, &sc->lock, deadline - now);
	}
	tether_mutex_unlock(&sc->lock);
	if (r != VK_SUCCESS || (!semaphore && !fence))
		return r;
	/* The image is idle on the server: one empty submit signals both. */
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	struct tether_encoder *e = tether_icd_conn_lock(c);
	size_t at = tether_enc_cmd_begin(e, TETHER_CMD_ACQUIRE_SIGNAL);
	tether_enc_handle(e, VK_OBJECT_TYPE_QUEUE, (uint64_t)(uintptr_t)&dev->queues[0]);
	tether_enc_handle(e, VK_OBJECT_TYPE_SEMAPHORE, (uint64_t)(uintptr_t)semaphore);
	tether_enc_handle(e, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)fence);
	tether_enc_cmd_end(e, at);
	tether_icd_conn_unlock_async(c);
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_AcquireNextImageKHR(VkDevice device, VkSwapchainKHR swapchain,
							      uint64_t timeout, VkSemaphore semaphore, VkFence fence,
							      uint32_t *pImageIndex)
{
	return acquire(device, swapchain_from(swapchain), timeout, semaphore, fence, pImageIndex);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_AcquireNextImage2KHR(VkDevice device,
							       const VkAcquireNextImageInfoKHR *pAcquireInfo,
							       uint32_t *pImageIndex)
{
	return acquire(device, swapchain_from(pAcquireInfo->swapchain), pAcquireInfo->timeout,
		       pAcquireInfo->semaphore, pAcquireInfo->fence, pImageIndex);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR *pPresentInfo)
{
	const VkPresentInfoKHR *pi = pPresentInfo;
	struct tether_icd_conn *c = tether_icd_conn_of(queue);
	struct tether_present_desc desc = {.queue = (uint64_t)(uintptr_t)queue};
	if (pi->swapchainCount > TETHER_PRESENT_MAX_SWAPCHAINS || pi->waitSemaphoreCount > TETHER_PRESENT_MAX_WAITS)
		return TETHER_ERR("wsi", VK_ERROR_OUT_OF_HOST_MEMORY, "present of %u swapchains, %u semaphores",
				  pi->swapchainCount, pi->waitSemaphoreCount);
	desc.wait_count = pi->waitSemaphoreCount;
	for (uint32_t i = 0; i < pi->waitSemaphoreCount; i++)
		desc.waits[i] = (uint64_t)(uintptr_t)pi->pWaitSemaphores[i];
	const VkPresentIdKHR *ids = NULL;
	const VkSwapchainPresentFenceInfoEXT *fences = NULL;
	const VkSwapchainPresentModeInfoEXT *modes = NULL;
	for (const VkBaseInStructure *in = pi->pNext; in; in = in->pNext) {
		if (in->sType == VK_STRUCTURE_TYPE_PRESENT_ID_KHR)
			ids = (const VkPresentIdKHR *)in;
		else if (in->sType == VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_FENCE_INFO_EXT)
			fences = (const VkSwapchainPresentFenceInfoEXT *)in;
		else if (in->sType == VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_MODE_INFO_EXT)
			modes = (const VkSwapchainPresentModeInfoEXT *)in;
	}
	VkResult worst = VK_SUCCESS;
	const uint64_t now = tether_time_ns();
	for (uint32_t i = 0; i < pi->swapchainCount; i++) {
		struct tether_icd_swapchain *sc = swapchain_from(pi->pSwapchains[i]);
		uint32_t image = pi->pImageIndices[i];
		VkResult r = window_check(sc);
		tether_mutex_lock(&sc->lock);
		if (sc->status != VK_SUCCESS && sc->status != VK_ERROR_OUT_OF_DATE_KHR)
			r = sc->status;
		if (image >= sc->image_count || sc->state[image] != TETHER_IMAGE_ACQUIRED) {
			r = TETHER_ERR("wsi", VK_ERROR_OUT_OF_DATE_KHR, "present of image %u, which is not acquired",
				       image);
		} else {
			/* The image goes back to the server even when the window changed:
			 * the semaphore waits must happen, and the frame is shown as is. */
			sc->state[image] = TETHER_IMAGE_PRESENTED;
			sc->present_ns[image] = now;
			sc->present_id[image] =
				ids && ids->pPresentIds && i < ids->swapchainCount ? ids->pPresentIds[i] : 0;
			/* VK_EXT_swapchain_maintenance1: a mode given with a present holds
			 * for the later ones too; every mode is compatible with every other
			 * here (the presenter paces each frame by its own mode). */
			if (modes && i < modes->swapchainCount)
				sc->mode = present_mode(modes->pPresentModes[i]);
			sc->frame_mode[image] = sc->mode;
			VkFence fence = fences && i < fences->swapchainCount ? fences->pFences[i] : VK_NULL_HANDLE;
			desc.items[desc.count++] =
				(struct tether_present_item){sc->id, image, ++sc->next_seq, (uint64_t)(uintptr_t)fence};
		}
		tether_mutex_unlock(&sc->lock);
		if (pi->pResults)
			pi->pResults[i] = r;
		if (r < 0 && (worst >= 0 || r == VK_ERROR_DEVICE_LOST || r == VK_ERROR_SURFACE_LOST_KHR))
			worst = r;
		else if (r == VK_SUBOPTIMAL_KHR && worst == VK_SUCCESS)
			worst = r;
	}
	struct tether_encoder *e = tether_icd_conn_lock(c);
	if (desc.count) {
		size_t at = tether_enc_cmd_begin(e, TETHER_CMD_PRESENT);
		tether_present_desc_encode(e, &desc);
		tether_enc_cmd_end(e, at);
	}
	VkResult r = tether_icd_conn_flush_locked(c);
	tether_icd_conn_unlock(c);
	return r != VK_SUCCESS ? r : worst;
}

/* VK_KHR_present_wait: the client sees each frame reach the window, so the
 * wait is for exactly that (a frame replaced in MAILBOX counts once a later
 * one is shown, as its id is then below the shown one's). */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_WaitForPresentKHR(VkDevice device, VkSwapchainKHR swapchain,
							    uint64_t presentId, uint64_t timeout)
{
	struct tether_icd_swapchain *sc = swapchain_from(swapchain);
	const uint64_t start = tether_time_ns();
	const uint64_t deadline = timeout > UINT64_MAX - start ? UINT64_MAX : start + timeout;
	VkResult r;
	tether_mutex_lock(&sc->lock);
	for (;;) {
		if (sc->present_id_done >= presentId) {
			r = VK_SUCCESS;
			break;
		}
		if (sc->status != VK_SUCCESS) {
			r = sc->status;
			break;
		}
		uint64_t now = tether_time_ns();
		if (now >= deadline) {
			r = VK_TIMEOUT;
			break;
		}
		tether_cond_timedwait(&sc->changed, &sc->lock, deadline - now);
	}
	tether_mutex_unlock(&sc->lock);
	return r;
}

void tether_icd_after_GetPhysicalDeviceFeatures2(VkPhysicalDevice physicalDevice, VkPhysicalDeviceFeatures2 *pFeatures)
{
	for (VkBaseOutStructure *o = (VkBaseOutStructure *)pFeatures->pNext; o; o = o->pNext) {
		if (o->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_ID_FEATURES_KHR)
			((VkPhysicalDevicePresentIdFeaturesKHR *)o)->presentId = VK_TRUE;
		else if (o->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_WAIT_FEATURES_KHR)
			((VkPhysicalDevicePresentWaitFeaturesKHR *)o)->presentWait = VK_TRUE;
		else if (o->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SWAPCHAIN_MAINTENANCE_1_FEATURES_EXT)
			((VkPhysicalDeviceSwapchainMaintenance1FeaturesEXT *)o)->swapchainMaintenance1 = VK_TRUE;
	}
}

/* VK_EXT_swapchain_maintenance1: acquired images given back unpresented. */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_ReleaseSwapchainImagesEXT(VkDevice device,
								    const VkReleaseSwapchainImagesInfoEXT *pReleaseInfo)
{
	struct tether_icd_swapchain *sc = swapchain_from(pReleaseInfo->swapchain);
	tether_mutex_lock(&sc->lock);
	for (uint32_t i = 0; i < pReleaseInfo->imageIndexCount; i++) {
		uint32_t image = pReleaseInfo->pImageIndices[i];
		if (image < sc->image_count && sc->state[image] == TETHER_IMAGE_ACQUIRED)
			release_locked(sc, image);
	}
	tether_mutex_unlock(&sc->lock);
	return VK_SUCCESS;
}
