/*
 * Memory sync while the sending side's memory is being written (the GPU
 * during a poll, another application thread during a submit): whatever the
 * interleaving, once the writes stop, one more round must leave the receiver
 * equal to the sender and both snapshots equal. A sender that read the
 * memory twice (once for the wire, once for its snapshot) could record a
 * change as sent that never was, and lose it for good.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/memory_sync.h"

#define SIZE (1u << 20)

static uint8_t *source;
static atomic_bool stop; /* set by the writer when it is done */

/* Writes every word once in a scattered order, as a GPU's many threads write
 * their output: a word whose change is lost is never written again to heal it. */
static void *writer(void *arg)
{
	const size_t words = SIZE / 4;
	for (size_t k = 0; k < words; k++) {
		size_t at = (k * 7919u) % words * 4; /* 7919 is prime: every word once */
		uint32_t v = (uint32_t)(at * 2654435761u) | 1u;
		memcpy(source + at, &v, 4);
		if (k % 64 == 0)
			for (volatile int spin = 0; spin < 20000; spin++)
				;
	}
	atomic_store(&stop, true);
	return NULL;
}

/* One round: encode the sender's changes, apply them on the receiver. */
static int sync_once(uint8_t *send_snap, uint8_t *recv, uint8_t *recv_snap, struct tether_arena *arena)
{
	struct tether_encoder e;
	tether_encoder_init(&e);
	tether_memsync_encode(&e, 1, 0, source, send_snap, SIZE);
	if (e.size) {
		struct tether_decoder d;
		tether_arena_reset(arena);
		tether_decoder_init(&d, e.data, e.size, arena);
		uint64_t id, base;
		tether_memsync_decode_header(&d, &id, &base);
		tether_memsync_apply(&d, recv, recv_snap, SIZE, base, false);
		if (d.fatal) {
			fprintf(stderr, "decode failed: %s\n", d.error);
			tether_encoder_free(&e);
			return -1;
		}
	}
	tether_encoder_free(&e);
	return 0;
}

/* One sender/receiver pair synchronised while the writer runs, then once more. */
static int run_once(struct tether_arena *arena)
{
	memset(source, 0, SIZE);
	atomic_store(&stop, false);
	uint8_t *send_snap = calloc(1, SIZE), *recv = calloc(1, SIZE), *recv_snap = calloc(1, SIZE);
	if (!send_snap || !recv || !recv_snap)
		return 2;
	pthread_t t;
	if (pthread_create(&t, NULL, writer, NULL))
		return 2;
	unsigned rounds = 0;
	int r = 0;
	while (!atomic_load(&stop) && !r) {
		r = sync_once(send_snap, recv, recv_snap, arena);
		rounds++;
	}
	pthread_join(t, NULL);
	if (!r)
		r = sync_once(send_snap, recv, recv_snap, arena);
	if (!r && memcmp(send_snap, recv_snap, SIZE)) {
		fprintf(stderr, "FAIL: the snapshots disagree after the writes stopped\n");
		r = 1;
	}
	if (!r && memcmp(source, recv, SIZE)) {
		size_t i = 0;
		while (source[i] == recv[i])
			i++;
		fprintf(stderr, "FAIL: byte %zu is 0x%02x on the receiver, 0x%02x on the sender\n", i, recv[i],
			source[i]);
		r = 1;
	}
	if (!r)
		printf("receiver equals sender after %u rounds\n", rounds + 1);
	free(send_snap);
	free(recv);
	free(recv_snap);
	return r;
}

int main(void)
{
	source = calloc(1, SIZE);
	struct tether_arena arena;
	tether_arena_init(&arena, 64u << 20);
	if (!source)
		return 2;
	/* A lost change needs a write to land between two reads of the same
	 * bytes: repeat to make that likely where the code allows it. */
	for (int i = 0; i < 32; i++) {
		int r = run_once(&arena);
		if (r)
			return r;
	}
	printf("memsync under concurrent writes: 32 runs converged\n");
	free(source);
	tether_arena_free(&arena);
	return 0;
}
