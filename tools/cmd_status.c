/* `tether status`: is tetherd reachable, how far away is it, and over what?
 * One connect and one HELLO/WELCOME round trip, timed, and this machine's
 * Thunderbolt/USB4 links with their speed; exit 0 when reachable, 1 if not. */
#include "tools/tool.h"

#include <stdio.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tether status [--server ADDR]\n"
		"Connects to tetherd, shakes hands and reports the round-trip time, the\n"
		"path taken and this machine's Thunderbolt/USB4 host-to-host links.\n"
		"  --server ADDR  HOST:PORT, [IPV6]:PORT or unix:PATH\n"
		"                 (default: $TETHER_SERVER, else located as the ICD does:\n"
		"                 the cached last server, DNS-SD, " TETHER_DEFAULT_LISTEN ")\n"
		"TETHER_SYSFS_ROOT reads another sysfs than /sys.\n"
		"Exit status: 0 reachable, 1 unreachable or refused, 2 bad usage.\n");
}

static void print_links(const struct tether_tb_links *links, int supported)
{
	char line[512];
	if (!supported) {
		printf("links:   Thunderbolt/USB4 links are not detected on this platform\n");
		return;
	}
	if (!links->count) {
		printf("links:   no Thunderbolt/USB4 host-to-host link%s\n",
		       links->bus_present ? "" : " (no Thunderbolt bus in sysfs)");
		return;
	}
	for (unsigned i = 0; i < links->count; i++)
		printf("link:    %s %s\n", links->link[i].device,
		       tether_tb_link_describe(&links->link[i], line, sizeof(line)));
}

static void print_path(const struct tether_tb_links *links, const char *peer)
{
	int i = tether_tool_link_of_peer(links, peer);
	if (i < 0) {
		printf("path:    %s, not over a Thunderbolt/USB4 link\n", peer);
		return;
	}
	const struct tether_tb_link *l = &links->link[i];
	printf("path:    %s over the Thunderbolt/USB4 link %s (%s, %s)\n", peer, l->device, l->netdev,
	       tether_tb_generation_name(l->generation));
}

int tether_cmd_status(int argc, char **argv)
{
	struct tether_tool_opts opts;
	struct tether_tb_links links;
	if (tether_tool_parse_opts(argc, argv, &opts) < 0) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (opts.help) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	int supported = tether_tb_links_find(&links) == 0;
	struct tether_tool_probe p;
	if (tether_tool_reach("status", &opts, &p) < 0) {
		print_links(&links, supported);
		return TETHER_EXIT_FAIL;
	}
	printf("tetherd at %s is reachable: \"%s\", protocol %u.%u (%s)\n", opts.server, p.hs.peer_name,
	       (unsigned)p.hs.peer_major, (unsigned)p.hs.peer_minor, p.how);
	printf("connect %.3f ms%s, handshake round trip %.3f ms\n", p.connect_ns / 1e6,
	       p.tls ? " (with the TLS handshake)" : "", p.handshake_ns / 1e6);
	printf("security: %s%s\n", p.tls ? "TLS 1.3, pinned to the paired server, " : "plaintext",
	       p.tls ? p.cipher : "");
	print_path(&links, p.peer);
	print_links(&links, supported);
	tether_tool_probe_free(&p);
	return TETHER_EXIT_OK;
}
