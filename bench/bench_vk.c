/*
 * Shared set-up of the Vulkan benchmark programs (see bench_vk.h).
 */
#include "bench_vk.h"

#include <stdio.h>
#include <stdlib.h>

void bench_vk_check(VkResult r, const char *expr, int line)
{
	if (r != VK_SUCCESS) {
		fprintf(stderr, "%s:%d: %s returned %d\n", bench_name, line, expr, (int)r);
		exit(1);
	}
}

_Noreturn void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", bench_name, what);
	exit(1);
}

void bench_vk_init(struct bench_vk *vk, uint32_t api_version)
{
	bench_vk_init_extensions(vk, api_version, 0, NULL);
}

void bench_vk_init_extensions(struct bench_vk *vk, uint32_t api_version, uint32_t count,
			      const char *const *names)
{
	VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
				 .pApplicationName = bench_name,
				 .apiVersion = api_version};
	VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
				    .pApplicationInfo = &app,
				    .enabledExtensionCount = count,
				    .ppEnabledExtensionNames = names};
	VK_CHECK(vkCreateInstance(&ici, NULL, &vk->instance));
	uint32_t n = 0;
	VK_CHECK(vkEnumeratePhysicalDevices(vk->instance, &n, NULL));
	if (n == 0)
		die("no physical device");
	VkPhysicalDevice *devs = calloc(n, sizeof(*devs));
	if (!devs)
		die("out of memory");
	VK_CHECK(vkEnumeratePhysicalDevices(vk->instance, &n, devs));
	const char *want = getenv("TETHER_BENCH_DEVICE");
	uint32_t index = want ? (uint32_t)atoi(want) : 0;
	if (index >= n)
		die("TETHER_BENCH_DEVICE out of range");
	vk->physical = devs[index];
	free(devs);

	VkPhysicalDeviceDriverProperties driver = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
	VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
					     .pNext = &driver};
	vkGetPhysicalDeviceProperties2(vk->physical, &props);
	vk->props = props.properties;
	printf("device: %s\n", props.properties.deviceName);
	printf("driver: %s (%s)\n", driver.driverName, driver.driverInfo);
	vkGetPhysicalDeviceMemoryProperties(vk->physical, &vk->mem);
}

uint32_t bench_vk_memory_type(const struct bench_vk *vk, uint32_t bits, VkMemoryPropertyFlags want)
{
	for (uint32_t i = 0; i < vk->mem.memoryTypeCount; i++)
		if ((bits & (1u << i)) && (vk->mem.memoryTypes[i].propertyFlags & want) == want)
			return i;
	return UINT32_MAX;
}

uint32_t bench_vk_queue_family(const struct bench_vk *vk, VkQueueFlags flags, VkSurfaceKHR surface)
{
	uint32_t n = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(vk->physical, &n, NULL);
	VkQueueFamilyProperties *fam = calloc(n ? n : 1, sizeof(*fam));
	if (!fam)
		die("out of memory");
	vkGetPhysicalDeviceQueueFamilyProperties(vk->physical, &n, fam);
	uint32_t family = UINT32_MAX;
	for (uint32_t i = 0; i < n && family == UINT32_MAX; i++) {
		VkBool32 present = VK_TRUE;
		if (surface)
			VK_CHECK(vkGetPhysicalDeviceSurfaceSupportKHR(vk->physical, i, surface, &present));
		if ((fam[i].queueFlags & flags) == flags && present)
			family = i;
	}
	free(fam);
	return family;
}

VkDevice bench_vk_create_device(const struct bench_vk *vk, uint32_t family, const void *next, uint32_t count,
				const char *const *names, VkQueue *queue)
{
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
				       .queueFamilyIndex = family,
				       .queueCount = 1,
				       .pQueuePriorities = &prio};
	VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
				  .pNext = next,
				  .queueCreateInfoCount = 1,
				  .pQueueCreateInfos = &qci,
				  .enabledExtensionCount = count,
				  .ppEnabledExtensionNames = names};
	VkDevice device;
	VK_CHECK(vkCreateDevice(vk->physical, &dci, NULL, &device));
	vkGetDeviceQueue(device, family, 0, queue);
	return device;
}

VkCommandPool bench_vk_command_pool(VkDevice device, uint32_t family, uint32_t count, VkCommandBuffer *cbs)
{
	VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
				       .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
				       .queueFamilyIndex = family};
	VkCommandPool pool;
	VK_CHECK(vkCreateCommandPool(device, &pci, NULL, &pool));
	VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					   .commandPool = pool,
					   .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
					   .commandBufferCount = count};
	VK_CHECK(vkAllocateCommandBuffers(device, &cai, cbs));
	return pool;
}

VkShaderModule bench_vk_shader(VkDevice device, const uint32_t *code, size_t size)
{
	VkShaderModuleCreateInfo smci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
					 .codeSize = size,
					 .pCode = code};
	VkShaderModule m;
	VK_CHECK(vkCreateShaderModule(device, &smci, NULL, &m));
	return m;
}

VkPipeline bench_vk_graphics_pipeline(VkDevice device, const struct bench_vk_pipeline_info *info)
{
	VkPipelineShaderStageCreateInfo stages[2] = {
		{.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
		 .stage = VK_SHADER_STAGE_VERTEX_BIT,
		 .module = info->vert,
		 .pName = "main",
		 .pSpecializationInfo = info->spec},
		{.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
		 .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
		 .module = info->frag,
		 .pName = "main",
		 .pSpecializationInfo = info->spec},
	};
	const VkPipelineVertexInputStateCreateInfo no_vertices = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
	const VkPipelineVertexInputStateCreateInfo *vi = info->vertex_input ? info->vertex_input : &no_vertices;
	VkPipelineInputAssemblyStateCreateInfo ia = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
		.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST};
	VkViewport vp = {0, 0, (float)info->extent.width, (float)info->extent.height, 0, 1};
	VkRect2D sc = {{0, 0}, info->extent};
	VkPipelineViewportStateCreateInfo vps = {.sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
						 .viewportCount = 1,
						 .pViewports = &vp,
						 .scissorCount = 1,
						 .pScissors = &sc};
	VkPipelineRasterizationStateCreateInfo rs = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
		.polygonMode = VK_POLYGON_MODE_FILL,
		.cullMode = VK_CULL_MODE_NONE,
		.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
		.lineWidth = 1.0f};
	VkPipelineMultisampleStateCreateInfo ms = {.sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
						   .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT};
	VkPipelineColorBlendAttachmentState cba = {.colorWriteMask = 0xf};
	VkPipelineColorBlendStateCreateInfo cbs = {.sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
						   .attachmentCount = 1,
						   .pAttachments = &cba};
	/* Without a render pass the attachment formats come from here
	 * (VkGraphicsPipelineCreateInfo: renderPass VK_NULL_HANDLE). */
	VkPipelineRenderingCreateInfo rci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
					     .colorAttachmentCount = 1,
					     .pColorAttachmentFormats = &info->color_format};
	VkGraphicsPipelineCreateInfo gpci = {.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
					     .pNext = info->render_pass ? NULL : &rci,
					     .stageCount = 2,
					     .pStages = stages,
					     .pVertexInputState = vi,
					     .pInputAssemblyState = &ia,
					     .pViewportState = &vps,
					     .pRasterizationState = &rs,
					     .pMultisampleState = &ms,
					     .pColorBlendState = &cbs,
					     .layout = info->layout,
					     .renderPass = info->render_pass,
					     .basePipelineIndex = -1};
	VkPipeline pipeline;
	VK_CHECK(vkCreateGraphicsPipelines(device, info->cache, 1, &gpci, NULL, &pipeline));
	return pipeline;
}
