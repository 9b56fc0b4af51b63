/* What the tether subcommands share: the --server option and reaching a
 * server (connect + HELLO/WELCOME), timed, with failures explained in words a
 * user can act on; without a server named, locating one as the ICD does. */
#include "tools/tool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tether_wire.h"
#include "transport/client_connect.h"
#include "transport/conn.h"
#include "transport/locate.h"
#include "transport/platform/platform.h"

static const char *default_server(void)
{
	const char *env = tether_getenv("TETHER_SERVER");
	return env && *env ? env : NULL;
}

int tether_tool_parse_opts(int argc, char **argv, struct tether_tool_opts *out)
{
	out->server = default_server();
	out->help = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			out->help = 1;
		} else if (!strcmp(a, "--server") || !strcmp(a, "-s")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tether %s: %s needs an address\n", argv[0], a);
				return -EINVAL;
			}
			out->server = argv[++i];
		} else if (!strncmp(a, "--server=", 9)) {
			out->server = a + 9;
		} else {
			fprintf(stderr, "tether %s: unknown option '%s' (try tether %s --help)\n",
				argv[0], a, argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

/* The failure in words, with the likely fix. */
static void explain_connect_error(const char *cmd, const char *addr, int err)
{
	const char *hint = "";
	switch (err) {
	case -EINVAL:
		hint = " (addresses look like HOST:PORT, [IPV6]:PORT or unix:PATH)";
		break;
	case -ECONNREFUSED:
	case -ENOENT:
		hint = " (is tetherd running there?)";
		break;
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
		hint = " (check the address and the link)";
		break;
	}
	fprintf(stderr, "tether %s: cannot reach tetherd at %s: %s%s\n", cmd, addr, strerror(-err),
		hint);
}

static void explain_handshake_error(const char *cmd, const char *addr, int err,
				    const struct tether_handshake_result *hs)
{
	if (err == -ECONNREFUSED && strstr(hs->error, "pairing"))
		fprintf(stderr, "tether %s: %s refused us: %s\n", cmd, addr, hs->error);
	else if (err == -EPROTONOSUPPORT)
		fprintf(stderr, "tether %s: %s speaks tether protocol %u.x, this build %u.x: %s\n", cmd,
			addr, hs->peer_major, TETHER_PROTOCOL_MAJOR, hs->error);
	else if (err == -EPROTO)
		fprintf(stderr, "tether %s: %s answered, but not as a tetherd that accepts us%s%s\n",
			cmd, addr, hs->error[0] ? ": " : "", hs->error);
	else
		fprintf(stderr, "tether %s: handshake with %s failed: %s\n", cmd, addr, strerror(-err));
}

/* Connect to @addr (TLS when this client paired with it) and shake hands;
 * @quiet: say nothing on failure. */
static int probe(const char *cmd, const char *addr, int timeout_ms, bool quiet, struct tether_tool_probe *out)
{
	struct tether_conn *c;
	struct tether_client_security sec;
	struct tether_client_info info;
	char why[512];
	memset(out, 0, sizeof(*out));
	int r = tether_client_security_load(addr, &sec, why, sizeof(why));
	if (r < 0) {
		if (!quiet)
			fprintf(stderr, "tether %s: %s\n", cmd, why);
		return r;
	}
	uint64_t t0 = tether_time_ns();
	r = tether_client_connect_timeout(addr, &sec, NULL, timeout_ms, &c, &info);
	uint64_t t1 = tether_time_ns();
	out->tls = sec.tls;
	snprintf(out->cipher, sizeof(out->cipher), "%s", info.cipher);
	tether_client_security_release(&sec);
	if (r < 0) {
		/* Reached, but TLS failed (not the paired server, say): its own words. */
		if (quiet)
			;
		else if (out->tls && strncmp(info.error, "cannot reach", 12))
			fprintf(stderr, "tether %s: %s\n", cmd, info.error);
		else
			explain_connect_error(cmd, addr, r);
		return r;
	}
	/* Something that accepts but never answers must not hang the tool. */
	tether_conn_set_timeout(c, TETHER_CONNECT_TIMEOUT_MS);
	r = tether_handshake_client(c, "tether-cli", tether_carried_extensions,
				    tether_carried_extension_count, &out->hs);
	uint64_t t2 = tether_time_ns();
	snprintf(out->peer, sizeof(out->peer), "%s", tether_conn_peer(c));
	tether_conn_close(c);
	if (r < 0) {
		if (!quiet)
			explain_handshake_error(cmd, addr, r, &out->hs);
		tether_handshake_result_free(&out->hs);
		return r;
	}
	out->connect_ns = t1 - t0;
	out->handshake_ns = t2 - t1;
	return 0;
}

int tether_tool_probe(const char *cmd, const char *addr, struct tether_tool_probe *out)
{
	return probe(cmd, addr, 0, false, out);
}

int tether_tool_reach(const char *cmd, struct tether_tool_opts *opts, struct tether_tool_probe *out)
{
	static char located[TETHER_LOCATE_ADDRESS_MAX];
	if (opts->server) {
		int r = probe(cmd, opts->server, 0, false, out);
		out->how = tether_getenv("TETHER_SERVER") == opts->server ? "TETHER_SERVER" : "--server";
		return r;
	}
	struct tether_locator loc;
	struct tether_candidate cand;
	unsigned tries = 0;
	int r = -ENOENT;
	tether_locator_init(&loc, TETHER_PROTOCOL_MAJOR);
	while (r < 0 && tether_locator_next(&loc, &cand)) {
		tries++;
		r = probe(cmd, cand.address, cand.connect_timeout_ms, true, out);
	}
	tether_locator_done(&loc);
	if (r < 0) {
		fprintf(stderr, "tether %s: no tetherd found (%u address(es) tried: the cached server, DNS-SD, %s); "
			"name one with --server or TETHER_SERVER\n", cmd, tries, TETHER_DEFAULT_LISTEN);
		return r;
	}
	snprintf(located, sizeof(located), "%s", cand.address);
	opts->server = located;
	out->how = cand.source == TETHER_CANDIDATE_CACHE ? "the cached last server"
		   : cand.source == TETHER_CANDIDATE_DISCOVERY ? "found on DNS-SD" : "the default address";
	return 0;
}

int tether_tool_link_of_peer(const struct tether_tb_links *links, const char *peer)
{
	char host[TETHER_LOCATE_ADDRESS_MAX];
	struct tether_address a;
	if (tether_address_parse(peer, &a) || a.kind != TETHER_ADDRESS_TCP)
		return -1;
	snprintf(host, sizeof(host), "%s", a.host);
	return tether_tb_link_of_address(links, host, NULL);
}

void tether_tool_probe_free(struct tether_tool_probe *p)
{
	tether_handshake_result_free(&p->hs);
}
