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
	VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
				 .pApplicationName = bench_name,
				 .apiVersion = api_version};
	VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
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
