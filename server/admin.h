/* tetherd --list-clients and --revoke: the paired-clients list of a state
 * directory, shown and changed (docs/SECURITY.md). */
#ifndef TETHER_SERVER_ADMIN_H
#define TETHER_SERVER_ADMIN_H

#include <stdio.h>

/** tether_srv_admin_list() - print the paired clients. Return: exit status (0, 1). */
int tether_srv_admin_list(const char *state_dir, FILE *out);

/**
 * tether_srv_admin_revoke() - remove the client @what names
 * @what: a fingerprint (or 8+ hex digits of it) or a name; a name several
 *        clients share is refused
 * Return: exit status (0, 1), the reason on stderr.
 */
int tether_srv_admin_revoke(const char *state_dir, const char *what, FILE *out);

#endif /* TETHER_SERVER_ADMIN_H */
