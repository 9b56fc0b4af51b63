/*
 * A raw-protocol tether client for hostile tests (see raw_session.h): the
 * generated encoders and reply decoders with identity handles, and the
 * objects an ICD would create first.
 */
#include "raw_session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "protocol/handshake.h"
#include "protocol/message.h"
#include "tether_wire.h"

/* What one reply may make its decoder allocate. */
#define REPLY_ARENA (1u << 20)

void raw_put_u32(struct tether_encoder *e, uint32_t v)
{
	tether_enc_u32(e, v);
}

void raw_put_u64(struct tether_encoder *e, uint64_t v)
{
	tether_enc_u64(e, v);
}

static void local_address(struct raw_session *s)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(tether_conn_fd(s->conn), (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(sa.sin_family, AF_INET);
	char ip[INET_ADDRSTRLEN];
	assert_non_null(inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip)));
	snprintf(s->addr, sizeof(s->addr), "%s:%u", ip, (unsigned)ntohs(sa.sin_port));
}

void raw_session_open(const struct tetherd *t, struct raw_session *s, uint64_t first_id)
{
	struct tether_handshake_result hs;
	memset(s, 0, sizeof(*s));
	assert_int_equal(tether_conn_connect(t->addr, &s->conn), 0);
	tether_conn_set_timeout(s->conn, TETHERD_WAIT_MS);
	assert_int_equal(tether_handshake_client(s->conn, "hostile client", NULL, 0, &hs), 0);
	tether_handshake_result_free(&hs);
	local_address(s);
	s->next_id = first_id;
	tether_encoder_init(&s->batch);
	tether_arena_init(&s->arena, REPLY_ARENA);
}

void raw_session_close(struct raw_session *s)
{
	tether_conn_close(s->conn);
	s->conn = NULL;
	tether_encoder_free(&s->batch);
	tether_buffer_free(&s->msg);
	tether_arena_free(&s->arena);
}

uint64_t raw_session_new_id(struct raw_session *s)
{
	return s->next_id++;
}

void raw_session_send(struct raw_session *s)
{
	assert_false(s->batch.failed);
	struct tether_iovec iov = {s->batch.data, s->batch.size};
	assert_int_equal(tether_msg_send(s->conn, TETHER_MSG_COMMANDS, &iov, 1), 0);
	tether_encoder_reset(&s->batch);
}

struct tether_decoder *raw_session_call(struct raw_session *s)
{
	struct tether_msg_header h;
	raw_session_send(s);
	do {
		int r = tether_msg_recv(s->conn, &h, &s->msg);
		if (r)
			fail_msg("%s: no reply from tetherd: %s", s->addr, strerror(-r));
	} while (h.type == TETHER_MSG_MEMORY);
	assert_int_equal(h.type, TETHER_MSG_REPLY);
	tether_arena_reset(&s->arena);
	tether_decoder_init(&s->reply, s->msg.data, s->msg.size, &s->arena);
	return &s->reply;
}

static void create_instance(struct raw_session *s)
{
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "tether hostile client",
		.apiVersion = VK_API_VERSION_1_3,
	};
	VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
	s->o.instance = raw_session_new_id(s);
	VkInstance instance = RAW_HANDLE(VkInstance, s->o.instance);
	tether_encode_cmd_vkCreateInstance(&s->batch, &info, NULL, &instance);
	struct tether_decoder *d = raw_session_call(s);
	assert_int_equal(tether_decode_reply_vkCreateInstance(d, &info, NULL, &instance), VK_SUCCESS);
	assert_false(d->fatal);

	uint32_t count = 1;
	s->o.physical = raw_session_new_id(s);
	VkPhysicalDevice physical = RAW_HANDLE(VkPhysicalDevice, s->o.physical);
	tether_encode_cmd_vkEnumeratePhysicalDevices(&s->batch, instance, &count, &physical);
	d = raw_session_call(s);
	VkResult r = tether_decode_reply_vkEnumeratePhysicalDevices(d, instance, &count, &physical);
	assert_false(d->fatal);
	assert_true(r == VK_SUCCESS || r == VK_INCOMPLETE);
	assert_int_equal(count, 1);
	assert_true(physical != VK_NULL_HANDLE);
}

/* A device of the session's physical device, with queue family 0's first queue. */
static uint64_t create_device(struct raw_session *s)
{
	const float priority = 1.0f;
	VkDeviceQueueCreateInfo queue = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = 0,
		.queueCount = 1,
		.pQueuePriorities = &priority,
	};
	VkDeviceCreateInfo info = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &queue,
	};
	uint64_t id = raw_session_new_id(s);
	VkDevice device = RAW_HANDLE(VkDevice, id);
	VkPhysicalDevice physical = RAW_HANDLE(VkPhysicalDevice, s->o.physical);
	tether_encode_cmd_vkCreateDevice(&s->batch, physical, &info, NULL, &device);
	struct tether_decoder *d = raw_session_call(s);
	assert_int_equal(tether_decode_reply_vkCreateDevice(d, physical, &info, NULL, &device), VK_SUCCESS);
	assert_false(d->fatal);
	return id;
}

static uint64_t create_buffer(struct raw_session *s, uint64_t device)
{
	VkBufferCreateInfo info = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = RAW_BUFFER_SIZE,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	uint64_t id = raw_session_new_id(s);
	VkBuffer buffer = RAW_HANDLE(VkBuffer, id);
	tether_encode_cmd_vkCreateBuffer(&s->batch, RAW_HANDLE(VkDevice, device), &info, NULL, &buffer);
	return id;
}

/* Queue, fence, buffer, command pool and buffer (begun): not answered, so
 * they go out in one batch with the query pool, which is. */
static void create_device_objects(struct raw_session *s)
{
	VkDevice device = RAW_HANDLE(VkDevice, s->o.device);
	s->o.queue = raw_session_new_id(s);
	VkQueue queue = RAW_HANDLE(VkQueue, s->o.queue);
	tether_encode_cmd_vkGetDeviceQueue(&s->batch, device, 0, 0, &queue);

	VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
					.flags = VK_FENCE_CREATE_SIGNALED_BIT};
	s->o.fence = raw_session_new_id(s);
	VkFence fence = RAW_HANDLE(VkFence, s->o.fence);
	tether_encode_cmd_vkCreateFence(&s->batch, device, &fence_info, NULL, &fence);

	s->o.buffer = create_buffer(s, s->o.device);

	VkCommandPoolCreateInfo pool_info = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = 0,
	};
	s->o.pool = raw_session_new_id(s);
	VkCommandPool pool = RAW_HANDLE(VkCommandPool, s->o.pool);
	tether_encode_cmd_vkCreateCommandPool(&s->batch, device, &pool_info, NULL, &pool);
	VkCommandBufferAllocateInfo alloc = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	s->o.cmd = raw_session_new_id(s);
	VkCommandBuffer cmd = RAW_HANDLE(VkCommandBuffer, s->o.cmd);
	tether_encode_cmd_vkAllocateCommandBuffers(&s->batch, device, &alloc, &cmd);
	VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
					  .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
	tether_encode_cmd_vkBeginCommandBuffer(&s->batch, cmd, &begin);

	VkQueryPoolCreateInfo query_info = {
		.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
		.queryType = VK_QUERY_TYPE_TIMESTAMP,
		.queryCount = RAW_QUERY_COUNT,
	};
	s->o.query_pool = raw_session_new_id(s);
	VkQueryPool query_pool = RAW_HANDLE(VkQueryPool, s->o.query_pool);
	tether_encode_cmd_vkCreateQueryPool(&s->batch, device, &query_info, NULL, &query_pool);
	struct tether_decoder *d = raw_session_call(s);
	assert_int_equal(tether_decode_reply_vkCreateQueryPool(d, device, &query_info, NULL, &query_pool), VK_SUCCESS);
	assert_false(d->fatal);
}

void raw_session_setup(struct raw_session *s)
{
	create_instance(s);
	s->o.device = create_device(s);
	create_device_objects(s);
	raw_session_check(s);
}

void raw_session_create_device(struct raw_session *s, uint64_t *device, uint64_t *buffer)
{
	*device = create_device(s);
	*buffer = create_buffer(s, *device);
	VkMemoryRequirements req = raw_session_buffer_requirements(s, *device, *buffer);
	assert_true(req.size >= RAW_BUFFER_SIZE);
}

VkMemoryRequirements raw_session_buffer_requirements(struct raw_session *s, uint64_t device, uint64_t buffer)
{
	VkMemoryRequirements req = {0};
	VkDevice dev = RAW_HANDLE(VkDevice, device);
	VkBuffer buf = RAW_HANDLE(VkBuffer, buffer);
	tether_encode_cmd_vkGetBufferMemoryRequirements(&s->batch, dev, buf, &req);
	struct tether_decoder *d = raw_session_call(s);
	tether_decode_reply_vkGetBufferMemoryRequirements(d, dev, buf, &req);
	assert_false(d->fatal);
	return req;
}

void raw_session_check(struct raw_session *s)
{
	VkDevice device = RAW_HANDLE(VkDevice, s->o.device);
	VkFence fence = RAW_HANDLE(VkFence, s->o.fence);
	tether_encode_cmd_vkGetFenceStatus(&s->batch, device, fence);
	struct tether_decoder *d = raw_session_call(s);
	assert_int_equal(tether_decode_reply_vkGetFenceStatus(d, device, fence), VK_SUCCESS);
	assert_false(d->fatal);
	VkMemoryRequirements req = raw_session_buffer_requirements(s, s->o.device, s->o.buffer);
	assert_true(req.size >= RAW_BUFFER_SIZE);
	assert_int_not_equal(req.memoryTypeBits, 0);
}

void raw_session_expect_ended(struct raw_session *s)
{
	uint8_t byte;
	tether_conn_set_timeout(s->conn, TETHERD_WAIT_MS);
	int r = tether_conn_recv(s->conn, &byte, 1);
	if (r == 0)
		fail_msg("%s: tetherd sent data instead of ending the session", s->addr);
	if (r != -ECONNRESET)
		fail_msg("%s: the session did not end: %s", s->addr, strerror(-r));
}

void raw_session_fresh_works(const struct tetherd *t)
{
	struct raw_session s;
	raw_session_open(t, &s, 1);
	raw_session_setup(&s);
	raw_session_check(&s);
	raw_session_close(&s);
}
