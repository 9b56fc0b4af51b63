/*
 * Asks the same physical-device questions many times, as translation layers
 * do at start-up, and checks that every answer equals the first. Run through
 * tether by tests/icd/check_query_cache.py, which checks from the ICD's
 * session totals that repeats were answered without the server.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#define REPEATS 20

static const VkFormat formats[] = {
	VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_B8G8R8A8_UNORM,
	VK_FORMAT_R16G16B16A16_SFLOAT, VK_FORMAT_R32G32B32A32_SFLOAT, VK_FORMAT_D32_SFLOAT,
	VK_FORMAT_D24_UNORM_S8_UINT, VK_FORMAT_BC1_RGBA_UNORM_BLOCK, VK_FORMAT_R8_UNORM,
	VK_FORMAT_A2B10G10R10_UNORM_PACK32,
};
#define FORMAT_COUNT (sizeof(formats) / sizeof(formats[0]))

#define CHECK(x)                                                                      \
	do {                                                                          \
		VkResult r_ = (x);                                                    \
		if (r_ != VK_SUCCESS) {                                               \
			fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #x, r_); \
			exit(1);                                                      \
		}                                                                     \
	} while (0)

int main(void)
{
	VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3};
	VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
	VkInstance instance;
	CHECK(vkCreateInstance(&ici, NULL, &instance));
	uint32_t n = 1;
	VkPhysicalDevice pd;
	VkResult r = vkEnumeratePhysicalDevices(instance, &n, &pd);
	if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
		fprintf(stderr, "no physical device\n");
		return 1;
	}
	VkFormatProperties first[FORMAT_COUNT];
	VkPhysicalDeviceVulkan12Features f12_first = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
	VkPhysicalDeviceFeatures2 f2_first = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12_first};
	for (int rep = 0; rep < REPEATS; rep++) {
		for (size_t i = 0; i < FORMAT_COUNT; i++) {
			VkFormatProperties p;
			memset(&p, 0xa5, sizeof(p));
			vkGetPhysicalDeviceFormatProperties(pd, formats[i], &p);
			if (rep == 0)
				first[i] = p;
			else if (memcmp(&p, &first[i], sizeof(p))) {
				fprintf(stderr, "format %d: answer %d differs from the first\n", formats[i], rep);
				return 1;
			}
		}
		VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
		VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
		vkGetPhysicalDeviceFeatures2(pd, &f2);
		if (rep == 0) {
			f2_first = f2;
			f12_first = f12;
		} else if (memcmp(&f2.features, &f2_first.features, sizeof(f2.features)) ||
			   memcmp(&f12.samplerMirrorClampToEdge, &f12_first.samplerMirrorClampToEdge,
				  sizeof(f12) - offsetof(VkPhysicalDeviceVulkan12Features, samplerMirrorClampToEdge))) {
			fprintf(stderr, "features: answer %d differs from the first\n", rep);
			return 1;
		}
	}
	if (!f12_first.timelineSemaphore) {
		fprintf(stderr, "VkPhysicalDeviceVulkan12Features was not filled in\n");
		return 1;
	}
	printf("queries: %zu\n", (size_t)REPEATS * (FORMAT_COUNT + 1));
	vkDestroyInstance(instance, NULL);
	return 0;
}
