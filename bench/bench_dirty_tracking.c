/*
 * tether_bench_dirty_tracking: which way should the client find the pages an
 * application wrote to mapped memory between two submits? Measured, per frame
 * (application writes, then a "submit"), for each allocation size, write
 * pattern and strategy:
 *
 *   write  the application's own writes (write faults land here)
 *   scan   finding the set of dirty pages
 *   rearm  arming the tracking again for the next frame
 *   diff   comparing the dirty pages with the snapshot, span by span, and
 *          updating the snapshot (what memory_sync.c does for a changed page;
 *          the same work for every strategy)
 *
 * plus the bytes that would be sent: exact spans (first to last changed byte
 * of each page, touching spans merged, as memory_sync.c sends them) and whole
 * dirty pages. Strategies:
 *
 *   memcmp      today's: memcmp every page with the snapshot
 *   hash        XXH3-64 of every page against the stored hash (libxxhash)
 *   mprotect    PROT_READ + SIGSEGV handler that records and unprotects
 *   uffd-wp     userfaultfd write-protect; a handler thread resolves faults
 *   uffd-async  userfaultfd UFFD_FEATURE_WP_ASYNC (kernel >= 6.7): the kernel
 *               resolves faults itself; PAGEMAP_SCAN with PM_SCAN_WP_MATCHING
 *               returns the written pages and write-protects them again in the
 *               same call (so its scan includes the re-arm)
 *   soft-dirty  /proc/self/clear_refs "4" + /proc/self/pagemap bit 55
 *
 * Every figure is the median over the measured frames of one cell (after
 * warm-up frames); a cell stops early once it has used its time budget, so a
 * whole run stays near a minute. After the last frame the shadow must equal
 * the snapshot ("ok"): a strategy that missed a written page shows "MISSED".
 * A second table checks writes made by the kernel on the application's behalf
 * (read(2) straight into mapped memory, as fread of a large asset does).
 *
 * Usage: tether_bench_dirty_tracking [--sizes MiB,MiB,...] [--frames N]
 *        (default sizes 16,256: about 25 s on the 2-core development VM;
 *        --sizes 1024 alone takes about a minute there, 40 s on a 16-core host)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench_stats.h"
#include "transport/platform/write_watch.h"

#ifdef TETHER_HAVE_XXHASH
#include <xxhash.h>
#endif

/* Debian 12's kernel headers (6.1) predate these; the running kernel decides. */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#define PM_SOFT_DIRTY (1ull << 55)

#define PAGE 4096u
#define WARMUP 2 /* frames; one slower than SLOW_FRAME_NS ends warm-up, one slower than
		  * HARD_BUDGET_NS is measured instead */
#define MAX_FRAMES 20
#define MIN_FRAMES 5
#define CELL_BUDGET_NS 500000000ull /* measuring stops after this once MIN_FRAMES are done */
#define HARD_BUDGET_NS 2000000000ull /* ... or after this, with at least one frame */
#define SLOW_FRAME_NS 250000000ull
#define RING_SLICE (64u << 10)
#define RANDOM_WRITE 256u /* bytes written in each randomly chosen page */

enum pattern { PAT_RANDOM, PAT_RING, PAT_FULL, PAT_COUNT };
static const char *const pattern_name[PAT_COUNT] = {"1% random", "64K ring", "100%"};

/* One mapped allocation as the client would hold it. */
struct region {
	uint8_t *buf;  /* the shadow the application writes */
	uint8_t *snap; /* what client and server last agreed on */
	size_t size, pages;
	uint32_t *dirty; /* page indices found by scan, ascending */
	size_t ndirty;
	uint64_t *bitmap; /* pages written, set by fault handlers */
	uint64_t *hashes;
	int uffd, pagemap_fd, clear_refs_fd;
	int stop[2];
	pthread_t thread;
	bool thread_running;
	struct tether_write_watch *watch;
	uint64_t *pm_entries;
};

struct strategy {
	const char *name;
	/* NULL when armed, else why the strategy cannot run here */
	const char *(*setup)(struct region *r);
	void (*scan)(struct region *r);
	void (*rearm)(struct region *r);
	void (*teardown)(struct region *r);
	bool tracks; /* finds pages by write faults: cost per written page, not per mapped page */
};

static char why_buf[256];

static const char *why(const char *what, int err)
{
	snprintf(why_buf, sizeof(why_buf), "%s: %s", what, strerror(err));
	return why_buf;
}

/* --- helpers shared by the strategies ------------------------------------ */

/* Turns r->bitmap into r->dirty and clears it. */
static void bitmap_collect(struct region *r)
{
	size_t n = 0, words = (r->pages + 63) / 64;
	for (size_t w = 0; w < words; w++) {
		uint64_t bits = __atomic_exchange_n(&r->bitmap[w], 0, __ATOMIC_ACQUIRE);
		while (bits) {
			r->dirty[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
			bits &= bits - 1;
		}
	}
	r->ndirty = n;
}

static void bitmap_mark(struct region *r, size_t page)
{
	__atomic_fetch_or(&r->bitmap[page / 64], 1ull << (page % 64), __ATOMIC_RELEASE);
}

/* Calls fn on each run of consecutive dirty pages. */
static void for_each_run(struct region *r, void (*fn)(struct region *r, size_t first, size_t count))
{
	for (size_t i = 0; i < r->ndirty;) {
		size_t j = i + 1;
		while (j < r->ndirty && r->dirty[j] == r->dirty[j - 1] + 1)
			j++;
		fn(r, r->dirty[i], j - i);
		i = j;
	}
}

struct diff_result {
	uint64_t span_bytes, runs;
};

/* memory_sync.c's work for the dirty pages: each page's span from its first
 * to its last changed byte, touching spans merged, copied to the snapshot. */
static struct diff_result diff_dirty(struct region *r)
{
	struct diff_result d = {0, 0};
	size_t run_start = 0, run_end = 0;
	for (size_t k = 0; k < r->ndirty; k++) {
		size_t i = (size_t)r->dirty[k] * PAGE, page_end = i + PAGE;
		size_t lo = i, hi = page_end;
		while (lo < page_end && r->buf[lo] == r->snap[lo])
			lo++;
		if (lo == page_end)
			continue; /* written with the same bytes */
		while (r->buf[hi - 1] == r->snap[hi - 1])
			hi--;
		if (run_end != run_start && lo == run_end) {
			run_end = hi;
			continue;
		}
		if (run_end != run_start) {
			memcpy(r->snap + run_start, r->buf + run_start, run_end - run_start);
			d.span_bytes += run_end - run_start;
			d.runs++;
		}
		run_start = lo;
		run_end = hi;
	}
	if (run_end != run_start) {
		memcpy(r->snap + run_start, r->buf + run_start, run_end - run_start);
		d.span_bytes += run_end - run_start;
		d.runs++;
	}
	return d;
}

static void nothing(struct region *r)
{
}

/* --- memcmp: today's ------------------------------------------------------ */

static const char *memcmp_setup(struct region *r)
{
	return NULL;
}

static void memcmp_scan(struct region *r)
{
	size_t n = 0;
	for (size_t p = 0; p < r->pages; p++)
		if (memcmp(r->buf + p * PAGE, r->snap + p * PAGE, PAGE))
			r->dirty[n++] = (uint32_t)p;
	r->ndirty = n;
}

/* --- hash: XXH3-64 per page ------------------------------------------------ */

static const char *hash_setup(struct region *r)
{
#ifdef TETHER_HAVE_XXHASH
	r->hashes = malloc(r->pages * sizeof(*r->hashes));
	if (!r->hashes)
		return "out of memory";
	for (size_t p = 0; p < r->pages; p++)
		r->hashes[p] = XXH3_64bits(r->buf + p * PAGE, PAGE);
	return NULL;
#else
	return "built without libxxhash-dev";
#endif
}

static void hash_scan(struct region *r)
{
#ifdef TETHER_HAVE_XXHASH
	size_t n = 0;
	for (size_t p = 0; p < r->pages; p++) {
		uint64_t h = XXH3_64bits(r->buf + p * PAGE, PAGE);
		if (h != r->hashes[p]) {
			r->hashes[p] = h; /* storing the new hash is the whole re-arm */
			r->dirty[n++] = (uint32_t)p;
		}
	}
	r->ndirty = n;
#endif
}

static void hash_teardown(struct region *r)
{
	free(r->hashes);
	r->hashes = NULL;
}

/* --- mprotect + SIGSEGV ---------------------------------------------------- */

static struct region *volatile mp_region;
static struct sigaction mp_old;

static void mp_handler(int sig, siginfo_t *si, void *ctx)
{
	struct region *r = mp_region;
	uint8_t *a = si->si_addr;
	if (r && a >= r->buf && a < r->buf + r->size) {
		size_t page = (size_t)(a - r->buf) / PAGE;
		bitmap_mark(r, page);
		mprotect(r->buf + page * PAGE, PAGE, PROT_READ | PROT_WRITE);
		return;
	}
	sigaction(SIGSEGV, &mp_old, NULL); /* not ours: fault again, unhandled */
}

static const char *mprotect_setup(struct region *r)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mp_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	mp_region = r;
	if (sigaction(SIGSEGV, &sa, &mp_old))
		return why("sigaction", errno);
	if (mprotect(r->buf, r->size, PROT_READ))
		return why("mprotect", errno);
	return NULL;
}

static void mprotect_run(struct region *r, size_t first, size_t count)
{
	mprotect(r->buf + first * PAGE, count * PAGE, PROT_READ);
}

static void mprotect_rearm(struct region *r)
{
	for_each_run(r, mprotect_run);
}

static void mprotect_teardown(struct region *r)
{
	mprotect(r->buf, r->size, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &mp_old, NULL);
	mp_region = NULL;
}

/* --- userfaultfd ----------------------------------------------------------- */

/* Features this kernel offers (a descriptor takes UFFDIO_API only once). */
static int uffd_features(uint64_t *features, int flags)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | flags);
	if (fd < 0)
		return -errno;
	struct uffdio_api api = {.api = UFFD_API, .features = 0};
	int rc = ioctl(fd, UFFDIO_API, &api) ? -errno : 0;
	close(fd);
	*features = api.features;
	return rc;
}

/* Opens, enables @want and registers r->buf for write-protect; NULL on success. */
static const char *uffd_open(struct region *r, uint64_t want, bool user_mode_only)
{
	int flags = user_mode_only ? UFFD_USER_MODE_ONLY : 0;
	uint64_t have = 0;
	int rc = uffd_features(&have, flags);
	if (rc)
		return why("userfaultfd", -rc);
	if (!(have & UFFD_FEATURE_PAGEFAULT_FLAG_WP))
		return "kernel lacks UFFD_FEATURE_PAGEFAULT_FLAG_WP";
	if ((want & UFFD_FEATURE_WP_ASYNC) && !(have & UFFD_FEATURE_WP_ASYNC))
		return "kernel lacks UFFD_FEATURE_WP_ASYNC (needs >= 6.7)";
	want |= have & UFFD_FEATURE_WP_UNPOPULATED; /* protect pages not yet touched too */
	r->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | flags);
	if (r->uffd < 0)
		return why("userfaultfd", errno);
	struct uffdio_api api = {.api = UFFD_API, .features = want};
	if (ioctl(r->uffd, UFFDIO_API, &api))
		return why("UFFDIO_API", errno);
	struct uffdio_register reg = {
		.range = {(uint64_t)(uintptr_t)r->buf, r->size},
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(r->uffd, UFFDIO_REGISTER, &reg))
		return why("UFFDIO_REGISTER (MODE_WP)", errno);
	if (!(reg.ioctls & (1ull << _UFFDIO_WRITEPROTECT)))
		return "UFFDIO_WRITEPROTECT not offered for this memory";
	struct uffdio_writeprotect wp = {{(uint64_t)(uintptr_t)r->buf, r->size}, UFFDIO_WRITEPROTECT_MODE_WP};
	if (ioctl(r->uffd, UFFDIO_WRITEPROTECT, &wp))
		return why("UFFDIO_WRITEPROTECT", errno);
	return NULL;
}

static void uffd_close(struct region *r)
{
	if (r->uffd >= 0) {
		struct uffdio_range range = {(uint64_t)(uintptr_t)r->buf, r->size};
		ioctl(r->uffd, UFFDIO_UNREGISTER, &range);
		close(r->uffd);
	}
	r->uffd = -1;
}

/* uffd-wp: a thread receives each fault, records the page, unprotects it
 * (which wakes the faulting thread). */
static void *uffd_thread(void *arg)
{
	struct region *r = arg;
	for (;;) {
		struct pollfd p[2] = {{r->uffd, POLLIN, 0}, {r->stop[0], POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		struct uffd_msg msgs[16];
		ssize_t n = read(r->uffd, msgs, sizeof(msgs));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++) {
			if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			uint64_t addr = msgs[i].arg.pagefault.address & ~(uint64_t)(PAGE - 1);
			bitmap_mark(r, (size_t)(addr - (uint64_t)(uintptr_t)r->buf) / PAGE);
			struct uffdio_writeprotect wp = {{addr, PAGE}, 0};
			ioctl(r->uffd, UFFDIO_WRITEPROTECT, &wp);
		}
	}
	return NULL;
}

static const char *uffd_wp_setup_flags(struct region *r, bool user_mode_only)
{
	const char *err = uffd_open(r, UFFD_FEATURE_PAGEFAULT_FLAG_WP, user_mode_only);
	if (err)
		return err;
	if (pipe(r->stop))
		return why("pipe", errno);
	if (pthread_create(&r->thread, NULL, uffd_thread, r))
		return "pthread_create failed";
	r->thread_running = true;
	return NULL;
}

static const char *uffd_wp_setup(struct region *r)
{
	return uffd_wp_setup_flags(r, false);
}

static const char *uffd_wp_user_setup(struct region *r)
{
	return uffd_wp_setup_flags(r, true);
}

static void uffd_wp_run(struct region *r, size_t first, size_t count)
{
	struct uffdio_writeprotect wp = {{(uint64_t)(uintptr_t)(r->buf + first * PAGE), count * PAGE},
					 UFFDIO_WRITEPROTECT_MODE_WP};
	ioctl(r->uffd, UFFDIO_WRITEPROTECT, &wp);
}

static void uffd_wp_rearm(struct region *r)
{
	for_each_run(r, uffd_wp_run);
}

static void uffd_wp_teardown(struct region *r)
{
	if (r->thread_running) {
		ssize_t w = write(r->stop[1], "x", 1);
		(void)w;
		pthread_join(r->thread, NULL);
		close(r->stop[0]);
		close(r->stop[1]);
		r->thread_running = false;
	}
	uffd_close(r);
}

/* uffd-async: the kernel clears the page's write-protect bit on a write, no
 * message; PAGEMAP_SCAN reports written pages and protects them again. This
 * is the watcher the ICD uses (transport/platform/write_watch_linux.c), so
 * the benchmark measures the shipped code. */
static const char *uffd_async_setup(struct region *r)
{
	r->watch = tether_write_watch_open();
	if (!r->watch)
		return "no asynchronous write-protect (userfaultfd denied or kernel before 6.7)";
	int rc = tether_write_watch_add(r->watch, r->buf, r->size);
	if (rc < 0)
		return why("UFFDIO_REGISTER/WRITEPROTECT", -rc);
	return NULL;
}

static void uffd_async_page_run(void *ctx, size_t offset, size_t len)
{
	struct region *r = ctx;
	for (size_t p = offset; p < offset + len; p += PAGE)
		r->dirty[r->ndirty++] = (uint32_t)(p / PAGE);
}

static void uffd_async_scan(struct region *r)
{
	r->ndirty = 0;
	int rc = tether_write_watch_collect(r->watch, r->buf, r->size, uffd_async_page_run, r);
	if (rc < 0) {
		fprintf(stderr, "PAGEMAP_SCAN: %s\n", strerror(-rc));
		exit(1);
	}
}

static void uffd_async_teardown(struct region *r)
{
	if (r->watch) {
		tether_write_watch_remove(r->watch, r->buf, r->size);
		tether_write_watch_close(r->watch);
	}
	r->watch = NULL;
}

/* --- soft-dirty ------------------------------------------------------------ */

static bool clear_soft_dirty(struct region *r)
{
	return pwrite(r->clear_refs_fd, "4", 1, 0) == 1;
}

static const char *soft_dirty_setup(struct region *r)
{
	r->clear_refs_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (r->clear_refs_fd < 0)
		return why("/proc/self/clear_refs", errno);
	r->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (r->pagemap_fd < 0)
		return why("/proc/self/pagemap", errno);
	r->pm_entries = malloc(r->pages * sizeof(uint64_t));
	if (!r->pm_entries)
		return "out of memory";
	if (!clear_soft_dirty(r))
		return why("clear_refs 4", errno);
	r->buf[0] ^= 1; /* a write the soft-dirty bit must show */
	uint64_t e = 0;
	off_t off = (off_t)((uintptr_t)r->buf / PAGE * 8);
	if (pread(r->pagemap_fd, &e, 8, off) != 8)
		return why("pagemap read", errno);
	r->buf[0] ^= 1;
	if (!(e & PM_SOFT_DIRTY))
		return "pagemap bit 55 stays 0 after a write (kernel built without CONFIG_MEM_SOFT_DIRTY)";
	clear_soft_dirty(r);
	return NULL;
}

static void soft_dirty_scan(struct region *r)
{
	off_t off = (off_t)((uintptr_t)r->buf / PAGE * 8);
	size_t want = r->pages * 8, got = 0;
	while (got < want) {
		ssize_t n = pread(r->pagemap_fd, (uint8_t *)r->pm_entries + got, want - got, off + (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	size_t n = 0;
	for (size_t p = 0; p < r->pages; p++)
		if (r->pm_entries[p] & PM_SOFT_DIRTY)
			r->dirty[n++] = (uint32_t)p;
	r->ndirty = n;
}

static void soft_dirty_rearm(struct region *r)
{
	clear_soft_dirty(r); /* process-wide: every page of the process */
}

static void soft_dirty_teardown(struct region *r)
{
	if (r->clear_refs_fd >= 0)
		close(r->clear_refs_fd);
	if (r->pagemap_fd >= 0)
		close(r->pagemap_fd);
	r->clear_refs_fd = r->pagemap_fd = -1;
	free(r->pm_entries);
	r->pm_entries = NULL;
}

static const struct strategy strategies[] = {
	{"memcmp", memcmp_setup, memcmp_scan, nothing, nothing, false},
	{"hash", hash_setup, hash_scan, nothing, hash_teardown, false},
	{"mprotect", mprotect_setup, nothing, mprotect_rearm, mprotect_teardown, true},
	{"uffd-wp", uffd_wp_setup, nothing, uffd_wp_rearm, uffd_wp_teardown, true},
	{"uffd-async", uffd_async_setup, uffd_async_scan, nothing, uffd_async_teardown, true},
	{"soft-dirty", soft_dirty_setup, soft_dirty_scan, soft_dirty_rearm, soft_dirty_teardown, true},
};
#define STRATEGY_COUNT (sizeof(strategies) / sizeof(strategies[0]))

/* Only in the kernel-write check: uffd-wp as an unprivileged process gets it. */
static const struct strategy uffd_wp_user = {"uffd-wp (user-mode-only)", uffd_wp_user_setup, nothing,
					     uffd_wp_rearm, uffd_wp_teardown, true};

/* mprotect, uffd-wp: the fault handlers filled the bitmap. */
static bool uses_bitmap(const struct strategy *s)
{
	return s->scan == nothing;
}

static void scan(const struct strategy *s, struct region *r)
{
	if (uses_bitmap(s))
		bitmap_collect(r);
	else
		s->scan(r);
}

/* --- regions, patterns, frames --------------------------------------------- */

static bool region_init(struct region *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	r->uffd = r->pagemap_fd = r->clear_refs_fd = -1;
	r->size = size;
	r->pages = size / PAGE;
	/* Both populated, as after the application's first upload (MAP_POPULATE:
	 * first-touch faults are slow in a VM and are not what is measured). */
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	r->buf = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	r->snap = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	r->dirty = malloc(r->pages * sizeof(*r->dirty));
	r->bitmap = calloc((r->pages + 63) / 64, sizeof(*r->bitmap));
	return r->buf != MAP_FAILED && r->snap != MAP_FAILED && r->dirty && r->bitmap;
}

static void region_free(struct region *r)
{
	munmap(r->buf, r->size);
	munmap(r->snap, r->size);
	free(r->dirty);
	free(r->bitmap);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* The application's writes for frame @f; never a no-op write. */
static void app_write(struct region *r, enum pattern pat, unsigned f)
{
	uint8_t v = (uint8_t)(1 + f % 255);
	switch (pat) {
	case PAT_RANDOM: {
		size_t n = r->pages / 100 ? r->pages / 100 : 1;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = rng();
			size_t page = (size_t)(x % r->pages);
			size_t off = (size_t)((x >> 32) % ((PAGE - RANDOM_WRITE) / 64)) * 64;
			memset(r->buf + page * PAGE + off, v, RANDOM_WRITE);
		}
		break;
	}
	case PAT_RING:
		memset(r->buf + (size_t)f * RING_SLICE % r->size, v, RING_SLICE);
		break;
	case PAT_FULL:
		memset(r->buf, v, r->size);
		break;
	default:
		break;
	}
}

struct cell {
	double write, scan, rearm, diff, total; /* µs, medians */
	double dirty_pages, span_bytes;
	int frames;
	bool ok;
};

static double median(double *v, int n)
{
	return bench_summarize(v, (size_t)n).median;
}

static struct cell run_cell(const struct strategy *s, struct region *r, enum pattern pat, int max_frames)
{
	double w[MAX_FRAMES], sc[MAX_FRAMES], re[MAX_FRAMES], di[MAX_FRAMES], to[MAX_FRAMES];
	double dp[MAX_FRAMES], sb[MAX_FRAMES];
	struct cell c;
	memset(&c, 0, sizeof(c));
	rng_state = 0x9e3779b97f4a7c15ull;
	uint64_t cell_start = 0;
	int n = 0;
	bool warming = true;
	for (unsigned f = 0;; f++) {
		uint64_t t0 = bench_now_ns();
		app_write(r, pat, f);
		uint64_t t1 = bench_now_ns();
		scan(s, r);
		uint64_t t2 = bench_now_ns();
		s->rearm(r); /* before reading the pages: a later write faults again */
		uint64_t t3 = bench_now_ns();
		struct diff_result d = diff_dirty(r);
		uint64_t t4 = bench_now_ns();
		/* A frame this slow is its own steady state: it is the measurement. */
		bool very_slow = warming && t4 - t0 > HARD_BUDGET_NS;
		if (warming && !very_slow) {
			warming = f + 1 < WARMUP && t4 - t0 < SLOW_FRAME_NS;
			continue;
		}
		warming = false;
		if (!n)
			cell_start = t0;
		w[n] = (double)(t1 - t0) / 1e3;
		sc[n] = (double)(t2 - t1) / 1e3;
		re[n] = (double)(t3 - t2) / 1e3;
		di[n] = (double)(t4 - t3) / 1e3;
		to[n] = (double)(t4 - t0) / 1e3;
		dp[n] = (double)r->ndirty;
		sb[n] = (double)d.span_bytes;
		n++;
		uint64_t spent = t4 - cell_start;
		if (n >= max_frames || (n >= MIN_FRAMES && spent > CELL_BUDGET_NS) || spent > HARD_BUDGET_NS)
			break;
	}
	c.frames = n;
	c.write = median(w, n);
	c.scan = median(sc, n);
	c.rearm = median(re, n);
	c.diff = median(di, n);
	c.total = median(to, n);
	c.dirty_pages = median(dp, n);
	c.span_bytes = median(sb, n);
	c.ok = !memcmp(r->buf, r->snap, r->size);
	return c;
}

static void human_bytes(char *out, size_t n, double b)
{
	if (b >= 1024.0 * 1024.0)
		snprintf(out, n, "%.1f MiB", b / (1024.0 * 1024.0));
	else if (b >= 1024.0)
		snprintf(out, n, "%.1f KiB", b / 1024.0);
	else
		snprintf(out, n, "%.0f B", b);
}

/* --- the kernel-write check ------------------------------------------------ */

/* read(2) into page 3 of a tracked region: does it succeed, and is it found? */
static void kernel_write_check(const struct strategy *s)
{
	struct region r;
	if (!region_init(&r, 64 * PAGE)) {
		printf("| %-24s | no memory |\n", s->name);
		return;
	}
	const char *err = s->setup(&r);
	if (err) {
		printf("| %-24s | unavailable: %s |\n", s->name, err);
	} else {
		int p[2];
		uint8_t src[PAGE];
		memset(src, 0x5a, sizeof(src));
		if (pipe(p) || write(p[1], src, PAGE) != PAGE) {
			printf("| %-24s | pipe failed |\n", s->name);
		} else {
			ssize_t got = read(p[0], r.buf + 3 * PAGE, PAGE);
			int e = errno;
			scan(s, &r);
			bool found = false;
			for (size_t i = 0; i < r.ndirty; i++)
				found |= r.dirty[i] == 3;
			if (got == PAGE)
				printf("| %-24s | read(2) ok, page %s |\n", s->name,
				       found ? "found" : "NOT found: the write is lost");
			else
				printf("| %-24s | read(2) failed: %s |\n", s->name,
				       got < 0 ? strerror(e) : "short read");
			close(p[0]);
			close(p[1]);
		}
	}
	s->teardown(&r);
	region_free(&r);
}

/* --- main ------------------------------------------------------------------ */

static long long mem_available_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static void print_machine(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], model[256] = "?";
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && c) {
			snprintf(model, sizeof(model), "%s", c + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	struct utsname u;
	uname(&u);
	printf("machine: %s, %ld cores, Linux %s, %lld MiB available\n", model, sysconf(_SC_NPROCESSORS_ONLN),
	       u.release, mem_available_mib());
	int fd = open("/proc/sys/vm/unprivileged_userfaultfd", O_RDONLY);
	char v[8] = "?";
	if (fd >= 0) {
		ssize_t n = read(fd, v, sizeof(v) - 1);
		v[n > 0 ? n : 0] = 0;
		v[strcspn(v, "\n")] = 0;
		close(fd);
	}
	printf("vm.unprivileged_userfaultfd = %s, euid %d\n\n", v, (int)geteuid());
}

int main(int argc, char **argv)
{
	size_t sizes_mib[8] = {16, 256};
	int nsizes = 2, max_frames = MAX_FRAMES;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			nsizes = 0;
			for (char *t = strtok(argv[++i], ","); t && nsizes < 8; t = strtok(NULL, ","))
				sizes_mib[nsizes++] = strtoull(t, NULL, 10);
		} else if (!strcmp(argv[i], "--frames") && i + 1 < argc) {
			max_frames = atoi(argv[++i]);
			if (max_frames < 1 || max_frames > MAX_FRAMES)
				max_frames = MAX_FRAMES;
		} else {
			fprintf(stderr, "usage: %s [--sizes MiB,MiB,...] [--frames N<=%d]\n", argv[0], MAX_FRAMES);
			return 2;
		}
	}
	print_machine();
	uint64_t run_start = bench_now_ns();

	printf("Per frame, medians in µs (write = the application's writes, scan = finding dirty pages,\n"
	       "rearm = arming again, diff = spans against the snapshot and updating it).\n\n");
	printf("| size | pattern | strategy | write | scan | rearm | diff | total | dirty pages | "
	       "span bytes | page bytes | frames | check |\n");
	printf("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
	/* The last size's 1%-random cells, for the crossover below. */
	struct cell sparse[STRATEGY_COUNT];
	memset(sparse, 0, sizeof(sparse));
	size_t sparse_pages = 0;
	for (int si = 0; si < nsizes; si++) {
		size_t size = sizes_mib[si] << 20;
		memset(sparse, 0, sizeof(sparse));
		long long avail = mem_available_mib();
		if (avail >= 0 && (long long)sizes_mib[si] * 3 + 1024 > avail) {
			printf("| %zu MiB | | skipped: %lld MiB available | | | | | | | | | | |\n", sizes_mib[si],
			       avail);
			continue;
		}
		for (size_t k = 0; k < STRATEGY_COUNT; k++) {
			const struct strategy *s = &strategies[k];
			struct region r;
			if (!region_init(&r, size)) {
				printf("| %zu MiB | | %s: out of memory | | | | | | | | | | |\n", sizes_mib[si],
				       s->name);
				continue;
			}
			const char *err = s->setup(&r);
			if (err) {
				printf("| %zu MiB | all | %s | unavailable: %s | | | | | | | | | |\n", sizes_mib[si],
				       s->name, err);
			} else {
				for (int pat = 0; pat < PAT_COUNT; pat++) {
					struct cell c = run_cell(s, &r, (enum pattern)pat, max_frames);
					if (pat == PAT_RANDOM) {
						sparse[k] = c;
						sparse_pages = r.pages;
					}
					char sb[32], pb[32];
					human_bytes(sb, sizeof(sb), c.span_bytes);
					human_bytes(pb, sizeof(pb), c.dirty_pages * PAGE);
					printf("| %zu MiB | %s | %s | %.0f | %.0f | %.0f | %.0f | **%.0f** | %.0f | %s | %s | "
					       "%d | %s |\n",
					       sizes_mib[si], pattern_name[pat], s->name, c.write, c.scan, c.rearm, c.diff,
					       c.total, c.dirty_pages, sb, pb, c.frames, c.ok ? "ok" : "MISSED");
					fflush(stdout);
				}
			}
			s->teardown(&r);
			region_free(&r);
		}
	}

	/* memcmp costs c_scan per mapped page plus c_diff per dirty page (pages
	 * it just read); a tracker costs c_track per dirty page, everything
	 * included. Tracking wins while the written fraction f of the mapped
	 * pages satisfies f * c_track < c_scan + f * c_diff. */
	if (sparse[0].frames && sparse[0].dirty_pages > 0) {
		double c_scan = sparse[0].scan / (double)sparse_pages;
		double c_diff = sparse[0].diff / sparse[0].dirty_pages;
		printf("\nCrossover (from the last size's 1%% random cells): memcmp costs %.3f µs per mapped page "
		       "+ %.2f µs per dirty page.\n\n",
		       c_scan, c_diff);
		printf("| strategy | µs per dirty page (write+scan+rearm+diff) | beats memcmp while fewer than |\n"
		       "|---|--:|--:|\n");
		for (size_t k = 1; k < STRATEGY_COUNT; k++) {
			if (!strategies[k].tracks || !sparse[k].frames || sparse[k].dirty_pages <= 0)
				continue;
			double c_track = sparse[k].total / sparse[k].dirty_pages;
			if (c_track > c_diff)
				printf("| %s | %.2f | %.2f%% of pages written per frame |\n", strategies[k].name, c_track,
				       100.0 * c_scan / (c_track - c_diff));
			else
				printf("| %s | %.2f | always |\n", strategies[k].name, c_track);
		}
	}

	printf("\nWrites made by the kernel for the application (read(2) from a pipe into a tracked page):\n\n");
	printf("| strategy | result |\n|---|---|\n");
	for (size_t k = 0; k < STRATEGY_COUNT; k++)
		kernel_write_check(&strategies[k]);
	kernel_write_check(&uffd_wp_user);
	printf("\nwhole run: %.1f s\n", (double)(bench_now_ns() - run_start) / 1e9);
	return 0;
}
