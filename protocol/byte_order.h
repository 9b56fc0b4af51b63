/* Little-endian loads and stores of the fixed-size fields in tether's
 * headers (messages, frames, link tests, presentation), whatever the host's
 * byte order or the pointer's alignment. */
#ifndef TETHER_BYTE_ORDER_H
#define TETHER_BYTE_ORDER_H

#include <stdint.h>

static inline void tether_le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void tether_le64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t tether_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t tether_le64_get(const uint8_t *p)
{
	return (uint64_t)tether_le32_get(p) | (uint64_t)tether_le32_get(p + 4) << 32;
}

#endif
