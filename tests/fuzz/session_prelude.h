/*
 * The objects fuzz_session's fixed prelude creates before the input runs,
 * by id: what its seeds (make_seeds, session_seeds.c) and the fuzzer name.
 */
#ifndef TETHER_FUZZ_SESSION_PRELUDE_H
#define TETHER_FUZZ_SESSION_PRELUDE_H

#include <stddef.h>

enum {
	PRELUDE_INSTANCE = 1,
	PRELUDE_PHYSICAL_DEVICE,
	PRELUDE_DEVICE,
	PRELUDE_QUEUE,
	PRELUDE_FENCE,
	PRELUDE_SEMAPHORE,
	PRELUDE_EVENT,
	PRELUDE_BUFFER,
	PRELUDE_IMAGE,
	PRELUDE_MEMORY, /* 4096 bytes, host-visible, mapped by the client */
	PRELUDE_COMMAND_POOL,
	PRELUDE_COMMAND_BUFFER, /* begun */
	PRELUDE_QUERY_POOL,
	PRELUDE_SET_LAYOUT,
	PRELUDE_DESCRIPTOR_POOL,
	PRELUDE_DESCRIPTOR_SET,
	PRELUDE_SAMPLER,
	PRELUDE_IMAGE_VIEW,
	PRELUDE_PIPELINE_LAYOUT,
	PRELUDE_SECOND_DEVICE, /* of the same physical device: handle scopes */
};

/* First id no prelude object has. */
#define PRELUDE_FREE_ID 100

/* Writes fuzz_session's seeds (session/) and dictionary (session.dict)
 * through @write (make_seeds). */
void tether_fuzz_session_seeds(void (*write)(const char *sub, const char *name, const void *data, size_t size));

#endif
