/* tether logging: levelled, tagged lines on stderr, chosen with
 * TETHER_LOG=error|warn|info|debug (default warn; "off" silences). A disabled level costs one
 * predictable branch on a cached global; nothing is formatted. */
#ifndef TETHER_LOG_H
#define TETHER_LOG_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h> /* for mingw's __MINGW_PRINTF_FORMAT */

enum tether_log_level {
	TETHER_LOG_ERROR = 0,
	TETHER_LOG_WARN = 1,
	TETHER_LOG_INFO = 2,
	TETHER_LOG_DEBUG = 3,
};

#if defined(__MINGW32__)
/* transport's CMake sets __USE_MINGW_ANSI_STDIO=1 so %zu, %llu and PRIu64 are C99. */
#define TETHER_PRINTF(f, a) __attribute__((format(__MINGW_PRINTF_FORMAT, f, a)))
#else
#define TETHER_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

/* Highest level printed. Starts at TETHER_LOG_DEBUG so the first message of
 * any level reaches tether_log_write(), which reads TETHER_LOG and lowers it. */
extern _Atomic int tether_log_level_cached;

/** tether_log_write() - format and print one line; use the TETHER_LOG* macros. */
void tether_log_write(int level, const char *tag, const char *fmt, ...) TETHER_PRINTF(3, 4);

/**
 * tether_log_errorf() - log an error together with the file:line where it was born
 * Used by TETHER_ERR(); prints at error level.
 */
void tether_log_errorf(const char *file, int line, const char *tag, const char *fmt, ...)
	TETHER_PRINTF(4, 5);

/** tether_log_set_level() - override TETHER_LOG (tools' -v, tests). */
void tether_log_set_level(int level);

/** tether_log_enabled() - whether @level would print; for work done only to log. */
static inline int tether_log_enabled(int level)
{
	return __builtin_expect(level <= atomic_load_explicit(&tether_log_level_cached,
							      memory_order_relaxed), 0);
}

#define TETHER_LOG_AT(level, tag, ...)                                  \
	do {                                                            \
		if (tether_log_enabled(level))                          \
			tether_log_write((level), (tag), __VA_ARGS__);   \
	} while (0)

#define TETHER_LOGE(tag, ...) TETHER_LOG_AT(TETHER_LOG_ERROR, tag, __VA_ARGS__)
#define TETHER_LOGW(tag, ...) TETHER_LOG_AT(TETHER_LOG_WARN, tag, __VA_ARGS__)
#define TETHER_LOGI(tag, ...) TETHER_LOG_AT(TETHER_LOG_INFO, tag, __VA_ARGS__)
#define TETHER_LOGD(tag, ...) TETHER_LOG_AT(TETHER_LOG_DEBUG, tag, __VA_ARGS__)

/*
 * TETHER_ERR() - log where an error is born and evaluate to it:
 *   return TETHER_ERR("icd", VK_ERROR_DEVICE_LOST, "server gone: %s", why);
 *   return TETHER_ERR("conn", -EPROTO, "bad header type %u", type);
 * Works for any scalar result type (VkResult, negative errno). @result is
 * evaluated once, before the message is formatted. GNU statement expression.
 */
#define TETHER_ERR(tag, result, ...)                                            \
	__extension__({                                                         \
		__typeof__(result) tether_err_result_ = (result);               \
		if (tether_log_enabled(TETHER_LOG_ERROR))                       \
			tether_log_errorf(__FILE__, __LINE__, (tag), __VA_ARGS__); \
		tether_err_result_;                                             \
	})

#endif /* TETHER_LOG_H */
