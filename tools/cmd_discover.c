/* `tether discover`: the tetherd servers DNS-SD knows of, in the order the
 * ICD would try them, each with what its TXT record says and its addresses,
 * the one over a Thunderbolt/USB4 link marked. Exit 0 when one is found. */
#include "tools/tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/discovery.h"
#include "transport/locate.h"

#define DISCOVER_DEFAULT_TIMEOUT_MS 3000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tether discover [--timeout MS]\n"
		"Lists the tetherd servers advertised on DNS-SD (%s), best first: the\n"
		"one used last, then those reachable over a Thunderbolt/USB4 link.\n"
		"  --timeout MS   browse at most this long (default %d, at most %d)\n"
		"Needs avahi-daemon. Exit status: 0 found, 1 none found or no DNS-SD, 2 bad usage.\n",
		TETHER_DISCOVERY_SERVICE_TYPE, DISCOVER_DEFAULT_TIMEOUT_MS, TETHER_DISCOVERY_MAX_TIMEOUT_MS);
}

static int parse_args(int argc, char **argv, int *timeout_ms, int *help)
{
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			*help = 1;
			continue;
		}
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--timeout=", 10))
			v = argv[i] + 10;
		char *end;
		long ms = v ? strtol(v, &end, 10) : -1;
		if (!v || *end || !*v || ms < 1 || ms > TETHER_DISCOVERY_MAX_TIMEOUT_MS) {
			fprintf(stderr, "tether discover: %s %s: expected --timeout MS (1..%d)\n", argv[i], v ? v : "",
				TETHER_DISCOVERY_MAX_TIMEOUT_MS);
			return -EINVAL;
		}
		*timeout_ms = (int)ms;
	}
	return 0;
}

static void print_server(const struct tether_discovered_server *s, const struct tether_tb_links *links, bool last,
			 bool best)
{
	printf("tetherd \"%s\"%s%s\n", s->instance, best ? " (tried first)" : "", last ? " (used last)" : "");
	printf("  host      %s port %u\n", s->host[0] ? s->host : "?", (unsigned)s->port);
	printf("  gpu       %s", s->gpu[0] ? s->gpu : "(not said)");
	if (s->gpu_count > 1)
		printf(" and %u more", s->gpu_count - 1);
	printf("\n");
	if (s->has_proto)
		printf("  protocol  %u.%u%s\n", s->proto_major, s->proto_minor,
		       s->proto_major == TETHER_PROTOCOL_MAJOR ? "" : " (this build cannot talk to it)");
	else
		printf("  protocol  (not said)\n");
	printf("  name      %s\n", s->server_name[0] ? s->server_name : "(not said)");
	printf("  pairing   %s\n", s->pairing == 1 ? "required" : s->pairing == 0 ? "not required" : "(not said)");
	for (unsigned i = 0; i < s->addr_count; i++) {
		const struct tether_discovered_addr *a = &s->addrs[i];
		printf("  address   %s", a->ip);
		if (a->ifname[0])
			printf(" on %s", a->ifname);
		if (a->tb_link >= 0)
			printf(" [Thunderbolt/USB4 link %s%s]", links->link[a->tb_link].device, i == 0 ? ", preferred" : "");
		printf("\n");
	}
}

int tether_cmd_discover(int argc, char **argv)
{
	int timeout_ms = DISCOVER_DEFAULT_TIMEOUT_MS, help = 0;
	if (parse_args(argc, argv, &timeout_ms, &help) < 0) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (help) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	struct tether_discovery *d = calloc(1, sizeof(*d));
	struct tether_tb_links *links = calloc(1, sizeof(*links));
	struct tether_server_cache cache;
	if (!d || !links) {
		free(d);
		free(links);
		fprintf(stderr, "tether discover: out of memory\n");
		return TETHER_EXIT_FAIL;
	}
	tether_tb_links_find(links);
	bool have_cache = tether_server_cache_read(&cache) == 0 && cache.instance[0];
	int r = tether_discovery_browse(timeout_ms, d);
	if (r == -ENOTSUP)
		fprintf(stderr, "tether discover: no DNS-SD client here (Avahi's libavahi-client is not installed)\n");
	else if (r == -ECONNREFUSED)
		fprintf(stderr, "tether discover: avahi-daemon is not running (or no system D-Bus)\n");
	else if (r < 0)
		fprintf(stderr, "tether discover: browsing failed: %s\n", strerror(-r));
	tether_discovery_rank(d, links, have_cache ? cache.instance : NULL, TETHER_PROTOCOL_MAJOR);
	if (!r && !d->count)
		printf("no tetherd found on DNS-SD in %d ms\n", timeout_ms);
	for (unsigned i = 0; i < d->count; i++) {
		if (i)
			printf("\n");
		print_server(&d->servers[i], links, have_cache && !strcmp(cache.instance, d->servers[i].instance),
			     i == 0 && d->count > 1);
	}
	int status = !r && d->count ? TETHER_EXIT_OK : TETHER_EXIT_FAIL;
	free(d);
	free(links);
	return status;
}
