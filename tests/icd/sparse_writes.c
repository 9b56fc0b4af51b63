/*
 * A large persistently mapped buffer of which one page is written before each
 * of many submits, as a game updates a few uniforms in a big mapped heap.
 * Checks every frame's page reached the GPU. Run through tether by
 * check_sparse_writes.py, which checks from the ICD's session totals that
 * only written pages were compared, not the whole mapping at every submit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#define MAPPED (64u << 20)
#define FRAMES 200
#define PAGE 4096u

#define CHECK(x)                                                                          \
	do {                                                                              \
		VkResult r_ = (x);                                                        \
		if (r_ != VK_SUCCESS) {                                                   \
			fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #x, r_); \
			exit(1);                                                          \
		}                                                                         \
	} while (0)

static uint32_t memory_type(VkPhysicalDevice pd, uint32_t bits, VkMemoryPropertyFlags want)
{
	VkPhysicalDeviceMemoryProperties mp;
	vkGetPhysicalDeviceMemoryProperties(pd, &mp);
	for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
		if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
			return i;
	fprintf(stderr, "no memory type\n");
	exit(1);
}

static VkBuffer buffer(VkDevice dev, VkPhysicalDevice pd, VkDeviceSize size, VkBufferUsageFlags usage,
		       VkDeviceMemory *mem)
{
	VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage};
	VkBuffer b;
	CHECK(vkCreateBuffer(dev, &bi, NULL, &b));
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(dev, b, &req);
	VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
				   .memoryTypeIndex = memory_type(pd, req.memoryTypeBits,
								  VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
									  VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)};
	CHECK(vkAllocateMemory(dev, &ai, NULL, mem));
	CHECK(vkBindBufferMemory(dev, b, *mem, 0));
	return b;
}

int main(void)
{
	VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3};
	VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
	VkInstance inst;
	CHECK(vkCreateInstance(&ici, NULL, &inst));
	uint32_t n = 1;
	VkPhysicalDevice pd;
	VkResult er = vkEnumeratePhysicalDevices(inst, &n, &pd);
	if ((er != VK_SUCCESS && er != VK_INCOMPLETE) || !n)
		return 1;
	float prio = 1;
	VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
				      .pQueuePriorities = &prio};
	VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
				 .pQueueCreateInfos = &qi};
	VkDevice dev;
	CHECK(vkCreateDevice(pd, &di, NULL, &dev));
	VkQueue q;
	vkGetDeviceQueue(dev, 0, 0, &q);

	VkDeviceMemory src_mem, dst_mem;
	VkBuffer src = buffer(dev, pd, MAPPED, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &src_mem);
	VkBuffer dst = buffer(dev, pd, (VkDeviceSize)FRAMES * PAGE, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &dst_mem);
	uint8_t *heap, *out;
	CHECK(vkMapMemory(dev, src_mem, 0, VK_WHOLE_SIZE, 0, (void **)&heap));
	CHECK(vkMapMemory(dev, dst_mem, 0, VK_WHOLE_SIZE, 0, (void **)&out));

	VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
				      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT};
	VkCommandPool pool;
	CHECK(vkCreateCommandPool(dev, &pi, NULL, &pool));
	VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					   .commandPool = pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
					   .commandBufferCount = 1};
	VkCommandBuffer cb;
	CHECK(vkAllocateCommandBuffers(dev, &cai, &cb));
	VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	VkFence fence;
	CHECK(vkCreateFence(dev, &fi, NULL, &fence));

	for (uint32_t f = 0; f < FRAMES; f++) {
		/* One page somewhere in the heap, different every frame. */
		size_t at = (size_t)((f * 2654435761u) % (MAPPED / PAGE)) * PAGE;
		memset(heap + at, (int)(f & 0xff), PAGE);
		VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
					       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
		CHECK(vkBeginCommandBuffer(cb, &bi));
		VkBufferCopy copy = {at, (VkDeviceSize)f * PAGE, PAGE};
		vkCmdCopyBuffer(cb, src, dst, 1, &copy);
		CHECK(vkEndCommandBuffer(cb));
		VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
				   .pCommandBuffers = &cb};
		CHECK(vkQueueSubmit(q, 1, &si, fence));
		CHECK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
		CHECK(vkResetFences(dev, 1, &fence));
	}
	for (uint32_t f = 0; f < FRAMES; f++)
		for (uint32_t i = 0; i < PAGE; i++)
			if (out[(size_t)f * PAGE + i] != (uint8_t)(f & 0xff)) {
				fprintf(stderr, "frame %u: byte %u is %u\n", f, i, out[(size_t)f * PAGE + i]);
				return 1;
			}
	printf("sparse writes: %u frames of one page in %u MiB mapped: ok\n", FRAMES, MAPPED >> 20);
	vkDestroyFence(dev, fence, NULL);
	vkDestroyCommandPool(dev, pool, NULL);
	vkUnmapMemory(dev, src_mem);
	vkUnmapMemory(dev, dst_mem);
	vkDestroyBuffer(dev, src, NULL);
	vkDestroyBuffer(dev, dst, NULL);
	vkFreeMemory(dev, src_mem, NULL);
	vkFreeMemory(dev, dst_mem, NULL);
	vkDestroyDevice(dev, NULL);
	vkDestroyInstance(inst, NULL);
	return 0;
}
