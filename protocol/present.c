/*
 * Encoding of tether's presentation commands and of the FRAME header.
 * Decoders check every count against the bounds in present.h.
 */
#include "protocol/present.h"
#include "protocol/byte_order.h"

#include <errno.h>
#include <string.h>

#include "transport/platform/log.h"

static void enc_u32s(struct tether_encoder *e, const uint32_t *v, uint32_t n)
{
	tether_enc_u32(e, n);
	for (uint32_t i = 0; i < n; i++)
		tether_enc_u32(e, v[i]);
}

static bool dec_u32s(struct tether_decoder *d, uint32_t *v, uint32_t *n, uint32_t max, const char *what)
{
	*n = tether_dec_u32(d);
	if (*n > max) {
		tether_decoder_fail(d, what);
		return false;
	}
	for (uint32_t i = 0; i < *n; i++)
		v[i] = tether_dec_u32(d);
	return !d->fatal;
}

void tether_swapchain_desc_encode(struct tether_encoder *e, const struct tether_swapchain_desc *s)
{
	tether_enc_handle(e, VK_OBJECT_TYPE_DEVICE, s->device);
	tether_enc_u64(e, s->swapchain);
	tether_enc_u32(e, s->format);
	tether_enc_u32(e, s->width);
	tether_enc_u32(e, s->height);
	tether_enc_u32(e, s->layers);
	tether_enc_u32(e, s->usage);
	tether_enc_u32(e, s->image_flags);
	tether_enc_u32(e, s->sharing);
	enc_u32s(e, s->families, s->family_count);
	enc_u32s(e, s->view_formats, s->view_format_count);
	tether_enc_u32(e, s->codecs);
	tether_enc_u32(e, s->image_count);
	for (uint32_t i = 0; i < s->image_count; i++)
		tether_enc_u64(e, s->images[i]);
}

bool tether_swapchain_desc_decode(struct tether_decoder *d, struct tether_swapchain_desc *s)
{
	memset(s, 0, sizeof(*s));
	s->device = tether_dec_handle(d, VK_OBJECT_TYPE_DEVICE, false);
	s->swapchain = tether_dec_u64(d);
	s->format = tether_dec_u32(d);
	s->width = tether_dec_u32(d);
	s->height = tether_dec_u32(d);
	s->layers = tether_dec_u32(d);
	s->usage = tether_dec_u32(d);
	s->image_flags = tether_dec_u32(d);
	s->sharing = tether_dec_u32(d);
	if (!dec_u32s(d, s->families, &s->family_count, TETHER_SWAPCHAIN_MAX_FAMILIES, "too many queue families") ||
	    !dec_u32s(d, s->view_formats, &s->view_format_count, TETHER_SWAPCHAIN_MAX_VIEW_FORMATS,
		      "too many view formats"))
		return false;
	s->codecs = tether_dec_u32(d);
	s->image_count = tether_dec_u32(d);
	if (s->image_count == 0 || s->image_count > TETHER_SWAPCHAIN_MAX_IMAGES) {
		tether_decoder_fail(d, "bad swapchain image count");
		return false;
	}
	for (uint32_t i = 0; i < s->image_count; i++)
		s->images[i] = tether_dec_u64(d);
	if (d->fatal)
		return false;
	if (!s->swapchain || !s->width || !s->height || s->width > TETHER_SWAPCHAIN_MAX_EXTENT ||
	    s->height > TETHER_SWAPCHAIN_MAX_EXTENT || !s->layers || s->layers > 16) {
		tether_decoder_fail(d, "bad swapchain extent");
		return false;
	}
	return true;
}

void tether_present_desc_encode(struct tether_encoder *e, const struct tether_present_desc *p)
{
	tether_enc_handle(e, VK_OBJECT_TYPE_QUEUE, p->queue);
	tether_enc_u32(e, p->wait_count);
	for (uint32_t i = 0; i < p->wait_count; i++)
		tether_enc_handle(e, VK_OBJECT_TYPE_SEMAPHORE, p->waits[i]);
	tether_enc_u32(e, p->count);
	for (uint32_t i = 0; i < p->count; i++) {
		tether_enc_u64(e, p->items[i].swapchain);
		tether_enc_u32(e, p->items[i].image);
		tether_enc_u64(e, p->items[i].seq);
		tether_enc_handle(e, VK_OBJECT_TYPE_FENCE, p->items[i].fence);
	}
}

bool tether_present_desc_decode(struct tether_decoder *d, struct tether_present_desc *p)
{
	memset(p, 0, sizeof(*p));
	p->queue = tether_dec_handle(d, VK_OBJECT_TYPE_QUEUE, false);
	p->wait_count = tether_dec_u32(d);
	if (p->wait_count > TETHER_PRESENT_MAX_WAITS) {
		tether_decoder_fail(d, "too many present wait semaphores");
		return false;
	}
	for (uint32_t i = 0; i < p->wait_count; i++)
		p->waits[i] = tether_dec_handle(d, VK_OBJECT_TYPE_SEMAPHORE, false);
	p->count = tether_dec_u32(d);
	if (p->count == 0 || p->count > TETHER_PRESENT_MAX_SWAPCHAINS) {
		tether_decoder_fail(d, "bad present swapchain count");
		return false;
	}
	for (uint32_t i = 0; i < p->count; i++) {
		p->items[i].swapchain = tether_dec_u64(d);
		p->items[i].image = tether_dec_u32(d);
		p->items[i].seq = tether_dec_u64(d);
		p->items[i].fence = tether_dec_handle(d, VK_OBJECT_TYPE_FENCE, true);
	}
	return !d->fatal;
}

void tether_frame_header_encode(const struct tether_frame_header *h, uint8_t out[TETHER_FRAME_HEADER_SIZE])
{
	tether_le64_put(out, h->swapchain);
	tether_le64_put(out + 8, h->seq);
	tether_le32_put(out + 16, h->image);
	tether_le32_put(out + 20, (uint32_t)h->status);
	tether_le32_put(out + 24, h->width);
	tether_le32_put(out + 28, h->height);
	tether_le64_put(out + 32, h->gpu_done_ns);
	tether_le64_put(out + 40, h->encode_ns);
}

int tether_frame_header_decode(const uint8_t *in, size_t size, struct tether_frame_header *h)
{
	if (size < TETHER_FRAME_HEADER_SIZE) {
		TETHER_LOGE("frames", "FRAME message of %zu bytes is shorter than its header", size);
		return -EPROTO;
	}
	h->swapchain = tether_le64_get(in);
	h->seq = tether_le64_get(in + 8);
	h->image = tether_le32_get(in + 16);
	h->status = (int32_t)tether_le32_get(in + 20);
	h->width = tether_le32_get(in + 24);
	h->height = tether_le32_get(in + 28);
	h->gpu_done_ns = tether_le64_get(in + 32);
	h->encode_ns = tether_le64_get(in + 40);
	if (h->image >= TETHER_SWAPCHAIN_MAX_IMAGES || h->width > TETHER_SWAPCHAIN_MAX_EXTENT ||
	    h->height > TETHER_SWAPCHAIN_MAX_EXTENT || h->status > 0) {
		TETHER_LOGE("frames", "FRAME header is impossible (image %u, %ux%u, status %d)", h->image, h->width,
			    h->height, h->status);
		return -EPROTO;
	}
	return 0;
}
