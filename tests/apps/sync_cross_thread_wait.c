/*
 * One thread waits, without a timeout, on timeline semaphore values that only
 * another thread's later vkQueueSubmit (value 1, through vkWaitSemaphores)
 * and vkSignalSemaphore (value 2) will reach, as translation layers wait and
 * submit on different threads. A driver that blocked every call during a
 * wait would hang here. Writes what each wait returned and the values seen.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "vkapp.h"

struct waiter {
	struct vkapp *app;
	VkFence fence;
	VkSemaphore timeline;
	VkResult first_result, semaphore_result;
	uint64_t value_seen;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	uint64_t value = 1;
	VkSemaphoreWaitInfo wi = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
		.semaphoreCount = 1,
		.pSemaphores = &w->timeline,
		.pValues = &value,
	};
	w->first_result = vkWaitSemaphores(w->app->device, &wi, UINT64_MAX);
	value = 2;
	w->semaphore_result = vkWaitSemaphores(w->app->device, &wi, UINT64_MAX);
	vkGetSemaphoreCounterValue(w->app->device, w->timeline, &w->value_seen);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
	struct vkapp app;
	vkapp_init(&app, "sync_cross_thread_wait");

	VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	VkSemaphoreTypeCreateInfo ti = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
		.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
	};
	VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &ti};
	struct waiter w = {.app = &app};
	VK_CHECK(vkCreateFence(app.device, &fi, NULL, &w.fence));
	VK_CHECK(vkCreateSemaphore(app.device, &si, NULL, &w.timeline));

	pthread_t t;
	APP_CHECK(pthread_create(&t, NULL, wait_thread, &w) == 0, "pthread_create");
	sleep_ms(200); /* the waiter is blocked in vkWaitSemaphores by now */

	/* Work that signals the fence and timeline value 1, submitted now. */
	VkCommandBufferAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = app.command_pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkCommandBuffer cb;
	VK_CHECK(vkAllocateCommandBuffers(app.device, &ai, &cb));
	VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
	VK_CHECK(vkBeginCommandBuffer(cb, &bi));
	VK_CHECK(vkEndCommandBuffer(cb));
	uint64_t one = 1;
	VkTimelineSemaphoreSubmitInfo tsi = {
		.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
		.signalSemaphoreValueCount = 1,
		.pSignalSemaphoreValues = &one,
	};
	VkSubmitInfo submit = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.pNext = &tsi,
		.commandBufferCount = 1,
		.pCommandBuffers = &cb,
		.signalSemaphoreCount = 1,
		.pSignalSemaphores = &w.timeline,
	};
	VK_CHECK(vkQueueSubmit(app.queue, 1, &submit, w.fence));
	sleep_ms(100); /* the waiter now waits for value 2 */
	VkSemaphoreSignalInfo sig = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
		.semaphore = w.timeline,
		.value = 2,
	};
	double signalled = vkapp_now();
	VK_CHECK(vkSignalSemaphore(app.device, &sig));
	APP_CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	/* A local driver wakes the waiter at once; seconds mean the waiter kept
	 * other threads from the device. */
	double late = vkapp_now() - signalled;
	APP_CHECK(late < 2.0, "the waiter returned %.2f s after the last signal", late);
	VK_CHECK(vkWaitForFences(app.device, 1, &w.fence, VK_TRUE, UINT64_MAX));

	APP_CHECK(w.first_result == VK_SUCCESS, "first vkWaitSemaphores returned %s",
		  vkapp_result_name(w.first_result));
	APP_CHECK(w.semaphore_result == VK_SUCCESS, "vkWaitSemaphores returned %s",
		  vkapp_result_name(w.semaphore_result));
	APP_CHECK(w.value_seen >= 2, "timeline value %llu after the wait", (unsigned long long)w.value_seen);
	int32_t results[3] = {w.first_result, w.semaphore_result, (int32_t)w.value_seen};
	struct vkapp_output *out = vkapp_output_open(argv[1]);
	vkapp_output_write(out, results, sizeof(results));
	vkapp_output_close(out);

	VK_CHECK(vkQueueWaitIdle(app.queue));
	vkFreeCommandBuffers(app.device, app.command_pool, 1, &cb);
	vkDestroySemaphore(app.device, w.timeline, NULL);
	vkDestroyFence(app.device, w.fence, NULL);
	printf("sync_cross_thread_wait: ok\n");
	vkapp_destroy(&app);
	return 0;
}
