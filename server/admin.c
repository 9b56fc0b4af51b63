/*
 * tetherd's administration commands (admin.h): list the paired clients,
 * revoke one. They work on the state directory alone, so they need no
 * running tetherd; a running one sees the change at its next connection, and
 * the revoked client's live sessions end (server/revocation.c).
 */
#include "server/admin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "transport/trust.h"

int tether_srv_admin_list(const char *state_dir, FILE *out)
{
	struct tether_peer_list l;
	int err = tether_peer_list_load(state_dir, TETHER_PAIRED_CLIENTS_FILE, &l);
	if (err) {
		fprintf(stderr, "tetherd: cannot read %s/%s: %s\n", state_dir, TETHER_PAIRED_CLIENTS_FILE, strerror(-err));
		return 1;
	}
	if (!l.n)
		fprintf(out, "no paired clients (state directory %s)\n", state_dir);
	for (size_t i = 0; i < l.n; i++) {
		char fp[TETHER_FINGERPRINT_TEXT_SIZE], when[32];
		tether_fingerprint_format(&l.v[i].fingerprint, fp);
		tether_format_time(l.v[i].paired_at, when);
		fprintf(out, "%s  %s  %-15s  %s\n", fp, when, l.v[i].address[0] ? l.v[i].address : "-", l.v[i].name);
	}
	tether_peer_list_free(&l);
	return 0;
}

int tether_srv_admin_revoke(const char *state_dir, const char *what, FILE *out)
{
	struct tether_peer removed;
	int err = tether_peer_list_remove(state_dir, TETHER_PAIRED_CLIENTS_FILE, what, &removed);
	if (err == -ENOENT) {
		fprintf(stderr, "tetherd: no paired client matches \"%s\" (see tetherd --list-clients)\n", what);
		return 1;
	}
	if (err == -EEXIST) {
		fprintf(stderr, "tetherd: several paired clients match \"%s\": give its fingerprint "
				"(see tetherd --list-clients)\n", what);
		return 1;
	}
	if (err) {
		fprintf(stderr, "tetherd: cannot change %s/%s: %s\n", state_dir, TETHER_PAIRED_CLIENTS_FILE, strerror(-err));
		return 1;
	}
	char fp[TETHER_FINGERPRINT_TEXT_SIZE];
	tether_fingerprint_format(&removed.fingerprint, fp);
	fprintf(out, "revoked client \"%s\" (%s): it is refused from now on, and its live sessions end\n",
		removed.name, fp);
	return 0;
}
