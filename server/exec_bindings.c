/*
 * Which mapped memory the GPU can write. After a wait, tetherd reads back
 * only memory bound to a buffer whose usage lets the GPU write it, or to an
 * image (layout transitions may write any image), so a large upload heap the
 * GPU only reads is never compared again (on NVIDIA, reading write-combined
 * memory costs far more than writing it).
 */
#include "server/session.h"

#include "tether_wire.h"

static const VkBufferUsageFlags gpu_writable_usage =
	VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
	VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFORM_FEEDBACK_BUFFER_BIT_EXT |
	VK_BUFFER_USAGE_TRANSFORM_FEEDBACK_COUNTER_BUFFER_BIT_EXT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;

/* Object data of buffers and images: non-NULL when the GPU can write them. */
#define WRITABLE ((void *)(uintptr_t)1)

void tether_srv_after_vkCreateBuffer(struct tether_srv_session *s, const struct tether_args_vkCreateBuffer *a)
{
	struct tether_srv_object *o = tether_srv_object_find(&s->objects, a->pBuffer_ids[0]);
	if (o && o->type == VK_OBJECT_TYPE_BUFFER)
		o->data = (a->pCreateInfo->usage & gpu_writable_usage) ? WRITABLE : NULL;
}

void tether_srv_after_vkCreateImage(struct tether_srv_session *s, const struct tether_args_vkCreateImage *a)
{
	struct tether_srv_object *o = tether_srv_object_find(&s->objects, a->pImage_ids[0]);
	if (o && o->type == VK_OBJECT_TYPE_IMAGE)
		o->data = WRITABLE;
}

/* Bind infos carry real handles, not ids. */
static void bound(struct tether_srv_session *s, VkObjectType type, uint64_t resource, VkDeviceMemory memory)
{
	struct tether_srv_object *r = tether_srv_object_of_handle(s, type, resource);
	if (!r || r->data)
		tether_srv_memory_gpu_writable(s, memory);
}

void tether_srv_after_vkBindBufferMemory(struct tether_srv_session *s,
					 const struct tether_args_vkBindBufferMemory *a)
{
	struct tether_srv_object *o = tether_srv_object_find(&s->objects, a->buffer_id);
	if (a->result >= 0 && (!o || o->data))
		tether_srv_memory_gpu_writable(s, a->memory);
}

void tether_srv_after_vkBindImageMemory(struct tether_srv_session *s, const struct tether_args_vkBindImageMemory *a)
{
	if (a->result >= 0)
		tether_srv_memory_gpu_writable(s, a->memory);
}

void tether_srv_after_vkBindBufferMemory2(struct tether_srv_session *s,
					  const struct tether_args_vkBindBufferMemory2 *a)
{
	for (uint32_t i = 0; a->result >= 0 && i < a->bindInfoCount; i++)
		bound(s, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)a->pBindInfos[i].buffer,
		      a->pBindInfos[i].memory);
}

void tether_srv_after_vkBindImageMemory2(struct tether_srv_session *s,
					 const struct tether_args_vkBindImageMemory2 *a)
{
	for (uint32_t i = 0; a->result >= 0 && i < a->bindInfoCount; i++)
		tether_srv_memory_gpu_writable(s, a->pBindInfos[i].memory);
}

/* Sparse bindings are not followed further: every memory they name counts. */
void tether_srv_after_vkQueueBindSparse(struct tether_srv_session *s, const struct tether_args_vkQueueBindSparse *a)
{
	for (uint32_t i = 0; i < a->bindInfoCount; i++) {
		const VkBindSparseInfo *b = &a->pBindInfo[i];
		for (uint32_t j = 0; j < b->bufferBindCount; j++)
			for (uint32_t k = 0; k < b->pBufferBinds[j].bindCount; k++)
				tether_srv_memory_gpu_writable(s, b->pBufferBinds[j].pBinds[k].memory);
		for (uint32_t j = 0; j < b->imageOpaqueBindCount; j++)
			for (uint32_t k = 0; k < b->pImageOpaqueBinds[j].bindCount; k++)
				tether_srv_memory_gpu_writable(s, b->pImageOpaqueBinds[j].pBinds[k].memory);
		for (uint32_t j = 0; j < b->imageBindCount; j++)
			for (uint32_t k = 0; k < b->pImageBinds[j].bindCount; k++)
				tether_srv_memory_gpu_writable(s, b->pImageBinds[j].pBinds[k].memory);
	}
}
