/* The GPU half of `tether info`: asks the Vulkan loader for its physical
 * devices and prints what identifies them. With the loader pointed at the
 * tether ICD these are the server's GPUs, seen exactly as an application
 * on this machine sees them. */
#include "tools/tool.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <vulkan/vulkan.h>

static const char *result_name(VkResult r)
{
	switch (r) {
	case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
	case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
	case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
	case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
	case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
	case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
	case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
	default: return "VkResult";
	}
}

static const char *device_type_name(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
	default: return "other";
	}
}

static VkResult create_instance(VkInstance *out)
{
	/* 1.1 for vkGetPhysicalDeviceProperties2; asking for 1.3 is allowed
	 * whatever the devices support (VkApplicationInfo: apiVersion). */
	const VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "tether info",
		.apiVersion = VK_API_VERSION_1_3,
	};
	const VkInstanceCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	return vkCreateInstance(&ci, NULL, out);
}

static void print_version(const char *label, uint32_t v)
{
	printf("  %-11s %u.%u.%u\n", label, VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
	       VK_API_VERSION_PATCH(v));
}

static void print_heaps(VkPhysicalDevice pd)
{
	VkPhysicalDeviceMemoryProperties mem;
	vkGetPhysicalDeviceMemoryProperties(pd, &mem);
	for (uint32_t i = 0; i < mem.memoryHeapCount; i++) {
		const VkMemoryHeap *h = &mem.memoryHeaps[i];
		printf("  heap %-6u %.2f GiB%s\n", i, h->size / (1024.0 * 1024.0 * 1024.0),
		       h->flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT ? " device-local" : "");
	}
}

static void print_device(uint32_t index, VkPhysicalDevice pd)
{
	VkPhysicalDeviceDriverProperties drv = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
	};
	VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
	VkPhysicalDeviceProperties props;
	vkGetPhysicalDeviceProperties(pd, &props);
	/* VkPhysicalDeviceDriverProperties is core in 1.2; below that the
	 * device may not know the struct, so leave it out of the chain. */
	int has_driver = props.apiVersion >= VK_API_VERSION_1_2;
	if (has_driver) {
		p2.pNext = &drv;
		vkGetPhysicalDeviceProperties2(pd, &p2);
	}
	printf("GPU %u: %s\n", index, props.deviceName);
	printf("  %-11s %s\n", "type", device_type_name(props.deviceType));
	print_version("apiVersion", props.apiVersion);
	if (has_driver)
		printf("  %-11s %s (%s)\n", "driver", drv.driverName, drv.driverInfo);
	printf("  %-11s 0x%04" PRIx32 "\n", "vendorID", props.vendorID);
	printf("  %-11s 0x%04" PRIx32 "\n", "deviceID", props.deviceID);
	print_heaps(pd);
}

int tether_tool_list_gpus(void)
{
	VkInstance inst;
	VkResult r = create_instance(&inst);
	if (r != VK_SUCCESS) {
		fprintf(stderr, "tether info: vkCreateInstance failed: %s (%d); check VK_DRIVER_FILES "
				"and that tetherd is reachable (TETHER_LOG=debug shows why)\n",
			result_name(r), (int)r);
		return TETHER_EXIT_FAIL;
	}
	uint32_t n = 0;
	VkPhysicalDevice *pds = NULL;
	r = vkEnumeratePhysicalDevices(inst, &n, NULL);
	if (r == VK_SUCCESS && n) {
		pds = calloc(n, sizeof(*pds));
		r = pds ? vkEnumeratePhysicalDevices(inst, &n, pds) : VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	int ret = TETHER_EXIT_OK;
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
		fprintf(stderr, "tether info: vkEnumeratePhysicalDevices failed: %s (%d)\n",
			result_name(r), (int)r);
		ret = TETHER_EXIT_FAIL;
	} else if (n == 0) {
		fprintf(stderr, "tether info: the server offers no GPU\n");
		ret = TETHER_EXIT_FAIL;
	}
	for (uint32_t i = 0; ret == TETHER_EXIT_OK && i < n; i++)
		print_device(i, pds[i]);
	free(pds);
	vkDestroyInstance(inst, NULL);
	return ret;
}
