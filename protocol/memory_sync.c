/*
 * Changed spans between a mapping and its snapshot (see memory_sync.h).
 * Pages are compared with memcmp, so unchanged memory costs one pass at
 * memory bandwidth; a changed page sends the span from its first to its last
 * differing byte, and spans that touch are sent as one run.
 */
#include "protocol/memory_sync.h"

#define PAGE 4096u

/* The span [*first, *end) of page [i, page_end) that differs; false if none. */
static bool page_span(const uint8_t *a, const uint8_t *b, size_t i, size_t page_end, size_t *first,
		      size_t *end)
{
	if (!memcmp(a + i, b + i, page_end - i))
		return false;
	size_t lo = i, hi = page_end;
	while (a[lo] == b[lo])
		lo++;
	while (a[hi - 1] == b[hi - 1])
		hi--;
	*first = lo;
	*end = hi;
	return true;
}

static void flush_run(struct tether_encoder *e, struct tether_memsync_section *s)
{
	if (s->run_end == s->run_start)
		return;
	size_t n = s->run_end - s->run_start;
	tether_enc_u64(e, s->run_start);
	tether_enc_u64(e, n);
	/* Read the memory once: the other side (the GPU, another application
	 * thread) may be writing it now, and what is sent must be exactly what
	 * the snapshot says was sent, or a later change would never be seen. */
	memcpy(s->snap + s->run_start, s->cur + s->run_start, n);
	tether_enc_raw(e, s->snap + s->run_start, n);
	s->runs++;
	s->run_start = s->run_end = 0;
}

void tether_memsync_begin(struct tether_encoder *e, struct tether_memsync_section *s, uint64_t id,
			  uint64_t base, const uint8_t *cur, uint8_t *snap)
{
	memset(s, 0, sizeof(*s));
	s->start = e->size;
	s->cur = cur;
	s->snap = snap;
	tether_enc_u64(e, id);
	tether_enc_u64(e, base);
	s->count_at = e->size;
	tether_enc_u64(e, 0);
}

void tether_memsync_scan(struct tether_encoder *e, struct tether_memsync_section *s, size_t off, size_t len)
{
	for (size_t i = off; i < off + len; i = (i / PAGE + 1) * PAGE) {
		size_t page_end = (i / PAGE + 1) * PAGE;
		if (page_end > off + len)
			page_end = off + len;
		size_t first, end;
		if (!page_span(s->cur, s->snap, i, page_end, &first, &end))
			continue;
		if (s->run_end != s->run_start && first == s->run_end) {
			s->run_end = end; /* contiguous with the previous page's span */
			continue;
		}
		flush_run(e, s);
		s->run_start = first;
		s->run_end = end;
	}
}

uint64_t tether_memsync_end(struct tether_encoder *e, struct tether_memsync_section *s)
{
	flush_run(e, s);
	if (e->failed)
		return 0;
	if (!s->runs) {
		e->size = s->start;
		return 0;
	}
	memcpy(e->data + s->count_at, &s->runs, 8);
	return s->runs;
}

uint64_t tether_memsync_encode(struct tether_encoder *e, uint64_t id, uint64_t base,
			       const uint8_t *cur, uint8_t *snap, size_t len)
{
	struct tether_memsync_section s;
	tether_memsync_begin(e, &s, id, base, cur, snap);
	tether_memsync_scan(e, &s, 0, len);
	return tether_memsync_end(e, &s);
}

/* Writes the bytes of src that differ from snap; dst is only read if merging. */
static void apply_span(uint8_t *dst, uint8_t *snap, const uint8_t *src, uint64_t n, bool merge)
{
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, s;
		memcpy(&x, src + i, 8);
		memcpy(&s, snap + i, 8);
		if (x == s)
			continue;
		uint64_t t = x ^ s;
		bool every_byte = !((t - 0x0101010101010101ull) & ~t & 0x8080808080808080ull);
		if (merge) {
			uint64_t cur;
			memcpy(&cur, dst + i, 8);
			if (cur == s) { /* no local write here: the common case */
				memcpy(dst + i, &x, 8);
				memcpy(snap + i, &x, 8);
				continue;
			}
		} else if (every_byte) { /* all of this word changed */
			memcpy(dst + i, &x, 8);
			memcpy(snap + i, &x, 8);
			continue;
		}
		for (unsigned k = 0; k < 8; k++) {
			uint8_t b = src[i + k];
			if (b == snap[i + k])
				continue;
			if (!merge || dst[i + k] == snap[i + k])
				dst[i + k] = b;
			snap[i + k] = b;
		}
	}
	for (; i < n; i++) {
		uint8_t b = src[i];
		if (b == snap[i])
			continue;
		if (!merge || dst[i] == snap[i])
			dst[i] = b;
		snap[i] = b;
	}
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
		apply_span(dst + base + off, snap + base + off, src, n, merge);
	}
}
