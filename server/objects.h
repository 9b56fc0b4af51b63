/*
 * Per-session object table: client id -> (object type, real handle). Every
 * handle a client names is looked up here with its expected type, so a
 * client can only reach objects it created, and only as what they are.
 */
#ifndef TETHER_SERVER_OBJECTS_H
#define TETHER_SERVER_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct tether_srv_object {
	uint64_t id; /* 0: empty slot; UINT64_MAX: removed */
	VkObjectType type;
	uint64_t handle;
	uint64_t parent; /* real handle of the pool an object came from, or 0 */
	void *data;      /* per-type state (memory mirrors) */
	/* Whose object it is: ids of the VkInstance and VkDevice it belongs to
	 * (a VkInstance or VkDevice names itself; 0: none, e.g. an instance's
	 * surface has no device). A command may only name objects of the
	 * instance and device its first handle belongs to. */
	uint64_t instance;
	uint64_t device;
	uint64_t bytes; /* charged to the session's memory limit (server/limits.h) */
};

/* Reverse index: (object type, real handle) -> the id that named it last. */
struct tether_srv_handle_entry {
	uint64_t handle; /* 0: empty slot */
	uint64_t id;     /* 0 with a handle: removed */
	VkObjectType type;
};

struct tether_srv_objects {
	struct tether_srv_object *slots;
	uint64_t capacity; /* power of two */
	uint64_t used;     /* live and removed slots */
	uint64_t live;
	struct tether_srv_handle_entry *by_handle;
	uint64_t by_handle_capacity; /* power of two */
	uint64_t by_handle_used;     /* live and removed entries */
};

struct tether_srv_session;

void tether_srv_objects_init(struct tether_srv_objects *t);
void tether_srv_objects_free(struct tether_srv_objects *t);
struct tether_srv_object *tether_srv_object_find(struct tether_srv_objects *t, uint64_t id);

/**
 * tether_srv_objects_refuse_new() - check the ids a command gives its new objects
 * @ids: @count ids chosen by the client
 *
 * Return: NULL when every id is nonzero, unused and unique and the session
 * may have @count more objects; else why not (static text for the log).
 */
const char *tether_srv_objects_refuse_new(struct tether_srv_session *s, const uint64_t *ids, uint64_t count);
/* tether_srv_objects_refuse_new() said nothing against @ids. */
bool tether_srv_objects_fresh(struct tether_srv_session *s, const uint64_t *ids, uint64_t count);
struct tether_srv_object *tether_srv_object_add(struct tether_srv_session *s, VkObjectType type, uint64_t id,
						uint64_t handle, uint64_t parent);
void tether_srv_object_remove(struct tether_srv_session *s, VkObjectType type, uint64_t id);
/* The object a real handle of @type belongs to (replies, bind infos, frees
 * name real handles), or NULL. */
struct tether_srv_object *tether_srv_object_of_handle(struct tether_srv_session *s, VkObjectType type,
						      uint64_t handle);
/* Forgets every object that belongs to the VkDevice (or VkInstance) with
 * id @owner, @owner itself excepted: it is gone from the driver with them. */
void tether_srv_objects_remove_owned(struct tether_srv_session *s, VkObjectType owner_type, uint64_t owner);
/* Forgets every object of @type allocated from the pool with real handle @parent. */
void tether_srv_objects_remove_children(struct tether_srv_session *s, VkObjectType type, uint64_t parent);

#endif
