/*
 * The frame pipeline: see frame_pipeline.h. The session thread pushes jobs;
 * the encoder thread waits for each copy-out, compresses the image with the
 * codec the link calls for and hands it to the sender thread, which writes
 * it to the frame channel and frees the image for the client to acquire
 * again. Packets rotate through a small pool, so compressing frame N+1
 * overlaps sending frame N without copying either.
 */
#include "server/frame_pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/frame_codec.h"
#include "protocol/message.h"
#include "protocol/present.h"
#include "server/swapchain.h"
#include "transport/platform/log.h"

#define JOB_RING 64
#define PACKETS 3
/* A fence wait gives up this often to see whether the session is ending. */
#define FENCE_SLICE_NS 100000000ull

struct encoded {
	struct tether_srv_frame_job job;
	struct tether_frame_packet *packet; /* NULL: nothing to send but the header */
	uint64_t gpu_done_ns, encode_ns;
	uint32_t raw_bytes;
	enum tether_frame_codec codec;
};

struct tether_srv_frame_pipeline {
	struct tether_conn *conn;
	struct tether_mutex lock;
	struct tether_cond changed;
	bool stopping;
	bool encoder_done;
	bool link_failed;
	/* session thread -> encoder */
	struct tether_srv_frame_job jobs[JOB_RING];
	unsigned job_head, job_count;
	/* encoder -> sender */
	struct encoded ready[PACKETS];
	unsigned ready_head, ready_count;
	struct tether_frame_packet packets[PACKETS];
	bool packet_busy[PACKETS];
	struct tether_frame_encoder *encoder;
	struct tether_codec_chooser *chooser;
	struct tether_thread *encode_thread, *send_thread;
	uint64_t frames_sent, bytes_sent;
};

/* Waits for the copy-out of @job; Return: its result. */
static VkResult wait_copy(struct tether_srv_frame_pipeline *p, const struct tether_srv_frame_job *job)
{
	struct tether_srv_swapchain *sc = job->swapchain;
	struct tether_srv_swapchain_image *im = &sc->images[job->image];
	for (;;) {
		VkResult r = sc->dt->WaitForFences(sc->device, 1, &im->fence, VK_TRUE, FENCE_SLICE_NS);
		if (r != VK_TIMEOUT) {
			if (r == VK_SUCCESS)
				r = sc->dt->ResetFences(sc->device, 1, &im->fence);
			if (r == VK_SUCCESS && !im->coherent) {
				VkMappedMemoryRange range = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
							     .memory = im->staging_memory,
							     .size = VK_WHOLE_SIZE};
				r = sc->dt->InvalidateMappedMemoryRanges(sc->device, 1, &range);
			}
			return r;
		}
		/* The session is ending: its client will never see this frame, and
		 * the copy may wait for a semaphore nobody will signal. */
		tether_mutex_lock(&p->lock);
		bool stop = p->stopping;
		tether_mutex_unlock(&p->lock);
		if (stop)
			return VK_ERROR_DEVICE_LOST;
	}
}

static void *encode_main(void *arg)
{
	struct tether_srv_frame_pipeline *p = arg;
	tether_mutex_lock(&p->lock);
	for (;;) {
		while (!p->job_count && !p->stopping)
			tether_cond_wait(&p->changed, &p->lock);
		if (!p->job_count) {
			p->encoder_done = true;
			tether_cond_broadcast(&p->changed);
			break;
		}
		struct tether_srv_frame_job job = p->jobs[p->job_head];
		p->job_head = (p->job_head + 1) % JOB_RING;
		p->job_count--;
		int slot = -1;
		while (slot < 0) {
			for (int i = 0; i < PACKETS && slot < 0; i++)
				if (!p->packet_busy[i])
					slot = i;
			if (slot < 0)
				tether_cond_wait(&p->changed, &p->lock);
		}
		p->packet_busy[slot] = true;
		tether_cond_broadcast(&p->changed);
		bool skip = p->link_failed;
		tether_mutex_unlock(&p->lock);

		struct encoded out = {.job = job};
		if (job.status == VK_SUCCESS)
			job.status = out.job.status = wait_copy(p, &job);
		out.gpu_done_ns = tether_time_ns() - job.queued_ns;
		struct tether_srv_swapchain *sc = job.swapchain;
		if (job.status == VK_SUCCESS && !skip) {
			out.codec = tether_codec_choose(p->chooser, sc->codecs);
			uint64_t t0 = tether_time_ns();
			int r = tether_frame_encode(p->encoder, out.codec, sc->images[job.image].mapped, sc->width * 4,
						    sc->height, sc->width * 4, &p->packets[slot]);
			out.encode_ns = tether_time_ns() - t0;
			if (r < 0) {
				out.job.status = VK_ERROR_OUT_OF_HOST_MEMORY;
			} else {
				out.packet = &p->packets[slot];
				out.raw_bytes = sc->width * sc->height * 4;
				tether_codec_observe_encode(p->chooser, out.codec, out.raw_bytes, out.packet->size,
							    out.encode_ns);
			}
		}

		tether_mutex_lock(&p->lock);
		while (p->ready_count == PACKETS)
			tether_cond_wait(&p->changed, &p->lock);
		p->ready[(p->ready_head + p->ready_count) % PACKETS] = out;
		p->ready_count++;
		if (!out.packet)
			p->packet_busy[slot] = false;
		tether_cond_broadcast(&p->changed);
	}
	tether_mutex_unlock(&p->lock);
	return NULL;
}

static int send_frame(struct tether_srv_frame_pipeline *p, const struct encoded *e)
{
	struct tether_srv_swapchain *sc = e->job.swapchain;
	struct tether_frame_header h = {
		.swapchain = sc->id,
		.seq = e->job.seq,
		.image = e->job.image,
		.status = e->packet ? VK_SUCCESS : (e->job.status != VK_SUCCESS ? e->job.status : VK_ERROR_DEVICE_LOST),
		.width = sc->width,
		.height = sc->height,
		.gpu_done_ns = e->gpu_done_ns,
		.encode_ns = e->encode_ns,
	};
	uint8_t hdr[TETHER_FRAME_HEADER_SIZE];
	tether_frame_header_encode(&h, hdr);
	struct tether_iovec iov[1 + TETHER_FRAME_MAX_IOV];
	int n = 0;
	iov[n++] = (struct tether_iovec){hdr, sizeof(hdr)};
	if (e->packet)
		for (int i = 0; i < e->packet->iovcnt; i++)
			iov[n++] = e->packet->iov[i];
	uint64_t t0 = tether_time_ns();
	int r = tether_msg_send(p->conn, TETHER_MSG_FRAME, iov, n);
	if (r == 0 && e->packet) {
		tether_codec_observe_link(p->chooser, e->packet->size, tether_time_ns() - t0);
		p->bytes_sent += e->packet->size;
	}
	return r;
}

static void *send_main(void *arg)
{
	struct tether_srv_frame_pipeline *p = arg;
	tether_mutex_lock(&p->lock);
	for (;;) {
		while (!p->ready_count && !p->encoder_done)
			tether_cond_wait(&p->changed, &p->lock);
		if (!p->ready_count)
			break;
		struct encoded e = p->ready[p->ready_head];
		bool failed = p->link_failed;
		tether_mutex_unlock(&p->lock);

		if (!failed && send_frame(p, &e) < 0) {
			TETHER_LOGW("frames", "frame channel lost: frames are no longer sent");
			failed = true;
		}

		tether_mutex_lock(&p->lock);
		p->link_failed |= failed;
		p->ready_head = (p->ready_head + 1) % PACKETS;
		p->ready_count--;
		if (e.packet)
			p->packet_busy[e.packet - p->packets] = false;
		e.job.swapchain->images[e.job.image].in_flight = false;
		e.job.swapchain->in_flight--;
		p->frames_sent++;
		tether_cond_broadcast(&p->changed);
	}
	tether_mutex_unlock(&p->lock);
	return NULL;
}

int tether_srv_frame_pipeline_start(struct tether_conn *conn, struct tether_srv_frame_pipeline **out)
{
	struct tether_srv_frame_pipeline *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->conn = conn;
	tether_mutex_init(&p->lock);
	tether_cond_init(&p->changed);
	unsigned workers = tether_frame_threads();
	int r = tether_frame_encoder_create(workers, &p->encoder);
	if (r == 0)
		r = tether_codec_chooser_create(&p->chooser);
	if (r == 0)
		r = tether_thread_create(&p->encode_thread, encode_main, p);
	if (r == 0 && (r = tether_thread_create(&p->send_thread, send_main, p)) < 0) {
		tether_mutex_lock(&p->lock);
		p->stopping = true;
		tether_cond_broadcast(&p->changed);
		tether_mutex_unlock(&p->lock);
		tether_thread_join(p->encode_thread);
		p->encode_thread = NULL;
	}
	if (r < 0) {
		tether_codec_chooser_destroy(p->chooser);
		tether_frame_encoder_destroy(p->encoder);
		tether_cond_destroy(&p->changed);
		tether_mutex_destroy(&p->lock);
		free(p);
		return r;
	}
	TETHER_LOGI("frames", "frame path started: %u compression threads", workers);
	*out = p;
	return 0;
}

void tether_srv_frame_pipeline_push(struct tether_srv_frame_pipeline *p, const struct tether_srv_frame_job *job)
{
	struct tether_srv_swapchain_image *im = &job->swapchain->images[job->image];
	tether_mutex_lock(&p->lock);
	while (p->job_count == JOB_RING)
		tether_cond_wait(&p->changed, &p->lock);
	p->jobs[(p->job_head + p->job_count) % JOB_RING] = *job;
	p->job_count++;
	im->in_flight = true;
	job->swapchain->in_flight++;
	tether_cond_broadcast(&p->changed);
	tether_mutex_unlock(&p->lock);
}

void tether_srv_frame_pipeline_wait_image(struct tether_srv_frame_pipeline *p, struct tether_srv_swapchain *sc,
					  uint32_t image)
{
	tether_mutex_lock(&p->lock);
	while (sc->images[image].in_flight)
		tether_cond_wait(&p->changed, &p->lock);
	tether_mutex_unlock(&p->lock);
}

void tether_srv_frame_pipeline_drain(struct tether_srv_frame_pipeline *p, struct tether_srv_swapchain *sc)
{
	tether_mutex_lock(&p->lock);
	while (sc->in_flight)
		tether_cond_wait(&p->changed, &p->lock);
	tether_mutex_unlock(&p->lock);
}

void tether_srv_frame_pipeline_stop(struct tether_srv_frame_pipeline *p)
{
	if (!p)
		return;
	tether_mutex_lock(&p->lock);
	p->stopping = true;
	tether_cond_broadcast(&p->changed);
	tether_mutex_unlock(&p->lock);
	/* Nothing more reaches the client: a sender blocked on a client that
	 * stopped reading wakes up failing. */
	tether_conn_shutdown(p->conn);
	tether_thread_join(p->encode_thread);
	tether_thread_join(p->send_thread);
	TETHER_LOGI("frames", "frame path stopped: %llu frames, %llu bytes sent", (unsigned long long)p->frames_sent,
		    (unsigned long long)p->bytes_sent);
	for (int i = 0; i < PACKETS; i++)
		tether_frame_packet_release(&p->packets[i]);
	tether_codec_chooser_destroy(p->chooser);
	tether_frame_encoder_destroy(p->encoder);
	tether_cond_destroy(&p->changed);
	tether_mutex_destroy(&p->lock);
	free(p);
}
