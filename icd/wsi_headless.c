/*
 * The window backend of VK_EXT_headless_surface: frames go nowhere. show()
 * counts them and, for debugging, can write each one to
 * $TETHER_HEADLESS_DUMP_DIR/frame_NNNNN.ppm (binary PPM, RGB).
 */
#include "icd/wsi_display.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/platform/log.h"
#include "transport/platform/platform.h"

struct tether_display_headless {
	struct tether_display base;
	struct tether_mutex lock; /* frames, dump_warned */
	uint64_t frames;
	bool dump_warned;
};

static struct tether_display_headless *headless(struct tether_display *d)
{
	return (struct tether_display_headless *)d;
}

static void headless_destroy(struct tether_display *d)
{
	tether_mutex_destroy(&headless(d)->lock);
	free(d);
}

static VkResult headless_extent(struct tether_display *d, VkExtent2D *extent, bool *defined)
{
	/* VK_EXT_headless_surface: currentExtent is (0xFFFFFFFF, 0xFFFFFFFF),
	 * the swapchain's extent decides. */
	extent->width = 0;
	extent->height = 0;
	*defined = false;
	return VK_SUCCESS;
}

static uint32_t headless_refresh_mhz(struct tether_display *d)
{
	return 0;
}

static bool headless_supports_bgra8(struct tether_display *d)
{
	return true;
}

VkResult tether_display_memory_buffer_create(struct tether_display *d, uint32_t width, uint32_t height,
					     struct tether_display_buffer **out)
{
	struct tether_display_buffer *b;

	if (!width || !height || width > UINT32_MAX / 4)
		return TETHER_ERR("wsi", VK_ERROR_OUT_OF_HOST_MEMORY, "bad buffer size %ux%u", width, height);
	b = calloc(1, sizeof(*b));
	if (!b)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	b->width = width;
	b->height = height;
	b->stride = width * 4;
	b->pixels = calloc(height, b->stride);
	if (!b->pixels) {
		free(b);
		return TETHER_ERR("wsi", VK_ERROR_OUT_OF_HOST_MEMORY, "no memory for a %ux%u buffer",
				  width, height);
	}
	*out = b;
	return VK_SUCCESS;
}

void tether_display_memory_buffer_destroy(struct tether_display *d, struct tether_display_buffer *b)
{
	free(b->pixels);
	free(b);
}

/* Writes @b as a binary PPM: BGRA words become RGB triples, alpha dropped. */
static int dump_ppm(const char *path, const struct tether_display_buffer *b)
{
	FILE *f = fopen(path, "wb");
	uint8_t *row;
	int err = 0;

	if (!f)
		return -errno;
	row = malloc((size_t)b->width * 3);
	if (!row) {
		fclose(f);
		return -ENOMEM;
	}
	if (fprintf(f, "P6\n%u %u\n255\n", b->width, b->height) < 0)
		err = -EIO;
	for (uint32_t y = 0; y < b->height && !err; y++) {
		const uint8_t *src = b->pixels + (size_t)y * b->stride;
		for (uint32_t x = 0; x < b->width; x++) {
			row[x * 3 + 0] = src[x * 4 + 2];
			row[x * 3 + 1] = src[x * 4 + 1];
			row[x * 3 + 2] = src[x * 4 + 0];
		}
		if (fwrite(row, 3, b->width, f) != b->width)
			err = -EIO;
	}
	free(row);
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}

static VkResult headless_show(struct tether_display *d, struct tether_display_buffer *b)
{
	struct tether_display_headless *h = headless(d);
	const char *dir = tether_getenv("TETHER_HEADLESS_DUMP_DIR");
	uint64_t frame;

	tether_mutex_lock(&h->lock);
	frame = h->frames++;
	tether_mutex_unlock(&h->lock);
	if (dir && *dir) {
		char path[PATH_MAX];
		int err = -ENAMETOOLONG;
		if (snprintf(path, sizeof(path), "%s/frame_%05llu.ppm", dir,
			     (unsigned long long)frame) < (int)sizeof(path))
			err = dump_ppm(path, b);
		/* A debugging aid must not fail the application: say so once. */
		tether_mutex_lock(&h->lock);
		if (err && !h->dump_warned)
			TETHER_LOGW("wsi", "cannot write frame dumps to %s: %s", dir, strerror(-err));
		h->dump_warned |= err != 0;
		tether_mutex_unlock(&h->lock);
	}
	return VK_SUCCESS;
}

static VkResult headless_wait_refresh(struct tether_display *d)
{
	return VK_SUCCESS;
}

static void headless_stats(struct tether_display *d, struct tether_display_stats *out)
{
	struct tether_display_headless *h = headless(d);

	memset(out, 0, sizeof(*out));
	tether_mutex_lock(&h->lock);
	out->frames_shown = h->frames;
	tether_mutex_unlock(&h->lock);
}

static const struct tether_display_ops headless_ops = {
	.destroy = headless_destroy,
	.extent = headless_extent,
	.refresh_mhz = headless_refresh_mhz,
	.supports_bgra8 = headless_supports_bgra8,
	.buffer_create = tether_display_memory_buffer_create,
	.buffer_destroy = tether_display_memory_buffer_destroy,
	.show = headless_show,
	.wait_refresh = headless_wait_refresh,
	.stats = headless_stats,
};

struct tether_display *tether_display_headless(void)
{
	struct tether_display_headless *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (tether_mutex_init(&h->lock)) {
		free(h);
		return NULL;
	}
	h->base.ops = &headless_ops;
	return &h->base;
}
