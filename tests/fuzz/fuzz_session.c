/*
 * libFuzzer target: a whole tetherd session. tether_srv_session_run() (the
 * real handshake, message loop, handlers, limits and teardown) serves one
 * end of a socketpair; a client thread on the other end does the real
 * handshake, sends a fixed valid prelude (an instance, its physical device,
 * a device and objects of most kinds, memory mapped by the client), then
 * the input as COMMANDS messages, and reads whatever comes back. The driver
 * is a null driver generated from vk.xml (protocol/gen/gen_null_driver.py):
 * every call succeeds, so the fuzzer explores tetherd, not a driver's
 * invalid-usage crashes. Leaks, memory errors and UB anywhere in the session
 * are findings; so is a session that does not end once its client has.
 *
 * Input: messages, each a u32 little-endian payload size and the payload
 * (a COMMANDS batch: u32 command id, u32 size, body, repeated); a size past
 * the end of the input takes what is left. Ids 1 to 20 are the prelude's
 * objects (session_prelude.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "protocol/handshake.h"
#include "protocol/memory_sync.h"
#include "protocol/message.h"
#include "server/session.h"
#include "session_prelude.h"
#include "tether_null_driver.h"
#include "tether_wire.h"

#define H(type, id) ((type)(uintptr_t)(id))

static struct tether_encoder prelude;

static void encode_prelude(struct tether_encoder *e)
{
	VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3};
	VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
	VkInstance instance = H(VkInstance, PRELUDE_INSTANCE);
	tether_encode_cmd_vkCreateInstance(e, &ici, NULL, &instance);
	uint32_t one = 1;
	VkPhysicalDevice physical = H(VkPhysicalDevice, PRELUDE_PHYSICAL_DEVICE);
	tether_encode_cmd_vkEnumeratePhysicalDevices(e, instance, &one, &physical);
	const float priority = 1.0f;
	VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
				       .pQueuePriorities = &priority};
	VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
				  .pQueueCreateInfos = &qci};
	VkDevice device = H(VkDevice, PRELUDE_DEVICE);
	tether_encode_cmd_vkCreateDevice(e, physical, &dci, NULL, &device);
	VkDevice second = H(VkDevice, PRELUDE_SECOND_DEVICE);
	tether_encode_cmd_vkCreateDevice(e, physical, &dci, NULL, &second);
	VkQueue queue = H(VkQueue, PRELUDE_QUEUE);
	tether_encode_cmd_vkGetDeviceQueue(e, device, 0, 0, &queue);

	VkFence fence = H(VkFence, PRELUDE_FENCE);
	tether_encode_cmd_vkCreateFence(e, device, &(VkFenceCreateInfo){.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO},
					NULL, &fence);
	VkSemaphore semaphore = H(VkSemaphore, PRELUDE_SEMAPHORE);
	tether_encode_cmd_vkCreateSemaphore(
		e, device, &(VkSemaphoreCreateInfo){.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO}, NULL, &semaphore);
	VkEvent event = H(VkEvent, PRELUDE_EVENT);
	tether_encode_cmd_vkCreateEvent(e, device, &(VkEventCreateInfo){.sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO},
					NULL, &event);
	VkBuffer buffer = H(VkBuffer, PRELUDE_BUFFER);
	VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 4096,
				  .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT};
	tether_encode_cmd_vkCreateBuffer(e, device, &bci, NULL, &buffer);
	VkImage image = H(VkImage, PRELUDE_IMAGE);
	VkImageCreateInfo imci = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO, .imageType = VK_IMAGE_TYPE_2D,
				  .format = VK_FORMAT_R8G8B8A8_UNORM, .extent = {16, 16, 1}, .mipLevels = 1,
				  .arrayLayers = 1, .samples = VK_SAMPLE_COUNT_1_BIT,
				  .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT};
	tether_encode_cmd_vkCreateImage(e, device, &imci, NULL, &image);
	VkDeviceMemory memory = H(VkDeviceMemory, PRELUDE_MEMORY);
	VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = 4096};
	tether_encode_cmd_vkAllocateMemory(e, device, &mai, NULL, &memory);
	tether_encode_cmd_vkBindBufferMemory(e, device, buffer, memory, 0);
	size_t start = tether_enc_cmd_begin(e, TETHER_CMD_MEMORY_MAP);
	tether_enc_u32(e, 1);
	tether_enc_u64(e, PRELUDE_MEMORY);
	tether_enc_cmd_end(e, start);

	VkCommandPool pool = H(VkCommandPool, PRELUDE_COMMAND_POOL);
	tether_encode_cmd_vkCreateCommandPool(
		e, device, &(VkCommandPoolCreateInfo){.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO}, NULL, &pool);
	VkCommandBuffer cmd = H(VkCommandBuffer, PRELUDE_COMMAND_BUFFER);
	VkCommandBufferAllocateInfo cbai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					    .commandPool = pool, .commandBufferCount = 1};
	tether_encode_cmd_vkAllocateCommandBuffers(e, device, &cbai, &cmd);
	tether_encode_cmd_vkBeginCommandBuffer(
		e, cmd, &(VkCommandBufferBeginInfo){.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO});
	VkQueryPool query_pool = H(VkQueryPool, PRELUDE_QUERY_POOL);
	VkQueryPoolCreateInfo qpci = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
				      .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 4};
	tether_encode_cmd_vkCreateQueryPool(e, device, &qpci, NULL, &query_pool);

	VkDescriptorSetLayoutBinding binding = {.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
						.descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
	VkDescriptorSetLayout layout = H(VkDescriptorSetLayout, PRELUDE_SET_LAYOUT);
	VkDescriptorSetLayoutCreateInfo dslci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
						 .bindingCount = 1, .pBindings = &binding};
	tether_encode_cmd_vkCreateDescriptorSetLayout(e, device, &dslci, NULL, &layout);
	VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4};
	VkDescriptorPool dpool = H(VkDescriptorPool, PRELUDE_DESCRIPTOR_POOL);
	VkDescriptorPoolCreateInfo dpci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
					   .flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT, .maxSets = 4,
					   .poolSizeCount = 1, .pPoolSizes = &size};
	tether_encode_cmd_vkCreateDescriptorPool(e, device, &dpci, NULL, &dpool);
	VkDescriptorSet set = H(VkDescriptorSet, PRELUDE_DESCRIPTOR_SET);
	VkDescriptorSetAllocateInfo dsai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
					    .descriptorPool = dpool, .descriptorSetCount = 1, .pSetLayouts = &layout};
	tether_encode_cmd_vkAllocateDescriptorSets(e, device, &dsai, &set);
	VkSampler sampler = H(VkSampler, PRELUDE_SAMPLER);
	tether_encode_cmd_vkCreateSampler(e, device, &(VkSamplerCreateInfo){.sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO},
					  NULL, &sampler);
	VkImageView view = H(VkImageView, PRELUDE_IMAGE_VIEW);
	VkImageViewCreateInfo ivci = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = image,
				      .viewType = VK_IMAGE_VIEW_TYPE_2D, .format = VK_FORMAT_R8G8B8A8_UNORM,
				      .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
	tether_encode_cmd_vkCreateImageView(e, device, &ivci, NULL, &view);
	VkPipelineLayout pipeline_layout = H(VkPipelineLayout, PRELUDE_PIPELINE_LAYOUT);
	VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					   .setLayoutCount = 1, .pSetLayouts = &layout};
	tether_encode_cmd_vkCreatePipelineLayout(e, device, &plci, NULL, &pipeline_layout);
}

static const struct tether_srv_options options = {
	.device_index = -1,
	.server_name = "fuzz_session",
	.limits = {.memory_bytes = 64u << 20, .objects = 4096, .message_bytes = TETHER_MSG_MIN_LIMIT},
	.get_instance_proc_addr = tether_null_GetInstanceProcAddr,
	.get_device_proc_addr = tether_null_GetDeviceProcAddr,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tether_fuzz_quiet_logs();
	tether_encoder_init(&prelude);
	encode_prelude(&prelude);
	if (prelude.failed)
		abort();
	return 0;
}

struct client {
	struct tether_conn *conn;
	struct tether_encoder out; /* every message after the handshake, headers included */
};

static void add_message(struct tether_encoder *out, const uint8_t *payload, size_t len)
{
	uint8_t h[TETHER_MSG_HEADER_SIZE];
	tether_msg_header_encode(&(struct tether_msg_header){.type = TETHER_MSG_COMMANDS, .size = len}, h);
	tether_enc_raw(out, h, sizeof(h));
	tether_enc_raw(out, payload, len);
}

/* The client: handshake, then write everything while reading (and
 * dropping) what comes back, so that neither side blocks on a full socket;
 * then close the sending side and read until the session hangs up. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	struct tether_handshake_result hs;
	tether_conn_set_timeout(c->conn, 10000);
	if (tether_handshake_client(c->conn, "fuzz_session", NULL, 0, &hs)) {
		fprintf(stderr, "fuzz_session: tetherd refused the handshake\n");
		abort();
	}
	tether_handshake_result_free(&hs);
	int fd = tether_conn_fd(c->conn);
	size_t sent = 0;
	uint8_t sink[65536];
	for (bool open = true; open;) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < c->out.size ? POLLOUT : 0)};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			abort();
		if (p.revents & POLLOUT) {
			ssize_t n = send(fd, c->out.data + sent, c->out.size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				sent = c->out.size; /* the session has ended */
			if (sent == c->out.size)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
			open = n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
		}
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	struct tether_conn *server;
	struct client c = {0};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || tether_conn_from_fd(sv[0], &server) ||
	    tether_conn_from_fd(sv[1], &c.conn))
		abort();
	tether_encoder_init(&c.out);
	add_message(&c.out, prelude.data, prelude.size);
	for (size_t at = 0; at < size;) {
		uint32_t len = 0;
		memcpy(&len, data + at, size - at < 4 ? size - at : 4);
		at += size - at < 4 ? size - at : 4;
		if (len > size - at)
			len = (uint32_t)(size - at);
		add_message(&c.out, data + at, len);
		at += len;
	}
	if (c.out.failed)
		abort();
	tether_null_driver_reset();
	pthread_t client;
	if (pthread_create(&client, NULL, client_main, &c))
		abort();
	tether_srv_session_run(server, &options);
	tether_conn_close(server);
	pthread_join(client, NULL);
	tether_conn_close(c.conn);
	tether_encoder_free(&c.out);
	return 0;
}
