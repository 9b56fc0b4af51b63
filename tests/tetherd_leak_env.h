/*
 * tetherd under test runs with LeakSanitizer on, whatever the test itself
 * runs with: tools/test.sh turns leak detection off for the sanitizer pass,
 * whose clients load the Vulkan loader and drivers and leave them at exit,
 * but tetherd and each of its session processes must free what they held.
 * Third-party reports are suppressed by tests/tetherd_lsan.supp (never
 * tether's own code). The Python harness does the same
 * (tests/scripts/tetherd_harness.py).
 */
#ifndef TETHER_TESTS_TETHERD_LEAK_ENV_H
#define TETHER_TESTS_TETHERD_LEAK_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AddressSanitizer builds (gcc says __SANITIZE_ADDRESS__, clang __has_feature):
 * the tests are built as tetherd is. */
#if defined(__SANITIZE_ADDRESS__)
#define TETHER_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TETHER_TEST_ASAN 1
#endif
#endif

#ifndef TETHER_LSAN_SUPPRESSIONS
#error "TETHER_LSAN_SUPPRESSIONS: the path of tests/tetherd_lsan.supp, from CMake"
#endif

/* Appends @opt to the ':'-separated options in $@name (a later option wins). */
static inline void tether_test_append_option(const char *name, const char *opt)
{
	const char *old = getenv(name);
	char v[2048];
	snprintf(v, sizeof(v), "%s%s%s", old ? old : "", old && *old ? ":" : "", opt);
	setenv(name, v, 1);
}

/* The driver library a Vulkan ICD manifest names ("library_path"), in @out. */
static inline int tether_test_icd_library(const char *manifest, char *out, size_t len)
{
	char text[4096];
	FILE *f = manifest ? fopen(manifest, "r") : NULL;
	if (!f)
		return -1;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *p = strstr(text, "\"library_path\"");
	p = p ? strchr(p + 14, '"') : NULL;
	const char *end = p ? strchr(p + 1, '"') : NULL;
	if (!end || *(p + 1) != '/' || (size_t)(end - p) > len)
		return -1;
	snprintf(out, len, "%.*s", (int)(end - p - 1), p + 1);
	return 0;
}

/*
 * Call in tetherd's process between fork and exec. The real driver (the
 * manifest in $VK_DRIVER_FILES) is preloaded: a session destroys its last
 * instance before its leak check, and the loader then unloads the driver,
 * whose globals stop being roots for LeakSanitizer; what they point at
 * (lavapipe's and LLVM's caches, kept for the process's life) would be
 * reported as leaked from frames in a module that is gone, which not even
 * a suppression can name. Preloaded, the library stays. The driver then
 * comes before the sanitizer runtime in the initial library list: harmless
 * (it defines no allocator), so that check is off.
 */
static inline void tether_test_tetherd_leak_env(void)
{
#ifdef TETHER_TEST_ASAN
	char library[1024];
	tether_test_append_option("ASAN_OPTIONS", "detect_leaks=1");
	tether_test_append_option("LSAN_OPTIONS", "suppressions=" TETHER_LSAN_SUPPRESSIONS ":print_suppressions=0");
	if (!tether_test_icd_library(getenv("VK_DRIVER_FILES"), library, sizeof(library))) {
		tether_test_append_option("ASAN_OPTIONS", "verify_asan_link_order=0");
		const char *old = getenv("LD_PRELOAD");
		char v[2048];
		snprintf(v, sizeof(v), "%s%s%s", old ? old : "", old && *old ? " " : "", library);
		setenv("LD_PRELOAD", v, 1);
	}
#endif
}

#endif
