/*
 * Write watching where tether does not do it yet (Windows: GetWriteWatch on
 * MEM_WRITE_WATCH allocations is the native equivalent, to come with the
 * Windows client): callers compare whole mappings.
 */
#include "transport/platform/write_watch.h"

#include <errno.h>

struct tether_write_watch *tether_write_watch_open(void)
{
	return NULL;
}

void tether_write_watch_close(struct tether_write_watch *w)
{
}

int tether_write_watch_add(struct tether_write_watch *w, void *p, size_t len)
{
	return -ENOTSUP;
}

void tether_write_watch_remove(struct tether_write_watch *w, void *p, size_t len)
{
}

int tether_write_watch_collect(struct tether_write_watch *w, void *p, size_t len,
			       void (*fn)(void *ctx, size_t offset, size_t len), void *ctx)
{
	return -ENOTSUP;
}
