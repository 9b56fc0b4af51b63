/*
 * fuzz_session's seeds: short sessions on the prelude's objects
 * (session_prelude.h), as an application's calls would send them, each a
 * list of COMMANDS messages (u32 size, payload). Written by make_seeds.
 */
#include <stdio.h>
#include <stdlib.h>

#include "protocol/limits.h"
#include "protocol/memory_sync.h"
#include "session_prelude.h"
#include "tether_wire.h"

#define H(type, id) ((type)(uintptr_t)(id))
#define DEVICE H(VkDevice, PRELUDE_DEVICE)
#define CMD H(VkCommandBuffer, PRELUDE_COMMAND_BUFFER)

struct seed {
	struct tether_encoder all, msg;
};

/* Ends the message being built: its size, then its bytes. */
static void end_message(struct seed *s)
{
	uint32_t n = (uint32_t)s->msg.size;
	tether_enc_raw(&s->all, &n, 4);
	tether_enc_raw(&s->all, s->msg.data, s->msg.size);
	tether_encoder_reset(&s->msg);
}

static void fence_status_destroy(struct tether_encoder *e)
{
	VkFence fence = H(VkFence, PRELUDE_FENCE);
	tether_encode_cmd_vkGetFenceStatus(e, DEVICE, fence);
	tether_encode_cmd_vkResetFences(e, DEVICE, 1, &fence);
	tether_encode_cmd_vkDestroyFence(e, DEVICE, fence, NULL);
	tether_encode_cmd_vkGetFenceStatus(e, DEVICE, fence); /* stale: refused */
}

static void record_submit_wait(struct tether_encoder *e)
{
	VkBuffer buffer = H(VkBuffer, PRELUDE_BUFFER);
	VkFence fence = H(VkFence, PRELUDE_FENCE);
	VkQueryPool queries = H(VkQueryPool, PRELUDE_QUERY_POOL);
	tether_encode_cmd_vkCmdResetQueryPool(e, CMD, queries, 0, 4);
	tether_encode_cmd_vkCmdFillBuffer(e, CMD, buffer, 0, 256, 7);
	VkBufferMemoryBarrier barrier = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT, .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .buffer = buffer, .size = VK_WHOLE_SIZE};
	tether_encode_cmd_vkCmdPipelineBarrier(e, CMD, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
					       0, NULL, 1, &barrier, 0, NULL);
	VkBufferCopy region = {0, 2048, 256};
	tether_encode_cmd_vkCmdCopyBuffer(e, CMD, buffer, buffer, 1, &region);
	tether_encode_cmd_vkCmdWriteTimestamp(e, CMD, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries, 0);
	tether_encode_cmd_vkEndCommandBuffer(e, CMD);
	VkCommandBuffer cmd = CMD;
	VkSemaphore semaphore = H(VkSemaphore, PRELUDE_SEMAPHORE);
	VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
			       .pCommandBuffers = &cmd, .signalSemaphoreCount = 1, .pSignalSemaphores = &semaphore};
	tether_encode_cmd_vkQueueSubmit(e, H(VkQueue, PRELUDE_QUEUE), 1, &submit, fence);
	tether_encode_cmd_vkWaitForFences(e, DEVICE, 1, &fence, VK_TRUE, 1000000000ull);
	uint64_t result[4] = {0};
	tether_encode_cmd_vkGetQueryPoolResults(e, DEVICE, queries, 0, 1, sizeof(result), result, 8,
						VK_QUERY_RESULT_64_BIT);
}

/* The client's writes to mapped memory (what its vkFlushMappedMemoryRanges
 * or submit sends), a read of the GPU's, an unmap. */
static void memory_write_read(struct tether_encoder *e)
{
	uint8_t snap[4096] = {0}, cur[4096] = {0};
	for (size_t i = 0; i < sizeof(cur); i += 97)
		cur[i] = (uint8_t)i | 1;
	size_t start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_WRITE);
	tether_memsync_encode(e, PRELUDE_MEMORY, 0, cur, snap, sizeof(cur));
	tether_enc_cmd_end(e, start);
	start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_READ);
	tether_enc_u32(e, 1);
	tether_enc_u64(e, PRELUDE_MEMORY);
	tether_enc_cmd_end(e, start);
	start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_UNMAP);
	tether_enc_u64(e, PRELUDE_MEMORY);
	tether_enc_cmd_end(e, start);
}

static void descriptors(struct tether_encoder *e)
{
	VkDescriptorSet set = H(VkDescriptorSet, PRELUDE_DESCRIPTOR_SET);
	VkDescriptorBufferInfo info = {H(VkBuffer, PRELUDE_BUFFER), 0, VK_WHOLE_SIZE};
	VkWriteDescriptorSet write = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set,
				      .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
				      .pBufferInfo = &info};
	tether_encode_cmd_vkUpdateDescriptorSets(e, DEVICE, 1, &write, 0, NULL);
	tether_encode_cmd_vkCmdBindDescriptorSets(e, CMD, VK_PIPELINE_BIND_POINT_COMPUTE,
						  H(VkPipelineLayout, PRELUDE_PIPELINE_LAYOUT), 0, 1, &set, 0, NULL);
	VkDescriptorPool pool = H(VkDescriptorPool, PRELUDE_DESCRIPTOR_POOL);
	tether_encode_cmd_vkFreeDescriptorSets(e, DEVICE, pool, 1, &set);
	tether_encode_cmd_vkResetDescriptorPool(e, DEVICE, pool, 0);
}

static void command_pools(struct tether_encoder *e)
{
	VkCommandPool pool = H(VkCommandPool, PRELUDE_COMMAND_POOL);
	VkCommandBufferAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					    .commandPool = pool, .commandBufferCount = 2};
	VkCommandBuffer cmds[2] = {H(VkCommandBuffer, PRELUDE_FREE_ID), H(VkCommandBuffer, PRELUDE_FREE_ID + 1)};
	tether_encode_cmd_vkAllocateCommandBuffers(e, DEVICE, &info, cmds);
	tether_encode_cmd_vkFreeCommandBuffers(e, DEVICE, pool, 1, cmds);
	tether_encode_cmd_vkResetCommandPool(e, DEVICE, pool, 0);
	tether_encode_cmd_vkDestroyCommandPool(e, DEVICE, pool, NULL);
	tether_encode_cmd_vkBeginCommandBuffer( /* freed with its pool: refused */
		e, cmds[1], &(VkCommandBufferBeginInfo){.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO});
}

static void image_upload(struct tether_encoder *e)
{
	VkImage image = H(VkImage, PRELUDE_IMAGE);
	VkImageMemoryBarrier barrier = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER, .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED, .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = image, .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
	tether_encode_cmd_vkCmdPipelineBarrier(e, CMD, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
					       VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL, 1, &barrier);
	VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
				    .imageExtent = {16, 16, 1}};
	tether_encode_cmd_vkCmdCopyBufferToImage(e, CMD, H(VkBuffer, PRELUDE_BUFFER), image,
						 VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
	VkImageSubresource sub = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0};
	VkSubresourceLayout layout = {0};
	tether_encode_cmd_vkGetImageSubresourceLayout(e, DEVICE, image, &sub, &layout);
}

static void events(struct tether_encoder *e)
{
	VkEvent event = H(VkEvent, PRELUDE_EVENT);
	tether_encode_cmd_vkSetEvent(e, DEVICE, event);
	tether_encode_cmd_vkGetEventStatus(e, DEVICE, event);
	tether_encode_cmd_vkCmdSetEvent(e, CMD, event, VK_PIPELINE_STAGE_TRANSFER_BIT);
	tether_encode_cmd_vkResetEvent(e, DEVICE, event);
}

/* The client leaves without destroying: then destroys the device and the
 * instance with everything alive, and names the device again. */
static void destroy_with_children(struct tether_encoder *e)
{
	tether_encode_cmd_vkDestroyDevice(e, DEVICE, NULL);
	tether_encode_cmd_vkDestroyInstance(e, H(VkInstance, PRELUDE_INSTANCE), NULL);
	tether_encode_cmd_vkDeviceWaitIdle(e, DEVICE);
}

static void other_device(struct tether_encoder *e)
{
	VkMemoryRequirements req = {0};
	VkDevice second = H(VkDevice, PRELUDE_SECOND_DEVICE);
	VkBuffer buffer = H(VkBuffer, PRELUDE_FREE_ID);
	VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 64,
				   .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
	tether_encode_cmd_vkCreateBuffer(e, second, &info, NULL, &buffer);
	tether_encode_cmd_vkGetBufferMemoryRequirements(e, second, buffer, &req);
	tether_encode_cmd_vkGetBufferMemoryRequirements(e, DEVICE, buffer, &req); /* another device's: refused */
}

static void more_memory(struct tether_encoder *e)
{
	VkBuffer buffer = H(VkBuffer, PRELUDE_FREE_ID);
	VkDeviceMemory memory = H(VkDeviceMemory, PRELUDE_FREE_ID + 1);
	VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 8192,
				  .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
	tether_encode_cmd_vkCreateBuffer(e, DEVICE, &bci, NULL, &buffer);
	VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = 8192};
	tether_encode_cmd_vkAllocateMemory(e, DEVICE, &mai, NULL, &memory);
	tether_encode_cmd_vkBindBufferMemory(e, DEVICE, buffer, memory, 0);
	size_t start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_MAP);
	tether_enc_u32(e, 1);
	tether_enc_u64(e, PRELUDE_FREE_ID + 1);
	tether_enc_cmd_end(e, start);
	tether_encode_cmd_vkDeviceWaitIdle(e, DEVICE);
	tether_encode_cmd_vkFreeMemory(e, DEVICE, memory, NULL);
	tether_encode_cmd_vkDestroyBuffer(e, DEVICE, buffer, NULL);
}

static void limits_and_views(struct tether_encoder *e)
{
	tether_enc_cmd_end(e, tether_enc_cmd_begin(e, TETHER_CMD_SESSION_LIMITS));
	tether_encode_cmd_vkDestroyImageView(e, DEVICE, H(VkImageView, PRELUDE_IMAGE_VIEW), NULL);
	tether_encode_cmd_vkDestroySampler(e, DEVICE, H(VkSampler, PRELUDE_SAMPLER), NULL);
	tether_encode_cmd_vkDestroyImage(e, DEVICE, H(VkImage, PRELUDE_IMAGE), NULL);
	tether_encode_cmd_vkQueueWaitIdle(e, H(VkQueue, PRELUDE_QUEUE));
}

/* A libFuzzer dictionary of every command id, tether's own included: the
 * fuzzer seldom guesses a 32-bit id, and a session reaches a handler only
 * through its id. */
static void write_dictionary(void (*write)(const char *sub, const char *name, const void *data, size_t size))
{
	static const uint32_t own[] = {TETHER_CMD_MEMORY_WRITE, TETHER_CMD_MEMORY_MAP, TETHER_CMD_MEMORY_UNMAP,
				       TETHER_CMD_MEMORY_READ, TETHER_CMD_SESSION_LIMITS};
	size_t n = tether_command_count + sizeof(own) / sizeof(own[0]);
	char *text = malloc(n * 64), *at = text;
	if (!text)
		abort();
	for (size_t i = 0; i < n; i++) {
		uint32_t id = i < tether_command_count ? tether_commands[i].id : own[i - tether_command_count];
		const char *name = i < tether_command_count ? tether_commands[i].name : "tether";
		at += sprintf(at, "%.40s_%zu=\"\\x%02x\\x%02x\\x%02x\\x%02x\"\n", name, i, id & 0xff,
			      id >> 8 & 0xff, id >> 16 & 0xff, id >> 24);
	}
	write(".", "session.dict", text, (size_t)(at - text));
	free(text);
}

void tether_fuzz_session_seeds(void (*write)(const char *sub, const char *name, const void *data, size_t size))
{
	write_dictionary(write);
	static const struct {
		const char *name;
		void (*messages[2])(struct tether_encoder *e);
	} seeds[] = {
		{"fence_status_destroy", {fence_status_destroy}},
		{"record_submit_wait", {record_submit_wait}},
		{"memory_write_read", {memory_write_read}},
		{"descriptors", {descriptors}},
		{"command_pools", {command_pools}},
		{"image_upload", {image_upload}},
		{"events", {events}},
		{"destroy_with_children", {destroy_with_children}},
		{"other_device", {other_device}},
		{"more_memory", {more_memory}},
		{"limits_and_views", {limits_and_views}},
		{"two_messages", {events, fence_status_destroy}},
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct seed s;
		tether_encoder_init(&s.all);
		tether_encoder_init(&s.msg);
		for (int m = 0; m < 2 && seeds[i].messages[m]; m++) {
			seeds[i].messages[m](&s.msg);
			end_message(&s);
		}
		if (s.all.failed)
			abort();
		write("session", seeds[i].name, s.all.data, s.all.size);
		tether_encoder_free(&s.all);
		tether_encoder_free(&s.msg);
	}
}
