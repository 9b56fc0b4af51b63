/*
 * A tether client that speaks the raw protocol: the real handshake, then
 * commands from the generated encoders with object ids the test chooses
 * (no handle table: a handle's value is the id on the wire), so that a test
 * can build real objects in tetherd and then send what no ICD would.
 */
#ifndef TETHER_TESTS_RAW_SESSION_H
#define TETHER_TESTS_RAW_SESSION_H

#include <stdint.h>
#include <vulkan/vulkan.h>

#include "protocol/arena.h"
#include "protocol/buffer.h"
#include "protocol/stream.h"
#include "tetherd_proc.h"
#include "transport/conn.h"

/* The handle the generated encoders put on the wire as @id. */
#define RAW_HANDLE(type, id) ((type)(uintptr_t)(id))

/* Objects raw_session_setup() creates (their ids). */
struct raw_objects {
	uint64_t instance, physical, device, queue;
	uint64_t fence;      /* created signaled */
	uint64_t buffer;     /* RAW_BUFFER_SIZE bytes, transfer source and destination */
	uint64_t pool, cmd;  /* a command pool and a primary command buffer, recording */
	uint64_t query_pool; /* RAW_QUERY_COUNT timestamp queries */
};

#define RAW_BUFFER_SIZE 4096
#define RAW_QUERY_COUNT 4

struct raw_session {
	struct tether_conn *conn;
	char addr[64]; /* this end, as tetherd's log names its peer: "127.0.0.1:PORT" */
	uint64_t next_id;
	struct tether_encoder batch; /* commands not sent yet */
	struct tether_buffer msg;    /* the last message received */
	struct tether_arena arena;   /* what decoding it allocated */
	struct tether_decoder reply; /* over msg, after raw_session_call() */
	struct raw_objects o;
};

/**
 * raw_session_open() - connect to @t over TCP and do the real handshake
 * @first_id: the first object id this session uses (sessions that must not
 *            share ids get ranges apart)
 */
void raw_session_open(const struct tetherd *t, struct raw_session *s, uint64_t first_id);
void raw_session_close(struct raw_session *s);

/** raw_session_new_id() - the next unused id of this session's range. */
uint64_t raw_session_new_id(struct raw_session *s);

/** raw_session_send() - send the batch as one COMMANDS message (must succeed). */
void raw_session_send(struct raw_session *s);

/**
 * raw_session_call() - send the batch, whose last command asks for an answer,
 * and wait for the REPLY (skipping MEMORY messages before it)
 * Return: a decoder over the reply, valid until the next call.
 */
struct tether_decoder *raw_session_call(struct raw_session *s);

/**
 * raw_session_setup() - create the objects of struct raw_objects in tetherd,
 * as an ICD would: instance, its physical device, a device with one queue,
 * a signaled fence, a buffer, a command pool with a command buffer begun,
 * and a query pool. Every step that is answered is checked.
 */
void raw_session_setup(struct raw_session *s);

/**
 * raw_session_create_device() - one more device of the session's physical
 * device (with its queue family 0), and a buffer of it
 */
void raw_session_create_device(struct raw_session *s, uint64_t *device, uint64_t *buffer);

/**
 * raw_session_check() - round trips that only a working session answers
 * right: the fence's status (signaled) and the buffer's memory requirements.
 */
void raw_session_check(struct raw_session *s);

/** raw_session_buffer_requirements() - vkGetBufferMemoryRequirements, answered. */
VkMemoryRequirements raw_session_buffer_requirements(struct raw_session *s, uint64_t device, uint64_t buffer);

/**
 * raw_session_expect_ended() - tetherd ended this session: the connection
 * reads end of stream (-ECONNRESET) within TETHERD_WAIT_MS, with no byte
 * (no reply) before it.
 */
void raw_session_expect_ended(struct raw_session *s);

/**
 * raw_session_fresh_works() - a new session on @t still gets its objects
 * created and its calls answered; closes it again.
 */
void raw_session_fresh_works(const struct tetherd *t);

/* Command framing by hand, for what the generated encoders cannot send. */
void raw_put_u32(struct tether_encoder *e, uint32_t v);
void raw_put_u64(struct tether_encoder *e, uint64_t v);

#endif
