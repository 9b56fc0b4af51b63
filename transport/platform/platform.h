/* tether platform layer: threads, locks, time, page memory, dynamic loading
 * and environment for Linux (posix.c) and Windows (win32.c, mingw-w64).
 * Everything above transport/ uses these instead of OS headers. */
#ifndef TETHER_PLATFORM_H
#define TETHER_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifndef _WIN32
#include <pthread.h>
#endif

/* Locks are plain structs so they can be embedded without an allocation.
 * On Windows they hold an SRWLOCK / CONDITION_VARIABLE (both one pointer:
 * checked in win32.c), kept opaque so this header does not pull in windows.h. */
#ifdef _WIN32
struct tether_mutex { void *srw; };
struct tether_cond { void *cv; };
#else
struct tether_mutex { pthread_mutex_t m; };
struct tether_cond { pthread_cond_t c; };
#endif

struct tether_thread;

/**
 * tether_thread_create() - start a thread running fn(arg)
 * @out: receives the thread handle, released by tether_thread_join()
 * Return: 0 or negative errno.
 */
int tether_thread_create(struct tether_thread **out, void *(*fn)(void *), void *arg);

/**
 * tether_thread_join() - wait for a thread to end and free its handle
 * fn's return value is discarded. Return: 0 or negative errno.
 */
int tether_thread_join(struct tether_thread *t);

/** tether_mutex_init() - initialise a non-recursive mutex. Return: 0 or negative errno. */
int tether_mutex_init(struct tether_mutex *m);
void tether_mutex_lock(struct tether_mutex *m);
void tether_mutex_unlock(struct tether_mutex *m);
void tether_mutex_destroy(struct tether_mutex *m);

/** tether_cond_init() - initialise a condition variable (monotonic clock). Return: 0 or negative errno. */
int tether_cond_init(struct tether_cond *c);
/** tether_cond_wait() - atomically release @m and wait; @m is held again on return. */
void tether_cond_wait(struct tether_cond *c, struct tether_mutex *m);
/**
 * tether_cond_timedwait() - like tether_cond_wait() but give up after @timeout_ns
 * Return: 0 when woken (possibly spuriously), -ETIMEDOUT on expiry.
 */
int tether_cond_timedwait(struct tether_cond *c, struct tether_mutex *m, uint64_t timeout_ns);
void tether_cond_signal(struct tether_cond *c);
void tether_cond_broadcast(struct tether_cond *c);
void tether_cond_destroy(struct tether_cond *c);

/** tether_time_ns() - monotonic time in nanoseconds (arbitrary origin). */
uint64_t tether_time_ns(void);

/** tether_sleep_ns() - sleep at least @ns nanoseconds (coarse on Windows). */
void tether_sleep_ns(uint64_t ns);

enum tether_prot {
	TETHER_PROT_NONE = 0,
	TETHER_PROT_READ = 1,
	TETHER_PROT_READ_WRITE = 3,
};

/** tether_page_size() - size of a memory page, the granule of tether_pages_protect(). */
size_t tether_page_size(void);

/**
 * tether_pages_alloc() - map @len bytes of zeroed, page-aligned, read-write memory
 * Return: the mapping, or NULL on failure. Free with tether_pages_free().
 */
void *tether_pages_alloc(size_t len);

/** tether_pages_free() - unmap memory from tether_pages_alloc(); @len as allocated. */
void tether_pages_free(void *p, size_t len);

/**
 * tether_pages_protect() - change access to whole pages
 * @p: page aligned; @len: rounded up to pages; @prot: a TETHER_PROT_* value.
 * Return: 0 or negative errno.
 */
int tether_pages_protect(void *p, size_t len, int prot);

/**
 * tether_dl_open() - load a shared library (dlopen RTLD_NOW|RTLD_LOCAL / LoadLibraryA)
 * Return: the library handle, or NULL (the reason is logged at debug level).
 */
void *tether_dl_open(const char *name);
/** tether_dl_sym() - look up @sym in @lib. Return: its address or NULL. */
void *tether_dl_sym(void *lib, const char *sym);
/** tether_dl_close() - unload a library from tether_dl_open(); NULL is ignored. */
void tether_dl_close(void *lib);

/** tether_getenv() - value of environment variable @name, or NULL when unset. */
const char *tether_getenv(const char *name);

#endif /* TETHER_PLATFORM_H */
