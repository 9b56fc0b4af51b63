/*
 * Bump allocator for decoded messages (see arena.h). Blocks are kept across
 * resets so that a steady stream of messages allocates nothing after warm-up.
 */
#include "protocol/arena.h"

#include <stdlib.h>
#include <string.h>

#define TETHER_ARENA_BLOCK (64u * 1024)
#define TETHER_ARENA_KEEP (16u << 20)

struct tether_arena_block {
	struct tether_arena_block *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

void tether_arena_init(struct tether_arena *a, size_t limit)
{
	a->head = NULL;
	a->used = 0;
	a->limit = limit;
}

void *tether_arena_alloc(struct tether_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size == 0)
		size = 16;
	if (size > a->limit - a->used || a->used > a->limit)
		return NULL;
	struct tether_arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		/* Look for a kept block with room before allocating a new one. */
		struct tether_arena_block **link = &a->head;
		for (b = a->head; b && b->size - b->used < size; b = b->next)
			link = &b->next;
		if (!b) {
			size_t bsize = size > TETHER_ARENA_BLOCK ? size : TETHER_ARENA_BLOCK;
			b = malloc(sizeof(*b) + bsize);
			if (!b)
				return NULL;
			b->size = bsize;
			b->used = 0;
			b->next = a->head;
			a->head = b;
		} else if (b != a->head) {
			*link = b->next;
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = b->data + b->used;
	b->used += size;
	a->used += size;
	memset(p, 0, size);
	return p;
}

void tether_arena_reset(struct tether_arena *a)
{
	/* Keep the blocks a busy stream of messages needs again (a frame's
	 * command buffers decode into a few MiB), but not what one huge
	 * message took: reallocating them for every message costs page faults. */
	size_t kept = 0;
	struct tether_arena_block **link = &a->head;
	while (*link) {
		struct tether_arena_block *b = *link;
		if (kept + b->size > TETHER_ARENA_KEEP) {
			*link = b->next;
			free(b);
			continue;
		}
		b->used = 0;
		kept += b->size;
		link = &b->next;
	}
	a->used = 0;
}

void tether_arena_free(struct tether_arena *a)
{
	struct tether_arena_block *b = a->head;
	while (b) {
		struct tether_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
}
