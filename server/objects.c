/*
 * Per-session object table (see objects.h): open addressing with linear
 * probing, keyed by the client's 64-bit ids.
 */
#include "server/objects.h"

#include <stdlib.h>
#include <string.h>

#include "server/session.h"

#define REMOVED UINT64_MAX

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

void tether_srv_objects_init(struct tether_srv_objects *t)
{
	memset(t, 0, sizeof(*t));
}

void tether_srv_objects_free(struct tether_srv_objects *t)
{
	free(t->slots);
	free(t->by_handle);
	memset(t, 0, sizeof(*t));
}

static uint64_t handle_key(VkObjectType type, uint64_t handle)
{
	return mix(handle ^ ((uint64_t)type << 56) ^ (uint64_t)type);
}

static struct tether_srv_handle_entry *handle_slot(struct tether_srv_objects *t, VkObjectType type,
						   uint64_t handle)
{
	if (!t->by_handle_capacity)
		return NULL;
	for (uint64_t i = handle_key(type, handle) & (t->by_handle_capacity - 1);;
	     i = (i + 1) & (t->by_handle_capacity - 1)) {
		struct tether_srv_handle_entry *e = &t->by_handle[i];
		if (e->handle == handle && e->type == type)
			return e;
		if (e->handle == 0)
			return NULL;
	}
}

static bool handle_grow(struct tether_srv_objects *t)
{
	uint64_t live = 0;
	for (uint64_t i = 0; i < t->by_handle_capacity; i++)
		live += t->by_handle[i].handle && t->by_handle[i].id;
	/* Mostly removed entries: rehash at the same size rather than double. */
	uint64_t cap = !t->by_handle_capacity ? 1024
		       : live * 2 < t->by_handle_capacity ? t->by_handle_capacity
							   : t->by_handle_capacity * 2;
	struct tether_srv_handle_entry *n = calloc(cap, sizeof(*n));
	if (!n)
		return false;
	uint64_t used = 0;
	for (uint64_t i = 0; i < t->by_handle_capacity; i++) {
		struct tether_srv_handle_entry *e = &t->by_handle[i];
		if (!e->handle || !e->id)
			continue;
		uint64_t j = handle_key(e->type, e->handle) & (cap - 1);
		while (n[j].handle)
			j = (j + 1) & (cap - 1);
		n[j] = *e;
		used++;
	}
	free(t->by_handle);
	t->by_handle = n;
	t->by_handle_capacity = cap;
	t->by_handle_used = used;
	return true;
}

/* Records that @handle of @type is named by @id (the latest id wins: a
 * driver may return the same handle twice, vkGetDeviceQueue does). */
static void handle_put(struct tether_srv_objects *t, VkObjectType type, uint64_t handle, uint64_t id)
{
	if (!handle)
		return;
	struct tether_srv_handle_entry *e = handle_slot(t, type, handle);
	if (e) {
		e->id = id;
		return;
	}
	if ((t->by_handle_used + 1) * 4 > t->by_handle_capacity * 3 && !handle_grow(t))
		return;
	uint64_t i = handle_key(type, handle) & (t->by_handle_capacity - 1);
	while (t->by_handle[i].handle)
		i = (i + 1) & (t->by_handle_capacity - 1);
	t->by_handle[i] = (struct tether_srv_handle_entry){handle, id, type};
	t->by_handle_used++;
}

static void handle_forget(struct tether_srv_objects *t, const struct tether_srv_object *o)
{
	struct tether_srv_handle_entry *e = handle_slot(t, o->type, o->handle);
	if (e && e->id == o->id)
		e->id = 0; /* stays as a removed entry so probing goes past it */
}

/* Removes @o from the table, and its memory from the session's account. */
static void forget(struct tether_srv_session *s, struct tether_srv_object *o)
{
	handle_forget(&s->objects, o);
	tether_srv_memory_discharge(s, o->bytes);
	o->id = REMOVED;
	s->objects.live--;
}

struct tether_srv_object *tether_srv_object_of_handle(struct tether_srv_session *s, VkObjectType type,
						      uint64_t handle)
{
	struct tether_srv_handle_entry *e = handle_slot(&s->objects, type, handle);
	if (!e || !e->id)
		return NULL;
	struct tether_srv_object *o = tether_srv_object_find(&s->objects, e->id);
	return o && o->type == type && o->handle == handle ? o : NULL;
}

struct tether_srv_object *tether_srv_object_find(struct tether_srv_objects *t, uint64_t id)
{
	if (!t->capacity || id == 0 || id == REMOVED)
		return NULL;
	for (uint64_t i = mix(id) & (t->capacity - 1);; i = (i + 1) & (t->capacity - 1)) {
		struct tether_srv_object *o = &t->slots[i];
		if (o->id == id)
			return o;
		if (o->id == 0)
			return NULL;
	}
}

static bool grow(struct tether_srv_objects *t)
{
	uint64_t cap = t->capacity ? t->capacity * 2 : 1024;
	if (t->live * 4 < t->capacity)
		cap = t->capacity; /* mostly removed slots: rehash in place */
	struct tether_srv_object *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	for (uint64_t i = 0; i < t->capacity; i++) {
		struct tether_srv_object *o = &t->slots[i];
		if (o->id == 0 || o->id == REMOVED)
			continue;
		uint64_t j = mix(o->id) & (cap - 1);
		while (slots[j].id)
			j = (j + 1) & (cap - 1);
		slots[j] = *o;
	}
	free(t->slots);
	t->slots = slots;
	t->capacity = cap;
	t->used = t->live;
	return true;
}

static int id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Why @ids repeat an id, or NULL: sorted, so that a hostile count of
 * millions costs n log n, not n squared. */
static const char *repeated(const uint64_t *ids, uint64_t count)
{
	static const char why[] = "new object id repeated in one call";
	if (count < 2)
		return NULL;
	if (count <= 16) {
		for (uint64_t i = 1; i < count; i++)
			for (uint64_t j = 0; j < i; j++)
				if (ids[j] == ids[i])
					return why;
		return NULL;
	}
	uint64_t *sorted = malloc(count * sizeof(*sorted));
	if (!sorted)
		return "out of memory checking new object ids";
	memcpy(sorted, ids, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), id_cmp);
	const char *r = NULL;
	for (uint64_t i = 1; i < count && !r; i++)
		if (sorted[i] == sorted[i - 1])
			r = why;
	free(sorted);
	return r;
}

const char *tether_srv_objects_refuse_new(struct tether_srv_session *s, const uint64_t *ids, uint64_t count)
{
	if (count && !ids)
		return "NULL array for the new objects";
	if (!tether_srv_objects_allowed(s, count))
		return "over the session's limit of live objects (--max-objects)";
	for (uint64_t i = 0; i < count; i++) {
		if (ids[i] == 0 || ids[i] == REMOVED)
			return "new object id is 0 or reserved";
		if (tether_srv_object_find(&s->objects, ids[i]))
			return "new object id already in use";
	}
	return repeated(ids, count);
}

bool tether_srv_objects_fresh(struct tether_srv_session *s, const uint64_t *ids, uint64_t count)
{
	return !tether_srv_objects_refuse_new(s, ids, count);
}

struct tether_srv_object *tether_srv_object_add(struct tether_srv_session *s, VkObjectType type, uint64_t id,
						uint64_t handle, uint64_t parent)
{
	struct tether_srv_objects *t = &s->objects;
	if ((t->used + 1) * 4 > t->capacity * 3 && !grow(t))
		return NULL;
	uint64_t i = mix(id) & (t->capacity - 1);
	while (t->slots[i].id != 0 && t->slots[i].id != REMOVED)
		i = (i + 1) & (t->capacity - 1);
	if (t->slots[i].id == 0)
		t->used++;
	t->slots[i] = (struct tether_srv_object){
		.id = id,
		.type = type,
		.handle = handle,
		.parent = parent,
		.instance = type == VK_OBJECT_TYPE_INSTANCE ? id : s->scope.instance,
		.device = type == VK_OBJECT_TYPE_DEVICE ? id : s->scope.device,
	};
	t->live++;
	handle_put(t, type, handle, id);
	return &t->slots[i];
}

void tether_srv_object_remove(struct tether_srv_session *s, VkObjectType type, uint64_t id)
{
	struct tether_srv_object *o = tether_srv_object_find(&s->objects, id);
	if (o && o->type == type)
		forget(s, o);
}

void tether_srv_objects_remove_owned(struct tether_srv_session *s, VkObjectType owner_type, uint64_t owner)
{
	struct tether_srv_objects *t = &s->objects;
	for (uint64_t i = 0; i < t->capacity; i++) {
		struct tether_srv_object *o = &t->slots[i];
		if (!o->id || o->id == REMOVED || o->id == owner)
			continue;
		uint64_t of = owner_type == VK_OBJECT_TYPE_DEVICE ? o->device : o->instance;
		if (of == owner)
			forget(s, o);
	}
}

void tether_srv_objects_remove_children(struct tether_srv_session *s, VkObjectType type, uint64_t parent)
{
	struct tether_srv_objects *t = &s->objects;
	for (uint64_t i = 0; i < t->capacity; i++) {
		struct tether_srv_object *o = &t->slots[i];
		if (o->id && o->id != REMOVED && o->type == type && o->parent == parent)
			forget(s, o);
	}
}
