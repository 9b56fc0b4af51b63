/*
 * Finding the pages an application wrote, so that only those are compared
 * and sent (docs/MEMORY.md, "Choosing how to find written pages"). On Linux
 * this is userfaultfd in asynchronous write-protect mode with PAGEMAP_SCAN
 * (kernel 6.7+): a write costs one minor fault the kernel resolves itself,
 * and one ioctl lists the written pages and protects them again. Where the
 * system cannot do this, tether_write_watch_open() returns NULL and callers
 * compare whole mappings instead.
 */
#ifndef TETHER_PLATFORM_WRITE_WATCH_H
#define TETHER_PLATFORM_WRITE_WATCH_H

#include <stddef.h>

struct tether_write_watch;

/**
 * tether_write_watch_open() - start a watcher for this process
 * Return: the watcher, or NULL when the system cannot watch writes (the
 * reason is logged once at info level).
 */
struct tether_write_watch *tether_write_watch_open(void);
void tether_write_watch_close(struct tether_write_watch *w);

/**
 * tether_write_watch_add() - watch @len bytes at @p (from tether_pages_alloc)
 *
 * Every page counts as unwritten from now on.
 * Return: 0 or a negative errno (the range is then not watched).
 */
int tether_write_watch_add(struct tether_write_watch *w, void *p, size_t len);
void tether_write_watch_remove(struct tether_write_watch *w, void *p, size_t len);

/**
 * tether_write_watch_collect() - report the pages written since the last call
 * @fn: called for each run of written pages, with its offset from @p and
 *      length in bytes; the pages are protected again before @fn sees them,
 *      so a write made meanwhile is reported next time
 *
 * Return: 0, or a negative errno when the written pages are unknown (the
 * caller must then compare the whole range).
 */
int tether_write_watch_collect(struct tether_write_watch *w, void *p, size_t len,
			       void (*fn)(void *ctx, size_t offset, size_t len), void *ctx);

#endif
