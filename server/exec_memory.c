/*
 * Device memory on the server. HOST_VISIBLE allocations stay mapped for
 * their whole life; the client's writes arrive as changed byte runs and GPU
 * writes leave the same way, measured against a snapshot of what the client
 * last saw (see protocol/memory_sync.h). Non-coherent memory is flushed and
 * invalidated here, on the real mapping.
 */
#include "server/session.h"
#include "server/swapchain.h"

#include <errno.h>
#include <stdlib.h>

#include "protocol/message.h"

#include "protocol/limits.h"
#include "protocol/memory_sync.h"
#include "tether_wire.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

struct tether_srv_memory {
	uint64_t id;
	VkDevice device;
	const struct tether_srv_dispatch *dt;
	VkDeviceMemory memory;
	VkDeviceSize size;
	bool coherent;
	uint8_t *map;
	uint8_t *snapshot;   /* allocated when the client first maps */
	bool client_mapped;
	bool gpu_writable;   /* bound to something the GPU can write (exec_bindings.c) */
	struct tether_srv_memory *next;
};

static struct tether_srv_memory *memory_find(struct tether_srv_session *s, uint64_t id)
{
	struct tether_srv_object *o = tether_srv_object_find(&s->objects, id);
	if (!o || o->type != VK_OBJECT_TYPE_DEVICE_MEMORY)
		return NULL;
	return o->data;
}

static void memory_release(struct tether_srv_memory *m)
{
	if (m->snapshot)
		tether_pages_free(m->snapshot, m->size);
	free(m);
}

void tether_srv_vkAllocateMemory(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkAllocateMemory a = {0};
	tether_decode_cmd_vkAllocateMemory(d, &a);
	const char *refused = d->fatal ? NULL : tether_srv_objects_refuse_new(s, a.pMemory_ids, 1);
	if (d->fatal || refused) {
		tether_decoder_fail(d, refused);
		return;
	}
	struct tether_srv_table *t = tether_srv_table_of(s, a.device);
	VkPhysicalDeviceMemoryProperties mp;
	t->dt.GetPhysicalDeviceMemoryProperties(t->physical, &mp);
	if (a.pAllocateInfo->memoryTypeIndex >= mp.memoryTypeCount) {
		a.result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
		goto reply;
	}
	VkMemoryPropertyFlags flags = mp.memoryTypes[a.pAllocateInfo->memoryTypeIndex].propertyFlags;
	const VkDeviceSize size = a.pAllocateInfo->allocationSize;
	if (!tether_srv_memory_charge(s, size, "vkAllocateMemory")) {
		a.result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
		goto reply;
	}
	a.result = t->dt.AllocateMemory(a.device, a.pAllocateInfo, NULL, a.pMemory);
	if (a.result != VK_SUCCESS) {
		tether_srv_memory_discharge(s, size);
		goto reply;
	}
	struct tether_srv_object *o = tether_srv_object_add(s, VK_OBJECT_TYPE_DEVICE_MEMORY, a.pMemory_ids[0],
							    (uint64_t)(uintptr_t)*a.pMemory, 0);
	if (o)
		o->bytes = size;
	else
		tether_srv_memory_discharge(s, size);
	if (o && (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) {
		struct tether_srv_memory *m = calloc(1, sizeof(*m));
		void *p = NULL;
		if (m && t->dt.MapMemory(a.device, *a.pMemory, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS) {
			m->id = a.pMemory_ids[0];
			m->device = a.device;
			m->dt = &t->dt;
			m->memory = *a.pMemory;
			m->size = a.pAllocateInfo->allocationSize;
			m->coherent = flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
			m->map = p;
			m->next = s->memories;
			s->memories = m;
			o->data = m;
		} else {
			free(m);
			TETHER_LOGW("memory", "cannot map a HOST_VISIBLE allocation of %llu bytes",
				    (unsigned long long)a.pAllocateInfo->allocationSize);
		}
	}
reply:
	tether_encode_reply_vkAllocateMemory(r, &a);
	tether_srv_reply_ready(s);
}

static void unlink_memory(struct tether_srv_session *s, struct tether_srv_memory *m)
{
	for (struct tether_srv_memory **link = &s->memories; *link; link = &(*link)->next) {
		if (*link == m) {
			*link = m->next;
			return;
		}
	}
}

void tether_srv_vkFreeMemory(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkFreeMemory a = {0};
	tether_decode_cmd_vkFreeMemory(d, &a);
	if (d->fatal || !a.memory)
		return;
	struct tether_srv_memory *m = memory_find(s, a.memory_id);
	if (m) {
		unlink_memory(s, m);
		memory_release(m);
	}
	tether_srv_dispatch_of(s, a.device)->FreeMemory(a.device, a.memory, NULL);
	tether_srv_object_remove(s, VK_OBJECT_TYPE_DEVICE_MEMORY, a.memory_id);
}

void tether_srv_memory_release_device(struct tether_srv_session *s, VkDevice device)
{
	for (struct tether_srv_memory **p = &s->memories; *p;) {
		struct tether_srv_memory *m = *p;
		if (device && m->device != device) {
			p = &m->next;
			continue;
		}
		*p = m->next;
		struct tether_srv_object *o = tether_srv_object_find(&s->objects, m->id);
		if (o)
			o->data = NULL;
		memory_release(m);
	}
}

void tether_srv_memory_release_all(struct tether_srv_session *s)
{
	tether_srv_memory_release_device(s, VK_NULL_HANDLE);
}

/* Sends the GPU's changes to one memory as MEMORY messages, a window each. */
static int push_memory(struct tether_srv_session *s, struct tether_srv_memory *m)
{
	if (!m->coherent) {
		VkMappedMemoryRange range = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, m->memory, 0, VK_WHOLE_SIZE};
		m->dt->InvalidateMappedMemoryRanges(m->device, 1, &range);
	}
	s->bytes_compared += m->size;
	for (VkDeviceSize base = 0; base < m->size; base += TETHER_MEMSYNC_WINDOW) {
		size_t len = m->size - base < TETHER_MEMSYNC_WINDOW ? m->size - base : TETHER_MEMSYNC_WINDOW;
		tether_encoder_reset(&s->push);
		uint64_t runs = tether_memsync_encode(&s->push, m->id, base, m->map + base, m->snapshot + base, len);
		TETHER_LOGD("memory", "memory %llu: %llu changed runs, %zu bytes sent after a wait",
			    (unsigned long long)m->id, (unsigned long long)runs, s->push.size);
		if (!runs)
			continue;
		if (s->push.failed)
			return -ENOMEM;
		struct tether_iovec iov = {s->push.data, s->push.size};
		int r = tether_msg_send(s->conn, TETHER_MSG_MEMORY, &iov, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

void tether_srv_memory_push(struct tether_srv_session *s)
{
	for (struct tether_srv_memory *m = s->memories; m; m = m->next)
		if (m->client_mapped && m->gpu_writable && push_memory(s, m) < 0)
			return; /* the connection is gone: the session ends on its next read */
}

void tether_srv_memory_gpu_writable(struct tether_srv_session *s, VkDeviceMemory memory)
{
	for (struct tether_srv_memory *m = s->memories; m; m = m->next)
		if (m->memory == memory)
			m->gpu_writable = true;
}

static bool own_write(struct tether_srv_session *s, struct tether_decoder *d)
{
	uint64_t id, base;
	tether_memsync_decode_header(d, &id, &base);
	struct tether_srv_memory *m = memory_find(s, id);
	if (!m || !m->client_mapped || !m->snapshot) {
		tether_decoder_fail(d, "memory write to memory the client has not mapped");
		return true;
	}
	tether_memsync_apply(d, m->map, m->snapshot, m->size, base, false);
	if (!m->coherent && !d->fatal) {
		VkMappedMemoryRange range = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, m->memory, 0, VK_WHOLE_SIZE};
		m->dt->FlushMappedMemoryRanges(m->device, 1, &range);
	}
	return true;
}

/* MEMORY_MAP and MEMORY_READ: u32 count, u64 ids; the reply carries contents. */
static bool own_map_or_read(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r,
			    bool map)
{
	uint32_t count = tether_dec_u32(d);
	if (count > tether_dec_remaining(d) / 8) {
		tether_decoder_fail(d, "memory id count larger than the message");
		return true;
	}
	for (uint32_t i = 0; i < count && !d->fatal; i++) {
		struct tether_srv_memory *m = memory_find(s, tether_dec_u64(d));
		if (!m) {
			tether_decoder_fail(d, "memory is not HOST_VISIBLE or does not exist");
			break;
		}
		if (map && !m->snapshot) {
			m->snapshot = tether_pages_alloc(m->size ? m->size : 1);
			if (!m->snapshot) {
				tether_decoder_fail(d, "out of memory mirroring a mapping");
				break;
			}
		}
		if (map)
			m->client_mapped = true;
		if (m->client_mapped)
			push_memory(s, m);
	}
	tether_srv_reply_ready(s);
	return true;
}

bool tether_srv_execute_own(struct tether_srv_session *s, uint32_t id, struct tether_decoder *d,
			    struct tether_encoder *r)
{
	switch (id) {
	case TETHER_CMD_MEMORY_WRITE:
		return own_write(s, d);
	case TETHER_CMD_MEMORY_MAP:
		return own_map_or_read(s, d, r, true);
	case TETHER_CMD_MEMORY_READ:
		return own_map_or_read(s, d, r, false);
	case TETHER_CMD_SESSION_LIMITS:
		tether_srv_session_limits(s, r);
		return true;
	case TETHER_CMD_MEMORY_UNMAP: {
		struct tether_srv_memory *m = memory_find(s, tether_dec_u64(d));
		if (m)
			m->client_mapped = false;
		return true;
	}
	default:
		return tether_srv_execute_present(s, id, d, r);
	}
}
