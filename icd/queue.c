/*
 * Queue submission. Before work reaches the GPU, the application's writes to
 * mapped memory are sent (Vulkan: host writes are made available by the
 * submission, "Host Write Ordering Guarantees"); the batch is then shipped at
 * once so the GPU starts while the client goes on. Submits never wait.
 */
#include "icd/icd.h"

#include "tether_icd_entrypoints.h"
#include "tether_wire.h"

static struct tether_icd_device *queue_device(VkQueue queue)
{
	return ((struct tether_icd_queue *)queue)->device;
}

static VkResult submit_end(struct tether_icd_conn *c)
{
	VkResult r = tether_icd_conn_flush_locked(c);
	tether_icd_conn_unlock(c);
	return r;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_QueueSubmit(VkQueue queue, uint32_t submitCount,
						      const VkSubmitInfo *pSubmits, VkFence fence)
{
	struct tether_icd_conn *c = tether_icd_conn_of(queue);
	tether_icd_conn_lock(c);
	tether_icd_memory_send_all(c, queue_device(queue));
	tether_encode_cmd_vkQueueSubmit(tether_icd_conn_lock_held(c), queue, submitCount, pSubmits, fence);
	return submit_end(c);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_QueueSubmit2(VkQueue queue, uint32_t submitCount,
						       const VkSubmitInfo2 *pSubmits, VkFence fence)
{
	struct tether_icd_conn *c = tether_icd_conn_of(queue);
	tether_icd_conn_lock(c);
	tether_icd_memory_send_all(c, queue_device(queue));
	tether_encode_cmd_vkQueueSubmit2(tether_icd_conn_lock_held(c), queue, submitCount, pSubmits, fence);
	return submit_end(c);
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_QueueBindSparse(VkQueue queue, uint32_t bindInfoCount,
							  const VkBindSparseInfo *pBindInfo, VkFence fence)
{
	struct tether_icd_conn *c = tether_icd_conn_of(queue);
	tether_icd_conn_lock(c);
	tether_icd_memory_send_all(c, queue_device(queue));
	tether_encode_cmd_vkQueueBindSparse(tether_icd_conn_lock_held(c), queue, bindInfoCount, pBindInfo, fence);
	return submit_end(c);
}
