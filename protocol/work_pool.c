/* tether work pool (work_pool.h): threads that sleep on a condition variable
 * until a run hands out jobs, take them one at a time under the pool's lock,
 * and wake the caller when the last one is done. Jobs are coarse (a strip of
 * a frame is ~100 µs of work), so one lock round trip per job costs nothing
 * measurable and keeps the pool the same on Linux and Windows. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "protocol/work_pool.h"
#include "transport/platform/platform.h"

struct pool_worker {
	struct tether_work_pool *pool;
	unsigned index;
	struct tether_thread *thread;
};

struct tether_work_pool {
	struct tether_mutex lock;
	struct tether_cond wake; /* jobs were handed out, or stop */
	struct tether_cond done; /* the last job of a run finished */
	tether_work_fn fn;
	void *ctx;
	unsigned jobs;       /* jobs of the current run (0 between runs) */
	unsigned next;       /* the next job to hand out */
	unsigned unfinished; /* jobs handed out or waiting, not yet finished */
	bool stop;
	unsigned threads;    /* the caller included */
	struct pool_worker *workers; /* threads - 1 of them */
};

/*
 * Takes and runs jobs until none is left to hand out. Called with the lock
 * held; returns with it held.
 */
static void pool_work(struct tether_work_pool *p, unsigned worker)
{
	while (p->next < p->jobs) {
		unsigned job = p->next++;
		tether_work_fn fn = p->fn;
		void *ctx = p->ctx;
		tether_mutex_unlock(&p->lock);
		fn(ctx, job, worker);
		tether_mutex_lock(&p->lock);
		if (--p->unfinished == 0)
			tether_cond_signal(&p->done);
	}
}

static void *pool_thread(void *arg)
{
	struct pool_worker *w = arg;
	struct tether_work_pool *p = w->pool;

	tether_mutex_lock(&p->lock);
	while (!p->stop) {
		if (p->next < p->jobs)
			pool_work(p, w->index);
		else
			tether_cond_wait(&p->wake, &p->lock);
	}
	tether_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_stop(struct tether_work_pool *p, unsigned started)
{
	tether_mutex_lock(&p->lock);
	p->stop = true;
	tether_cond_broadcast(&p->wake);
	tether_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < started; i++)
		tether_thread_join(p->workers[i].thread);
}

int tether_work_pool_create(unsigned threads, struct tether_work_pool **out)
{
	struct tether_work_pool *p = calloc(1, sizeof(*p));
	int r;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->threads = threads ? threads : 1;
	p->workers = calloc(p->threads, sizeof(*p->workers));
	if (!p->workers) {
		free(p);
		return -ENOMEM;
	}
	r = tether_mutex_init(&p->lock);
	if (r)
		goto err_free;
	r = tether_cond_init(&p->wake);
	if (r)
		goto err_mutex;
	r = tether_cond_init(&p->done);
	if (r)
		goto err_wake;
	for (unsigned i = 0; i + 1 < p->threads; i++) {
		p->workers[i] = (struct pool_worker){p, i + 1, NULL};
		r = tether_thread_create(&p->workers[i].thread, pool_thread, &p->workers[i]);
		if (r) {
			pool_stop(p, i);
			goto err_done;
		}
	}
	*out = p;
	return 0;

err_done:
	tether_cond_destroy(&p->done);
err_wake:
	tether_cond_destroy(&p->wake);
err_mutex:
	tether_mutex_destroy(&p->lock);
err_free:
	free(p->workers);
	free(p);
	return r;
}

unsigned tether_work_pool_threads(const struct tether_work_pool *p)
{
	return p->threads;
}

void tether_work_pool_run(struct tether_work_pool *p, unsigned jobs, tether_work_fn fn, void *ctx)
{
	if (!jobs)
		return;
	if (p->threads == 1 || jobs == 1) {
		/* Nothing to share: skip the lock and the wake-ups. */
		for (unsigned j = 0; j < jobs; j++)
			fn(ctx, j, 0);
		return;
	}
	tether_mutex_lock(&p->lock);
	p->fn = fn;
	p->ctx = ctx;
	p->jobs = jobs;
	p->next = 0;
	p->unfinished = jobs;
	tether_cond_broadcast(&p->wake);
	pool_work(p, 0);
	while (p->unfinished)
		tether_cond_wait(&p->done, &p->lock);
	p->jobs = 0;
	p->next = 0;
	tether_mutex_unlock(&p->lock);
}

void tether_work_pool_destroy(struct tether_work_pool *p)
{
	if (!p)
		return;
	pool_stop(p, p->threads - 1);
	tether_cond_destroy(&p->done);
	tether_cond_destroy(&p->wake);
	tether_mutex_destroy(&p->lock);
	free(p->workers);
	free(p);
}
