/*
 * tether_bench_present: an ordinary Vulkan program (Khronos loader only) that
 * renders a game-like frame (bench/shaders/present.*) into a swapchain and
 * presents it, as fast as the present mode lets it, and reports how frames
 * reach the window: frames per second delivered, present-to-window latency
 * and link bytes per frame. bench/run_bench.py runs it natively and through
 * tetherd for several resolutions, codecs and links.
 *
 * Surfaces: VK_EXT_headless_surface (the default: a GPU machine has no
 * display), an X11 window with --xcb (DISPLAY must be set), or --offscreen:
 * no surface, frames rendered into a ring of images and never presented. A
 * driver without VK_EXT_headless_surface (Mesa before 23) runs offscreen, and
 * says so: its figures are then the render rate, the ceiling of presenting.
 *
 * The figures come from tether's statistics (include/tether/tether_statistics.h,
 * vkGetSwapchainStatisticsTETHER) when the driver is tether. fps delivered is
 * frames shown in the window per second; natively, where nothing tells when a
 * frame reached the window, it is frames presented per second up to the GPU
 * going idle. Latency is sampled from latencyLastUs as frames are shown
 * during the timed run: tether's own median and p99 span the swapchain's last
 * 1024 frames, warm-up included, which would dominate a short run's p99.
 *
 *   tether_bench_present [--width 1920] [--height 1080] [--seconds 3]
 *                        [--frames N] [--mode immediate|mailbox|fifo]
 *                        [--images 3] [--warmup 5] [--xcb | --offscreen]
 *
 * With both --seconds and --frames the run stops at whichever comes first.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vulkan/vulkan.h>

#ifdef TETHER_BENCH_XCB
#include <xcb/xcb.h>
#include <vulkan/vulkan_xcb.h>
#endif

#include "bench_stats.h"
#include "bench_vk.h"
#include "include/tether/tether_statistics.h"

const char *bench_name = "tether_bench_present";
#include "present_frag.h"
#include "present_vert.h"

#define FRAMES_IN_FLIGHT 2
#define MAX_IMAGES 8
#define DRAIN_TIMEOUT_NS 20000000000ull /* frames still on their way after the last present */
#define POLL_NS 200000ull
#define SPHERES 7 /* as in present.vert and present.frag */
/* The frame's parts, drawn in this order, one pipeline each (present.frag's
 * PART): sky, ground, spheres, HUD; and the instances each draws. */
#define PARTS 4
static const uint32_t part_instances[PARTS] = {1, 1, SPHERES, 2};

enum surface_kind { SURFACE_HEADLESS, SURFACE_XCB, SURFACE_NONE };

struct options {
	uint32_t width, height;
	double seconds;
	uint32_t frames; /* 0: until --seconds */
	uint32_t images, warmup;
	VkPresentModeKHR mode;
	enum surface_kind surface;
};

/* The shaders' push constants: 128 bytes, the least every device takes. */
struct push {
	float resolution[2];
	float time;
	float pad;
	float spheres[SPHERES][4]; /* centre x, y in units of the image height, radius, hue */
};
_Static_assert(sizeof(struct push) == 128, "push constant layout");

struct bench {
	struct bench_vk vk;
	enum surface_kind surface_kind;
	VkSurfaceKHR surface;
#ifdef TETHER_BENCH_XCB
	xcb_connection_t *xcb;
	xcb_window_t window;
#endif
	VkDevice device;
	uint32_t family;
	VkQueue queue;
	VkCommandPool pool;
	VkCommandBuffer cb[FRAMES_IN_FLIGHT];
	VkFence fence[FRAMES_IN_FLIGHT];
	VkSemaphore acquired[FRAMES_IN_FLIGHT];

	VkSwapchainKHR swapchain;
	VkPresentModeKHR mode;
	VkFormat format;
	VkExtent2D extent;
	uint32_t image_count;
	VkImage images[MAX_IMAGES];
	VkDeviceMemory image_memory[MAX_IMAGES]; /* offscreen only */
	VkImageView views[MAX_IMAGES];
	VkFramebuffer framebuffers[MAX_IMAGES];
	VkSemaphore rendered[MAX_IMAGES]; /* per image: the present waits on it */

	VkRenderPass render_pass;
	VkPipelineLayout layout;
	VkShaderModule vert, frag;
	VkPipeline pipeline[PARTS];

	PFN_vkGetSwapchainStatisticsTETHER statistics; /* NULL: not tether */
};

/* --- instance, surface, device ---------------------------------------------- */

static bool has_extension(const VkExtensionProperties *ext, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(ext[i].extensionName, name))
			return true;
	return false;
}

/* bench_vk_init() with the surface extensions the run needs. */
static void init_instance(struct bench *b, const struct options *o)
{
	uint32_t n = 0;
	VK_CHECK(vkEnumerateInstanceExtensionProperties(NULL, &n, NULL));
	VkExtensionProperties *ext = calloc(n ? n : 1, sizeof(*ext));
	if (!ext)
		die("out of memory");
	VK_CHECK(vkEnumerateInstanceExtensionProperties(NULL, &n, ext));
	b->surface_kind = o->surface;
	const char *wanted[2] = {VK_KHR_SURFACE_EXTENSION_NAME, NULL};
	if (o->surface == SURFACE_HEADLESS) {
		wanted[1] = VK_EXT_HEADLESS_SURFACE_EXTENSION_NAME;
		if (!has_extension(ext, n, wanted[1])) {
			printf("# the driver has no VK_EXT_headless_surface: rendering offscreen, nothing presented\n");
			b->surface_kind = SURFACE_NONE;
		}
	} else if (o->surface == SURFACE_XCB) {
#ifdef TETHER_BENCH_XCB
		wanted[1] = VK_KHR_XCB_SURFACE_EXTENSION_NAME;
		if (!has_extension(ext, n, wanted[1]))
			die("the driver has no VK_KHR_xcb_surface");
#else
		die("built without xcb (libxcb development files were not found)");
#endif
	}
	if (b->surface_kind != SURFACE_NONE && !has_extension(ext, n, wanted[0]))
		die("the driver has no VK_KHR_surface");
	free(ext);

	bench_vk_init_extensions(&b->vk, VK_API_VERSION_1_1, b->surface_kind == SURFACE_NONE ? 0 : 2, wanted);
}

static void init_surface(struct bench *b, const struct options *o)
{
	if (b->surface_kind == SURFACE_HEADLESS) {
		PFN_vkCreateHeadlessSurfaceEXT create = (PFN_vkCreateHeadlessSurfaceEXT)vkGetInstanceProcAddr(
			b->vk.instance, "vkCreateHeadlessSurfaceEXT");
		if (!create)
			die("no vkCreateHeadlessSurfaceEXT");
		VkHeadlessSurfaceCreateInfoEXT ci = {.sType = VK_STRUCTURE_TYPE_HEADLESS_SURFACE_CREATE_INFO_EXT};
		VK_CHECK(create(b->vk.instance, &ci, NULL, &b->surface));
	}
#ifdef TETHER_BENCH_XCB
	if (b->surface_kind == SURFACE_XCB) {
		b->xcb = xcb_connect(NULL, NULL);
		if (xcb_connection_has_error(b->xcb))
			die("cannot connect to the X server ($DISPLAY)");
		xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(b->xcb)).data;
		b->window = xcb_generate_id(b->xcb);
		xcb_create_window(b->xcb, XCB_COPY_FROM_PARENT, b->window, screen->root, 0, 0, (uint16_t)o->width,
				  (uint16_t)o->height, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual, 0, NULL);
		xcb_map_window(b->xcb, b->window);
		xcb_flush(b->xcb);
		PFN_vkCreateXcbSurfaceKHR create =
			(PFN_vkCreateXcbSurfaceKHR)vkGetInstanceProcAddr(b->vk.instance, "vkCreateXcbSurfaceKHR");
		if (!create)
			die("no vkCreateXcbSurfaceKHR");
		VkXcbSurfaceCreateInfoKHR ci = {.sType = VK_STRUCTURE_TYPE_XCB_SURFACE_CREATE_INFO_KHR,
						.connection = b->xcb,
						.window = b->window};
		VK_CHECK(create(b->vk.instance, &ci, NULL, &b->surface));
	}
#else
	(void)o;
#endif
}

static void init_device(struct bench *b)
{
	b->family = bench_vk_queue_family(&b->vk, VK_QUEUE_GRAPHICS_BIT, b->surface);
	if (b->family == UINT32_MAX)
		die("no graphics queue that can present to the surface");
	const char *swapchain_ext = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
	b->device = bench_vk_create_device(&b->vk, b->family, NULL, b->surface ? 1 : 0, &swapchain_ext, &b->queue);
	/* Only tether's driver answers this name (tether_statistics.h). No layer
	 * knows the command, so it is asked about the device's newest swapchain
	 * (VK_NULL_HANDLE) rather than given a handle a layer may have wrapped. */
	b->statistics = (PFN_vkGetSwapchainStatisticsTETHER)vkGetDeviceProcAddr(b->device,
										 "vkGetSwapchainStatisticsTETHER");

	b->pool = bench_vk_command_pool(b->device, b->family, FRAMES_IN_FLIGHT, b->cb);
	VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = VK_FENCE_CREATE_SIGNALED_BIT};
	VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
	for (int i = 0; i < FRAMES_IN_FLIGHT; i++) {
		VK_CHECK(vkCreateFence(b->device, &fci, NULL, &b->fence[i]));
		VK_CHECK(vkCreateSemaphore(b->device, &sci, NULL, &b->acquired[i]));
	}
}

/* --- the images: a swapchain, or a ring of plain images ----------------------- */

static VkFormat pick_format(struct bench *b)
{
	uint32_t n = 0;
	VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(b->vk.physical, b->surface, &n, NULL));
	VkSurfaceFormatKHR *f = calloc(n ? n : 1, sizeof(*f));
	if (!f)
		die("out of memory");
	VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(b->vk.physical, b->surface, &n, f));
	if (n == 0)
		die("the surface has no format");
	/* UNORM: the shader's output reaches the window as written, on any driver. */
	VkFormat pick = f[0].format;
	for (uint32_t i = 0; i < n; i++)
		if (f[i].format == VK_FORMAT_B8G8R8A8_UNORM && f[i].colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR)
			pick = f[i].format;
	free(f);
	return pick;
}

static bool mode_supported(struct bench *b, VkPresentModeKHR mode)
{
	uint32_t n = 0;
	VK_CHECK(vkGetPhysicalDeviceSurfacePresentModesKHR(b->vk.physical, b->surface, &n, NULL));
	VkPresentModeKHR modes[16];
	if (n > 16)
		n = 16;
	VkResult r = vkGetPhysicalDeviceSurfacePresentModesKHR(b->vk.physical, b->surface, &n, modes);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE)
		VK_CHECK(r);
	for (uint32_t i = 0; i < n; i++)
		if (modes[i] == mode)
			return true;
	return false;
}

static void init_swapchain(struct bench *b, const struct options *o)
{
	VkSurfaceCapabilitiesKHR caps;
	VK_CHECK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(b->vk.physical, b->surface, &caps));
	b->extent = caps.currentExtent;
	if (caps.currentExtent.width == UINT32_MAX) { /* the swapchain decides (headless) */
		b->extent.width = o->width;
		b->extent.height = o->height;
	}
	if (b->extent.width < caps.minImageExtent.width || b->extent.width > caps.maxImageExtent.width ||
	    b->extent.height < caps.minImageExtent.height || b->extent.height > caps.maxImageExtent.height)
		die("the surface does not take that size");
	/* FIFO is the one mode every surface has (VkPresentModeKHR). */
	b->mode = mode_supported(b, o->mode) ? o->mode : VK_PRESENT_MODE_FIFO_KHR;
	if (b->mode != o->mode)
		printf("# the surface does not support the present mode asked for: FIFO instead\n");
	if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT))
		die("swapchain images cannot be color attachments");
	b->format = pick_format(b);
	uint32_t count = o->images < caps.minImageCount ? caps.minImageCount : o->images;
	if (caps.maxImageCount && count > caps.maxImageCount)
		count = caps.maxImageCount;
	VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
	while (!(caps.supportedCompositeAlpha & alpha) && alpha <= VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR)
		alpha <<= 1;
	VkSwapchainCreateInfoKHR ci = {.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
				       .surface = b->surface,
				       .minImageCount = count,
				       .imageFormat = b->format,
				       .imageColorSpace = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR,
				       .imageExtent = b->extent,
				       .imageArrayLayers = 1,
				       .imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
				       .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
				       .preTransform = caps.currentTransform,
				       .compositeAlpha = alpha,
				       .presentMode = b->mode,
				       .clipped = VK_TRUE};
	VK_CHECK(vkCreateSwapchainKHR(b->device, &ci, NULL, &b->swapchain));
	VK_CHECK(vkGetSwapchainImagesKHR(b->device, b->swapchain, &b->image_count, NULL));
	if (b->image_count > MAX_IMAGES)
		die("too many swapchain images");
	VK_CHECK(vkGetSwapchainImagesKHR(b->device, b->swapchain, &b->image_count, b->images));
}

/* Without a surface: @o->images device-local images the frames cycle through. */
static void init_offscreen(struct bench *b, const struct options *o)
{
	b->format = VK_FORMAT_B8G8R8A8_UNORM;
	b->extent = (VkExtent2D){o->width, o->height};
	b->image_count = o->images < FRAMES_IN_FLIGHT ? FRAMES_IN_FLIGHT : o->images;
	if (b->image_count > MAX_IMAGES)
		b->image_count = MAX_IMAGES;
	for (uint32_t i = 0; i < b->image_count; i++) {
		VkImageCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
					 .imageType = VK_IMAGE_TYPE_2D,
					 .format = b->format,
					 .extent = {o->width, o->height, 1},
					 .mipLevels = 1,
					 .arrayLayers = 1,
					 .samples = VK_SAMPLE_COUNT_1_BIT,
					 .tiling = VK_IMAGE_TILING_OPTIMAL,
					 .usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
					 .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
					 .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
		VK_CHECK(vkCreateImage(b->device, &ici, NULL, &b->images[i]));
		VkMemoryRequirements req;
		vkGetImageMemoryRequirements(b->device, b->images[i], &req);
		uint32_t type = bench_vk_memory_type(&b->vk, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
		if (type == UINT32_MAX)
			type = bench_vk_memory_type(&b->vk, req.memoryTypeBits, 0);
		VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
					    .allocationSize = req.size,
					    .memoryTypeIndex = type};
		VK_CHECK(vkAllocateMemory(b->device, &mai, NULL, &b->image_memory[i]));
		VK_CHECK(vkBindImageMemory(b->device, b->images[i], b->image_memory[i], 0));
	}
}

/* The render pass leaves each image ready to present (or, offscreen, as a
 * color attachment). The shader writes every pixel: nothing is loaded. */
static void init_render_pass(struct bench *b)
{
	VkAttachmentDescription color = {
		.format = b->format,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.loadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
		.storeOp = VK_ATTACHMENT_STORE_OP_STORE,
		.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
		.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
		.finalLayout = b->swapchain ? VK_IMAGE_LAYOUT_PRESENT_SRC_KHR : VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
	VkAttachmentReference ref = {0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
	VkSubpassDescription subpass = {.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
					.colorAttachmentCount = 1,
					.pColorAttachments = &ref};
	/* The acquire semaphore is waited at COLOR_ATTACHMENT_OUTPUT: the layout
	 * transition out of UNDEFINED must come after it (Vulkan spec,
	 * "Semaphore Waiting", and the WSI swapchain example). */
	VkSubpassDependency dep = {.srcSubpass = VK_SUBPASS_EXTERNAL,
				   .dstSubpass = 0,
				   .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
				   .dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
				   .dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT};
	VkRenderPassCreateInfo rpci = {.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
				       .attachmentCount = 1,
				       .pAttachments = &color,
				       .subpassCount = 1,
				       .pSubpasses = &subpass,
				       .dependencyCount = 1,
				       .pDependencies = &dep};
	VK_CHECK(vkCreateRenderPass(b->device, &rpci, NULL, &b->render_pass));

	VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
	for (uint32_t i = 0; i < b->image_count; i++) {
		VkImageViewCreateInfo vci = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
					     .image = b->images[i],
					     .viewType = VK_IMAGE_VIEW_TYPE_2D,
					     .format = b->format,
					     .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
		VK_CHECK(vkCreateImageView(b->device, &vci, NULL, &b->views[i]));
		VkFramebufferCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
					       .renderPass = b->render_pass,
					       .attachmentCount = 1,
					       .pAttachments = &b->views[i],
					       .width = b->extent.width,
					       .height = b->extent.height,
					       .layers = 1};
		VK_CHECK(vkCreateFramebuffer(b->device, &fci, NULL, &b->framebuffers[i]));
		VK_CHECK(vkCreateSemaphore(b->device, &sci, NULL, &b->rendered[i]));
	}
}

static void init_pipeline(struct bench *b)
{
	VkPushConstantRange range = {VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
				     sizeof(struct push)};
	VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					   .pushConstantRangeCount = 1,
					   .pPushConstantRanges = &range};
	VK_CHECK(vkCreatePipelineLayout(b->device, &plci, NULL, &b->layout));
	b->vert = bench_vk_shader(b->device, present_vert_spv, sizeof(present_vert_spv));
	b->frag = bench_vk_shader(b->device, present_frag_spv, sizeof(present_frag_spv));
	/* One pipeline per part: PART, both shaders' constant 0, is read from
	 * @part as each pipeline is created. */
	int32_t part = 0;
	VkSpecializationMapEntry entry = {0, 0, sizeof(part)};
	VkSpecializationInfo spec = {1, &entry, sizeof(part), &part};
	struct bench_vk_pipeline_info info = {.vert = b->vert,
					      .frag = b->frag,
					      .spec = &spec,
					      .extent = b->extent,
					      .layout = b->layout,
					      .render_pass = b->render_pass};
	for (part = 0; part < PARTS; part++)
		b->pipeline[part] = bench_vk_graphics_pipeline(b->device, &info);
}

/* --- frames ----------------------------------------------------------------- */

/* Renders frame @n (its image depends on @n alone) and presents it: sky and
 * ground each cover their part of the image, the spheres and the HUD are drawn
 * over them. */
static void frame(struct bench *b, uint32_t n)
{
	const int slot = (int)(n % FRAMES_IN_FLIGHT);
	VK_CHECK(vkWaitForFences(b->device, 1, &b->fence[slot], VK_TRUE, UINT64_MAX));
	VK_CHECK(vkResetFences(b->device, 1, &b->fence[slot]));
	uint32_t image = n % b->image_count;
	if (b->swapchain) {
		VkResult r = vkAcquireNextImageKHR(b->device, b->swapchain, UINT64_MAX, b->acquired[slot],
						   VK_NULL_HANDLE, &image);
		if (r != VK_SUBOPTIMAL_KHR)
			VK_CHECK(r);
	}
	VkCommandBuffer cb = b->cb[slot];
	VK_CHECK(vkResetCommandBuffer(cb, 0));
	VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
				       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
	VK_CHECK(vkBeginCommandBuffer(cb, &bi));
	VkRenderPassBeginInfo rpbi = {.sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
				      .renderPass = b->render_pass,
				      .framebuffer = b->framebuffers[image],
				      .renderArea = {{0, 0}, b->extent}};
	vkCmdBeginRenderPass(cb, &rpbi, VK_SUBPASS_CONTENTS_INLINE);
	struct push push = {{(float)b->extent.width, (float)b->extent.height}, (float)n / 60.0f, 0, {{0}}};
	const float aspect = push.resolution[0] / push.resolution[1];
	for (int i = 0; i < SPHERES; i++) { /* Lissajous paths, the same for every pixel */
		push.spheres[i][0] = aspect * (0.5f + 0.38f * sinf(push.time * (0.6f + 0.13f * i) + 1.7f * i));
		push.spheres[i][1] = 0.55f + 0.3f * sinf(push.time * (0.9f + 0.07f * i) + 2.3f * i);
		push.spheres[i][2] = 0.04f + 0.014f * i;
		push.spheres[i][3] = 0.9f * i;
	}
	vkCmdPushConstants(cb, b->layout, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(push),
			   &push);
	for (int part = 0; part < PARTS; part++) {
		vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, b->pipeline[part]);
		vkCmdDraw(cb, 6, part_instances[part], 0, 0); /* a quad per instance */
	}
	vkCmdEndRenderPass(cb);
	VK_CHECK(vkEndCommandBuffer(cb));

	VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
	VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
			   .waitSemaphoreCount = b->swapchain ? 1 : 0,
			   .pWaitSemaphores = &b->acquired[slot],
			   .pWaitDstStageMask = &wait_stage,
			   .commandBufferCount = 1,
			   .pCommandBuffers = &cb,
			   .signalSemaphoreCount = b->swapchain ? 1 : 0,
			   .pSignalSemaphores = &b->rendered[image]};
	VK_CHECK(vkQueueSubmit(b->queue, 1, &si, b->fence[slot]));
	if (!b->swapchain)
		return;
	VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
			       .waitSemaphoreCount = 1,
			       .pWaitSemaphores = &b->rendered[image],
			       .swapchainCount = 1,
			       .pSwapchains = &b->swapchain,
			       .pImageIndices = &image};
	VkResult r = vkQueuePresentKHR(b->queue, &pi);
	if (r != VK_SUBOPTIMAL_KHR)
		VK_CHECK(r);
}

/* What the timed run measured. Latencies: one per frame seen shown (tether
 * only), sampled as frames are shown. */
struct measure {
	uint32_t frames;         /* presented in the timed run */
	uint64_t presented_ns;   /* from its start to the last present */
	uint64_t done_ns;        /* to the last frame shown (natively: the GPU idle) */
	uint64_t cpu_ns;         /* of this thread */
	VkSwapchainStatisticsTETHER st0, st1; /* at its start and end */
	double *latency_us;
	size_t n, cap;
	uint64_t seen;  /* framesShown + framesDropped + framesFailed at the last look */
	uint64_t after; /* frames up to this one are warm-up */
};

/* Looks at tether's statistics; when frames were shown since the last look,
 * keeps the newest one's latency. Returns the frames handled so far. */
static uint64_t sample(struct bench *b, struct measure *m, VkSwapchainStatisticsTETHER *st)
{
	memset(st, 0, sizeof(*st));
	VK_CHECK(b->statistics(b->device, VK_NULL_HANDLE, st));
	uint64_t done = st->framesShown + st->framesDropped + st->framesFailed;
	if (done > m->seen && done > m->after && st->latencySamples) {
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 1024;
			m->latency_us = realloc(m->latency_us, m->cap * sizeof(*m->latency_us));
			if (!m->latency_us)
				die("out of memory");
		}
		m->latency_us[m->n++] = st->latencyLastUs;
	}
	m->seen = done;
	return done;
}

/* Waits until every presented frame has been shown, dropped or failed. */
static void drain(struct bench *b, struct measure *m, VkSwapchainStatisticsTETHER *st)
{
	const uint64_t deadline = bench_now_ns() + DRAIN_TIMEOUT_NS;
	while (sample(b, m, st) < st->framesPresented) {
		if (bench_now_ns() > deadline)
			die("frames presented were neither shown nor dropped within 20 s");
		struct timespec ts = {0, POLL_NS};
		nanosleep(&ts, NULL);
	}
}

/* Warm-up, then frames until --frames or --seconds; both ends of the timed
 * run have no frame on its way, so that frames shown / time is a rate. */
static void run(struct bench *b, const struct options *o, struct measure *m)
{
	const bool tether = b->swapchain && b->statistics;
	uint32_t n = 0;
	m->after = o->warmup;
	for (; n < o->warmup; n++)
		frame(b, n);
	if (tether)
		drain(b, m, &m->st0);
	else
		VK_CHECK(vkQueueWaitIdle(b->queue));

	const uint64_t t0 = bench_now_ns(), cpu0 = bench_cpu_ns();
	const uint64_t limit = (uint64_t)(o->seconds * 1e9);
	while ((!o->frames || m->frames < o->frames) && (o->seconds <= 0 || bench_now_ns() - t0 < limit)) {
		frame(b, n++);
		m->frames++;
		if (tether)
			sample(b, m, &m->st1);
	}
	m->presented_ns = bench_now_ns() - t0;
	if (tether)
		drain(b, m, &m->st1);
	else
		VK_CHECK(vkQueueWaitIdle(b->queue));
	m->done_ns = bench_now_ns() - t0;
	m->cpu_ns = bench_cpu_ns() - cpu0;
}

static void report1(const char *name, double v, const char *unit)
{
	bench_report(name, (struct bench_summary){v, v, v}, unit);
}

static const char *surface_name(enum surface_kind k)
{
	return k == SURFACE_NONE ? "offscreen" : k == SURFACE_XCB ? "xcb" : "headless";
}

/* "result" lines, then one "present:" summary line with n/a where the
 * driver does not tell (natively: latency and bytes). */
static void report(struct bench *b, const struct options *o, struct measure *m)
{
	const bool tether = b->swapchain && b->statistics;
	const double seconds = (double)m->done_ns / 1e9;
	const double raw = (double)b->extent.width * b->extent.height * 4;
	const VkSwapchainStatisticsTETHER *st0 = &m->st0, *st1 = &m->st1;
	const uint64_t shown = st1->framesShown - st0->framesShown, sent = st1->framesPresented - st0->framesPresented;
	/* Natively nothing says when a frame reached the window: frames
	 * presented (or rendered, offscreen) up to the GPU going idle. */
	const double fps = (tether ? (double)shown : m->frames) / seconds;
	const double bytes = sent ? (double)(st1->bytesReceived - st0->bytesReceived) / (double)sent : 0;
	char median[32] = "n/a", p99[32] = "n/a", per_frame[32] = "n/a";

	printf("# %u timed frames (after %u warm-up) in %.2f s\n", m->frames, o->warmup, seconds);
	report1("presents_per_s", m->frames / ((double)m->presented_ns / 1e9), "fps");
	report1("client_cpu_ms_per_frame", (double)m->cpu_ns / 1e6 / m->frames, "ms");
	report1("raw_bytes_per_frame", raw, "B");
	report1("fps_delivered", fps, "fps");
	if (tether) {
		report1("frames_dropped", (double)(st1->framesDropped - st0->framesDropped), "count");
		report1("frames_failed", (double)(st1->framesFailed - st0->framesFailed), "count");
		report1("link_bytes_per_frame", bytes, "B");
		report1("compression_ratio", bytes > 0 ? raw / bytes : 0, "x");
		report1("link_mb_per_s", bytes * shown / seconds / 1e6, "MB/s");
		snprintf(per_frame, sizeof(per_frame), "%.0f", bytes);
		printf("# tether statistics: %llu presented, %llu shown, %llu dropped, %llu failed; its own "
		       "median %u us, p99 %u us over the last %u frames (warm-up included)\n",
		       (unsigned long long)st1->framesPresented, (unsigned long long)st1->framesShown,
		       (unsigned long long)st1->framesDropped, (unsigned long long)st1->framesFailed,
		       st1->latencyMedianUs, st1->latency99Us, st1->latencySamples);
	}
	if (m->n) {
		struct bench_summary s = bench_summarize(m->latency_us, m->n);
		double q99 = bench_quantile(m->latency_us, m->n, 0.99);
		bench_report("latency_us", s, "us");
		report1("latency_p99_us", q99, "us");
		report1("latency_samples", (double)m->n, "count");
		snprintf(median, sizeof(median), "%.3f", s.median / 1000);
		snprintf(p99, sizeof(p99), "%.3f", q99 / 1000);
	}
	printf("present: %ux%u surface=%s frames=%u fps=%.2f latency_median_ms=%s latency_p99_ms=%s "
	       "bytes_per_frame=%s\n",
	       b->extent.width, b->extent.height, surface_name(b->surface_kind), m->frames, fps, median, p99,
	       per_frame);
}

static void destroy(struct bench *b)
{
	vkDeviceWaitIdle(b->device);
	for (int part = 0; part < PARTS; part++)
		vkDestroyPipeline(b->device, b->pipeline[part], NULL);
	vkDestroyShaderModule(b->device, b->vert, NULL);
	vkDestroyShaderModule(b->device, b->frag, NULL);
	vkDestroyPipelineLayout(b->device, b->layout, NULL);
	for (uint32_t i = 0; i < b->image_count; i++) {
		vkDestroySemaphore(b->device, b->rendered[i], NULL);
		vkDestroyFramebuffer(b->device, b->framebuffers[i], NULL);
		vkDestroyImageView(b->device, b->views[i], NULL);
		if (!b->swapchain) {
			vkDestroyImage(b->device, b->images[i], NULL);
			vkFreeMemory(b->device, b->image_memory[i], NULL);
		}
	}
	vkDestroyRenderPass(b->device, b->render_pass, NULL);
	if (b->swapchain)
		vkDestroySwapchainKHR(b->device, b->swapchain, NULL);
	for (int i = 0; i < FRAMES_IN_FLIGHT; i++) {
		vkDestroySemaphore(b->device, b->acquired[i], NULL);
		vkDestroyFence(b->device, b->fence[i], NULL);
	}
	vkDestroyCommandPool(b->device, b->pool, NULL);
	vkDestroyDevice(b->device, NULL);
	if (b->surface)
		vkDestroySurfaceKHR(b->vk.instance, b->surface, NULL);
	vkDestroyInstance(b->vk.instance, NULL);
#ifdef TETHER_BENCH_XCB
	if (b->xcb)
		xcb_disconnect(b->xcb);
#endif
}

/* --- options ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: tether_bench_present [--width 1920] [--height 1080] [--seconds 3] [--frames N] "
			"[--mode immediate|mailbox|fifo] [--images 3] [--warmup 5] [--xcb | --offscreen]\n");
	exit(2);
}

static double number(int argc, char **argv, int *i, double min, double max)
{
	char *end;
	if (*i + 1 >= argc)
		usage();
	double v = strtod(argv[++*i], &end);
	if (*end || v < min || v > max)
		usage();
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	*o = (struct options){.width = 1920, .height = 1080, .seconds = 3, .images = 3, .warmup = 5,
			      .mode = VK_PRESENT_MODE_IMMEDIATE_KHR, .surface = SURFACE_HEADLESS};
	bool seconds_given = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--width"))
			o->width = (uint32_t)number(argc, argv, &i, 1, 16384);
		else if (!strcmp(a, "--height"))
			o->height = (uint32_t)number(argc, argv, &i, 1, 16384);
		else if (!strcmp(a, "--seconds"))
			o->seconds = number(argc, argv, &i, 0, 1e6), seconds_given = true;
		else if (!strcmp(a, "--frames"))
			o->frames = (uint32_t)number(argc, argv, &i, 1, 1e9);
		else if (!strcmp(a, "--images"))
			o->images = (uint32_t)number(argc, argv, &i, 1, MAX_IMAGES);
		else if (!strcmp(a, "--warmup"))
			o->warmup = (uint32_t)number(argc, argv, &i, 0, 1e6);
		else if (!strcmp(a, "--xcb"))
			o->surface = SURFACE_XCB;
		else if (!strcmp(a, "--offscreen"))
			o->surface = SURFACE_NONE;
		else if (!strcmp(a, "--mode") && i + 1 < argc) {
			const char *m = argv[++i];
			if (!strcmp(m, "immediate"))
				o->mode = VK_PRESENT_MODE_IMMEDIATE_KHR;
			else if (!strcmp(m, "mailbox"))
				o->mode = VK_PRESENT_MODE_MAILBOX_KHR;
			else if (!strcmp(m, "fifo"))
				o->mode = VK_PRESENT_MODE_FIFO_KHR;
			else
				usage();
		} else
			usage();
	}
	if (o->frames && !seconds_given)
		o->seconds = 0; /* --frames alone: exactly that many */
	if (!o->frames && o->seconds <= 0)
		usage();
	if (o->surface == SURFACE_XCB && !getenv("DISPLAY"))
		die("--xcb needs DISPLAY");
}

int main(int argc, char **argv)
{
	static const char *const mode_names[] = {"immediate", "mailbox", "fifo"};
	struct options o;
	parse_options(argc, argv, &o);
	struct bench b = {0};
	init_instance(&b, &o);
	init_surface(&b, &o);
	init_device(&b);
	if (b.surface)
		init_swapchain(&b, &o);
	else
		init_offscreen(&b, &o);
	init_render_pass(&b);
	init_pipeline(&b);
	printf("# tether_bench_present: %ux%u, %u images, present mode %s, surface %s, statistics %s\n",
	       b.extent.width, b.extent.height, b.image_count, b.surface ? mode_names[b.mode] : "none",
	       surface_name(b.surface_kind), b.statistics ? "from tether" : "not available (not tether)");
	printf("# columns: median min max unit\n");
	fflush(stdout);
	struct measure m = {0};
	run(&b, &o, &m);
	report(&b, &o, &m);
	free(m.latency_us);
	destroy(&b);
	return 0;
}
