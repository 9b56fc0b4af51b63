/* tether platform layer, POSIX (Linux) implementation: pthreads with
 * CLOCK_MONOTONIC condvars, mmap'd page memory, dlopen. See platform.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC */
#endif
#include "transport/platform/platform.h"
#include "transport/platform/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct tether_thread {
	pthread_t thread;
};

int tether_thread_create(struct tether_thread **out, void *(*fn)(void *), void *arg)
{
	struct tether_thread *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	int err = pthread_create(&t->thread, NULL, fn, arg);
	if (err) {
		free(t);
		return -err;
	}
	*out = t;
	return 0;
}

int tether_thread_join(struct tether_thread *t)
{
	int err = pthread_join(t->thread, NULL);
	free(t);
	return -err;
}

int tether_mutex_init(struct tether_mutex *m)
{
	return -pthread_mutex_init(&m->m, NULL);
}

void tether_mutex_lock(struct tether_mutex *m)
{
	pthread_mutex_lock(&m->m);
}

void tether_mutex_unlock(struct tether_mutex *m)
{
	pthread_mutex_unlock(&m->m);
}

void tether_mutex_destroy(struct tether_mutex *m)
{
	pthread_mutex_destroy(&m->m);
}

int tether_cond_init(struct tether_cond *c)
{
	/* Timed waits measure on CLOCK_MONOTONIC so a wall-clock jump
	 * (NTP, suspend) never shortens or stretches a timeout. */
	pthread_condattr_t attr;
	int err = pthread_condattr_init(&attr);
	if (err)
		return -err;
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&c->c, &attr);
	pthread_condattr_destroy(&attr);
	return -err;
}

void tether_cond_wait(struct tether_cond *c, struct tether_mutex *m)
{
	pthread_cond_wait(&c->c, &m->m);
}

int tether_cond_timedwait(struct tether_cond *c, struct tether_mutex *m, uint64_t timeout_ns)
{
	uint64_t deadline = tether_time_ns() + timeout_ns;
	if (deadline < timeout_ns) /* overflow: wait forever */
		deadline = UINT64_MAX;
	struct timespec ts = {
		.tv_sec = (time_t)(deadline / 1000000000u),
		.tv_nsec = (long)(deadline % 1000000000u),
	};
	int err = pthread_cond_timedwait(&c->c, &m->m, &ts);
	return err == ETIMEDOUT ? -ETIMEDOUT : 0;
}

void tether_cond_signal(struct tether_cond *c)
{
	pthread_cond_signal(&c->c);
}

void tether_cond_broadcast(struct tether_cond *c)
{
	pthread_cond_broadcast(&c->c);
}

void tether_cond_destroy(struct tether_cond *c)
{
	pthread_cond_destroy(&c->c);
}

uint64_t tether_time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tether_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

size_t tether_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

void *tether_pages_alloc(size_t len)
{
	/* Anonymous mappings are zero-filled and page aligned. */
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void tether_pages_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

int tether_pages_protect(void *p, size_t len, int prot)
{
	int native;
	switch (prot) {
	case TETHER_PROT_NONE: native = PROT_NONE; break;
	case TETHER_PROT_READ: native = PROT_READ; break;
	case TETHER_PROT_READ_WRITE: native = PROT_READ | PROT_WRITE; break;
	default: return -EINVAL;
	}
	return mprotect(p, len, native) ? -errno : 0;
}

void *tether_dl_open(const char *name)
{
	void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		TETHER_LOGD("platform", "dlopen %s: %s", name, dlerror());
	return lib;
}

void *tether_dl_sym(void *lib, const char *sym)
{
	return dlsym(lib, sym);
}

void tether_dl_close(void *lib)
{
	if (lib)
		dlclose(lib);
}

const char *tether_getenv(const char *name)
{
	return getenv(name);
}
