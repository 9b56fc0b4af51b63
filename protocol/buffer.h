/* tether growable byte buffer: message payloads received from a connection
 * and bytes being assembled for sending. Owned memory, explicit size. */
#ifndef TETHER_BUFFER_H
#define TETHER_BUFFER_H

#include <stddef.h>
#include <stdint.h>

struct tether_buffer {
	uint8_t *data;
	size_t size;     /* bytes in use */
	size_t capacity; /* bytes allocated */
};

/**
 * tether_buffer_reserve() - make room for at least @capacity bytes in total
 * Grows geometrically; never shrinks; keeps data[0..size).
 * Return: 0 or -ENOMEM (the buffer is unchanged then).
 */
int tether_buffer_reserve(struct tether_buffer *b, size_t capacity);

/**
 * tether_buffer_append() - copy @len bytes to the end of the buffer
 * Return: 0 or -ENOMEM.
 */
int tether_buffer_append(struct tether_buffer *b, const void *data, size_t len);

/** tether_buffer_free() - release the memory and zero the struct. */
void tether_buffer_free(struct tether_buffer *b);

#endif /* TETHER_BUFFER_H */
