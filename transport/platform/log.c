/* tether logging implementation: reads TETHER_LOG once, formats each line into
 * one buffer and writes it with a single call so lines from threads don't mix.
 * On Windows lines also go to OutputDebugString (a GUI game has no stderr). */
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#endif

#define LEVEL_UNREAD (TETHER_LOG_DEBUG + 1)

_Atomic int tether_log_level_cached = LEVEL_UNREAD;
static _Atomic int level_from_env = LEVEL_UNREAD;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static int read_env_level(void)
{
	const char *s = tether_getenv("TETHER_LOG");
	if (s) {
		for (int i = TETHER_LOG_ERROR; i <= TETHER_LOG_DEBUG; i++)
			if (!strcasecmp(s, level_names[i]))
				return i;
		if (!strcasecmp(s, "warning"))
			return TETHER_LOG_WARN;
		if (!strcasecmp(s, "off") || !strcasecmp(s, "none"))
			return TETHER_LOG_ERROR - 1;
	}
	return TETHER_LOG_WARN;
}

/* Returns the effective level, reading the environment on first use. Racing
 * first callers compute the same value, so a plain store is enough. */
static int current_level(void)
{
	int l = atomic_load_explicit(&level_from_env, memory_order_relaxed);
	if (l == LEVEL_UNREAD) {
		l = read_env_level();
		atomic_store(&level_from_env, l);
		atomic_store(&tether_log_level_cached, l);
	}
	return atomic_load_explicit(&tether_log_level_cached, memory_order_relaxed);
}

void tether_log_set_level(int level)
{
	if (level < TETHER_LOG_ERROR)
		level = TETHER_LOG_ERROR;
	if (level > TETHER_LOG_DEBUG)
		level = TETHER_LOG_DEBUG;
	atomic_store(&level_from_env, level); /* an explicit choice beats TETHER_LOG */
	atomic_store(&tether_log_level_cached, level);
}

static void emit(int level, const char *tag, const char *where, const char *fmt, va_list ap)
{
	char line[1024];
	uint64_t t = tether_time_ns();
	int n = snprintf(line, sizeof(line), "tether %llu.%06llu %s [%s] %s%s",
			 (unsigned long long)(t / 1000000000u),
			 (unsigned long long)(t % 1000000000u / 1000u),
			 level_names[level], tag ? tag : "-", where ? where : "", where ? ": " : "");
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (m > 0)
		len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2; /* truncated: keep room for the newline */
	line[len++] = '\n';
	line[len] = '\0';
	fwrite(line, 1, len, stderr);
#ifdef _WIN32
	OutputDebugStringA(line);
#endif
}

void tether_log_write(int level, const char *tag, const char *fmt, ...)
{
	if (level < TETHER_LOG_ERROR || level > current_level())
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(level, tag, NULL, fmt, ap);
	va_end(ap);
}

void tether_log_errorf(const char *file, int line, const char *tag, const char *fmt, ...)
{
	if (TETHER_LOG_ERROR > current_level())
		return;
	/* Only the file's base name: build paths are long and say nothing. */
	const char *base = file;
	for (const char *p = file; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	char where[128];
	snprintf(where, sizeof(where), "%s:%d", base, line);
	va_list ap;
	va_start(ap, fmt);
	emit(TETHER_LOG_ERROR, tag, where, fmt, ap);
	va_end(ap);
}
