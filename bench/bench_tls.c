/*
 * tether_bench_tls: what encryption costs on the bulk path. One thread sends
 * messages as frames and memory transfers travel (a 16-byte header and a
 * 1-16 MiB payload in one gather send through tether_conn_send()), another
 * receives them with tether_conn_recv(), each pinned to its own core, over
 * TCP loopback or between two network namespaces (bench/netns_link.sh makes
 * a rate-limited veth pair), plain and through TLS 1.3 with each suite and
 * write-buffer size. Reports throughput and the CPU time each side spent.
 * Whether kernel TLS (kTLS) is possible on this kernel is probed and printed.
 *
 *   tether_bench_tls [--seconds S] [--sizes 1,4,16] [--suites all|NAME,...]
 *                    [--write-buffers 0,262144] [--read-buffers 262144] [--round-trips N]
 *                    [--server-netns NS --client-netns NS
 *                    --address IP] [--cpus SENDER,RECEIVER]
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "transport/conn.h"
#include "transport/platform/platform.h"
#include "transport/tls.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

#define MAX_LIST 8

struct options {
	double seconds;
	size_t sizes[MAX_LIST];
	int nsizes;
	const char *suites[MAX_LIST];
	int nsuites;
	long wbufs[MAX_LIST], rbufs[MAX_LIST];
	int nwbufs, nrbufs;
	const char *server_ns, *client_ns, *address;
	int cpu_send, cpu_recv;
	int round_trips; /* --round-trips N: measure those instead of bulk transfers */
};

struct side {
	struct tether_conn *c;
	size_t size;
	double seconds;
	int cpu;
	atomic_bool *stop;
	uint64_t bytes, messages;
	double cpu_s, wall_s;
	int err;
};

static double now_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *sender(void *arg)
{
	struct side *s = arg;
	pin(s->cpu);
	pthread_setname_np(pthread_self(), "tls-sender"); /* perf report --sort comm */
	uint8_t *payload = malloc(s->size);
	for (size_t i = 0; i < s->size; i++)
		payload[i] = (uint8_t)(i * 131 + 7);
	uint8_t header[16] = {7, 0, 0, 0};
	memcpy(header + 8, &s->size, sizeof(s->size));
	double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	while (!atomic_load(s->stop)) {
		struct tether_iovec iov[2] = {{header, sizeof(header)}, {payload, s->size}};
		s->err = tether_conn_send(s->c, iov, 2);
		if (s->err)
			break;
		s->messages++;
		s->bytes += s->size + sizeof(header);
	}
	s->cpu_s = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	/* An empty header ends the run. */
	memset(header, 0, sizeof(header));
	struct tether_iovec end = {header, sizeof(header)};
	if (!s->err)
		s->err = tether_conn_send(s->c, &end, 1);
	free(payload);
	return NULL;
}

static void *receiver(void *arg)
{
	struct side *s = arg;
	pin(s->cpu);
	pthread_setname_np(pthread_self(), "tls-receiver");
	uint8_t *payload = malloc(s->size), header[16];
	double c0 = now_s(CLOCK_THREAD_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC), w_end = w0 + s->seconds;
	for (;;) {
		s->err = tether_conn_recv(s->c, header, sizeof(header));
		if (s->err || header[0] == 0)
			break;
		s->err = tether_conn_recv(s->c, payload, s->size);
		if (s->err)
			break;
		if (payload[s->size - 1] != (uint8_t)((s->size - 1) * 131 + 7)) {
			s->err = -EBADMSG;
			break;
		}
		s->bytes += s->size + sizeof(header);
		s->messages++;
		if (!atomic_load(s->stop) && now_s(CLOCK_MONOTONIC) >= w_end) {
			/* Measured up to here; what is still in flight is drained. */
			s->wall_s = now_s(CLOCK_MONOTONIC) - w0;
			s->cpu_s = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
			atomic_store(s->stop, true);
		}
	}
	free(payload);
	return NULL;
}

static int enter_netns(const char *name)
{
	char path[256];
	if (!name)
		return 0;
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "bench_tls: cannot enter network namespace %s: %s\n", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A connected pair: the listener in the server's namespace, the client in its own. */
static int connect_pair(const struct options *o, struct tether_conn **cli, struct tether_conn **srv)
{
	struct tether_listener *l;
	char listen[128], addr[160];
	snprintf(listen, sizeof(listen), "%s:0", o->address);
	if (enter_netns(o->server_ns) || tether_listener_open(listen, &l))
		return -1;
	tether_listener_address(l, addr, sizeof(addr));
	int err = enter_netns(o->client_ns) ? -1 : tether_conn_connect(addr, cli);
	if (!err)
		err = tether_listener_accept(l, srv);
	tether_listener_close(l);
	return err;
}

struct tls_setup {
	struct tether_tls_context *client, *server;
};

struct handshake_arg {
	struct tether_conn *c;
	struct tether_tls_context *ctx;
	int err;
};

static void *server_handshake(void *arg)
{
	struct handshake_arg *h = arg;
	struct tether_tls_peer peer;
	h->err = tether_tls_server_start(h->c, h->ctx, &peer);
	if (h->err)
		fprintf(stderr, "bench_tls: server handshake: %s\n", peer.error);
	return NULL;
}

/* A connected pair, through TLS with @suite's contexts unless @suite is NULL. */
static int open_pair(const struct options *o, const struct tls_setup *t, const char *suite, char *cipher,
		     size_t cipher_len, struct tether_conn **cli, struct tether_conn **srv)
{
	if (connect_pair(o, cli, srv))
		return -1;
	snprintf(cipher, cipher_len, "-");
	if (!suite)
		return 0;
	struct handshake_arg h = {*srv, t->server, 0};
	struct tether_thread *th;
	struct tether_tls_peer peer;
	tether_thread_create(&th, server_handshake, &h);
	int err = tether_tls_client_start(*cli, t->client, TETHER_ALPN_SESSION, NULL, &peer);
	tether_thread_join(th);
	if (err || h.err) {
		fprintf(stderr, "bench_tls: handshake: %s\n", peer.error);
		tether_conn_close(*cli);
		tether_conn_close(*srv);
		return -1;
	}
	snprintf(cipher, cipher_len, "%s", peer.cipher);
	return 0;
}

/* One bulk measurement. @suite NULL: plain TCP. */
static int run_case(const struct options *o, const struct tls_setup *t, const char *suite, size_t size,
		    char *cipher, size_t cipher_len, struct side *snd, struct side *rcv)
{
	struct tether_conn *cli, *srv;
	if (open_pair(o, t, suite, cipher, cipher_len, &cli, &srv))
		return -1;
	atomic_bool stop = false;
	*snd = (struct side){.c = cli, .size = size, .cpu = o->cpu_send, .stop = &stop};
	*rcv = (struct side){.c = srv, .size = size, .cpu = o->cpu_recv, .stop = &stop, .seconds = o->seconds};
	struct tether_thread *a, *b;
	tether_thread_create(&b, receiver, rcv);
	tether_thread_create(&a, sender, snd);
	tether_thread_join(a);
	tether_thread_join(b);
	tether_conn_close(cli);
	tether_conn_close(srv);
	return snd->err || rcv->err ? -1 : 0;
}

/* ---- round trips: what a command that waits for its reply pays ---- */

#define PING_SIZE 80 /* a 16-byte header and a small command or reply */

struct echo {
	struct tether_conn *c;
	int n, cpu, err;
};

static void *echo_main(void *arg)
{
	struct echo *e = arg;
	uint8_t buf[PING_SIZE];
	pin(e->cpu);
	for (int i = 0; i < e->n && !e->err; i++) {
		struct tether_iovec iov = {buf, sizeof(buf)};
		e->err = tether_conn_recv(e->c, buf, sizeof(buf));
		if (!e->err)
			e->err = tether_conn_send(e->c, &iov, 1);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int round_trips(const struct options *o, const struct tls_setup *t, const char *suite)
{
	struct tether_conn *cli, *srv;
	char cipher[64];
	int n = o->round_trips;
	double *us = calloc((size_t)n, sizeof(double));
	if (!us || open_pair(o, t, suite, cipher, sizeof(cipher), &cli, &srv)) {
		free(us);
		return 1;
	}
	struct echo e = {srv, n, o->cpu_recv, 0};
	struct tether_thread *th;
	tether_thread_create(&th, echo_main, &e);
	pin(o->cpu_send);
	uint8_t buf[PING_SIZE] = {1};
	int err = 0;
	for (int i = 0; i < n && !err; i++) {
		struct tether_iovec iov = {buf, sizeof(buf)};
		double t0 = now_s(CLOCK_MONOTONIC);
		err = tether_conn_send(cli, &iov, 1);
		if (!err)
			err = tether_conn_recv(cli, buf, sizeof(buf));
		us[i] = (now_s(CLOCK_MONOTONIC) - t0) * 1e6;
	}
	tether_thread_join(th);
	tether_conn_close(cli);
	tether_conn_close(srv);
	if (!err && !e.err) {
		qsort(us, (size_t)n, sizeof(double), cmp_double);
		printf("%-30s round trip of %d bytes: median %.1f us, 99th percentile %.1f us (%d round trips)\n",
		       suite ? cipher : "plain", PING_SIZE, us[n / 2], us[n * 99 / 100], n);
	}
	free(us);
	return err || e.err;
}

static int make_tls(const char *suite, struct tls_setup *t, struct tether_tls_identity *ci,
		    struct tether_tls_identity *si)
{
	return tether_tls_context_new(ci, TETHER_TLS_CLIENT, suite, &t->client) ||
	       tether_tls_context_new(si, TETHER_TLS_SERVER, suite, &t->server);
}

/* Whether the kernel has the TLS upper layer protocol kTLS needs. */
static void probe_ktls(void)
{
	struct tether_listener *l;
	struct tether_conn *a, *b;
	char addr[64];
	if (tether_listener_open("127.0.0.1:0", &l))
		return;
	tether_listener_address(l, addr, sizeof(addr));
	if (!tether_conn_connect(addr, &a)) {
		if (!tether_listener_accept(l, &b)) {
			int r = setsockopt(tether_conn_fd(a), IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls"));
			printf("kTLS: %s\n", r ? strerror(errno) : "the kernel's tls module is available");
			if (r)
				printf("kTLS: unavailable (setsockopt TCP_ULP \"tls\" failed): only userspace TLS "
				       "is measured\n");
			tether_conn_close(b);
		}
		tether_conn_close(a);
	}
	tether_listener_close(l);
}

/* One case, one line. Return: 0, or 1 when it failed. */
static int run_and_print(const struct options *o, const struct tls_setup *t, const char *suite, size_t size,
			 const char *wbuf, const char *rbuf)
{
	struct side snd, rcv;
	char cipher[64];
	if (run_case(o, t, suite, size, cipher, sizeof(cipher), &snd, &rcv)) {
		printf("%-30s failed\n", suite ? suite : "plain");
		return 1;
	}
	double gbs = rcv.bytes / rcv.wall_s / 1e9;
	printf("%-30s %-8s %-8s %5.0f MiB %7.2f %7.1f %8.0f%% %8.0f%% %11.2f %11.2f\n", suite ? cipher : "plain", wbuf,
	       rbuf, size / 1048576.0, gbs, gbs * 8, 100 * snd.cpu_s / rcv.wall_s, 100 * rcv.cpu_s / rcv.wall_s,
	       snd.bytes / snd.cpu_s / 1e9, rcv.bytes / rcv.cpu_s / 1e9);
	fflush(stdout);
	return 0;
}

static int parse_list(char *arg, const char **out, int max)
{
	int n = 0;
	for (char *tok = strtok(arg, ","); tok && n < max; tok = strtok(NULL, ","))
		out[n++] = tok;
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: tether_bench_tls [--seconds S] [--sizes MiB,...] [--suites all|plain|NAME,...]\n"
			"                        [--write-buffers BYTES,...] [--read-buffers BYTES,...]\n"
			"                        [--cpus SEND,RECV] [--round-trips N]\n"
			"                        [--server-netns NS --client-netns NS --address IP]\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const char *all[] = {"plain", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
				    "TLS_CHACHA20_POLY1305_SHA256"};
	*o = (struct options){.seconds = 3, .sizes = {1 << 20, 4 << 20, 16 << 20}, .nsizes = 3,
			      .wbufs = {262144}, .nwbufs = 1, .rbufs = {262144}, .nrbufs = 1,
			      .address = "127.0.0.1", .cpu_send = 0, .cpu_recv = 1};
	memcpy(o->suites, all, sizeof(all));
	o->nsuites = 4;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			usage();
			return -1;
		}
		i++;
		if (!strcmp(a, "--seconds")) {
			o->seconds = atof(v);
		} else if (!strcmp(a, "--sizes")) {
			const char *s[MAX_LIST];
			o->nsizes = parse_list(v, s, MAX_LIST);
			for (int k = 0; k < o->nsizes; k++)
				o->sizes[k] = (size_t)(atof(s[k]) * (1 << 20));
		} else if (!strcmp(a, "--suites")) {
			if (strcmp(v, "all"))
				o->nsuites = parse_list(v, o->suites, MAX_LIST);
		} else if (!strcmp(a, "--write-buffers")) {
			const char *s[MAX_LIST];
			o->nwbufs = parse_list(v, s, MAX_LIST);
			for (int k = 0; k < o->nwbufs; k++)
				o->wbufs[k] = atol(s[k]);
		} else if (!strcmp(a, "--read-buffers")) {
			const char *s[MAX_LIST];
			o->nrbufs = parse_list(v, s, MAX_LIST);
			for (int k = 0; k < o->nrbufs; k++)
				o->rbufs[k] = atol(s[k]);
		} else if (!strcmp(a, "--round-trips")) {
			o->round_trips = atoi(v);
		} else if (!strcmp(a, "--cpus")) {
			if (sscanf(v, "%d,%d", &o->cpu_send, &o->cpu_recv) != 2)
				return -1;
		} else if (!strcmp(a, "--server-netns")) {
			o->server_ns = v;
		} else if (!strcmp(a, "--client-netns")) {
			o->client_ns = v;
		} else if (!strcmp(a, "--address")) {
			o->address = v;
		} else {
			usage();
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse(argc, argv, &o))
		return 2;
	char dir[] = "/tmp/tether-bench-tls-XXXXXX", cdir[64], sdir[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(cdir, sizeof(cdir), "%s/client", dir);
	snprintf(sdir, sizeof(sdir), "%s/server", dir);
	struct tether_tls_identity *ci, *si;
	if (tether_tls_identity_load(cdir, "bench client", true, &ci) ||
	    tether_tls_identity_load(sdir, "bench server", true, &si))
		return 1;
	probe_ktls();
	printf("link: %s%s%s, sender on CPU %d, receiver on CPU %d, %.1f s per case\n",
	       o.server_ns ? "veth between network namespaces " : "TCP loopback", o.server_ns ? o.server_ns : "",
	       o.server_ns ? "" : "", o.cpu_send, o.cpu_recv, o.seconds);
	int failed = 0;
	if (o.round_trips > 0) {
		for (int su = 0; su < o.nsuites; su++) {
			bool plain = !strcmp(o.suites[su], "plain");
			struct tls_setup t = {0};
			if (!plain && make_tls(o.suites[su], &t, ci, si))
				return 1;
			failed |= round_trips(&o, &t, plain ? NULL : o.suites[su]);
			tether_tls_context_free(t.client);
			tether_tls_context_free(t.server);
		}
		goto done;
	}
	/* GB per CPU-second: what one core kept busy would carry, whatever else
	 * the machine was doing (the wall-clock rate depends on that too). */
	printf("%-30s %-8s %-8s %-9s %7s %7s %9s %9s %11s %11s\n", "suite", "wbuf", "rbuf", "message", "GB/s", "Gbit/s",
	       "send CPU", "recv CPU", "send GB/cs", "recv GB/cs");
	for (int su = 0; su < o.nsuites; su++) {
		bool plain = !strcmp(o.suites[su], "plain");
		for (int rb = 0; rb < (plain ? 1 : o.nrbufs); rb++) {
			char rbuf[32];
			snprintf(rbuf, sizeof(rbuf), "%ld", o.rbufs[rb]);
			setenv("TETHER_TLS_READ_BUFFER", rbuf, 1); /* read when the contexts are made */
			struct tls_setup t = {0};
			if (!plain && make_tls(o.suites[su], &t, ci, si)) {
				failed = 1;
				continue;
			}
			for (int wb = 0; wb < (plain ? 1 : o.nwbufs); wb++) {
				char wbuf[32];
				snprintf(wbuf, sizeof(wbuf), "%ld", o.wbufs[wb]);
				setenv("TETHER_TLS_WRITE_BUFFER", wbuf, 1);
				for (int sz = 0; sz < o.nsizes; sz++)
					failed |= run_and_print(&o, &t, plain ? NULL : o.suites[su], o.sizes[sz],
								plain ? "-" : wbuf, plain ? "-" : rbuf);
			}
			tether_tls_context_free(t.client);
			tether_tls_context_free(t.server);
		}
	}
done:
	tether_tls_identity_free(ci);
	tether_tls_identity_free(si);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		failed = 1;
	return failed;
}
