/*
 * Tests of the headless window backend (icd/wsi_headless.c): frames are
 * counted, never paced, and with TETHER_HEADLESS_DUMP_DIR written as PPM
 * files whose bytes must be exactly the frame's.
 * Run one test per CTest entry: test_display_headless <test name>.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "icd/wsi_display.h"
#include "tests/cmocka_named.h"
#include "transport/platform/platform.h"

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t seed)
{
	return (uint32_t)(0x11 * seed) << 24 | ((x * 40 + seed) & 0xff) << 16 | ((y * 50) & 0xff) << 8 |
	       ((x + y + seed * 7) & 0xff);
}

static void fill(struct tether_display_buffer *b, uint32_t seed)
{
	for (uint32_t y = 0; y < b->height; y++)
		for (uint32_t x = 0; x < b->width; x++) {
			uint32_t p = pattern(x, y, seed);
			uint8_t *px = b->pixels + (size_t)y * b->stride + x * 4;
			px[0] = (uint8_t)p;         /* B */
			px[1] = (uint8_t)(p >> 8);  /* G */
			px[2] = (uint8_t)(p >> 16); /* R */
			px[3] = (uint8_t)(p >> 24); /* A */
		}
}

/* The PPM a frame must give: header, then R, G, B of every pixel. */
static size_t expected_ppm(uint8_t *out, uint32_t w, uint32_t h, uint32_t seed)
{
	size_t n = (size_t)sprintf((char *)out, "P6\n%u %u\n255\n", w, h);

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t p = pattern(x, y, seed);
			out[n++] = (uint8_t)(p >> 16);
			out[n++] = (uint8_t)(p >> 8);
			out[n++] = (uint8_t)p;
		}
	return n;
}

static void check_file(const char *path, const uint8_t *want, size_t len)
{
	uint8_t got[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		fail_msg("no dump %s", path);
	n = fread(got, 1, sizeof(got), f);
	fclose(f);
	assert_int_equal(n, len);
	assert_memory_equal(got, want, len);
}

static void display_headless_dump_ppm_bytes_exact(void **state)
{
	char dir[] = "/tmp/tether-headless-XXXXXX", path[256];
	struct tether_display_buffer *b;
	struct tether_display_stats st;
	struct tether_display *d;
	uint8_t want[4096];
	size_t len;

	assert_non_null(mkdtemp(dir));
	setenv("TETHER_HEADLESS_DUMP_DIR", dir, 1);
	d = tether_display_headless();
	assert_non_null(d);
	assert_int_equal(tether_display_buffer_create(d, 7, 5, &b), VK_SUCCESS);
	assert_int_equal(b->stride, 28);
	for (uint32_t seed = 1; seed <= 2; seed++) {
		fill(b, seed);
		assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
		memset(b->pixels, 0xee, (size_t)b->stride * b->height); /* must not reach the dump */
	}
	for (uint32_t frame = 0; frame < 2; frame++) {
		snprintf(path, sizeof(path), "%s/frame_%05u.ppm", dir, frame);
		len = expected_ppm(want, 7, 5, frame + 1);
		check_file(path, want, len);
		unlink(path);
	}
	tether_display_get_stats(d, &st);
	assert_int_equal(st.frames_shown, 2);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	assert_int_equal(rmdir(dir), 0); /* nothing else was written */
	unsetenv("TETHER_HEADLESS_DUMP_DIR");
}

/* No window: size is the application's, frames are counted, never paced,
 * and an unwritable dump directory does not fail the frame. */
static void display_headless_counts_frames_unpaced(void **state)
{
	struct tether_display_buffer *b;
	struct tether_display_stats st;
	struct tether_display *d;
	VkExtent2D e;
	bool defined = true;
	uint64_t t0;

	setenv("TETHER_HEADLESS_DUMP_DIR", "/nonexistent/tether", 1);
	d = tether_display_headless();
	assert_int_equal(tether_display_extent(d, &e, &defined), VK_SUCCESS);
	assert_false(defined);
	assert_int_equal(tether_display_refresh_mhz(d), 0);
	assert_true(tether_display_supports_bgra8(d));
	assert_int_equal(tether_display_buffer_create(d, 64, 64, &b), VK_SUCCESS);
	t0 = tether_time_ns();
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(tether_display_show(d, b), VK_SUCCESS);
		assert_int_equal(tether_display_wait_refresh(d), VK_SUCCESS);
	}
	assert_true(tether_time_ns() - t0 < 2000000000ull);
	tether_display_get_stats(d, &st);
	assert_int_equal(st.frames_shown, 1000);
	tether_display_buffer_destroy(d, b);
	tether_display_destroy(d);
	unsetenv("TETHER_HEADLESS_DUMP_DIR");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(display_headless_dump_ppm_bytes_exact),
	cmocka_unit_test(display_headless_counts_frames_unpaced),
};

TETHER_CMOCKA_MAIN(tests)
