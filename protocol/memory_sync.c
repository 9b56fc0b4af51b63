/*
 * Changed-byte runs between a mapping and its snapshot (see memory_sync.h).
 * Pages are compared with memcmp first, so unchanged memory costs one pass at
 * memory bandwidth; only differing pages are scanned for exact runs.
 */
#include "protocol/memory_sync.h"

#define PAGE 4096u

/* Finds the next differing byte at or after i, or len. */
static size_t next_diff(const uint8_t *a, const uint8_t *b, size_t i, size_t len)
{
	while (i < len) {
		size_t page_end = (i / PAGE + 1) * PAGE;
		if (page_end > len)
			page_end = len;
		if (i % PAGE == 0 && !memcmp(a + i, b + i, page_end - i)) {
			i = page_end;
			continue;
		}
		while (i + 8 <= page_end) {
			uint64_t x, y;
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				break;
			i += 8;
		}
		while (i < page_end && a[i] == b[i])
			i++;
		if (i < page_end)
			return i;
	}
	return len;
}

static size_t next_same(const uint8_t *a, const uint8_t *b, size_t i, size_t len)
{
	while (i < len && a[i] != b[i])
		i++;
	return i;
}

uint64_t tether_memsync_encode(struct tether_encoder *e, uint64_t id, uint64_t base,
			       const uint8_t *cur, uint8_t *snap, size_t len)
{
	size_t start = e->size;
	tether_enc_u64(e, id);
	tether_enc_u64(e, base);
	size_t count_at = e->size;
	tether_enc_u64(e, 0);
	uint64_t runs = 0;
	for (size_t i = next_diff(cur, snap, 0, len); i < len; i = next_diff(cur, snap, i, len)) {
		size_t end = next_same(cur, snap, i, len);
		tether_enc_u64(e, i);
		tether_enc_u64(e, end - i);
		tether_enc_raw(e, cur + i, end - i);
		memcpy(snap + i, cur + i, end - i);
		runs++;
		i = end;
	}
	if (e->failed)
		return 0;
	if (!runs) {
		e->size = start;
		return 0;
	}
	memcpy(e->data + count_at, &runs, 8);
	return runs;
}

void tether_memsync_decode_header(struct tether_decoder *d, uint64_t *id, uint64_t *base)
{
	*id = tether_dec_u64(d);
	*base = tether_dec_u64(d);
}

void tether_memsync_apply(struct tether_decoder *d, uint8_t *dst, uint8_t *snap, uint64_t size,
			  uint64_t base, bool merge)
{
	uint64_t runs = tether_dec_u64(d);
	for (uint64_t r = 0; r < runs && !d->fatal; r++) {
		uint64_t off = tether_dec_u64(d);
		uint64_t n = tether_dec_u64(d);
		if (d->fatal)
			return;
		if (n > tether_dec_remaining(d)) {
			tether_decoder_fail(d, "message truncated");
			return;
		}
		const uint8_t *src = d->cur;
		d->cur += n;
		if (!dst)
			continue; /* a memory this side no longer maps: skip its bytes */
		if (base > size || off > size - base || n > size - base - off) {
			tether_decoder_fail(d, "memory run outside its allocation");
			return;
		}
		uint8_t *p = dst + base + off, *s = snap + base + off;
		if (merge) {
			for (uint64_t i = 0; i < n; i++) {
				if (p[i] == s[i])
					p[i] = src[i];
				s[i] = src[i];
			}
		} else {
			memcpy(p, src, n);
			memcpy(s, src, n);
		}
	}
}
