/*
 * libFuzzer target: one carried struct decoded on its own, so every struct's
 * decoder (and its output-skeleton decoder, used for the structs a query
 * fills) is reached without first finding a command that carries it. The
 * first two bytes (little endian, modulo the number of cases) pick the
 * decoder; the rest is its input.
 */
#include <stdio.h>

#include "fuzz_util.h"
#include "tether_wire_tests.h"

static struct tether_arena arena;
/* TETHER_FUZZ_VERBOSE=1: say what each input decoded to (checking seeds). */
static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tether_fuzz_quiet_logs();
	verbose = getenv("TETHER_FUZZ_VERBOSE") != NULL;
	tether_arena_init(&arena, TETHER_FUZZ_ARENA_LIMIT);
	return 0;
}

/* Case @i of the struct cases followed by the partial (skeleton) cases. */
static const struct tether_wire_case *pick(uint16_t i)
{
	size_t n = tether_wire_struct_case_count + tether_wire_partial_case_count;
	size_t k = i % n;
	if (k < tether_wire_struct_case_count)
		return &tether_wire_struct_cases[k];
	return &tether_wire_partial_cases[k - tether_wire_struct_case_count];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const struct tether_wire_case *c = pick((uint16_t)(data[0] | data[1] << 8));
	uint8_t *copy = tether_fuzz_copy(data + 2, size - 2);
	void *obj = calloc(1, c->size);
	if (!obj)
		abort();
	struct tether_decoder d;
	tether_decoder_init(&d, copy, size - 2, &arena);
	d.handles = &tether_fuzz_handle_ops;
	c->decode(&d, obj);
	if (verbose)
		fprintf(stderr, "%s: %s\n", c->name, d.fatal ? d.error : "accepted");
	if (d.fatal && (!d.error || d.cur != d.end))
		abort();
	free(obj);
	free(copy);
	tether_arena_reset(&arena);
	return 0;
}
