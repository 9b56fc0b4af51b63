/*
 * A tetherd session: one client connection, its object ids mapped to the real
 * driver's handles, the dispatch tables of its instances and devices, and the
 * mirrors of its mapped memory. Every byte a session reads is untrusted.
 */
#ifndef TETHER_SERVER_SESSION_H
#define TETHER_SERVER_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "protocol/arena.h"
#include "protocol/stream.h"
#include "server/limits.h"
#include "server/objects.h"
#include "tether_srv_dispatch.h"
#include "transport/conn.h"

struct tether_srv_frame_link;
struct tether_srv_frame_channel;
struct tether_srv_security;
struct tether_srv_client;

struct tether_srv_options {
	int device_index; /* --device N, or -1 for every GPU */
	const char *server_name;
	struct tether_srv_limits limits;
	/* TLS and pairing (server/security.h); NULL: a Unix listener's plaintext. */
	const struct tether_srv_security *security;
	/* Who the connection's client is, as admission found (NULL: unknown, plaintext). */
	const struct tether_srv_client *client;
	/* This connection's token and how its frame channel reaches it
	 * (server/frame_channel.h); NULL: no frame channel. */
	struct tether_srv_frame_link *frames;
	/* The driver's entry points: the Vulkan loader's for tetherd, a null
	 * driver's for the session fuzz target. */
	PFN_vkGetInstanceProcAddr get_instance_proc_addr;
	PFN_vkGetDeviceProcAddr get_device_proc_addr;
};

/* Dispatch tables are found by the loader's dispatch key: the first word of
 * every dispatchable handle, shared by a device and its queues and command
 * buffers (the same key layers use). */
struct tether_srv_table {
	const void *key;
	VkPhysicalDevice physical; /* for device tables */
	struct tether_srv_dispatch dt;
};

struct tether_srv_memory;
struct tether_srv_swapchain;
struct tether_srv_frame_pipeline;

struct tether_srv_session {
	struct tether_conn *conn;
	const struct tether_srv_options *opts;
	struct tether_srv_objects objects;
	struct tether_handle_ops handle_ops;
	struct tether_srv_dispatch global;
	struct tether_srv_table **tables;
	uint32_t table_count;
	struct tether_arena arena;
	struct tether_encoder reply;
	struct tether_encoder push; /* one MEMORY message being built */
	bool reply_ready;
	/* The command being decoded belongs to this instance and device (ids),
	 * set by its first handle; every other handle it names must agree. */
	struct {
		bool set;
		uint64_t instance, device;
	} scope;
	struct tether_srv_memory *memories;
	uint64_t async_errors;
	uint64_t memory_used; /* device memory charged to the limits (server/limits.h) */
	uint64_t bytes_compared; /* of mapped memory, looking for GPU writes */
	/* Where the session's thread spent its time (logged at the end). */
	uint64_t commands, messages, busy_ns, recv_ns, wait_ns;
	struct tether_srv_profile *profile; /* TETHER_PROFILE=1 (server/profile.h); NULL: off */
	struct tether_srv_frame_channel *frames; /* the frame channel (server/frame_channel.h); NULL: none */
	struct tether_srv_swapchain *swapchains;
	struct tether_srv_frame_pipeline *frame_pipeline; /* started with the first swapchain */
};

int tether_srv_session_run(struct tether_conn *conn, const struct tether_srv_options *opts);

const struct tether_srv_dispatch *tether_srv_global_dispatch(struct tether_srv_session *s);
const struct tether_srv_dispatch *tether_srv_dispatch_of(struct tether_srv_session *s, const void *dispatchable);
struct tether_srv_table *tether_srv_table_of(struct tether_srv_session *s, const void *dispatchable);
struct tether_srv_table *tether_srv_table_add(struct tether_srv_session *s, const void *dispatchable);

/* The command just executed produced a reply in s->reply: send it. */
void tether_srv_reply_ready(struct tether_srv_session *s);
/* An asynchronous call failed on the driver: the client learns of it later. */
void tether_srv_async_error(struct tether_srv_session *s, const char *command, VkResult result);

/* Generated (tether_srv_exec.c) and hand-written command execution. */
bool tether_srv_execute(struct tether_srv_session *s, uint32_t id, struct tether_decoder *d,
			struct tether_encoder *r);
bool tether_srv_execute_own(struct tether_srv_session *s, uint32_t id, struct tether_decoder *d,
			    struct tether_encoder *r);

/* Ending instances and devices with what their client left (exec_instance.c). */
struct tether_srv_object;
void tether_srv_device_end(struct tether_srv_session *s, struct tether_srv_object *device);
void tether_srv_instance_end(struct tether_srv_session *s, struct tether_srv_object *instance);
/* Session end: every instance the client left, with its devices and their objects. */
void tether_srv_instances_end_all(struct tether_srv_session *s);

/* Mapped memory mirrors (exec_memory.c). */
/* Sends GPU writes to every memory the client maps, ahead of the reply. */
void tether_srv_memory_push(struct tether_srv_session *s);
void tether_srv_memory_release_all(struct tether_srv_session *s);
/* Releases the mirrors of @device's memories (before the device goes). */
void tether_srv_memory_release_device(struct tether_srv_session *s, VkDevice device);
/* @memory is bound to a resource the GPU may write: read it back after waits. */
void tether_srv_memory_gpu_writable(struct tether_srv_session *s, VkDeviceMemory memory);

#endif
