/*
 * Out-of-line parts of the wire primitives (see stream.h): buffer growth,
 * bounded allocation for decoded arrays, strings and handles.
 */
#include "protocol/stream.h"

#include <stdlib.h>

void tether_encoder_init(struct tether_encoder *e)
{
	memset(e, 0, sizeof(*e));
}

void tether_encoder_reset(struct tether_encoder *e)
{
	e->size = 0;
	e->failed = false;
}

void tether_encoder_free(struct tether_encoder *e)
{
	free(e->data);
	e->data = NULL;
	e->size = e->capacity = 0;
}

bool tether_encoder_grow(struct tether_encoder *e, size_t need)
{
	if (e->failed)
		return false;
	size_t cap = e->capacity ? e->capacity : 4096;
	while (cap - e->size < need) {
		if (cap > SIZE_MAX / 2) {
			e->failed = true;
			return false;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(e->data, cap);
	if (!p) {
		e->failed = true;
		return false;
	}
	e->data = p;
	e->capacity = cap;
	return true;
}

void tether_decoder_init(struct tether_decoder *d, const void *data, size_t size,
			 struct tether_arena *arena)
{
	memset(d, 0, sizeof(*d));
	d->cur = data;
	d->end = d->cur + size;
	d->arena = arena;
}

void tether_decoder_fail(struct tether_decoder *d, const char *why)
{
	if (!d->fatal) {
		d->fatal = true;
		d->error = why;
	}
	d->cur = d->end;
}

void *tether_dec_alloc(struct tether_decoder *d, uint64_t count, size_t size)
{
	if (d->fatal)
		return NULL;
	if (size && count > SIZE_MAX / size) {
		tether_decoder_fail(d, "array size overflows");
		return NULL;
	}
	void *p = tether_arena_alloc(d->arena, (size_t)count * size);
	if (!p)
		tether_decoder_fail(d, "message needs more memory than a session may use");
	return p;
}

void *tether_dec_array(struct tether_decoder *d, uint64_t count, size_t size, size_t min_wire)
{
	if (d->fatal)
		return NULL;
	if (min_wire && count > tether_dec_remaining(d) / min_wire) {
		tether_decoder_fail(d, "element count larger than the message");
		return NULL;
	}
	return tether_dec_alloc(d, count, size);
}

const char *tether_dec_string(struct tether_decoder *d)
{
	uint32_t n = tether_dec_u32(d);
	if (n == 0 || d->fatal)
		return NULL;
	n -= 1;
	/* The NUL is not on the wire: bound by the n bytes that are, so that a
	 * string ending the message is not refused. */
	if (n > tether_dec_remaining(d)) {
		tether_decoder_fail(d, "element count larger than the message");
		return NULL;
	}
	char *s = tether_dec_alloc(d, (uint64_t)n + 1, 1);
	if (!s)
		return NULL;
	tether_dec_raw(d, s, n);
	if (memchr(s, 0, n)) {
		tether_decoder_fail(d, "string holds a NUL byte");
		return NULL;
	}
	s[n] = 0;
	return s;
}

uint64_t tether_dec_handle(struct tether_decoder *d, VkObjectType type, bool optional)
{
	uint64_t id = tether_dec_u64(d);
	if (d->fatal)
		return 0;
	if (id == 0) {
		if (!optional)
			tether_decoder_fail(d, "required handle is VK_NULL_HANDLE");
		return 0;
	}
	if (!d->handles)
		return id;
	uint64_t h = 0;
	const char *refused = d->handles->from_wire(d->handle_ctx, type, id, &h);
	if (refused) {
		tether_decoder_fail(d, refused);
		return 0;
	}
	return h;
}
