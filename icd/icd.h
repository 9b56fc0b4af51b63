/*
 * The tether client driver: shared definitions of its objects and of the
 * connection every call goes through. Dispatchable objects start with the
 * loader's magic word; non-dispatchable handles *are* the object ids the
 * client allocated, so creating one never waits for the server.
 */
#ifndef TETHER_ICD_H
#define TETHER_ICD_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>
#include <vulkan/vk_icd.h>

#include "protocol/stream.h"
#include "protocol/handshake.h"
#include "transport/platform/platform.h"
#include "transport/platform/log.h"

struct tether_icd_conn;
struct tether_icd_memory;

/* Common head of every dispatchable object (VK_LOADER_DATA comes first). */
struct tether_icd_dispatchable {
	VK_LOADER_DATA loader_data;
	uint64_t id;
	struct tether_icd_conn *conn;
};

struct tether_icd_physical_device {
	struct tether_icd_dispatchable base;
	struct tether_icd_instance *instance;
	VkPhysicalDeviceProperties properties; /* apiVersion already clamped */
	VkPhysicalDeviceMemoryProperties memory;
	VkExtensionProperties *extensions; /* offered ones, fetched on first use */
	uint32_t extension_count;
};

struct tether_icd_instance {
	struct tether_icd_dispatchable base;
	uint32_t api_version;
	uint32_t physical_device_count;
	struct tether_icd_physical_device *physical_devices;
};

struct tether_icd_queue {
	struct tether_icd_dispatchable base;
	struct tether_icd_device *device;
	uint32_t family;
	uint32_t index;
	VkDeviceQueueCreateFlags flags;
};

struct tether_icd_device {
	struct tether_icd_dispatchable base;
	struct tether_icd_physical_device *physical;
	uint32_t queue_count;
	struct tether_icd_queue *queues;
	struct tether_mutex pool_lock;
	struct tether_icd_command_pool *pools;
	struct tether_mutex template_lock;
	struct tether_icd_update_template *templates;
};

struct tether_icd_command_buffer {
	struct tether_icd_dispatchable base;
	struct tether_icd_device *device;
	struct tether_icd_command_pool *pool;
	struct tether_icd_command_buffer *next_in_pool;
	struct tether_encoder stream; /* vkCmd* recorded here, sent at vkEndCommandBuffer */
};

/* Connection: one per VkInstance, one server session. */
VkResult tether_icd_conn_open(const char *app_name, struct tether_icd_conn **out);
void tether_icd_conn_close(struct tether_icd_conn *c);
bool tether_icd_conn_has_extension(const struct tether_icd_conn *c, const char *name);
const char *tether_icd_conn_server_name(const struct tether_icd_conn *c);
/* Opens the session's frame channel: a second connection to the same server, attached by token. */
VkResult tether_icd_conn_open_frames(struct tether_icd_conn *c, struct tether_conn **out);

/* Locks the connection and returns the batch to append an encoded call to. */
struct tether_encoder *tether_icd_conn_lock(struct tether_icd_conn *c);
/* The batch of a connection the caller has already locked. */
struct tether_encoder *tether_icd_conn_lock_held(struct tether_icd_conn *c);
/* Unlocks after an asynchronous call; ships the batch only when it is large. */
void tether_icd_conn_unlock_async(struct tether_icd_conn *c);
/* Sends the batch (ending with a call that needs an answer) and waits for the
 * reply, which *d then decodes. The lock stays held until tether_icd_conn_unlock. */
VkResult tether_icd_conn_call(struct tether_icd_conn *c, struct tether_decoder **d);
void tether_icd_conn_unlock(struct tether_icd_conn *c);
/* Counts @count new objects before their ids are sent, so that the server's
 * object limit is answered with VK_ERROR_OUT_OF_HOST_MEMORY here (logged,
 * @what names the call) rather than by the server ending the session. Asks
 * the server only when the count nears the limit. _locked: lock held. */
VkResult tether_icd_conn_reserve(struct tether_icd_conn *c, uint64_t count, const char *what);
VkResult tether_icd_conn_reserve_locked(struct tether_icd_conn *c, uint64_t count, const char *what);
/* tether_icd_conn_call() for a query whose answer never changes: the request
 * encoded from batch offset @at is looked up among earlier replies; a hit is
 * answered locally and the request taken back out of the batch. */
VkResult tether_icd_conn_call_cached(struct tether_icd_conn *c, size_t at, struct tether_decoder **d);
/* Marks the connection lost; every later call returns VK_ERROR_DEVICE_LOST. */
void tether_icd_conn_fail(struct tether_icd_conn *c, const char *why);
/* Ships everything batched so far without waiting. Lock held by the caller. */
VkResult tether_icd_conn_flush_locked(struct tether_icd_conn *c);

uint64_t tether_icd_new_id(void);

static inline struct tether_icd_conn *tether_icd_conn_of(const void *dispatchable)
{
	return ((const struct tether_icd_dispatchable *)dispatchable)->conn;
}

static inline struct tether_encoder *tether_icd_cmd_encoder(VkCommandBuffer cb)
{
	return &((struct tether_icd_command_buffer *)(void *)cb)->stream;
}

void tether_icd_dispatchable_init(struct tether_icd_dispatchable *o, struct tether_icd_conn *c,
				  uint64_t id);

/* Mapped memory: shadows on the client, changed bytes on the wire. */
/* Appends the application's writes to every mapped memory of @dev to the
 * batch (connection locked), flushing it when it grows large. */
void tether_icd_memory_send_all(struct tether_icd_conn *c, struct tether_icd_device *dev);
int tether_icd_memory_receive(struct tether_decoder *d);
void tether_icd_memory_destroy_all(struct tether_icd_device *dev);
uint64_t tether_icd_memory_bytes_compared(void);
void tether_icd_command_pools_destroy_all(struct tether_icd_device *dev);
void tether_icd_templates_destroy_all(struct tether_icd_device *dev);

/* The server's handle ops on the client side: ids <-> client objects. */
extern const struct tether_handle_ops tether_icd_handle_ops;

#endif
