/*
 * Byte-stream primitives under every generated encoder and decoder.
 * The wire is little-endian with no padding; the decoder treats its input as
 * hostile: every read is bounds-checked and the first bad read sets a fatal
 * flag that stops the stream (as virglrenderer's vkr_cs_decoder does).
 */
#ifndef TETHER_PROTOCOL_STREAM_H
#define TETHER_PROTOCOL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vulkan/vulkan_core.h>

#include "protocol/arena.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tether's wire format is little-endian; big-endian hosts need byte swapping"
#endif
_Static_assert(sizeof(size_t) == 8, "tether needs a 64-bit host");
_Static_assert(sizeof(VkBool32) == 4 && sizeof(VkFlags) == 4, "unexpected Vulkan ABI");

/*
 * How handles cross the wire. The client turns its handles into the ids it
 * allocated; the server turns ids into real handles, checking the object type.
 * from_wire returns NULL with *handle set, or why the id is refused (static
 * text: the decoder's error, which tetherd logs). A NULL ops table means
 * identity (used by tests).
 */
struct tether_handle_ops {
	uint64_t (*to_wire)(void *ctx, VkObjectType type, uint64_t handle);
	const char *(*from_wire)(void *ctx, VkObjectType type, uint64_t id, uint64_t *handle);
};

struct tether_encoder {
	uint8_t *data;
	size_t size;
	size_t capacity;
	bool failed; /* out of memory: the stream is unusable */
	const struct tether_handle_ops *handles;
	void *handle_ctx;
};

struct tether_decoder {
	const uint8_t *cur;
	const uint8_t *end;
	struct tether_arena *arena;
	const struct tether_handle_ops *handles;
	void *handle_ctx;
	bool fatal;
	const char *error; /* static text saying what was wrong */
	VkStructureType pnext_root; /* the struct a pNext chain being decoded extends */
	unsigned depth;             /* pNext nesting, bounded against hostile chains */
	bool chain_continues;       /* the struct being decoded is a node of a chain */
};

void tether_encoder_init(struct tether_encoder *e);
void tether_encoder_reset(struct tether_encoder *e);
void tether_encoder_free(struct tether_encoder *e);
bool tether_encoder_grow(struct tether_encoder *e, size_t need);

void tether_decoder_init(struct tether_decoder *d, const void *data, size_t size,
			 struct tether_arena *arena);
void tether_decoder_fail(struct tether_decoder *d, const char *why);

static inline void *tether_enc_reserve(struct tether_encoder *e, size_t n)
{
	if (e->capacity - e->size < n && !tether_encoder_grow(e, n))
		return NULL;
	void *p = e->data + e->size;
	e->size += n;
	return p;
}

static inline void tether_enc_raw(struct tether_encoder *e, const void *src, size_t n)
{
	if (n == 0)
		return;
	void *p = tether_enc_reserve(e, n);
	if (p)
		memcpy(p, src, n);
}

static inline void tether_enc_u32(struct tether_encoder *e, uint32_t v)
{
	tether_enc_raw(e, &v, 4);
}

static inline void tether_enc_u64(struct tether_encoder *e, uint64_t v)
{
	tether_enc_raw(e, &v, 8);
}

static inline void tether_enc_handle(struct tether_encoder *e, VkObjectType type, uint64_t h)
{
	uint64_t id = h;
	if (h && e->handles)
		id = e->handles->to_wire(e->handle_ctx, type, h);
	tether_enc_u64(e, id);
}

/* Strings are a u32 of length + 1 (0 = NULL) and the bytes without NUL. */
static inline void tether_enc_string(struct tether_encoder *e, const char *s)
{
	if (!s) {
		tether_enc_u32(e, 0);
		return;
	}
	size_t n = strlen(s);
	tether_enc_u32(e, (uint32_t)n + 1);
	tether_enc_raw(e, s, n);
}

static inline size_t tether_enc_cmd_begin(struct tether_encoder *e, uint32_t id)
{
	size_t start = e->size;
	tether_enc_u32(e, id);
	tether_enc_u32(e, 0);
	return start;
}

/* Patches the command's byte size (everything after its 8-byte header). */
static inline void tether_enc_cmd_end(struct tether_encoder *e, size_t start)
{
	if (e->failed)
		return;
	uint32_t n = (uint32_t)(e->size - start - 8);
	memcpy(e->data + start + 4, &n, 4);
}

static inline size_t tether_size_string(const char *s)
{
	return 4 + (s ? strlen(s) : 0);
}

static inline bool tether_dec_raw(struct tether_decoder *d, void *dst, size_t n)
{
	if ((size_t)(d->end - d->cur) < n || d->fatal) {
		tether_decoder_fail(d, "message truncated");
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, d->cur, n);
	d->cur += n;
	return true;
}

static inline uint32_t tether_dec_u32(struct tether_decoder *d)
{
	uint32_t v;
	tether_dec_raw(d, &v, 4);
	return v;
}

static inline uint64_t tether_dec_u64(struct tether_decoder *d)
{
	uint64_t v;
	tether_dec_raw(d, &v, 8);
	return v;
}

static inline size_t tether_dec_remaining(const struct tether_decoder *d)
{
	return (size_t)(d->end - d->cur);
}

/* Zeroed memory for `count` elements of `size` bytes, each at least `min_wire`
 * bytes on the wire: a count the remaining input cannot hold is rejected before
 * anything is allocated. */
void *tether_dec_array(struct tether_decoder *d, uint64_t count, size_t size, size_t min_wire);
/* Zeroed memory that is not backed by input bytes (output arrays), bounded by the arena. */
void *tether_dec_alloc(struct tether_decoder *d, uint64_t count, size_t size);
const char *tether_dec_string(struct tether_decoder *d);
uint64_t tether_dec_handle(struct tether_decoder *d, VkObjectType type, bool optional);

/* Presence flags for pointers: 1 = present, 0 = NULL, anything else is fatal. */
static inline bool tether_dec_present(struct tether_decoder *d)
{
	uint32_t v = tether_dec_u32(d);
	if (v > 1)
		tether_decoder_fail(d, "bad presence flag");
	return v == 1 && !d->fatal;
}

#endif
