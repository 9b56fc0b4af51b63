/* What a tetherd session may use, and the command that tells the client.
 * tetherd enforces its limits itself; the ICD asks for them so that it can
 * answer an over-limit call with the error Vulkan gives for it
 * (VK_ERROR_OUT_OF_HOST_MEMORY for objects, VK_ERROR_OUT_OF_DEVICE_MEMORY
 * for memory) instead of losing its session. */
#ifndef TETHER_PROTOCOL_LIMITS_H
#define TETHER_PROTOCOL_LIMITS_H

#include <stdint.h>

#include "protocol/stream.h"

enum {
	/* client -> server, answered: no arguments; the reply is a
	 * struct tether_session_limits, u64 each, in field order. */
	TETHER_CMD_SESSION_LIMITS = 0x120,
};

struct tether_session_limits {
	uint64_t memory_bytes;  /* device memory (swapchains included); 0: no limit but the driver's */
	uint64_t memory_used;
	uint64_t objects;       /* live objects of every type */
	uint64_t objects_used;
	uint64_t message_bytes; /* largest message the session accepts */
};

void tether_session_limits_encode(struct tether_encoder *e, const struct tether_session_limits *l);
/* Fails @d when the reply is short or claims an impossible message size. */
void tether_session_limits_decode(struct tether_decoder *d, struct tether_session_limits *l);

/**
 * tether_parse_size() - a byte count from the command line or the environment
 * @s: decimal digits with an optional K, M, G or T suffix (powers of 1024)
 * Return: 0, or -EINVAL for anything else or an overflowing value.
 */
int tether_parse_size(const char *s, uint64_t *out);

#endif
