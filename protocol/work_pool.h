/* tether work pool: a fixed set of threads that run the jobs 0..n-1 of one
 * call in parallel, the calling thread taking its share. The frame codec
 * (protocol/frame_codec.c) compresses and decompresses strips of a frame on it. */
#ifndef TETHER_PROTOCOL_WORK_POOL_H
#define TETHER_PROTOCOL_WORK_POOL_H

struct tether_work_pool;

/*
 * One job: @job is in 0..n-1; @worker is in 0..threads-1 and names the
 * thread running it (0 is the caller of tether_work_pool_run()), so a job may
 * use per-worker scratch without a lock.
 */
typedef void (*tether_work_fn)(void *ctx, unsigned job, unsigned worker);

/**
 * tether_work_pool_create() - start a pool of @threads workers
 * @threads: workers in all, the caller of tether_work_pool_run() included:
 *           1 starts no thread (everything runs on the caller); 0 means 1.
 * Return: 0, or negative errno (nothing is left running then).
 */
int tether_work_pool_create(unsigned threads, struct tether_work_pool **out);

/** tether_work_pool_threads() - workers in the pool, the caller included. */
unsigned tether_work_pool_threads(const struct tether_work_pool *p);

/**
 * tether_work_pool_run() - run fn(ctx, job, worker) for every job in 0..@jobs-1
 * Returns once all have finished. Jobs are handed out in order to whichever
 * worker is free. One call at a time per pool: callers on several threads
 * must lock around it.
 */
void tether_work_pool_run(struct tether_work_pool *p, unsigned jobs, tether_work_fn fn, void *ctx);

/** tether_work_pool_destroy() - stop and join the threads; NULL is ignored. */
void tether_work_pool_destroy(struct tether_work_pool *p);

#endif /* TETHER_PROTOCOL_WORK_POOL_H */
