/*
 * Device memory and mapping. The server keeps the real mapping; the client
 * hands the application a shadow copy. Writes reach the server as changed
 * byte runs before every submit, flush and unmap; GPU writes come back in the
 * replies of the calls that order them (fence and semaphore waits, wait-idle,
 * invalidate). HOST_COHERENT memory stays coherent: nothing depends on the
 * application calling vkFlushMappedMemoryRanges.
 */
#include "icd/icd.h"

#include <errno.h>
#include <stdlib.h>

#include "protocol/memory_sync.h"
#include "transport/platform/write_watch.h"
#include "tether_icd_entrypoints.h"
#include "tether_wire.h"

/* Flush the batch when memory updates make it this large. */
#define MEMORY_BATCH_FLUSH (64u << 20)

struct tether_icd_memory {
	uint64_t id;
	struct tether_icd_device *device;
	VkDeviceSize size;
	size_t alloc_size;  /* shadow and snapshot size, whole pages */
	uint8_t *shadow;    /* what the application reads and writes */
	uint8_t *snapshot;  /* what client and server last agreed on */
	bool mapped;
	bool watched;       /* written pages are reported: no whole-mapping scans */
	unsigned hot;       /* submits in a row that wrote more than the break-even share */
	unsigned cooldown;  /* submits to compare whole before watching again */
	struct tether_icd_memory *next;
};

/* All HOST_VISIBLE allocations of the process (ids are process-unique). */
static struct tether_mutex memories_lock;
static struct tether_icd_memory *memories;
/* Finds written shadow pages; NULL where the system cannot (whole scans). */
static struct tether_write_watch *watch;
static bool watch_tried;
/* Share of an allocation's pages written per submit above which comparing it
 * whole is cheaper than a fault per written page (measured at start-up). */
static double watch_break_even = 0.25;
/* Bytes of shadow compared with snapshots, for the session totals. */
static uint64_t bytes_compared;

uint64_t tether_icd_memory_bytes_compared(void)
{
	return bytes_compared;
}

__attribute__((constructor)) static void memory_registry_init(void)
{
	tether_mutex_init(&memories_lock);
}

static struct tether_icd_memory *find_locked(uint64_t id)
{
	for (struct tether_icd_memory *m = memories; m; m = m->next)
		if (m->id == id)
			return m;
	return NULL;
}

static void memory_free(struct tether_icd_memory *m)
{
	if (m->watched)
		tether_write_watch_remove(watch, m->shadow, m->alloc_size);
	if (m->shadow) {
		tether_pages_free(m->shadow, m->alloc_size);
		tether_pages_free(m->snapshot, m->alloc_size);
	}
	free(m);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *pAllocateInfo,
							 const VkAllocationCallbacks *pAllocator,
							 VkDeviceMemory *pMemory)
{
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	const VkPhysicalDeviceMemoryProperties *mp = &dev->physical->memory;
	if (pAllocateInfo->memoryTypeIndex >= mp->memoryTypeCount)
		return TETHER_ERR("icd", VK_ERROR_OUT_OF_DEVICE_MEMORY, "memory type %u does not exist",
				  pAllocateInfo->memoryTypeIndex);
	*pMemory = (VkDeviceMemory)(uintptr_t)tether_icd_new_id();
	struct tether_decoder *d;
	struct tether_encoder *e = tether_icd_conn_lock(c);
	VkResult r = tether_icd_conn_reserve_locked(c, 1, "vkAllocateMemory");
	if (r == VK_SUCCESS) {
		tether_encode_cmd_vkAllocateMemory(e, device, pAllocateInfo, NULL, pMemory);
		r = VK_ERROR_DEVICE_LOST;
		if (tether_icd_conn_call(c, &d) == VK_SUCCESS)
			r = tether_decode_reply_vkAllocateMemory(d, device, pAllocateInfo, NULL, pMemory);
	}
	tether_icd_conn_unlock(c);
	if (r != VK_SUCCESS)
		return r;
	VkMemoryPropertyFlags flags = mp->memoryTypes[pAllocateInfo->memoryTypeIndex].propertyFlags;
	if (!(flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
		return VK_SUCCESS;
	struct tether_icd_memory *m = calloc(1, sizeof(*m));
	if (!m) {
		tether_icd_FreeMemory(device, *pMemory, NULL);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	m->id = (uint64_t)(uintptr_t)*pMemory;
	m->device = dev;
	m->size = pAllocateInfo->allocationSize;
	tether_mutex_lock(&memories_lock);
	m->next = memories;
	memories = m;
	tether_mutex_unlock(&memories_lock);
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_FreeMemory(VkDevice device, VkDeviceMemory memory,
						 const VkAllocationCallbacks *pAllocator)
{
	if (!memory)
		return;
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	tether_encode_cmd_vkFreeMemory(tether_icd_conn_lock(c), device, memory, NULL);
	tether_icd_conn_unlock_async(c);
	tether_mutex_lock(&memories_lock);
	for (struct tether_icd_memory **link = &memories; *link; link = &(*link)->next) {
		if ((*link)->id == (uint64_t)(uintptr_t)memory) {
			struct tether_icd_memory *m = *link;
			*link = m->next;
			memory_free(m);
			break;
		}
	}
	tether_mutex_unlock(&memories_lock);
}

void tether_icd_memory_destroy_all(struct tether_icd_device *dev)
{
	tether_mutex_lock(&memories_lock);
	for (struct tether_icd_memory **link = &memories; *link;) {
		struct tether_icd_memory *m = *link;
		if (m->device == dev) {
			*link = m->next;
			memory_free(m);
		} else {
			link = &m->next;
		}
	}
	tether_mutex_unlock(&memories_lock);
}

/*
 * A write fault costs from ~1.5 us (bare metal) to ~16 us (some VMs); a
 * memcmp of a page ~0.4 us. Which wins depends on the share of pages written,
 * so the break-even share is measured on this machine once, on 256 pages.
 */
static void calibrate_watch(void)
{
	const size_t pages = 256, page = tether_page_size(), len = pages * page;
	uint8_t *a = tether_pages_alloc(len), *b = tether_pages_alloc(len);
	if (!a || !b)
		goto out;
	/* Populated pages, as shadows are in steady state: only the write-protect
	 * fault and the compare are timed, not first touches. */
	memset(a, 0, len);
	memset(b, 0, len);
	if (tether_write_watch_add(watch, a, len) < 0)
		goto out;
	uint64_t t0 = tether_time_ns();
	for (size_t i = 0; i < pages; i++)
		a[i * page] = 1;
	uint64_t t1 = tether_time_ns();
	/* The differences are kept (and logged) so the compares cannot be dropped. */
	int differing = 0;
	for (size_t i = 0; i < pages; i++)
		differing += memcmp(a + i * page + 1, b + i * page + 1, page - 1) != 0;
	uint64_t t2 = tether_time_ns();
	TETHER_LOGD("memory", "write-watch calibration: %d of %zu pages differ past their first byte", differing,
		    pages);
	tether_write_watch_remove(watch, a, len);
	if (t1 > t0 && t2 > t1) {
		watch_break_even = (double)(t2 - t1) / (double)(t1 - t0);
		if (watch_break_even < 0.01)
			watch_break_even = 0.01;
		if (watch_break_even > 0.9)
			watch_break_even = 0.9;
	}
	TETHER_LOGI("memory", "write watching: a fault costs %.2f us, a page compare %.2f us: "
			      "allocations writing over %.0f%% of their pages per submit are compared whole",
		    (double)(t1 - t0) / pages / 1000.0, (double)(t2 - t1) / pages / 1000.0, watch_break_even * 100);
out:
	if (a)
		tether_pages_free(a, len);
	if (b)
		tether_pages_free(b, len);
}

/* Whole-comparison rounds before an allocation written heavily is watched again. */
#define WATCH_COOLDOWN 256
/* Submits in a row over the break-even share before watching stops. */
#define WATCH_HOT_LIMIT 3

/* Builds MEMORY_WRITE commands, one section each, kept under the window size. */
struct memory_writer {
	struct tether_icd_conn *c;
	struct tether_icd_memory *m;
	size_t written; /* bytes of pages reported written */
	size_t cmd_start;
	struct tether_memsync_section section;
	bool open;
};

static void writer_close(struct memory_writer *w)
{
	if (!w->open)
		return;
	struct tether_encoder *e = tether_icd_conn_lock_held(w->c);
	if (tether_memsync_end(e, &w->section))
		tether_enc_cmd_end(e, w->cmd_start);
	else
		e->size = w->cmd_start;
	w->open = false;
	if (e->size >= MEMORY_BATCH_FLUSH)
		tether_icd_conn_flush_locked(w->c);
}

/* Adds the changed spans of [off, off + len) of the shadow. */
static void writer_scan(void *ctx, size_t off, size_t len)
{
	struct memory_writer *w = ctx;
	struct tether_icd_memory *m = w->m;
	if (off >= m->size)
		return;
	if (len > m->size - off)
		len = m->size - off;
	struct tether_encoder *e = tether_icd_conn_lock_held(w->c);
	bytes_compared += len;
	while (len) {
		if (w->open && e->size - w->section.start >= TETHER_MEMSYNC_WINDOW)
			writer_close(w);
		if (!w->open) {
			e = tether_icd_conn_lock_held(w->c);
			w->cmd_start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_WRITE);
			tether_memsync_begin(e, &w->section, m->id, 0, m->shadow, m->snapshot);
			w->open = true;
		}
		size_t n = len < TETHER_MEMSYNC_WINDOW ? len : TETHER_MEMSYNC_WINDOW;
		tether_memsync_scan(e, &w->section, off, n);
		off += n;
		len -= n;
	}
}

/* Counts what a watched collection reports before scanning it. */
static void writer_scan_counted(void *ctx, size_t off, size_t len)
{
	struct memory_writer *w = ctx;
	w->written += len;
	writer_scan(ctx, off, len);
}

/* Watch an allocation's pages while few are written per submit; compare it
 * whole while most are (streaming uploads, readback targets the ICD itself
 * fills), trying watching again after a while. */
static void adapt_watching(struct tether_icd_memory *m, size_t written)
{
	if (m->watched) {
		m->hot = (double)written > watch_break_even * (double)m->alloc_size ? m->hot + 1 : 0;
		if (m->hot >= WATCH_HOT_LIMIT) {
			tether_write_watch_remove(watch, m->shadow, m->alloc_size);
			m->watched = false;
			m->cooldown = WATCH_COOLDOWN;
		}
	} else if (watch && m->cooldown && --m->cooldown == 0) {
		m->watched = tether_write_watch_add(watch, m->shadow, m->alloc_size) == 0;
		m->hot = 0;
	}
}

/* Appends MEMORY_WRITE commands for m's changes; memories lock and conn lock
 * held. Only written pages are compared when they are watched. */
static void send_changes(struct tether_icd_conn *c, struct tether_icd_memory *m)
{
	struct memory_writer w = {.c = c, .m = m};
	bool was_watched = m->watched;
	if (!m->watched ||
	    tether_write_watch_collect(watch, m->shadow, m->alloc_size, writer_scan_counted, &w) < 0) {
		/* Unknown which pages were written: compare them all (spans already
		 * sent match the snapshot now, so nothing goes twice). */
		writer_close(&w);
		writer_scan(&w, 0, m->size);
		w.written = was_watched ? m->alloc_size : 0;
	}
	writer_close(&w);
	adapt_watching(m, w.written);
}

void tether_icd_memory_send_all(struct tether_icd_conn *c, struct tether_icd_device *dev)
{
	tether_mutex_lock(&memories_lock);
	for (struct tether_icd_memory *m = memories; m; m = m->next)
		if (m->device == dev && m->mapped)
			send_changes(c, m);
	tether_mutex_unlock(&memories_lock);
}

/**
 * tether_icd_memory_receive() - apply GPU writes the server sent
 * @d: a MEMORY message: one memory_sync section
 *
 * Return: 0, or -EPROTO when the section is malformed.
 */
int tether_icd_memory_receive(struct tether_decoder *d)
{
	uint64_t id, base;
	tether_memsync_decode_header(d, &id, &base);
	tether_mutex_lock(&memories_lock);
	struct tether_icd_memory *m = find_locked(id);
	bool usable = m && m->shadow;
	tether_memsync_apply(d, usable ? m->shadow : NULL, usable ? m->snapshot : NULL, usable ? m->size : 0,
			     base, true);
	tether_mutex_unlock(&memories_lock);
	return d->fatal || tether_dec_remaining(d) ? -EPROTO : 0;
}

/* Sends a memory command; the memory contents arrive before its reply. */
static VkResult memory_call(struct tether_icd_conn *c, uint32_t cmd, uint32_t count, const uint64_t *ids)
{
	struct tether_encoder *e = tether_icd_conn_lock_held(c);
	size_t start = tether_enc_cmd_begin(e, cmd);
	tether_enc_u32(e, count);
	for (uint32_t i = 0; i < count; i++)
		tether_enc_u64(e, ids[i]);
	tether_enc_cmd_end(e, start);
	struct tether_decoder *d;
	return tether_icd_conn_call(c, &d);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset,
						    VkDeviceSize size, VkMemoryMapFlags flags, void **ppData)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	uint64_t id = (uint64_t)(uintptr_t)memory;
	tether_mutex_lock(&memories_lock);
	struct tether_icd_memory *m = find_locked(id);
	if (!m) {
		tether_mutex_unlock(&memories_lock);
		return TETHER_ERR("icd", VK_ERROR_MEMORY_MAP_FAILED, "memory is not HOST_VISIBLE");
	}
	if (!m->shadow) {
		size_t page = tether_page_size();
		m->alloc_size = ((size_t)m->size + page - 1) / page * page;
		if (!m->alloc_size)
			m->alloc_size = page;
		m->shadow = tether_pages_alloc(m->alloc_size);
		m->snapshot = tether_pages_alloc(m->alloc_size);
		if (!m->shadow || !m->snapshot) {
			if (m->shadow)
				tether_pages_free(m->shadow, m->alloc_size);
			if (m->snapshot)
				tether_pages_free(m->snapshot, m->alloc_size);
			m->shadow = m->snapshot = NULL;
			tether_mutex_unlock(&memories_lock);
			return VK_ERROR_OUT_OF_HOST_MEMORY;
		}
		if (!watch_tried) {
			const char *off = tether_getenv("TETHER_NO_WRITE_WATCH");
			watch = off && *off && *off != '0' ? NULL : tether_write_watch_open();
			watch_tried = true;
			if (watch)
				calibrate_watch();
		}
		m->watched = watch && tether_write_watch_add(watch, m->shadow, m->alloc_size) == 0;
	}
	m->mapped = true;
	uint8_t *data = m->shadow + offset;
	tether_mutex_unlock(&memories_lock);

	tether_icd_conn_lock(c);
	VkResult r = memory_call(c, TETHER_CMD_MEMORY_MAP, 1, &id);
	tether_icd_conn_unlock(c);
	if (r != VK_SUCCESS)
		return VK_ERROR_MEMORY_MAP_FAILED;
	*ppData = data;
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_UnmapMemory(VkDevice device, VkDeviceMemory memory)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	uint64_t id = (uint64_t)(uintptr_t)memory;
	struct tether_encoder *e = tether_icd_conn_lock(c);
	tether_mutex_lock(&memories_lock);
	struct tether_icd_memory *m = find_locked(id);
	if (m && m->mapped) {
		send_changes(c, m);
		m->mapped = false;
	}
	tether_mutex_unlock(&memories_lock);
	e = tether_icd_conn_lock_held(c);
	size_t start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_UNMAP);
	tether_enc_u64(e, id);
	tether_enc_cmd_end(e, start);
	tether_icd_conn_unlock_async(c);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_FlushMappedMemoryRanges(VkDevice device, uint32_t memoryRangeCount,
								  const VkMappedMemoryRange *pMemoryRanges)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	tether_icd_conn_lock(c);
	tether_mutex_lock(&memories_lock);
	for (uint32_t i = 0; i < memoryRangeCount; i++) {
		struct tether_icd_memory *m = find_locked((uint64_t)(uintptr_t)pMemoryRanges[i].memory);
		if (m && m->mapped)
			send_changes(c, m);
	}
	tether_mutex_unlock(&memories_lock);
	tether_icd_conn_unlock_async(c);
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_InvalidateMappedMemoryRanges(VkDevice device, uint32_t memoryRangeCount,
								       const VkMappedMemoryRange *pMemoryRanges)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	uint64_t *ids = calloc(memoryRangeCount ? memoryRangeCount : 1, sizeof(*ids));
	if (!ids)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	for (uint32_t i = 0; i < memoryRangeCount; i++)
		ids[i] = (uint64_t)(uintptr_t)pMemoryRanges[i].memory;
	tether_icd_conn_lock(c);
	VkResult r = memory_call(c, TETHER_CMD_MEMORY_READ, memoryRangeCount, ids);
	tether_icd_conn_unlock(c);
	free(ids);
	return r == VK_SUCCESS ? VK_SUCCESS : VK_ERROR_DEVICE_LOST;
}
