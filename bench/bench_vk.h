/*
 * What the Vulkan benchmark programs share: error checks that end the
 * program with its name, the instance and the physical device picked by
 * TETHER_BENCH_DEVICE (printing the "device:" and "driver:" lines that
 * run_bench.py reads), and memory type lookup.
 */
#ifndef TETHER_BENCH_VK_H
#define TETHER_BENCH_VK_H

#include <stdint.h>
#include <vulkan/vulkan.h>

/* The program's name, for messages (set by each program). */
extern const char *bench_name;

#define VK_CHECK(expr) bench_vk_check((expr), #expr, __LINE__)

void bench_vk_check(VkResult r, const char *expr, int line);
_Noreturn void die(const char *what);

struct bench_vk {
	VkInstance instance;
	VkPhysicalDevice physical;
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceMemoryProperties mem;
};

/**
 * bench_vk_init() - create the instance with @api_version and pick the
 * physical device (TETHER_BENCH_DEVICE, default 0); ends the program on error
 */
void bench_vk_init(struct bench_vk *vk, uint32_t api_version);

/* The first memory type in @bits with all of @want, or UINT32_MAX. */
uint32_t bench_vk_memory_type(const struct bench_vk *vk, uint32_t bits, VkMemoryPropertyFlags want);

#endif
