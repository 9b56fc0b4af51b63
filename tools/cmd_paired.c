/* `tether paired`: the servers this client is paired with, and this
 * client's own certificate fingerprint (what tetherd --list-clients shows
 * for it). */
#include "tools/tool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "transport/tls.h"
#include "transport/trust.h"

int tether_cmd_paired(int argc, char **argv)
{
	char dir[TETHER_PATH_MAX];
	if (argc > 1) {
		bool help = !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help");
		fprintf(help ? stdout : stderr,
			"usage: tether paired\n"
			"Lists the servers this client paired with (address, name, pinned certificate)\n"
			"and this client's own certificate fingerprint.\n");
		return help ? TETHER_EXIT_OK : TETHER_EXIT_USAGE;
	}
	if (tether_client_config_dir(dir, sizeof(dir))) {
		fprintf(stderr, "tether paired: no configuration directory: set HOME or TETHER_CONFIG_DIR\n");
		return TETHER_EXIT_FAIL;
	}
	struct tether_tls_identity *id;
	int err = tether_tls_identity_load(dir, NULL, false, &id);
	if (err == -ENOENT) {
		printf("this client has no identity yet (%s): `tether pair HOST` makes one\n", dir);
	} else if (err) {
		fprintf(stderr, "tether paired: cannot read this client's identity in %s: %s\n", dir, strerror(-err));
		return TETHER_EXIT_FAIL;
	} else {
		char fp[TETHER_FINGERPRINT_TEXT_SIZE];
		tether_fingerprint_format(tether_tls_identity_fingerprint(id), fp);
		printf("this client: %s (%s)\n", fp, dir);
		tether_tls_identity_free(id);
	}
	struct tether_peer_list l;
	err = tether_peer_list_load(dir, TETHER_PAIRED_SERVERS_FILE, &l);
	if (err) {
		fprintf(stderr, "tether paired: cannot read %s/%s: %s\n", dir, TETHER_PAIRED_SERVERS_FILE, strerror(-err));
		return TETHER_EXIT_FAIL;
	}
	if (!l.n)
		printf("no paired servers\n");
	for (size_t i = 0; i < l.n; i++) {
		char fp[TETHER_FINGERPRINT_TEXT_SIZE], when[32];
		tether_fingerprint_format(&l.v[i].fingerprint, fp);
		tether_format_time(l.v[i].paired_at, when);
		printf("%-22s %-20s %s  paired %s\n", l.v[i].address, l.v[i].name, fp, when);
	}
	tether_peer_list_free(&l);
	return TETHER_EXIT_OK;
}
