/* tether growable byte buffer (see buffer.h). */
#include "protocol/buffer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tether_buffer_reserve(struct tether_buffer *b, size_t capacity)
{
	if (capacity <= b->capacity)
		return 0;
	size_t cap = b->capacity ? b->capacity : 256;
	while (cap < capacity) {
		if (cap > SIZE_MAX / 2) {
			cap = capacity;
			break;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->capacity = cap;
	return 0;
}

int tether_buffer_append(struct tether_buffer *b, const void *data, size_t len)
{
	if (len > SIZE_MAX - b->size)
		return -ENOMEM;
	int err = tether_buffer_reserve(b, b->size + len);
	if (err)
		return err;
	if (len)
		memcpy(b->data + b->size, data, len);
	b->size += len;
	return 0;
}

void tether_buffer_free(struct tether_buffer *b)
{
	free(b->data);
	b->data = NULL;
	b->size = b->capacity = 0;
}
