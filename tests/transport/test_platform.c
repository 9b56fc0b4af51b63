/* tests for transport/platform: threads, mutex and condvar, monotonic time,
 * page memory and protection, dynamic loading, and the logging helpers.
 * Run one test per CTest entry: test_platform <test name>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/utsname.h>
#endif
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "transport/platform/write_watch.h"

#include "transport/platform/log.h"
#include "transport/platform/platform.h"

struct counter {
	struct tether_mutex m;
	struct tether_cond c;
	int value, done;
};

static void *count_up(void *arg)
{
	struct counter *k = arg;
	for (int i = 0; i < 10000; i++) {
		tether_mutex_lock(&k->m);
		k->value++;
		tether_mutex_unlock(&k->m);
	}
	tether_mutex_lock(&k->m);
	k->done++;
	tether_cond_broadcast(&k->c);
	tether_mutex_unlock(&k->m);
	return NULL;
}

static void platform_threads_mutex_cond(void **state)
{
	struct counter k = { .value = 0 };
	struct tether_thread *t[4];
	assert_int_equal(tether_mutex_init(&k.m), 0);
	assert_int_equal(tether_cond_init(&k.c), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tether_thread_create(&t[i], count_up, &k), 0);
	tether_mutex_lock(&k.m);
	while (k.done < 4)
		tether_cond_wait(&k.c, &k.m);
	tether_mutex_unlock(&k.m);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tether_thread_join(t[i]), 0);
	assert_int_equal(k.value, 40000);
	tether_cond_destroy(&k.c);
	tether_mutex_destroy(&k.m);
}

static void platform_cond_timedwait_times_out(void **state)
{
	struct tether_mutex m;
	struct tether_cond c;
	tether_mutex_init(&m);
	tether_cond_init(&c);
	tether_mutex_lock(&m);
	uint64_t t0 = tether_time_ns();
	int err;
	do /* spurious wake-ups return 0 */
		err = tether_cond_timedwait(&c, &m, 20 * 1000000u);
	while (!err && tether_time_ns() - t0 < 20 * 1000000u);
	uint64_t elapsed = tether_time_ns() - t0;
	tether_mutex_unlock(&m);
	assert_int_equal(err, -ETIMEDOUT);
	assert_true(elapsed >= 20 * 1000000u);
	assert_true(elapsed < 2000 * 1000000u);
	tether_cond_destroy(&c);
	tether_mutex_destroy(&m);
}

static void platform_time_is_monotonic(void **state)
{
	uint64_t a = tether_time_ns();
	tether_sleep_ns(1000000);
	uint64_t b = tether_time_ns();
	assert_true(b - a >= 1000000);
}

static void platform_pages_zeroed_aligned_protected(void **state)
{
	size_t ps = tether_page_size(), len = 3 * ps;
	assert_true(ps >= 4096 && (ps & (ps - 1)) == 0);
	uint8_t *p = tether_pages_alloc(len);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % ps, 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(p[i], 0);
	p[ps] = 42;
	assert_int_equal(tether_pages_protect(p + ps, ps, TETHER_PROT_READ), 0);
	assert_int_equal(p[ps], 42); /* still readable */
	assert_int_equal(tether_pages_protect(p + ps, ps, 99), -EINVAL);

	/* A write to the read-only page must fault: try it in a child. */
	pid_t pid = fork();
	if (pid == 0) {
		((volatile uint8_t *)p)[ps] = 1;
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(tether_pages_protect(p + ps, ps, TETHER_PROT_READ_WRITE), 0);
	p[ps] = 43;
	assert_int_equal(tether_pages_protect(p, len, TETHER_PROT_NONE), 0);
	tether_pages_free(p, len);
}

static void platform_dl_open_and_sym(void **state)
{
	void *lib = tether_dl_open("libc.so.6");
	assert_non_null(lib);
	size_t (*fn)(const char *) = (size_t (*)(const char *))(uintptr_t)tether_dl_sym(lib, "strlen");
	assert_non_null(fn);
	assert_int_equal(fn("tether"), 6);
	assert_null(tether_dl_sym(lib, "tether_no_such_symbol"));
	tether_dl_close(lib);
	assert_null(tether_dl_open("libtether-does-not-exist.so"));
	tether_dl_close(NULL);
}

static void platform_getenv(void **state)
{
	setenv("TETHER_TEST_VAR", "42", 1);
	assert_string_equal(tether_getenv("TETHER_TEST_VAR"), "42");
	assert_null(tether_getenv("TETHER_TEST_VAR_UNSET"));
}

enum fake_result { FAKE_SUCCESS = 0, FAKE_ERROR_DEVICE_LOST = -4 };

static int calls;
static int count_call(int v)
{
	calls++;
	return v;
}

static enum fake_result fail_enum(void)
{
	return TETHER_ERR("test", FAKE_ERROR_DEVICE_LOST, "server gone: %s", "test");
}

static int fail_errno(void)
{
	return TETHER_ERR("test", count_call(-EPROTO), "bad %d", 1);
}

static void log_err_evaluates_to_result(void **state)
{
	assert_int_equal(fail_enum(), FAKE_ERROR_DEVICE_LOST);
	calls = 0;
	assert_int_equal(fail_errno(), -EPROTO);
	assert_int_equal(calls, 1); /* evaluated once */
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	assert_int_equal(fail_errno(), -EPROTO); /* still the result when silent */
	assert_int_equal(calls, 2);
}

static void log_levels_filter(void **state)
{
	tether_log_set_level(TETHER_LOG_WARN);
	assert_true(tether_log_enabled(TETHER_LOG_ERROR));
	assert_true(tether_log_enabled(TETHER_LOG_WARN));
	assert_false(tether_log_enabled(TETHER_LOG_INFO));
	assert_false(tether_log_enabled(TETHER_LOG_DEBUG));
	TETHER_LOGD("test", "not printed %d", 1);
	TETHER_LOGW("test", "a warning line with %s and %zu", "args", (size_t)3);
	tether_log_set_level(TETHER_LOG_DEBUG);
	assert_true(tether_log_enabled(TETHER_LOG_DEBUG));
}

#define TEST(fn) cmocka_unit_test(fn)
struct runs {
	size_t off[8], len[8];
	int n;
};

static void record_run(void *ctx, size_t off, size_t len)
{
	struct runs *r = ctx;
	assert_true(r->n < 8);
	r->off[r->n] = off;
	r->len[r->n] = len;
	r->n++;
}

/* Kernels before 6.7 lack asynchronous write-protect: then there must be no
 * watcher at all (callers fall back to whole scans), never a wrong one. */
static bool kernel_has_wp_async(void)
{
#if defined(__linux__)
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 7);
#else
	return false;
#endif
}

static void platform_write_watch_reports_written_pages(void **state)
{
	struct tether_write_watch *w = tether_write_watch_open();
	if (!w) {
		assert_false(kernel_has_wp_async());
		return;
	}
	size_t page = tether_page_size(), len = 64 * page;
	uint8_t *p = tether_pages_alloc(len);
	assert_non_null(p);
	assert_int_equal(tether_write_watch_add(w, p, len), 0);

	struct runs r = {0};
	assert_int_equal(tether_write_watch_collect(w, p, len, record_run, &r), 0);
	assert_int_equal(r.n, 0); /* nothing written yet, untouched pages included */

	p[3 * page + 5] = 1;
	memset(p + 10 * page, 7, 2 * page);
	memset(&r, 0, sizeof(r));
	assert_int_equal(tether_write_watch_collect(w, p, len, record_run, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.off[0], 3 * page);
	assert_int_equal(r.len[0], page);
	assert_int_equal(r.off[1], 10 * page);
	assert_int_equal(r.len[1], 2 * page);

	/* Reported pages are watched again: only new writes show next time. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(tether_write_watch_collect(w, p, len, record_run, &r), 0);
	assert_int_equal(r.n, 0);
	p[63 * page] = 9;
	memset(&r, 0, sizeof(r));
	assert_int_equal(tether_write_watch_collect(w, p, len, record_run, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.off[0], 63 * page);
	assert_int_equal(p[3 * page + 5], 1); /* writes kept their values */
	assert_int_equal(p[11 * page], 7);

	tether_write_watch_remove(w, p, len);
	tether_pages_free(p, len);
	tether_write_watch_close(w);
}

static const struct CMUnitTest tests[] = {
	TEST(platform_write_watch_reports_written_pages),
	TEST(platform_threads_mutex_cond),
	TEST(platform_cond_timedwait_times_out),
	TEST(platform_time_is_monotonic),
	TEST(platform_pages_zeroed_aligned_protected),
	TEST(platform_dl_open_and_sym),
	TEST(platform_getenv),
	TEST(log_err_evaluates_to_result),
	TEST(log_levels_filter),
};

TETHER_CMOCKA_MAIN(tests)
