/* `tether status`: is tetherd reachable, and how far away is it? One connect
 * and one HELLO/WELCOME round trip, timed; exit 0 when reachable, 1 if not. */
#include "tools/tool.h"

#include <stdio.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tether status [--server ADDR]\n"
		"Connects to tetherd, shakes hands and reports the round-trip time.\n"
		"  --server ADDR  HOST:PORT, [IPV6]:PORT or unix:PATH\n"
		"                 (default: $TETHER_SERVER, else " TETHER_DEFAULT_LISTEN ")\n"
		"Exit status: 0 reachable, 1 unreachable or refused, 2 bad usage.\n");
}

int tether_cmd_status(int argc, char **argv)
{
	struct tether_tool_opts opts;
	if (tether_tool_parse_opts(argc, argv, &opts) < 0) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (opts.help) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	struct tether_tool_probe p;
	if (tether_tool_probe("status", opts.server, &p) < 0)
		return TETHER_EXIT_FAIL;
	printf("tetherd at %s is reachable: \"%s\", protocol %u.%u\n", opts.server, p.hs.peer_name,
	       (unsigned)p.hs.peer_major, (unsigned)p.hs.peer_minor);
	printf("connect %.3f ms%s, handshake round trip %.3f ms\n", p.connect_ns / 1e6,
	       p.tls ? " (with the TLS handshake)" : "", p.handshake_ns / 1e6);
	printf("link: %s%s\n", p.tls ? "TLS 1.3, pinned to the paired server, " : "plaintext",
	       p.tls ? p.cipher : "");
	tether_tool_probe_free(&p);
	return TETHER_EXIT_OK;
}
