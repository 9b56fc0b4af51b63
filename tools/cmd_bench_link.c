/* `tether bench-link`: what the path to tetherd gives, measured over the
 * link-test channel (protocol/link_test.h): round trips (many small echoes:
 * median, p99, min) and throughput each way, and, when the path is a
 * Thunderbolt/USB4 link, how that compares with the link's nominal speed. */
#include "tools/tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/link_test.h"
#include "transport/client_connect.h"
#include "transport/conn.h"
#include "transport/platform/platform.h"

#define ECHO_BYTES 32
#define MAX_SAMPLES 200000
#define CHUNK (1u << 20)
#define DEFAULT_SECONDS 2
#define MAX_SECONDS 30 /* three phases fit the server's TETHER_LINK_MAX_SECONDS */
#define DEFAULT_SIZE (16u << 20)

struct bench_opts {
	struct tether_tool_opts tool;
	unsigned seconds;
	uint64_t size;
	bool tls;        /* the channel runs TLS to the paired server */
	char cipher[64];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tether bench-link [--server ADDR] [--seconds N] [--size BYTES]\n"
		"Measures the path to tetherd: round trips of %d-byte echoes (median, p99),\n"
		"then throughput each way, and compares it with the Thunderbolt/USB4 link's\n"
		"nominal speed when the path is one.\n"
		"  --server ADDR  HOST:PORT, [IPV6]:PORT or unix:PATH (default: as `tether status`)\n"
		"  --seconds N    per measurement, 1..%d (default %d)\n"
		"  --size BYTES   per upload or download request, with K, M or G (default 16M;\n"
		"                 tetherd serves at most %llu)\n"
		"Exit status: 0 measured, 1 unreachable or refused, 2 bad usage.\n",
		ECHO_BYTES, MAX_SECONDS, DEFAULT_SECONDS, (unsigned long long)TETHER_LINK_TRANSFER_MAX);
}

/* "16M", "4096", "1G": bytes; 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *s == '-')
		return 0;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (1ull << 40) >> shift)
		return 0;
	return (uint64_t)v << shift;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	/* Our own options first; the rest (--server, --help) as every command takes them. */
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int n = 0, err = 0;
	if (!rest)
		return -ENOMEM;
	rest[n++] = argv[0];
	o->seconds = DEFAULT_SECONDS;
	o->size = DEFAULT_SIZE;
	for (int i = 1; i < argc && !err; i++) {
		if (!strcmp(argv[i], "--seconds") || !strcmp(argv[i], "--size")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tether bench-link: %s needs a value\n", argv[i]);
				err = -EINVAL;
				break;
			}
			const char *v = argv[++i];
			if (!strcmp(argv[i - 1], "--size")) {
				o->size = parse_size(v);
				if (!o->size)
					err = -EINVAL;
			} else {
				char *end;
				long s = strtol(v, &end, 10);
				if (*end || !*v || s < 1 || s > MAX_SECONDS)
					err = -EINVAL;
				o->seconds = (unsigned)s;
			}
			if (err)
				fprintf(stderr, "tether bench-link: bad %s %s\n", argv[i - 1], v);
		} else {
			rest[n++] = argv[i];
		}
	}
	if (!err)
		err = tether_tool_parse_opts(n, rest, &o->tool);
	free(rest);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int fail(const char *what, int err, const char *why)
{
	if (err == -ECONNREFUSED)
		fprintf(stderr, "tether bench-link: tetherd refused the %s: %s\n", what, why);
	else if (err == -EPROTO)
		fprintf(stderr, "tether bench-link: %s: bad answer from tetherd: %s\n", what, why);
	else
		fprintf(stderr, "tether bench-link: %s: %s\n", what, strerror(-err));
	return TETHER_EXIT_FAIL;
}

static int round_trips(struct tether_conn *c, unsigned seconds)
{
	uint64_t *ns = malloc(MAX_SAMPLES * sizeof(*ns));
	uint8_t out[ECHO_BYTES], back[ECHO_BYTES];
	char why[TETHER_LINK_TEXT_MAX + 16] = "";
	size_t n = 0;
	int err = 0;
	if (!ns)
		return fail("round trips", -ENOMEM, "");
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)i;
	uint64_t start = tether_time_ns(), end = start + seconds * 1000000000ull;
	while (n < MAX_SAMPLES) {
		uint64_t t0 = tether_time_ns();
		if (t0 >= end)
			break;
		err = tether_link_echo(c, out, sizeof(out), back, why, sizeof(why));
		if (err)
			break;
		ns[n++] = tether_time_ns() - t0;
	}
	if (err) {
		free(ns);
		return fail("round trips", err, why);
	}
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("round trip: median %.3f ms, p99 %.3f ms, min %.3f ms (%zu exchanges of %d bytes in %.1f s)\n",
	       ns[n / 2] / 1e6, ns[n * 99 / 100] / 1e6, ns[0] / 1e6, n, ECHO_BYTES,
	       (tether_time_ns() - start) / 1e9);
	free(ns);
	return TETHER_EXIT_OK;
}

/* How a measured rate compares with the link's nominal one, or "". */
static void versus(char *buf, size_t len, double gbps, uint64_t nominal_mbps)
{
	buf[0] = '\0';
	if (nominal_mbps)
		snprintf(buf, len, ", %.0f%% of the link's nominal %.0f Gbit/s", 100.0 * gbps * 1000 / nominal_mbps,
			 nominal_mbps / 1000.0);
}

/* Uploads (@upload) or downloads @o->size bytes a request for @o->seconds. */
static int throughput(struct tether_conn *c, const struct bench_opts *o, bool upload, uint64_t nominal_mbps)
{
	uint8_t *chunk = malloc(CHUNK);
	char why[TETHER_LINK_TEXT_MAX + 16] = "", cmp[96];
	uint64_t bytes = 0, server_ns = 0;
	unsigned requests = 0;
	int err = 0;
	if (!chunk)
		return fail("throughput", -ENOMEM, "");
	for (size_t i = 0; i < CHUNK; i++)
		chunk[i] = (uint8_t)(i * 131 + 7);
	uint64_t start = tether_time_ns(), end = start + o->seconds * 1000000000ull;
	do {
		uint64_t ns;
		err = upload ? tether_link_sink(c, o->size, chunk, CHUNK, &ns, why, sizeof(why))
			     : tether_link_source(c, o->size, chunk, CHUNK, why, sizeof(why));
		if (err)
			break;
		server_ns += upload ? ns : 0;
		bytes += o->size;
		requests++;
	} while (tether_time_ns() < end);
	double secs = (tether_time_ns() - start) / 1e9;
	free(chunk);
	if (err)
		return fail(upload ? "upload" : "download", err, why);
	double gbps = bytes * 8 / secs / 1e9;
	versus(cmp, sizeof(cmp), gbps, nominal_mbps);
	printf("%-11s %.2f Gbit/s (%.1f MB in %.2f s, %u request(s) of %llu bytes)%s\n",
	       upload ? "upload:" : "download:", gbps, bytes / 1e6, secs, requests, (unsigned long long)o->size, cmp);
	if (upload && server_ns)
		printf("            the server received at %.2f Gbit/s\n", bytes * 8 / (server_ns / 1e9) / 1e9);
	return TETHER_EXIT_OK;
}

/* Connects a link-test channel to the server @o names (or locates one). */
static int open_channel(struct bench_opts *o, struct tether_conn **c, struct tether_handshake_result *hs)
{
	struct tether_tool_probe p;
	if (!o->tool.server) {
		if (tether_tool_reach("bench-link", &o->tool, &p) < 0)
			return TETHER_EXIT_FAIL;
		tether_tool_probe_free(&p);
	}
	/* As the ICD would: TLS to the server this client paired with. */
	struct tether_client_security sec;
	struct tether_client_info info;
	char why[512];
	int err = tether_client_security_load(o->tool.server, &sec, why, sizeof(why));
	if (err < 0) {
		fprintf(stderr, "tether bench-link: %s\n", why);
		return TETHER_EXIT_FAIL;
	}
	err = tether_client_connect(o->tool.server, &sec, NULL, c, &info);
	o->tls = sec.tls;
	snprintf(o->cipher, sizeof(o->cipher), "%s", info.cipher);
	tether_client_security_release(&sec);
	if (err < 0) {
		fprintf(stderr, "tether bench-link: %s\n", info.error);
		return TETHER_EXIT_FAIL;
	}
	tether_conn_set_timeout(*c, TETHER_LINK_IDLE_MS * 2);
	err = tether_handshake_client_link_test(*c, "tether bench-link", hs);
	if (err < 0) {
		if (strstr(hs->error, "unknown channel"))
			fprintf(stderr, "tether bench-link: tetherd at %s does not serve link tests (it predates them): %s\n",
				o->tool.server, hs->error);
		else
			fprintf(stderr, "tether bench-link: tetherd at %s refused: %s\n", o->tool.server,
				hs->error[0] ? hs->error : strerror(-err));
		tether_conn_close(*c);
		return TETHER_EXIT_FAIL;
	}
	return TETHER_EXIT_OK;
}

int tether_cmd_bench_link(int argc, char **argv)
{
	struct bench_opts o;
	struct tether_conn *c;
	struct tether_handshake_result hs;
	struct tether_tb_links links;
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (o.tool.help) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	int status = open_channel(&o, &c, &hs);
	if (status)
		return status;
	printf("bench-link: tetherd \"%s\" at %s\n", hs.peer_name, tether_conn_peer(c));
	printf("security:   %s%s\n",
	       o.tls ? "TLS 1.3, " : "plaintext", o.tls ? o.cipher : "");
	tether_handshake_result_free(&hs);
	tether_tb_links_find(&links);
	int li = tether_tool_link_of_peer(&links, tether_conn_peer(c));
	const struct tether_tb_link *l = li >= 0 ? &links.link[li] : NULL;
	if (l)
		printf("path:       Thunderbolt/USB4 link %s (%s, %s, nominal %llu Gbit/s out, %llu in)\n", l->device,
		       l->netdev, tether_tb_generation_name(l->generation),
		       (unsigned long long)tether_tb_link_tx_mbps(l) / 1000,
		       (unsigned long long)tether_tb_link_rx_mbps(l) / 1000);
	else
		printf("path:       not a Thunderbolt/USB4 link\n");
	status = round_trips(c, o.seconds);
	if (!status)
		status = throughput(c, &o, true, l ? tether_tb_link_tx_mbps(l) : 0);
	if (!status)
		status = throughput(c, &o, false, l ? tether_tb_link_rx_mbps(l) : 0);
	tether_conn_close(c);
	return status;
}
