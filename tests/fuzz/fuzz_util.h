/*
 * What the decoder fuzz targets share: tetherd's decoding setup without a
 * session (a bounded arena, handle lookups that can fail) and a copy of each
 * piece of input at its exact size, so AddressSanitizer sees a read past the
 * end of a command even where more input follows it.
 */
#ifndef TETHER_FUZZ_UTIL_H
#define TETHER_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/stream.h"

/* What one command may make the decoder allocate: tetherd allows a batch
 * 1 GiB, a fuzz run wants many executions a second. */
#define TETHER_FUZZ_ARENA_LIMIT (64u << 20)

/* Ids above this are objects the session never created: their lookup fails,
 * as it does in tetherd for a forged or stale id. */
#define TETHER_FUZZ_MAX_ID 1000000u

static inline const char *tether_fuzz_from_wire(void *ctx, VkObjectType type, uint64_t id, uint64_t *handle)
{
	(void)ctx;
	(void)type;
	if (id > TETHER_FUZZ_MAX_ID)
		return "handle unknown to this session";
	*handle = id;
	return NULL;
}

static inline uint64_t tether_fuzz_to_wire(void *ctx, VkObjectType type, uint64_t handle)
{
	(void)ctx;
	(void)type;
	return handle;
}

static const struct tether_handle_ops tether_fuzz_handle_ops = {tether_fuzz_to_wire, tether_fuzz_from_wire};

/* A heap copy of exactly @size bytes (one byte when empty) or abort. */
static inline uint8_t *tether_fuzz_copy(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

/* Rejections log a line each, which helps no fuzz run: silence them unless
 * TETHER_LOG is set (then its level also exercises the log formatting). */
static inline void tether_fuzz_quiet_logs(void)
{
	setenv("TETHER_LOG", "off", 0);
}

#endif
