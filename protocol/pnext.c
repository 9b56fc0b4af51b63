/*
 * pNext chains on the wire. Each known struct in a chain is sent with its own
 * sType; structs tether does not carry are dropped on encode (as a driver
 * ignores structs it does not know). On decode every struct must be one the
 * chain's root may be extended with (VkBaseInStructure rules, "Valid Usage
 * (Implicit)": each pNext member must be a valid extending structure), and
 * chains are bounded in depth.
 */
#include "tether_wire.h"

#define TETHER_PNEXT_MAX_DEPTH 256

const struct tether_pnext_type *tether_pnext_type_find(VkStructureType stype)
{
	size_t lo = 0, hi = tether_pnext_type_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		VkStructureType s = tether_pnext_types[mid].stype;
		if (s == stype)
			return &tether_pnext_types[mid];
		if ((uint32_t)s < (uint32_t)stype)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const VkBaseInStructure *next_known(const void *pnext, bool partial)
{
	for (const VkBaseInStructure *b = pnext; b; b = b->pNext) {
		const struct tether_pnext_type *t = tether_pnext_type_find(b->sType);
		if (t && (!partial || t->encode_partial))
			return b;
	}
	return NULL;
}

size_t tether_size_pnext(const void *pnext)
{
	const VkBaseInStructure *b = next_known(pnext, false);
	return b ? tether_pnext_type_find(b->sType)->size_fn(b) : 4;
}

void tether_encode_pnext(struct tether_encoder *e, const void *pnext)
{
	const VkBaseInStructure *b = next_known(pnext, false);
	if (!b)
		tether_enc_u32(e, 0);
	else
		tether_pnext_type_find(b->sType)->encode(e, b);
}

void tether_encode_pnext_partial(struct tether_encoder *e, const void *pnext)
{
	const VkBaseInStructure *b = next_known(pnext, true);
	if (!b)
		tether_enc_u32(e, 0);
	else
		tether_pnext_type_find(b->sType)->encode_partial(e, b);
}

static bool extends(const struct tether_pnext_type *t, VkStructureType root)
{
	for (size_t i = 0; i < t->parent_count; i++)
		if (t->parents[i] == root)
			return true;
	return false;
}

/*
 * Finds where the next struct goes: in a chain the caller already built (a
 * reply filling the application's own structs) the node with the same sType,
 * else fresh arena memory. Returns NULL (and fails the decoder) on bad input.
 */
static void *decode_target(struct tether_decoder *d, const void **slot,
			   const struct tether_pnext_type **type, bool partial)
{
	uint32_t stype;
	if (tether_dec_remaining(d) < 4) {
		tether_decoder_fail(d, "message truncated");
		return NULL;
	}
	memcpy(&stype, d->cur, 4);
	if (stype == 0) {
		d->cur += 4;
		return NULL;
	}
	const struct tether_pnext_type *t = tether_pnext_type_find((VkStructureType)stype);
	if (!t || (partial && !t->decode_partial)) {
		tether_decoder_fail(d, "unknown structure in pNext chain");
		return NULL;
	}
	if (d->pnext_root && !extends(t, d->pnext_root)) {
		tether_decoder_fail(d, "structure may not extend this chain's root");
		return NULL;
	}
	if (++d->depth > TETHER_PNEXT_MAX_DEPTH) {
		tether_decoder_fail(d, "pNext chain too long");
		return NULL;
	}
	*type = t;
	for (const VkBaseInStructure *b = *slot; b; b = b->pNext)
		if ((uint32_t)b->sType == stype)
			return (void *)b;
	void *node = tether_dec_alloc(d, 1, t->size);
	if (node && !*slot)
		*slot = node;
	return node;
}

static void decode_chain(struct tether_decoder *d, const void **slot, VkStructureType root,
			 bool partial)
{
	VkStructureType saved_root = d->pnext_root;
	unsigned saved_depth = d->depth;
	/* A node's own pNext continues the chain it is in: the root stays the
	 * struct that began it. Any other struct begins a chain of its own. */
	if (d->chain_continues)
		d->chain_continues = false;
	else
		d->pnext_root = root, d->depth = 0;
	const struct tether_pnext_type *t = NULL;
	void *node = decode_target(d, slot, &t, partial);
	if (node) {
		/* Every struct decodes pNext right after sType, before any member
		 * that could begin another chain, so the flag reaches its own. */
		d->chain_continues = true;
		if (partial)
			t->decode_partial(d, node);
		else
			t->decode(d, node);
		d->chain_continues = false;
	}
	d->pnext_root = saved_root;
	d->depth = saved_depth;
}

void tether_decode_pnext(struct tether_decoder *d, const void **slot, VkStructureType root)
{
	decode_chain(d, slot, root, false);
}

void tether_decode_pnext_partial(struct tether_decoder *d, const void **slot, VkStructureType root)
{
	decode_chain(d, slot, root, true);
}
