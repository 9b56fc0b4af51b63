/*
 * Host waits on fences and semaphores. A wait that blocked the connection
 * would also block every other thread of the application, including the one
 * whose submit or vkSignalSemaphore ends the wait (DXVK waits on one thread
 * and submits on another). So a long wait is made of short server-side waits
 * with the connection released between them.
 */
#include "icd/icd.h"

#include "tether_icd_entrypoints.h"
#include "tether_wire.h"

/* Longest the server blocks while this client holds its connection. */
#define WAIT_SLICE_NS 2000000ull
#define WAIT_YIELD_NS 20000ull

static uint64_t slice_of(uint64_t deadline)
{
	uint64_t now = tether_time_ns();
	if (deadline <= now)
		return 0;
	return deadline - now < WAIT_SLICE_NS ? deadline - now : WAIT_SLICE_NS;
}

static uint64_t deadline_of(uint64_t timeout)
{
	uint64_t now = tether_time_ns();
	return timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_WaitForFences(VkDevice device, uint32_t fenceCount, const VkFence *pFences,
							VkBool32 waitAll, uint64_t timeout)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	uint64_t deadline = deadline_of(timeout);
	for (;;) {
		uint64_t slice = slice_of(deadline);
		VkResult r = VK_ERROR_DEVICE_LOST;
		struct tether_decoder *d;
		tether_encode_cmd_vkWaitForFences(tether_icd_conn_lock(c), device, fenceCount, pFences, waitAll, slice);
		if (tether_icd_conn_call(c, &d) == VK_SUCCESS) {
			r = tether_decode_reply_vkWaitForFences(d, device, fenceCount, pFences, waitAll, slice);
			if (d->fatal) {
				tether_icd_conn_fail(c, d->error);
				r = VK_ERROR_DEVICE_LOST;
			}
		}
		tether_icd_conn_unlock(c);
		if (r != VK_TIMEOUT || slice == 0 || tether_time_ns() >= deadline)
			return r;
		/* Locks are not fair: step aside so that a thread waiting for the
		 * connection (with the submit that ends this wait) gets it. */
		tether_sleep_ns(WAIT_YIELD_NS);
	}
}

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_WaitSemaphores(VkDevice device, const VkSemaphoreWaitInfo *pWaitInfo,
							 uint64_t timeout)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	uint64_t deadline = deadline_of(timeout);
	for (;;) {
		uint64_t slice = slice_of(deadline);
		VkResult r = VK_ERROR_DEVICE_LOST;
		struct tether_decoder *d;
		tether_encode_cmd_vkWaitSemaphores(tether_icd_conn_lock(c), device, pWaitInfo, slice);
		if (tether_icd_conn_call(c, &d) == VK_SUCCESS) {
			r = tether_decode_reply_vkWaitSemaphores(d, device, pWaitInfo, slice);
			if (d->fatal) {
				tether_icd_conn_fail(c, d->error);
				r = VK_ERROR_DEVICE_LOST;
			}
		}
		tether_icd_conn_unlock(c);
		if (r != VK_TIMEOUT || slice == 0 || tether_time_ns() >= deadline)
			return r;
		/* Locks are not fair: step aside so that a thread waiting for the
		 * connection (with the submit that ends this wait) gets it. */
		tether_sleep_ns(WAIT_YIELD_NS);
	}
}

/*
 * VK_QUERY_RESULT_WAIT_BIT would block the connection like a wait: ask
 * without it until every query is available (then the answer is the one the
 * wait would give), releasing the connection between tries.
 */
VKAPI_ATTR VkResult VKAPI_CALL tether_icd_GetQueryPoolResults(VkDevice device, VkQueryPool queryPool,
							      uint32_t firstQuery, uint32_t queryCount,
							      size_t dataSize, void *pData, VkDeviceSize stride,
							      VkQueryResultFlags flags)
{
	struct tether_icd_conn *c = tether_icd_conn_of(device);
	bool poll = (flags & VK_QUERY_RESULT_WAIT_BIT) && !(flags & VK_QUERY_RESULT_PARTIAL_BIT);
	VkQueryResultFlags asked = poll ? flags & ~VK_QUERY_RESULT_WAIT_BIT : flags;
	for (uint64_t pause = 1000;; pause = pause < 1000000 ? pause * 2 : pause) {
		VkResult r = VK_ERROR_DEVICE_LOST;
		struct tether_decoder *d;
		tether_encode_cmd_vkGetQueryPoolResults(tether_icd_conn_lock(c), device, queryPool, firstQuery,
							queryCount, dataSize, pData, stride, asked);
		if (tether_icd_conn_call(c, &d) == VK_SUCCESS) {
			r = tether_decode_reply_vkGetQueryPoolResults(d, device, queryPool, firstQuery, queryCount,
								      dataSize, pData, stride, asked);
			if (d->fatal) {
				tether_icd_conn_fail(c, d->error);
				r = VK_ERROR_DEVICE_LOST;
			}
		}
		tether_icd_conn_unlock(c);
		if (!poll || r != VK_NOT_READY)
			return r;
		tether_sleep_ns(pause);
	}
}
