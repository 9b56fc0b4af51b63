/*
 * Mapped memory over a link without shared memory: each side keeps a
 * snapshot of what both last agreed on, and only the spans of pages that
 * differ from it cross the wire. Both snapshots are equal, so the receiver
 * tells which bytes of a span the sender really changed (those that differ
 * from its own snapshot) and writes only those: bytes the sender did not
 * change never overwrite what the receiving side wrote meanwhile.
 */
#ifndef TETHER_PROTOCOL_MEMORY_SYNC_H
#define TETHER_PROTOCOL_MEMORY_SYNC_H

#include "protocol/stream.h"

/* tether's own commands (ids below TETHER_RESERVED_ID_LIMIT never clash with Vulkan's). */
enum tether_own_command {
	TETHER_CMD_MEMORY_WRITE = 0x100, /* client -> server: changed bytes of one memory */
	TETHER_CMD_MEMORY_MAP = 0x101,   /* client mapped a memory: reply holds its contents */
	TETHER_CMD_MEMORY_UNMAP = 0x102, /* client unmapped: stop sending its changes */
	TETHER_CMD_MEMORY_READ = 0x103,  /* vkInvalidateMappedMemoryRanges: reply holds changes */
};
#define TETHER_RESERVED_ID_LIMIT 0x10000u

/* Encoded memory windows never exceed this, so messages stay bounded. */
#define TETHER_MEMSYNC_WINDOW (32u << 20)

/**
 * tether_memsync_encode() - append one window's changed runs
 * @e: where the section goes: u64 id, u64 base, u64 run count, then runs of
 *     (u64 offset from base, u64 length, bytes)
 * @cur: the window's current bytes; @snap: the agreed snapshot, updated here
 *
 * Return: number of runs written; when 0 nothing is appended.
 */
uint64_t tether_memsync_encode(struct tether_encoder *e, uint64_t id, uint64_t base,
			       const uint8_t *cur, uint8_t *snap, size_t len);

/* A section being built from several page ranges (written pages only). */
struct tether_memsync_section {
	size_t start, count_at; /* where it began in the encoder, where its run count goes */
	uint64_t runs;
	size_t run_start, run_end; /* the run being built, relative to base; empty when equal */
	const uint8_t *cur;        /* the memory at base */
	uint8_t *snap;             /* its snapshot at base */
};

/** tether_memsync_begin() - start a section for memory @id whose offsets count from @base */
void tether_memsync_begin(struct tether_encoder *e, struct tether_memsync_section *s, uint64_t id,
			  uint64_t base, const uint8_t *cur, uint8_t *snap);
/** tether_memsync_scan() - add the changed spans of [@off, @off + @len), @off page-aligned and rising */
void tether_memsync_scan(struct tether_encoder *e, struct tether_memsync_section *s, size_t off, size_t len);
/** tether_memsync_end() - finish; Return: runs written (with none, nothing stays appended) */
uint64_t tether_memsync_end(struct tether_encoder *e, struct tether_memsync_section *s);

/**
 * tether_memsync_decode_header() - read a section's memory id and base
 */
void tether_memsync_decode_header(struct tether_decoder *d, uint64_t *id, uint64_t *base);

/**
 * tether_memsync_apply() - apply a section's runs (after its header)
 * @dst: the memory (of @size bytes) the runs go into; NULL to skip them
 * @snap: the snapshot, updated to the new bytes
 * @merge: read @dst and keep its bytes that differ from @snap (the client
 *         keeps writes the application made since the snapshot); without it
 *         @dst is only written (the server's mapping may be write-combined)
 */
void tether_memsync_apply(struct tether_decoder *d, uint8_t *dst, uint8_t *snap, uint64_t size,
			  uint64_t base, bool merge);

#endif
