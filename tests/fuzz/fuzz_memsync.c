/*
 * libFuzzer target: one memory-sync section (protocol/memory_sync.h: u64 id,
 * u64 base, u64 run count, runs of u64 offset, u64 length, bytes), applied
 * to a fixed 64 KiB mapping and its snapshot three ways: written only (what
 * tetherd does with a client's writes), merged (what the ICD does with the
 * server's), and skipped (a memory no longer mapped). Besides memory errors
 * it checks the merge rule: bytes written locally since the snapshot survive.
 */
#include "fuzz_util.h"
#include "protocol/memory_sync.h"

#define SIZE (64u << 10)

/* The agreed snapshot, and the mapping: the snapshot plus local writes. */
static uint8_t snap0[SIZE], map0[SIZE];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tether_fuzz_quiet_logs();
	for (size_t i = 0; i < SIZE; i++) {
		snap0[i] = (uint8_t)(i * 131 + 7);
		/* Local writes: scattered bytes, and one whole word in eight. */
		map0[i] = i % 97 == 0 || (i / 8) % 8 == 3 ? (uint8_t)~snap0[i] : snap0[i];
	}
	return 0;
}

enum mode { WRITE_ONLY, MERGE, SKIP };

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Whether two runs of the section write the same byte of the mapping. An
 * encoder never sends that; a receiver applies such runs in order, so a later
 * run may overwrite what an earlier one merged, and the merge rule below
 * holds only without them. */
static bool runs_overlap(const uint8_t *data, size_t size)
{
	static uint8_t seen[SIZE];
	memset(seen, 0, sizeof(seen));
	if (size < 24)
		return false;
	uint64_t base = rd64(data + 8), runs = rd64(data + 16);
	size_t at = 24;
	for (uint64_t r = 0; r < runs && size - at >= 16; r++) {
		uint64_t off = rd64(data + at), n = rd64(data + at + 8);
		at += 16;
		if (n > size - at || base > SIZE || off > SIZE - base || n > SIZE - base - off)
			return false; /* the decoder stops here */
		for (uint64_t i = base + off; i < base + off + n; i++)
			if (seen[i]++)
				return true;
		at += n;
	}
	return false;
}

static void apply(const uint8_t *data, size_t size, enum mode mode, bool overlap)
{
	/* Exact-size heap copies, so a run outside the allocation is an ASan report. */
	uint8_t *map = tether_fuzz_copy(map0, SIZE);
	uint8_t *snap = tether_fuzz_copy(snap0, SIZE);
	struct tether_decoder d;
	uint64_t id, base;
	tether_decoder_init(&d, data, size, NULL);
	tether_memsync_decode_header(&d, &id, &base);
	tether_memsync_apply(&d, mode == SKIP ? NULL : map, snap, SIZE, base, mode == MERGE);
	if (d.fatal && !d.error)
		abort();
	for (size_t i = 0; i < SIZE; i++) {
		/* Whole untouched pages first: most are, and checking bytewise
		 * under ASan would cost most of the run. */
		if (i % 4096 == 0 && !memcmp(map + i, map0 + i, 4096) && !memcmp(snap + i, snap0 + i, 4096)) {
			i += 4095;
			continue;
		}
		bool local = map0[i] != snap0[i];
		bool touched = map[i] != map0[i] || snap[i] != snap0[i];
		if (mode == SKIP && touched)
			abort(); /* skipped runs touch nothing */
		if (mode == WRITE_ONLY && touched && map[i] != snap[i])
			abort(); /* the mapping and the snapshot disagree on a written byte */
		if (mode == MERGE && !local && map[i] != snap[i])
			abort(); /* a byte nobody wrote locally must follow the sender */
		if (mode == MERGE && local && map[i] != map0[i] && (!overlap || map[i] != snap[i]))
			abort(); /* a local write was lost */
	}
	free(map);
	free(snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = tether_fuzz_copy(data, size);
	bool overlap = runs_overlap(copy, size);
	apply(copy, size, WRITE_ONLY, overlap);
	apply(copy, size, MERGE, overlap);
	apply(copy, size, SKIP, overlap);
	free(copy);
	return 0;
}
