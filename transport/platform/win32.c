/* tether platform layer, Windows implementation (mingw-w64): native threads,
 * SRW locks and condition variables, QueryPerformanceCounter, VirtualAlloc,
 * LoadLibrary. See platform.h. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <process.h>

#include "transport/platform/platform.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <stdlib.h>

/* platform.h keeps these opaque; they must stay one pointer wide. */
_Static_assert(sizeof(SRWLOCK) == sizeof(void *), "SRWLOCK size");
_Static_assert(sizeof(CONDITION_VARIABLE) == sizeof(void *), "CONDITION_VARIABLE size");
#define SRW(m) ((PSRWLOCK)&(m)->srw)
#define CV(c) ((PCONDITION_VARIABLE)&(c)->cv)

struct tether_thread {
	HANDLE handle;
	void *(*fn)(void *);
	void *arg;
};

static unsigned __stdcall thread_trampoline(void *p)
{
	struct tether_thread *t = p;
	t->fn(t->arg);
	return 0;
}

int tether_thread_create(struct tether_thread **out, void *(*fn)(void *), void *arg)
{
	struct tether_thread *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	/* _beginthreadex, not CreateThread, so the CRT's per-thread state is set up. */
	t->handle = (HANDLE)_beginthreadex(NULL, 0, thread_trampoline, t, 0, NULL);
	if (!t->handle) {
		free(t);
		return -EAGAIN;
	}
	*out = t;
	return 0;
}

int tether_thread_join(struct tether_thread *t)
{
	DWORD r = WaitForSingleObject(t->handle, INFINITE);
	CloseHandle(t->handle);
	free(t);
	return r == WAIT_OBJECT_0 ? 0 : -EINVAL;
}

int tether_mutex_init(struct tether_mutex *m)
{
	InitializeSRWLock(SRW(m));
	return 0;
}

void tether_mutex_lock(struct tether_mutex *m)
{
	AcquireSRWLockExclusive(SRW(m));
}

void tether_mutex_unlock(struct tether_mutex *m)
{
	ReleaseSRWLockExclusive(SRW(m));
}

void tether_mutex_destroy(struct tether_mutex *m)
{
	(void)m; /* SRW locks own no resources */
}

int tether_cond_init(struct tether_cond *c)
{
	InitializeConditionVariable(CV(c));
	return 0;
}

void tether_cond_wait(struct tether_cond *c, struct tether_mutex *m)
{
	SleepConditionVariableSRW(CV(c), SRW(m), INFINITE, 0);
}

int tether_cond_timedwait(struct tether_cond *c, struct tether_mutex *m, uint64_t timeout_ns)
{
	/* Round up to whole milliseconds so a short wait never becomes a poll;
	 * INFINITE (0xffffffff) must not be produced by accident. */
	uint64_t ms = (timeout_ns + 999999u) / 1000000u;
	DWORD wait = ms >= INFINITE ? INFINITE - 1 : (DWORD)ms;
	if (SleepConditionVariableSRW(CV(c), SRW(m), wait, 0))
		return 0;
	return GetLastError() == ERROR_TIMEOUT ? -ETIMEDOUT : 0;
}

void tether_cond_signal(struct tether_cond *c)
{
	WakeConditionVariable(CV(c));
}

void tether_cond_broadcast(struct tether_cond *c)
{
	WakeAllConditionVariable(CV(c));
}

void tether_cond_destroy(struct tether_cond *c)
{
	(void)c;
}

uint64_t tether_time_ns(void)
{
	static LARGE_INTEGER freq; /* constant after boot: benign racy init */
	LARGE_INTEGER now;
	if (!freq.QuadPart)
		QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&now);
	uint64_t f = (uint64_t)freq.QuadPart, t = (uint64_t)now.QuadPart;
	/* Split to avoid overflowing t * 1e9. */
	return t / f * 1000000000u + t % f * 1000000000u / f;
}

void tether_sleep_ns(uint64_t ns)
{
	uint64_t ms = (ns + 999999u) / 1000000u;
	Sleep(ms >= INFINITE ? INFINITE - 1 : (DWORD)ms);
}

size_t tether_page_size(void)
{
	SYSTEM_INFO si;
	GetSystemInfo(&si);
	return si.dwPageSize;
}

void *tether_pages_alloc(size_t len)
{
	/* Committed VirtualAlloc memory is zeroed and 64 KiB aligned. */
	return VirtualAlloc(NULL, len, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void tether_pages_free(void *p, size_t len)
{
	(void)len; /* MEM_RELEASE frees the whole reservation */
	if (p)
		VirtualFree(p, 0, MEM_RELEASE);
}

int tether_pages_protect(void *p, size_t len, int prot)
{
	DWORD native, old;
	switch (prot) {
	case TETHER_PROT_NONE: native = PAGE_NOACCESS; break;
	case TETHER_PROT_READ: native = PAGE_READONLY; break;
	case TETHER_PROT_READ_WRITE: native = PAGE_READWRITE; break;
	default: return -EINVAL;
	}
	return VirtualProtect(p, len, native, &old) ? 0 : -EINVAL;
}

void *tether_dl_open(const char *name)
{
	HMODULE lib = LoadLibraryA(name);
	if (!lib)
		TETHER_LOGD("platform", "LoadLibrary %s: error %lu", name, (unsigned long)GetLastError());
	return (void *)lib;
}

void *tether_dl_sym(void *lib, const char *sym)
{
	/* FARPROC -> void *: the usual cast through an integer avoids -Wcast-function-type. */
	return (void *)(uintptr_t)GetProcAddress((HMODULE)lib, sym);
}

void tether_dl_close(void *lib)
{
	if (lib)
		FreeLibrary((HMODULE)lib);
}

const char *tether_getenv(const char *name)
{
	return getenv(name);
}
