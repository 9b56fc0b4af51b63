/*
 * The receiving end of a session's frame channel. One thread per connection
 * reads FRAME messages and decodes each straight into the display buffer of
 * its swapchain image (an X11 shared-memory image, a wl_shm buffer), then
 * hands the image to the swapchain's presenter. Frames of swapchains that
 * are gone are skipped; a malformed frame ends the channel.
 */
#include "icd/wsi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/buffer.h"
#include "protocol/frame_codec.h"
#include "protocol/message.h"
#include "transport/conn.h"

struct tether_icd_frames {
	struct tether_icd_frames *next; /* in the list of all connections' channels */
	struct tether_icd_conn *owner;
	struct tether_conn *conn;
	struct tether_thread *thread;
	struct tether_frame_decoder *decoder;
	struct tether_mutex lock; /* swapchains; held while decoding into one */
	struct tether_icd_swapchain *swapchains;
	bool failed;
};

static struct tether_mutex frames_lock;
static struct tether_icd_frames *all_frames;

__attribute__((constructor)) static void frames_registry_init(void)
{
	tether_mutex_init(&frames_lock);
}

uint32_t tether_icd_frames_codecs(void)
{
	return tether_frame_codecs_supported();
}

static struct tether_icd_swapchain *find_locked(struct tether_icd_frames *f, uint64_t id)
{
	for (struct tether_icd_swapchain *sc = f->swapchains; sc; sc = sc->next)
		if (sc->id == id)
			return sc;
	return NULL;
}

/* Receives and shows one FRAME; Return: 0 or negative errno (channel ends). */
static int receive_frame(struct tether_icd_frames *f, struct tether_buffer *buf)
{
	int r;
	struct tether_frame_header fh;
	if (tether_frame_header_decode(buf->data, buf->size, &fh) < 0)
		return -EPROTO;
	tether_mutex_lock(&f->lock);
	struct tether_icd_swapchain *sc = find_locked(f, fh.swapchain);
	if (!sc) {
		tether_mutex_unlock(&f->lock);
		return 0; /* destroyed while the frame was on its way */
	}
	VkResult status = fh.status;
	if (fh.image >= sc->image_count || fh.width != sc->extent.width || fh.height != sc->extent.height) {
		TETHER_LOGE("frames", "FRAME does not match its swapchain (image %u, %ux%u)", fh.image, fh.width,
			    fh.height);
		tether_mutex_unlock(&f->lock);
		return -EPROTO;
	}
	if (status == VK_SUCCESS) {
		struct tether_display_buffer *b = sc->buffers[fh.image];
		r = tether_frame_decode(f->decoder, buf->data + TETHER_FRAME_HEADER_SIZE,
					buf->size - TETHER_FRAME_HEADER_SIZE, b->pixels, b->stride, fh.width * 4,
					fh.height);
		if (r < 0) {
			tether_mutex_unlock(&f->lock);
			return r;
		}
	} else {
		TETHER_LOGW("frames", "the server could not copy out a presented image: VkResult %d", status);
	}
	tether_icd_swapchain_frame_ready(sc, fh.image, status, buf->size);
	tether_mutex_unlock(&f->lock);
	return 0;
}

static void *receiver_main(void *arg)
{
	struct tether_icd_frames *f = arg;
	struct tether_buffer buf = {0};
	int r;
	for (;;) {
		struct tether_msg_header h;
		r = tether_msg_recv(f->conn, &h, &buf);
		if (r < 0)
			break;
		if (h.type != TETHER_MSG_FRAME) {
			TETHER_LOGE("frames", "unexpected message type %u on the frame channel", h.type);
			r = -EPROTO;
			break;
		}
		if ((r = receive_frame(f, &buf)) < 0)
			break;
	}
	if (r != -ECONNABORTED)
		TETHER_LOGW("frames", "frame channel closed: %s", strerror(-r));
	tether_mutex_lock(&f->lock);
	f->failed = true;
	for (struct tether_icd_swapchain *sc = f->swapchains; sc; sc = sc->next)
		tether_icd_swapchain_lost(sc, VK_ERROR_SURFACE_LOST_KHR);
	tether_mutex_unlock(&f->lock);
	tether_buffer_free(&buf);
	return NULL;
}

VkResult tether_icd_frames_get(struct tether_icd_conn *c, struct tether_icd_frames **out)
{
	tether_mutex_lock(&frames_lock);
	struct tether_icd_frames *f = all_frames;
	while (f && f->owner != c)
		f = f->next;
	if (f) {
		*out = f;
		tether_mutex_unlock(&frames_lock);
		return f->failed ? VK_ERROR_SURFACE_LOST_KHR : VK_SUCCESS;
	}
	VkResult result = VK_ERROR_OUT_OF_HOST_MEMORY;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto out;
	f->owner = c;
	tether_mutex_init(&f->lock);
	if (tether_frame_decoder_create(tether_frame_threads(), &f->decoder) < 0)
		goto fail;
	result = tether_icd_conn_open_frames(c, &f->conn);
	if (result != VK_SUCCESS)
		goto fail;
	if (tether_thread_create(&f->thread, receiver_main, f) < 0) {
		result = VK_ERROR_INITIALIZATION_FAILED;
		goto fail;
	}
	f->next = all_frames;
	all_frames = f;
	*out = f;
	tether_mutex_unlock(&frames_lock);
	return VK_SUCCESS;
fail:
	tether_conn_close(f->conn);
	if (f->decoder)
		tether_frame_decoder_destroy(f->decoder);
	tether_mutex_destroy(&f->lock);
	free(f);
out:
	tether_mutex_unlock(&frames_lock);
	return result;
}

void tether_icd_frames_attach(struct tether_icd_frames *f, struct tether_icd_swapchain *sc)
{
	tether_mutex_lock(&f->lock);
	sc->next = f->swapchains;
	f->swapchains = sc;
	if (f->failed)
		tether_icd_swapchain_lost(sc, VK_ERROR_SURFACE_LOST_KHR);
	tether_mutex_unlock(&f->lock);
}

void tether_icd_frames_detach(struct tether_icd_frames *f, struct tether_icd_swapchain *sc)
{
	tether_mutex_lock(&f->lock);
	for (struct tether_icd_swapchain **p = &f->swapchains; *p; p = &(*p)->next)
		if (*p == sc) {
			*p = sc->next;
			break;
		}
	tether_mutex_unlock(&f->lock);
}

void tether_icd_frames_close(struct tether_icd_conn *c)
{
	tether_mutex_lock(&frames_lock);
	struct tether_icd_frames **p = &all_frames;
	while (*p && (*p)->owner != c)
		p = &(*p)->next;
	struct tether_icd_frames *f = *p;
	if (f)
		*p = f->next;
	tether_mutex_unlock(&frames_lock);
	if (!f)
		return;
	tether_conn_shutdown(f->conn);
	tether_thread_join(f->thread);
	tether_conn_close(f->conn);
	tether_frame_decoder_destroy(f->decoder);
	tether_mutex_destroy(&f->lock);
	free(f);
}
