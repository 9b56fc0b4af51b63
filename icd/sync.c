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
	}
}
