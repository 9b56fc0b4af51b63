/*
 * The frame path of a session: presented images, already copied into host
 * memory by the GPU, are compressed and sent to the client over the frame
 * channel. Two threads form a pipeline, so while frame N is on the link,
 * frame N+1 is being compressed and frame N+2 renders:
 *
 *   session thread:  submit copy-out  -> jobs
 *   encoder thread:  wait fence, compress (codec worker threads) -> ready
 *   sender thread:   send FRAME, release the image
 */
#ifndef TETHER_SERVER_FRAME_PIPELINE_H
#define TETHER_SERVER_FRAME_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "server/session.h"
#include "transport/conn.h"
#include "transport/platform/platform.h"

struct tether_srv_frame_pipeline;

/* What the pipeline needs of one presented image. */
struct tether_srv_frame_job {
	struct tether_srv_swapchain *swapchain;
	uint32_t image;
	uint64_t seq;
	VkResult status;  /* VK_SUCCESS: wait for the fence, then read the copy */
	uint64_t queued_ns; /* when the present was executed */
};

/**
 * tether_srv_frame_pipeline_start() - start the threads sending frames on @conn
 * @conn: the session's frame channel (not owned)
 * Return: 0 or negative errno.
 */
int tether_srv_frame_pipeline_start(struct tether_conn *conn, struct tether_srv_frame_pipeline **out);

/** tether_srv_frame_pipeline_push() - queue one presented image (session thread) */
void tether_srv_frame_pipeline_push(struct tether_srv_frame_pipeline *p, const struct tether_srv_frame_job *job);

/** tether_srv_frame_pipeline_wait_image() - wait until image @image of @sc is not in flight */
void tether_srv_frame_pipeline_wait_image(struct tether_srv_frame_pipeline *p, struct tether_srv_swapchain *sc,
					  uint32_t image);

/** tether_srv_frame_pipeline_drain() - wait until no image of @sc is in flight */
void tether_srv_frame_pipeline_drain(struct tether_srv_frame_pipeline *p, struct tether_srv_swapchain *sc);

/** tether_srv_frame_pipeline_stop() - finish queued frames, stop the threads, free; NULL is ignored */
void tether_srv_frame_pipeline_stop(struct tether_srv_frame_pipeline *p);

#endif
