/* `tether pair HOST[:PORT]`: pair this client with a tetherd, once. Makes
 * this client's identity on first use, connects with TLS (neither
 * certificate trusted yet), asks tetherd for a PIN, which tetherd shows on
 * its side, reads it from the user and proves it (protocol/pairing.h). On
 * success the server's certificate is pinned for that address: the ICD and
 * this tool then talk TLS 1.3 to it. */
#include "tools/tool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/pairing.h"
#include "transport/tls.h"
#include "transport/trust.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tether pair HOST[:PORT] [--name NAME] [--pin PIN]\n"
		"Pairs this client with the tetherd at HOST (default port %d), once: tetherd\n"
		"prints a %d-digit PIN for this request on its console (and its\n"
		"--pairing-pin-file); type it here. Afterwards every connection to HOST is\n"
		"TLS 1.3, both sides authenticated by the certificates this pinned.\n"
		"  --name NAME  how tetherd lists this client (default: this host's name)\n"
		"  --pin PIN    the PIN, instead of asking on standard input (tetherd keeps the\n"
		"               PIN of an interrupted request for this client until it expires)\n"
		"Identity and paired servers: $TETHER_CONFIG_DIR, else ~/.config/tether.\n"
		"Exit status: 0 paired, 1 not paired (wrong PIN, refused, unreachable), 2 bad usage.\n",
		TETHER_DEFAULT_PORT, TETHER_PIN_DIGITS);
}

struct pin_source {
	const char *given; /* --pin, or NULL: ask */
};

static int get_pin(void *ctx, const char *server_name, unsigned valid_s, char pin[TETHER_PIN_DIGITS + 1])
{
	const struct pin_source *src = ctx;
	if (src->given) {
		memcpy(pin, src->given, TETHER_PIN_DIGITS + 1); /* checked by parse() */
		return 0;
	}
	char line[64];
	printf("tetherd \"%s\" now shows a PIN for this request (valid %u s).\nPIN: ", server_name, valid_s);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return -ECANCELED;
	line[strcspn(line, "\r\n")] = '\0';
	int ok = strlen(line) == TETHER_PIN_DIGITS;
	if (ok)
		memcpy(pin, line, TETHER_PIN_DIGITS + 1);
	memset(line, 0, sizeof(line));
	/* Anything else is refused by the caller as not a PIN. */
	if (!ok)
		snprintf(pin, TETHER_PIN_DIGITS + 1, "x");
	return 0;
}

struct pair_args {
	const char *addr, *name, *pin;
};

static int parse(int argc, char **argv, struct pair_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--name") || !strcmp(argv[i], "--pin")) && i + 1 < argc) {
			*(argv[i][2] == 'n' ? &a->name : &a->pin) = argv[i + 1];
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return 1;
		} else if (argv[i][0] != '-' && !a->addr) {
			a->addr = argv[i];
		} else {
			fprintf(stderr, "tether pair: unexpected '%s'\n", argv[i]);
			return -EINVAL;
		}
	}
	if (!a->addr) {
		fprintf(stderr, "tether pair: which server? (HOST[:PORT])\n");
		return -EINVAL;
	}
	if (a->pin && !tether_pairing_valid_pin(a->pin)) {
		fprintf(stderr, "tether pair: a PIN is %d digits\n", TETHER_PIN_DIGITS);
		return -EINVAL;
	}
	return 0;
}

/* Connects and runs the TLS handshake for pairing: any server certificate,
 * which the PIN exchange then authenticates. */
static int connect_for_pairing(const char *addr, struct tether_tls_identity *id, struct tether_conn **out,
			       struct tether_tls_peer *peer)
{
	struct tether_tls_context *ctx;
	struct tether_conn *c;
	int err = tether_tls_context_new(id, TETHER_TLS_CLIENT, NULL, &ctx);
	if (err)
		return err;
	err = tether_conn_connect(addr, &c);
	if (err) {
		fprintf(stderr, "tether pair: cannot reach tetherd at %s: %s\n", addr, strerror(-err));
	} else if ((err = tether_tls_client_start(c, ctx, TETHER_ALPN_PAIRING, NULL, peer)) != 0) {
		fprintf(stderr, "tether pair: TLS with %s failed: %s\n", addr, peer->error);
		tether_conn_close(c);
	} else {
		*out = c;
	}
	tether_tls_context_free(ctx);
	return err;
}

static int pair(const struct pair_args *a, const char *addr, const char *dir, struct tether_tls_identity *id)
{
	struct tether_conn *c;
	struct tether_tls_peer peer;
	struct pin_source src = {a->pin};
	struct tether_pairing_outcome out;
	char host[TETHER_PEER_NAME_MAX + 1] = "", server_fp[TETHER_FINGERPRINT_TEXT_SIZE];
	if (connect_for_pairing(addr, id, &c, &peer))
		return TETHER_EXIT_FAIL;
	tether_fingerprint_format(&peer.fingerprint, server_fp);
	printf("server %s: certificate %s (\"%s\")\n", addr, server_fp, peer.common_name);
	if (!a->name && gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "tether client");
	struct tether_pairing_peers peers = {.client = *tether_tls_identity_fingerprint(id), .server = peer.fingerprint};
	/* The user may take a while to read the PIN: tetherd holds it for as long as it is valid. */
	tether_conn_set_timeout(c, (TETHER_PAIRING_PIN_VALID_S + 10) * 1000);
	int err = tether_pairing_client(c, &peers, a->name ? a->name : host, get_pin, &src, &out);
	tether_conn_close(c);
	if (err) {
		fprintf(stderr, "tether pair: not paired with %s: %s\n", addr, out.text);
		return TETHER_EXIT_FAIL;
	}
	struct tether_peer entry = {.fingerprint = peer.fingerprint, .paired_at = (int64_t)time(NULL)};
	snprintf(entry.address, sizeof(entry.address), "%s", addr);
	tether_peer_sanitize(out.server_name, entry.name);
	err = tether_peer_list_add(dir, TETHER_PAIRED_SERVERS_FILE, &entry, true);
	if (err) {
		fprintf(stderr, "tether pair: paired, but %s/%s cannot be written: %s\n", dir, TETHER_PAIRED_SERVERS_FILE,
			strerror(-err));
		return TETHER_EXIT_FAIL;
	}
	printf("paired with \"%s\" at %s: connections to it are now TLS 1.3, pinned to %s\n", entry.name, addr,
	       server_fp);
	return TETHER_EXIT_OK;
}

int tether_cmd_pair(int argc, char **argv)
{
	struct pair_args a;
	char addr[TETHER_PEER_ADDRESS_MAX + 1], dir[TETHER_PATH_MAX], cn[TETHER_PEER_NAME_MAX + 32], host[64] = "";
	int r = parse(argc, argv, &a);
	if (r) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? TETHER_EXIT_OK : TETHER_EXIT_USAGE;
	}
	struct tether_address parsed;
	if (tether_address_normalize(a.addr, addr, sizeof(addr)) || tether_address_parse(addr, &parsed) ||
	    parsed.kind != TETHER_ADDRESS_TCP) {
		fprintf(stderr, "tether pair: %s is not HOST[:PORT] (Unix sockets need no pairing)\n", a.addr);
		return TETHER_EXIT_USAGE;
	}
	if (tether_client_config_dir(dir, sizeof(dir))) {
		fprintf(stderr, "tether pair: no configuration directory: set HOME or TETHER_CONFIG_DIR\n");
		return TETHER_EXIT_FAIL;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(cn, sizeof(cn), "tether client on %s", host);
	struct tether_tls_identity *id;
	r = tether_tls_identity_load(dir, cn, true, &id);
	if (r) {
		fprintf(stderr, "tether pair: cannot use this client's identity in %s: %s\n", dir, strerror(-r));
		return TETHER_EXIT_FAIL;
	}
	r = pair(&a, addr, dir, id);
	tether_tls_identity_free(id);
	return r;
}
