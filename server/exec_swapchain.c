/*
 * tether's presentation commands on the server. A swapchain's images are
 * created here as ordinary optimal-tiling images in device-local memory; a
 * present submits, on the presenting queue and after the semaphores the
 * application gave, a copy of the image into a linear host-visible buffer,
 * and hands the image to the frame pipeline, which sends it once the copy is
 * done. Nothing here reads a tiled image with the CPU.
 */
#include "server/swapchain.h"

#include <stdlib.h>
#include <string.h>

#include "server/frame_channel.h"
#include "server/frame_pipeline.h"
#include "tether_wire.h"
#include "transport/platform/log.h"

/* How long a first swapchain waits for the client's frame channel. */
#define FRAME_CHANNEL_WAIT_MS 10000

/* Usages a client may ask for; TRANSFER_SRC is always added for the copy-out. */
#define ALLOWED_USAGE                                                                                           \
	(VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT |       \
	 VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT)

static bool format_allowed(uint32_t f)
{
	switch (f) {
	case VK_FORMAT_B8G8R8A8_UNORM:
	case VK_FORMAT_B8G8R8A8_SRGB:
		return true;
	default:
		return false;
	}
}

static struct tether_srv_swapchain *swapchain_find(struct tether_srv_session *s, uint64_t id)
{
	for (struct tether_srv_swapchain *sc = s->swapchains; sc; sc = sc->next)
		if (sc->id == id)
			return sc;
	return NULL;
}

static bool memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits, VkMemoryPropertyFlags want,
			uint32_t *out)
{
	for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
		if ((bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want) {
			*out = i;
			return true;
		}
	return false;
}

static void image_destroy(struct tether_srv_swapchain *sc, struct tether_srv_swapchain_image *im)
{
	const struct tether_srv_dispatch *dt = sc->dt;
	if (im->fence)
		dt->DestroyFence(sc->device, im->fence, NULL);
	if (im->staging_memory)
		dt->FreeMemory(sc->device, im->staging_memory, NULL);
	if (im->staging)
		dt->DestroyBuffer(sc->device, im->staging, NULL);
	if (im->image)
		dt->DestroyImage(sc->device, im->image, NULL);
	if (im->memory)
		dt->FreeMemory(sc->device, im->memory, NULL);
	memset(im, 0, sizeof(*im));
}

static VkResult image_create(struct tether_srv_session *s, struct tether_srv_swapchain *sc,
			     const struct tether_swapchain_desc *desc, const VkPhysicalDeviceMemoryProperties *mp,
			     struct tether_srv_swapchain_image *im)
{
	const struct tether_srv_dispatch *dt = sc->dt;
	VkImageFormatListCreateInfo list = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_LIST_CREATE_INFO,
		.viewFormatCount = desc->view_format_count,
		.pViewFormats = (const VkFormat *)desc->view_formats,
	};
	VkImageCreateInfo info = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.pNext = desc->view_format_count ? &list : NULL,
		.flags = desc->image_flags,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = desc->format,
		.extent = {desc->width, desc->height, 1},
		.mipLevels = 1,
		.arrayLayers = desc->layers,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = desc->usage | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
		.sharingMode = desc->sharing,
		.queueFamilyIndexCount = desc->sharing == VK_SHARING_MODE_CONCURRENT ? desc->family_count : 0,
		.pQueueFamilyIndices = desc->families,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	VkResult r = dt->CreateImage(sc->device, &info, NULL, &im->image);
	if (r != VK_SUCCESS)
		return r;
	VkMemoryRequirements req;
	dt->GetImageMemoryRequirements(sc->device, im->image, &req);
	uint32_t type;
	if (!memory_type(mp, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &type) &&
	    !memory_type(mp, req.memoryTypeBits, 0, &type))
		return VK_ERROR_OUT_OF_DEVICE_MEMORY;
	VkMemoryAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
				      .allocationSize = req.size, .memoryTypeIndex = type};
	if ((r = dt->AllocateMemory(sc->device, &alloc, NULL, &im->memory)) != VK_SUCCESS ||
	    (r = dt->BindImageMemory(sc->device, im->image, im->memory, 0)) != VK_SUCCESS)
		return r;

	/* The copy-out target: read by the CPU, so cached memory when there is some. */
	VkBufferCreateInfo binfo = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
				    .size = (VkDeviceSize)desc->width * desc->height * 4,
				    .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
				    .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
	if ((r = dt->CreateBuffer(sc->device, &binfo, NULL, &im->staging)) != VK_SUCCESS)
		return r;
	dt->GetBufferMemoryRequirements(sc->device, im->staging, &req);
	const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
	if (!memory_type(mp, req.memoryTypeBits, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, &type) &&
	    !memory_type(mp, req.memoryTypeBits, hv, &type))
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	im->coherent = mp->memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	alloc.allocationSize = req.size;
	alloc.memoryTypeIndex = type;
	void *mapped;
	if ((r = dt->AllocateMemory(sc->device, &alloc, NULL, &im->staging_memory)) != VK_SUCCESS ||
	    (r = dt->BindBufferMemory(sc->device, im->staging, im->staging_memory, 0)) != VK_SUCCESS ||
	    (r = dt->MapMemory(sc->device, im->staging_memory, 0, VK_WHOLE_SIZE, 0, &mapped)) != VK_SUCCESS)
		return r;
	im->mapped = mapped;
	VkFenceCreateInfo finfo = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	return dt->CreateFence(sc->device, &finfo, NULL, &im->fence);
}

static void swapchain_free(struct tether_srv_session *s, struct tether_srv_swapchain *sc)
{
	if (s->frame_pipeline)
		tether_srv_frame_pipeline_drain(s->frame_pipeline, sc);
	for (uint32_t i = 0; i < sc->image_count; i++) {
		if (sc->images[i].image)
			tether_srv_object_remove(s, VK_OBJECT_TYPE_IMAGE, sc->images[i].id);
		image_destroy(sc, &sc->images[i]);
	}
	if (sc->pool)
		sc->dt->DestroyCommandPool(sc->device, sc->pool, NULL);
	free(sc);
}

/* Session end, after every device has ended (and freed its swapchains):
 * only a swapchain whose device was never found is left to forget. */
static void swapchain_forget(struct tether_srv_swapchain *sc)
{
	free(sc);
}

static void unlink_swapchain(struct tether_srv_session *s, struct tether_srv_swapchain *sc)
{
	for (struct tether_srv_swapchain **p = &s->swapchains; *p; p = &(*p)->next)
		if (*p == sc) {
			*p = sc->next;
			return;
		}
}

/* The frame channel and its pipeline, started with the first swapchain. */
static VkResult frame_path(struct tether_srv_session *s)
{
	if (s->frame_pipeline)
		return VK_SUCCESS;
	struct tether_conn *fc = s->frames ? tether_srv_frame_channel_wait(s->frames, FRAME_CHANNEL_WAIT_MS) : NULL;
	if (!fc) {
		TETHER_LOGE("present", "%s: the client opened no frame channel: no swapchain",
			    tether_conn_peer(s->conn));
		return VK_ERROR_INITIALIZATION_FAILED;
	}
	return tether_srv_frame_pipeline_start(fc, &s->frame_pipeline) < 0 ? VK_ERROR_OUT_OF_HOST_MEMORY
									     : VK_SUCCESS;
}

static void own_swapchain_create(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_swapchain_desc desc;
	if (!tether_swapchain_desc_decode(d, &desc))
		return;
	struct tether_srv_table *t = tether_srv_table_of(s, (void *)(uintptr_t)desc.device);
	if (!t || !format_allowed(desc.format) || (desc.usage & ~ALLOWED_USAGE) ||
	    (desc.image_flags & ~VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT) || desc.sharing > VK_SHARING_MODE_CONCURRENT ||
	    swapchain_find(s, desc.swapchain) || !tether_srv_objects_fresh(s, desc.images, desc.image_count)) {
		tether_decoder_fail(d, "bad swapchain");
		return;
	}
	uint32_t families = 0;
	t->dt.GetPhysicalDeviceQueueFamilyProperties(t->physical, &families, NULL);
	for (uint32_t i = 0; desc.sharing == VK_SHARING_MODE_CONCURRENT && i < desc.family_count; i++)
		if (desc.families[i] >= families) {
			tether_decoder_fail(d, "bad swapchain queue family");
			return;
		}
	VkResult result = frame_path(s);
	struct tether_srv_swapchain *sc = result == VK_SUCCESS ? calloc(1, sizeof(*sc)) : NULL;
	if (sc) {
		sc->id = desc.swapchain;
		sc->device = (VkDevice)(uintptr_t)desc.device;
		sc->dt = &t->dt;
		sc->width = desc.width;
		sc->height = desc.height;
		sc->format = desc.format;
		sc->codecs = desc.codecs;
		sc->pool_family = UINT32_MAX;
		sc->image_count = desc.image_count;
		VkPhysicalDeviceMemoryProperties mp;
		t->dt.GetPhysicalDeviceMemoryProperties(t->physical, &mp);
		/* Each image and its staging copy count against the memory limit. */
		const uint64_t charge = (uint64_t)desc.width * desc.height * 4 * desc.layers * 2;
		for (uint32_t i = 0; i < desc.image_count && result == VK_SUCCESS; i++) {
			if (!tether_srv_memory_charge(s, charge, "a swapchain image")) {
				result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
				break;
			}
			result = image_create(s, sc, &desc, &mp, &sc->images[i]);
			sc->images[i].id = desc.images[i];
			struct tether_srv_object *o =
				result != VK_SUCCESS ? NULL
						     : tether_srv_object_add(s, VK_OBJECT_TYPE_IMAGE, desc.images[i],
									     (uint64_t)(uintptr_t)sc->images[i].image, 0);
			if (o) {
				o->bytes = charge;
			} else {
				tether_srv_memory_discharge(s, charge);
				if (result == VK_SUCCESS)
					result = VK_ERROR_OUT_OF_HOST_MEMORY;
			}
		}
		if (result != VK_SUCCESS) {
			swapchain_free(s, sc);
		} else {
			sc->next = s->swapchains;
			s->swapchains = sc;
			TETHER_LOGI("present", "%s: swapchain of %u %ux%u images", tether_conn_peer(s->conn),
				    sc->image_count, sc->width, sc->height);
		}
	} else if (result == VK_SUCCESS) {
		result = VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	tether_enc_u32(r, (uint32_t)result);
	tether_srv_reply_ready(s);
}

/* Records the copy of image @i into its staging buffer for queue family @family. */
static VkResult record_copy(struct tether_srv_swapchain *sc, uint32_t i, uint32_t family)
{
	const struct tether_srv_dispatch *dt = sc->dt;
	VkResult r;
	if (sc->pool_family != family) {
		/* A queue of another family presents: the copies are recorded anew. */
		if (sc->pool)
			dt->DestroyCommandPool(sc->device, sc->pool, NULL);
		for (uint32_t j = 0; j < sc->image_count; j++)
			sc->images[j].copy = VK_NULL_HANDLE;
		sc->pool = VK_NULL_HANDLE;
		VkCommandPoolCreateInfo pinfo = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
						 .queueFamilyIndex = family};
		if ((r = dt->CreateCommandPool(sc->device, &pinfo, NULL, &sc->pool)) != VK_SUCCESS)
			return r;
		sc->pool_family = family;
	}
	struct tether_srv_swapchain_image *im = &sc->images[i];
	if (im->copy)
		return VK_SUCCESS;
	VkCommandBufferAllocateInfo ainfo = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					     .commandPool = sc->pool,
					     .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
					     .commandBufferCount = 1};
	if ((r = dt->AllocateCommandBuffers(sc->device, &ainfo, &im->copy)) != VK_SUCCESS)
		return r;
	/* Command buffers are dispatchable: they carry the device's dispatch key. */
	*(void **)im->copy = *(void **)sc->device;
	VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
	dt->BeginCommandBuffer(im->copy, &begin);
	const VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
	VkImageMemoryBarrier to_src = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
		.oldLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
		.newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = im->image,
		.subresourceRange = range,
	};
	dt->CmdPipelineBarrier(im->copy, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
			       NULL, 0, NULL, 1, &to_src);
	VkBufferImageCopy region = {
		.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
		.imageExtent = {sc->width, sc->height, 1},
	};
	dt->CmdCopyImageToBuffer(im->copy, im->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, im->staging, 1, &region);
	VkImageMemoryBarrier back = to_src;
	back.srcAccessMask = 0;
	back.dstAccessMask = 0;
	back.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
	back.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
	VkBufferMemoryBarrier host = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.buffer = im->staging,
		.size = VK_WHOLE_SIZE,
	};
	dt->CmdPipelineBarrier(im->copy, VK_PIPELINE_STAGE_TRANSFER_BIT,
			       VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 1, &host,
			       1, &back);
	return dt->EndCommandBuffer(im->copy);
}

/* The queue family of a queue the client named, from the object table. */
static bool queue_family(struct tether_srv_session *s, VkQueue queue, uint32_t *family)
{
	struct tether_srv_object *o = tether_srv_object_of_handle(s, VK_OBJECT_TYPE_QUEUE, (uint64_t)(uintptr_t)queue);
	if (!o || !o->data)
		return false;
	*family = (uint32_t)(uintptr_t)o->data - 1;
	return true;
}

static void own_present(struct tether_srv_session *s, struct tether_decoder *d)
{
	struct tether_present_desc p;
	if (!tether_present_desc_decode(d, &p))
		return;
	VkQueue queue = (VkQueue)(uintptr_t)p.queue;
	struct tether_srv_table *qt = tether_srv_table_of(s, queue);
	uint32_t family;
	if (!qt || !queue_family(s, queue, &family)) {
		tether_decoder_fail(d, "present on an unknown queue");
		return;
	}
	VkPipelineStageFlags stages[TETHER_PRESENT_MAX_WAITS];
	for (uint32_t i = 0; i < p.wait_count; i++)
		stages[i] = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
	bool waited = false;
	for (uint32_t k = 0; k < p.count; k++) {
		struct tether_srv_swapchain *sc = swapchain_find(s, p.items[k].swapchain);
		if (!sc || tether_srv_table_of(s, sc->device) != qt || p.items[k].image >= sc->image_count) {
			tether_decoder_fail(d, "present of an unknown swapchain image");
			return;
		}
		/* The client frees an image when its FRAME arrives, which can be a
		 * moment before the sender thread marks it done. */
		tether_srv_frame_pipeline_wait_image(s->frame_pipeline, sc, p.items[k].image);
		struct tether_srv_frame_job job = {
			.swapchain = sc, .image = p.items[k].image, .seq = p.items[k].seq, .queued_ns = tether_time_ns()};
		struct tether_srv_swapchain_image *im = &sc->images[job.image];
		job.status = record_copy(sc, job.image, family);
		if (job.status == VK_SUCCESS) {
			VkSubmitInfo submit = {
				.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
				.waitSemaphoreCount = waited ? 0 : p.wait_count,
				.pWaitSemaphores = (const VkSemaphore *)p.waits,
				.pWaitDstStageMask = stages,
				.commandBufferCount = 1,
				.pCommandBuffers = &im->copy,
			};
			job.status = qt->dt.QueueSubmit(queue, 1, &submit, im->fence);
			waited = true;
		}
		if (job.status != VK_SUCCESS)
			tether_srv_async_error(s, "vkQueuePresentKHR", job.status);
		if (p.items[k].fence) {
			/* The present fence: signalled once the semaphores are waited on and
			 * the image is copied out, i.e. after everything submitted so far. */
			VkResult r = qt->dt.QueueSubmit(queue, 0, NULL, (VkFence)(uintptr_t)p.items[k].fence);
			if (r != VK_SUCCESS)
				tether_srv_async_error(s, "vkQueuePresentKHR (present fence)", r);
		}
		tether_srv_frame_pipeline_push(s->frame_pipeline, &job);
	}
}

static void own_acquire_signal(struct tether_srv_session *s, struct tether_decoder *d)
{
	VkQueue queue = (VkQueue)(uintptr_t)tether_dec_handle(d, VK_OBJECT_TYPE_QUEUE, false);
	VkSemaphore sem = (VkSemaphore)(uintptr_t)tether_dec_handle(d, VK_OBJECT_TYPE_SEMAPHORE, true);
	VkFence fence = (VkFence)(uintptr_t)tether_dec_handle(d, VK_OBJECT_TYPE_FENCE, true);
	struct tether_srv_table *qt = d->fatal ? NULL : tether_srv_table_of(s, queue);
	if (!qt) {
		tether_decoder_fail(d, "acquire on an unknown queue");
		return;
	}
	/* The image is idle on the server already (its FRAME was sent before the
	 * client freed it), so an empty submit signals at once. */
	VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
			       .signalSemaphoreCount = sem ? 1 : 0,
			       .pSignalSemaphores = &sem};
	VkResult r = qt->dt.QueueSubmit(queue, 1, &submit, fence);
	if (r != VK_SUCCESS)
		tether_srv_async_error(s, "vkAcquireNextImageKHR", r);
}

static void own_swapchain_destroy(struct tether_srv_session *s, struct tether_decoder *d)
{
	tether_dec_handle(d, VK_OBJECT_TYPE_DEVICE, false);
	struct tether_srv_swapchain *sc = swapchain_find(s, tether_dec_u64(d));
	if (d->fatal || !sc)
		return;
	unlink_swapchain(s, sc);
	swapchain_free(s, sc);
}

bool tether_srv_execute_present(struct tether_srv_session *s, uint32_t id, struct tether_decoder *d,
				struct tether_encoder *r)
{
	switch (id) {
	case TETHER_CMD_SWAPCHAIN_CREATE:
		own_swapchain_create(s, d, r);
		return true;
	case TETHER_CMD_SWAPCHAIN_DESTROY:
		own_swapchain_destroy(s, d);
		return true;
	case TETHER_CMD_PRESENT:
		own_present(s, d);
		return true;
	case TETHER_CMD_ACQUIRE_SIGNAL:
		own_acquire_signal(s, d);
		return true;
	default:
		return false;
	}
}

void tether_srv_swapchains_release_device(struct tether_srv_session *s, VkDevice device)
{
	for (struct tether_srv_swapchain **p = &s->swapchains; *p;) {
		struct tether_srv_swapchain *sc = *p;
		if (sc->device == device) {
			*p = sc->next;
			swapchain_free(s, sc);
		} else {
			p = &sc->next;
		}
	}
}

void tether_srv_swapchains_release_all(struct tether_srv_session *s)
{
	/* The session is over: frames in flight are abandoned (their copies may
	 * wait on semaphores the client never signals). */
	tether_srv_frame_pipeline_stop(s->frame_pipeline);
	s->frame_pipeline = NULL;
	while (s->swapchains) {
		struct tether_srv_swapchain *sc = s->swapchains;
		s->swapchains = sc->next;
		swapchain_forget(sc);
	}
}

/* A queue's object remembers its family (+1, so 0 means unknown). */
static void queue_learned(struct tether_srv_session *s, VkQueue queue, uint32_t family)
{
	struct tether_srv_object *o =
		queue ? tether_srv_object_of_handle(s, VK_OBJECT_TYPE_QUEUE, (uint64_t)(uintptr_t)queue) : NULL;
	if (o)
		o->data = (void *)(uintptr_t)(family + 1u);
}

void tether_srv_after_vkGetDeviceQueue(struct tether_srv_session *s, const struct tether_args_vkGetDeviceQueue *a)
{
	queue_learned(s, *a->pQueue, a->queueFamilyIndex);
}

void tether_srv_after_vkGetDeviceQueue2(struct tether_srv_session *s, const struct tether_args_vkGetDeviceQueue2 *a)
{
	queue_learned(s, *a->pQueue, a->pQueueInfo->queueFamilyIndex);
}
