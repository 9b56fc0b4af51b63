/*
 * Bump allocator for decoded messages: everything a message decodes into lives
 * until the message has been executed, then the arena is reset in one step.
 * A cap bounds what one hostile message can make the server allocate.
 */
#ifndef TETHER_PROTOCOL_ARENA_H
#define TETHER_PROTOCOL_ARENA_H

#include <stddef.h>

struct tether_arena_block;

struct tether_arena {
	struct tether_arena_block *head;
	size_t used;  /* bytes handed out since the last reset */
	size_t limit; /* most bytes handed out between resets */
};

void tether_arena_init(struct tether_arena *a, size_t limit);
/* Zeroed, 16-byte aligned memory, or NULL when the limit would be passed. */
void *tether_arena_alloc(struct tether_arena *a, size_t size);
void tether_arena_reset(struct tether_arena *a);
void tether_arena_free(struct tether_arena *a);

#endif
