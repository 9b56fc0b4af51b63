/*
 * libFuzzer target: one COMMANDS message payload, walked as tetherd's
 * run_batch() (server/session.c) walks it: u32 id, u32 size, body, again and
 * again. Each command goes through the generated decoder for its id (reached
 * through the wire-format tests' table) and nothing is executed, but what a
 * decoder accepts must satisfy what the server's handler assumes
 * (gen_fuzz_checks.py). As in tetherd, the first malformed or unknown
 * command ends the batch.
 */
#include <stdio.h>

#include "fuzz_util.h"
#include "protocol/memory_sync.h"
#include "protocol/present.h"
#include "tether_fuzz_checks.h"
#include "tether_wire_tests.h"

/* tether_commands[i] (sorted by id) -> its decode case, NULL where none. */
static const struct tether_wire_case **case_of;
static struct tether_arena arena;
/* The one memory a TETHER_CMD_MEMORY_WRITE may name (id 1), as tetherd
 * mirrors a client's mapping. */
#define MAPPED_SIZE (64u << 10)
static uint8_t *mapped, *snapshot;
/* TETHER_FUZZ_VERBOSE=1: say what each command decoded to (checking seeds).
 * TETHER_FUZZ_NO_HANDLER_CHECKS=1: look past a known gen_fuzz_checks.py
 * finding (memory errors are still caught) until its fix lands. */
static bool verbose, handler_checks;

static int by_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tether_wire_case *)elem)->name);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tether_fuzz_quiet_logs();
	verbose = getenv("TETHER_FUZZ_VERBOSE") != NULL;
	handler_checks = getenv("TETHER_FUZZ_NO_HANDLER_CHECKS") == NULL;
	case_of = calloc(tether_command_count, sizeof(*case_of));
	mapped = calloc(1, MAPPED_SIZE);
	snapshot = calloc(1, MAPPED_SIZE);
	if (!case_of || !mapped || !snapshot)
		abort();
	size_t found = 0;
	for (size_t i = 0; i < tether_command_count; i++) {
		case_of[i] = bsearch(tether_commands[i].name, tether_wire_command_cases,
				     tether_wire_command_case_count, sizeof(tether_wire_command_cases[0]), by_name);
		found += case_of[i] != NULL;
	}
	/* A table that stopped matching would fuzz nothing but framing. */
	if (found != tether_wire_command_case_count) {
		fprintf(stderr, "fuzz_commands: %zu of %zu decode cases matched a command id\n", found,
			tether_wire_command_case_count);
		abort();
	}
	tether_arena_init(&arena, TETHER_FUZZ_ARENA_LIMIT);
	return 0;
}

/* tetherd's TETHER_CMD_MEMORY_WRITE (server/exec_memory.c own_write()). */
static void memory_write(struct tether_decoder *d)
{
	uint64_t id, base;
	tether_dec_u32(d); /* id and size: the table's decoders skip them too */
	tether_dec_u32(d);
	tether_memsync_decode_header(d, &id, &base);
	if (!d->fatal && id != 1)
		tether_decoder_fail(d, "memory write to memory the client has not mapped");
	tether_memsync_apply(d, mapped, snapshot, MAPPED_SIZE, base, false);
}

/* tetherd's presentation commands (server/exec_swapchain.c): what their
 * decoders accept stays within the bounds the handlers index with. */
static bool present_command(uint32_t id, struct tether_decoder *d)
{
	tether_dec_u32(d);
	tether_dec_u32(d);
	if (id == TETHER_CMD_SWAPCHAIN_CREATE) {
		struct tether_swapchain_desc desc;
		if (tether_swapchain_desc_decode(d, &desc) &&
		    (desc.image_count == 0 || desc.image_count > TETHER_SWAPCHAIN_MAX_IMAGES ||
		     desc.family_count > TETHER_SWAPCHAIN_MAX_FAMILIES ||
		     desc.view_format_count > TETHER_SWAPCHAIN_MAX_VIEW_FORMATS || !desc.width ||
		     desc.width > TETHER_SWAPCHAIN_MAX_EXTENT || !desc.height ||
		     desc.height > TETHER_SWAPCHAIN_MAX_EXTENT))
			abort();
	} else if (id == TETHER_CMD_PRESENT) {
		struct tether_present_desc p;
		if (tether_present_desc_decode(d, &p) &&
		    (p.count == 0 || p.count > TETHER_PRESENT_MAX_SWAPCHAINS || p.wait_count > TETHER_PRESENT_MAX_WAITS))
			abort();
	} else {
		return false;
	}
	return true;
}

/* Decodes one whole command (its 8-byte header and body); false ends the batch. */
static bool decode_command(uint32_t id, const uint8_t *cmd, size_t size)
{
	const struct tether_command_info *info = tether_command_find(id);
	const struct tether_wire_case *c = info ? case_of[info - tether_commands] : NULL;
	if (!c && id != TETHER_CMD_MEMORY_WRITE && id != TETHER_CMD_SWAPCHAIN_CREATE && id != TETHER_CMD_PRESENT)
		return false; /* tetherd: "unknown command id" */
	uint8_t *copy = tether_fuzz_copy(cmd, size);
	struct tether_decoder d;
	tether_decoder_init(&d, copy, size, &arena);
	d.handles = &tether_fuzz_handle_ops;
	if (c) {
		/* Zeroed at its exact size, as tetherd's handlers memset theirs. */
		void *args = calloc(1, c->size);
		if (!args)
			abort();
		c->decode(&d, args);
		/* Accepted means tetherd's handler runs it next: it must be able to. */
		const char *why = d.fatal || !handler_checks ? NULL : tether_fuzz_check_command(id, args);
		if (why) {
			fprintf(stderr, "fuzz_commands: %s accepted, but %s\n", c->name, why);
			abort();
		}
		free(args);
	} else if (!present_command(id, &d)) {
		memory_write(&d);
	}
	if (verbose)
		fprintf(stderr, "%s: %s\n", c ? c->name : "tether command",
			d.fatal ? d.error : "accepted");
	/* The decoder's contract: a failure says why and stops the stream. */
	if (d.fatal && (!d.error || d.cur != d.end))
		abort();
	if (d.cur < copy || d.cur > d.end)
		abort();
	free(copy);
	tether_arena_reset(&arena);
	return !d.fatal;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tether_decoder msg;
	tether_decoder_init(&msg, data, size, &arena);
	while (tether_dec_remaining(&msg) && !msg.fatal) {
		const uint8_t *start = msg.cur;
		uint32_t id = tether_dec_u32(&msg);
		uint32_t len = tether_dec_u32(&msg);
		if (msg.fatal || len > tether_dec_remaining(&msg))
			break; /* tetherd: "command framing is truncated" */
		msg.cur += len;
		if (!decode_command(id, start, 8 + (size_t)len))
			break;
	}
	return 0;
}
