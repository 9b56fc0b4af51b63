/* `tether unpair HOST|FINGERPRINT`: forget a paired server on this client.
 * Connections to that address are plaintext again (which a paired-only
 * tetherd refuses). The server still lists this client until its
 * administrator revokes it: the command says how. */
#include "tools/tool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "transport/tls.h"
#include "transport/trust.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tether unpair HOST[:PORT] | FINGERPRINT | NAME\n"
		"Forgets a server this client paired with (`tether paired` lists them).\n"
		"The server keeps listing this client until it is revoked there:\n"
		"  tetherd --revoke <this client's fingerprint, printed below>\n"
		"Exit status: 0 forgotten, 1 no such pairing or an error, 2 bad usage.\n");
}

int tether_cmd_unpair(int argc, char **argv)
{
	char dir[TETHER_PATH_MAX];
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (tether_client_config_dir(dir, sizeof(dir))) {
		fprintf(stderr, "tether unpair: no configuration directory: set HOME or TETHER_CONFIG_DIR\n");
		return TETHER_EXIT_FAIL;
	}
	struct tether_peer removed;
	int err = tether_peer_list_remove(dir, TETHER_PAIRED_SERVERS_FILE, argv[1], &removed);
	if (err == -ENOENT) {
		fprintf(stderr, "tether unpair: no paired server matches \"%s\" (see tether paired)\n", argv[1]);
		return TETHER_EXIT_FAIL;
	}
	if (err == -EEXIST) {
		fprintf(stderr, "tether unpair: several paired servers match \"%s\": give the fingerprint\n", argv[1]);
		return TETHER_EXIT_FAIL;
	}
	if (err) {
		fprintf(stderr, "tether unpair: cannot change %s/%s: %s\n", dir, TETHER_PAIRED_SERVERS_FILE, strerror(-err));
		return TETHER_EXIT_FAIL;
	}
	char fp[TETHER_FINGERPRINT_TEXT_SIZE], mine[TETHER_FINGERPRINT_TEXT_SIZE] = "";
	tether_fingerprint_format(&removed.fingerprint, fp);
	struct tether_tls_identity *id;
	if (!tether_tls_identity_load(dir, NULL, false, &id)) {
		tether_fingerprint_format(tether_tls_identity_fingerprint(id), mine);
		tether_tls_identity_free(id);
	}
	printf("forgot \"%s\" at %s (%s)\n", removed.name, removed.address[0] ? removed.address : "-", fp);
	if (mine[0])
		printf("to remove this client there too, run on that server: tetherd --revoke %s\n", mine);
	return TETHER_EXIT_OK;
}
