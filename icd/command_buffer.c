/*
 * Command pools and buffers. vkCmd* calls are encoded into the command
 * buffer's own stream with no lock and no round trip; vkEndCommandBuffer
 * ships the recording once, so a command buffer submitted many times is sent
 * once. Pools keep their buffers so that destroying a pool frees them.
 */
#include "icd/icd.h"

#include <stdlib.h>

#include "tether_icd_entrypoints.h"
#include "tether_wire.h"

struct tether_icd_command_pool {
	uint64_t id;
	struct tether_icd_command_buffer *buffers;
	struct tether_icd_command_pool *next;
};

/* Pools are non-dispatchable (their handle is their id): find the record. */
static struct tether_icd_command_pool *pool_get(struct tether_icd_device *dev, VkCommandPool handle,
						bool create)
{
	uint64_t id = (uint64_t)(uintptr_t)handle;
	struct tether_icd_command_pool *p;
	for (p = dev->pools; p; p = p->next)
		if (p->id == id)
			return p;
	if (!create)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->id = id;
	p->next = dev->pools;
	dev->pools = p;
	return p;
}

static void command_buffer_free(struct tether_icd_command_buffer *cb)
{
	tether_encoder_free(&cb->stream);
	free(cb);
}

static void pool_release(struct tether_icd_command_pool *p)
{
	struct tether_icd_command_buffer *cb = p->buffers;
	while (cb) {
		struct tether_icd_command_buffer *next = cb->next_in_pool;
		command_buffer_free(cb);
		cb = next;
	}
	free(p);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_AllocateCommandBuffers(VkDevice device,
								 const VkCommandBufferAllocateInfo *pAllocateInfo,
								 VkCommandBuffer *pCommandBuffers)
{
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	uint32_t n = pAllocateInfo->commandBufferCount;
	VkResult r = tether_icd_conn_reserve(dev->base.conn, n, "vkAllocateCommandBuffers");
	if (r != VK_SUCCESS)
		return r;
	tether_mutex_lock(&dev->pool_lock);
	struct tether_icd_command_pool *pool = pool_get(dev, pAllocateInfo->commandPool, true);
	if (!pool) {
		tether_mutex_unlock(&dev->pool_lock);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct tether_icd_command_buffer *cb = calloc(1, sizeof(*cb));
		if (!cb) {
			for (uint32_t j = 0; j < i; j++) {
				struct tether_icd_command_buffer *done = (void *)pCommandBuffers[j];
				pool->buffers = done->next_in_pool;
				command_buffer_free(done);
				pCommandBuffers[j] = NULL;
			}
			tether_mutex_unlock(&dev->pool_lock);
			return VK_ERROR_OUT_OF_HOST_MEMORY;
		}
		tether_icd_dispatchable_init(&cb->base, dev->base.conn, tether_icd_new_id());
		cb->device = dev;
		cb->pool = pool;
		tether_encoder_init(&cb->stream);
		cb->stream.handles = &tether_icd_handle_ops;
		cb->next_in_pool = pool->buffers;
		pool->buffers = cb;
		pCommandBuffers[i] = (VkCommandBuffer)cb;
	}
	tether_mutex_unlock(&dev->pool_lock);
	struct tether_icd_conn *c = dev->base.conn;
	tether_encode_cmd_vkAllocateCommandBuffers(tether_icd_conn_lock(c), device, pAllocateInfo,
						   pCommandBuffers);
	tether_icd_conn_unlock_async(c);
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_FreeCommandBuffers(VkDevice device, VkCommandPool commandPool,
							 uint32_t commandBufferCount,
							 const VkCommandBuffer *pCommandBuffers)
{
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	tether_encode_cmd_vkFreeCommandBuffers(tether_icd_conn_lock(c), device, commandPool,
					       commandBufferCount, pCommandBuffers);
	tether_icd_conn_unlock_async(c);
	tether_mutex_lock(&dev->pool_lock);
	struct tether_icd_command_pool *pool = pool_get(dev, commandPool, false);
	for (uint32_t i = 0; pool && i < commandBufferCount; i++) {
		struct tether_icd_command_buffer *cb = (void *)pCommandBuffers[i];
		if (!cb)
			continue;
		for (struct tether_icd_command_buffer **link = &pool->buffers; *link;
		     link = &(*link)->next_in_pool) {
			if (*link == cb) {
				*link = cb->next_in_pool;
				command_buffer_free(cb);
				break;
			}
		}
	}
	tether_mutex_unlock(&dev->pool_lock);
}

VKAPI_ATTR void VKAPI_CALL tether_icd_DestroyCommandPool(VkDevice device, VkCommandPool commandPool,
							 const VkAllocationCallbacks *pAllocator)
{
	if (!commandPool)
		return;
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	tether_encode_cmd_vkDestroyCommandPool(tether_icd_conn_lock(c), device, commandPool, NULL);
	tether_icd_conn_unlock_async(c);
	tether_mutex_lock(&dev->pool_lock);
	for (struct tether_icd_command_pool **link = &dev->pools; *link; link = &(*link)->next) {
		if ((*link)->id == (uint64_t)(uintptr_t)commandPool) {
			struct tether_icd_command_pool *p = *link;
			*link = p->next;
			pool_release(p);
			break;
		}
	}
	tether_mutex_unlock(&dev->pool_lock);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_ResetCommandPool(VkDevice device, VkCommandPool commandPool,
							   VkCommandPoolResetFlags flags)
{
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	tether_mutex_lock(&dev->pool_lock);
	struct tether_icd_command_pool *pool = pool_get(dev, commandPool, false);
	for (struct tether_icd_command_buffer *cb = pool ? pool->buffers : NULL; cb; cb = cb->next_in_pool)
		tether_encoder_reset(&cb->stream);
	tether_mutex_unlock(&dev->pool_lock);
	tether_encode_cmd_vkResetCommandPool(tether_icd_conn_lock(c), device, commandPool, flags);
	tether_icd_conn_unlock_async(c);
	return VK_SUCCESS;
}

void tether_icd_command_pools_destroy_all(struct tether_icd_device *dev)
{
	while (dev->pools) {
		struct tether_icd_command_pool *p = dev->pools;
		dev->pools = p->next;
		pool_release(p);
	}
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_BeginCommandBuffer(VkCommandBuffer commandBuffer,
							     const VkCommandBufferBeginInfo *pBeginInfo)
{
	struct tether_icd_command_buffer *cb = (struct tether_icd_command_buffer *)commandBuffer;
	/* Beginning implicitly resets (VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT). */
	tether_encoder_reset(&cb->stream);
	tether_encode_cmd_vkBeginCommandBuffer(&cb->stream, commandBuffer, pBeginInfo);
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_EndCommandBuffer(VkCommandBuffer commandBuffer)
{
	struct tether_icd_command_buffer *cb = (struct tether_icd_command_buffer *)commandBuffer;
	tether_encode_cmd_vkEndCommandBuffer(&cb->stream, commandBuffer);
	if (cb->stream.failed)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	struct tether_icd_conn *c = cb->base.conn;
	struct tether_encoder *e = tether_icd_conn_lock(c);
	tether_enc_raw(e, cb->stream.data, cb->stream.size);
	tether_icd_conn_unlock_async(c);
	tether_encoder_reset(&cb->stream);
	return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_ResetCommandBuffer(VkCommandBuffer commandBuffer,
							     VkCommandBufferResetFlags flags)
{
	struct tether_icd_command_buffer *cb = (struct tether_icd_command_buffer *)commandBuffer;
	tether_encoder_reset(&cb->stream);
	struct tether_icd_conn *c = cb->base.conn;
	tether_encode_cmd_vkResetCommandBuffer(tether_icd_conn_lock(c), commandBuffer, flags);
	tether_icd_conn_unlock_async(c);
	return VK_SUCCESS;
}
