/* Who trusts whom: the directories where each side keeps its identity and
 * its list of paired peers, and those lists (a client's paired servers,
 * tetherd's paired clients). Lists are small text files, one peer a line,
 * replaced atomically under a lock file so that concurrent tetherd processes
 * and admin commands never lose or half-write an entry. POSIX only. */
#ifndef TETHER_TRUST_H
#define TETHER_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/conn.h"
#include "transport/tls.h"

#define TETHER_PATH_MAX 4096

#define TETHER_PAIRED_CLIENTS_FILE "paired-clients" /* in tetherd's state directory */
#define TETHER_PAIRED_SERVERS_FILE "paired-servers" /* in the client's configuration directory */
#define TETHER_PEER_NAME_MAX 64
#define TETHER_PEER_ADDRESS_MAX (TETHER_ADDRESS_MAX_HOST + 8)
/* A list longer than this is refused as damaged (or hostile). */
#define TETHER_PEER_LIST_MAX 4096

/**
 * tether_client_config_dir() - where a client keeps its identity and paired servers
 * $TETHER_CONFIG_DIR, else $XDG_CONFIG_HOME/tether, else $HOME/.config/tether.
 * Return: 0, or -ENOENT when none of them is set, -ENAMETOOLONG.
 */
int tether_client_config_dir(char *buf, size_t len);

/**
 * tether_server_state_dir() - tetherd's default state directory
 * /var/lib/tether for root, else $XDG_STATE_HOME/tether, else
 * $HOME/.local/state/tether. Return: 0, -ENOENT or -ENAMETOOLONG.
 */
int tether_server_state_dir(char *buf, size_t len);

/**
 * tether_private_dir_create() - make @dir and its missing parents; @dir itself 0700
 * An existing @dir is kept as it is. Return: 0 or negative errno (logged).
 */
int tether_private_dir_create(const char *dir);

/** tether_fsync_dir() - make a rename or link in @dir durable (best effort). */
void tether_fsync_dir(const char *dir);

/**
 * tether_dir_lock() - take @dir's lock file (exclusive flock, blocking)
 * Return: the lock's descriptor for tether_dir_unlock(), or negative errno.
 */
int tether_dir_lock(const char *dir);
void tether_dir_unlock(int fd);

/**
 * tether_file_replace() - write @len bytes as @dir/@name, atomically, mode 0600
 * Written to a temporary file, synced and renamed over the old one: readers
 * see the old or the new content, never a mix. Call with the lock held.
 * Return: 0 or negative errno.
 */
int tether_file_replace(const char *dir, const char *name, const void *data, size_t len);

/* One paired peer: a line of a list. */
struct tether_peer {
	struct tether_fingerprint fingerprint;
	int64_t paired_at;                          /* Unix time */
	char address[TETHER_PEER_ADDRESS_MAX + 1];  /* servers: where we reach it; clients: where it paired from; "" */
	char name[TETHER_PEER_NAME_MAX + 1];        /* printable ASCII, shown to people */
};

struct tether_peer_list {
	struct tether_peer *v;
	size_t n;
};

/**
 * tether_peer_list_load() - read @dir/@name
 * A missing file is an empty list. Malformed lines are skipped with a
 * warning (an entry that cannot be read trusts nobody).
 * Return: 0, -EFBIG (larger than TETHER_PEER_LIST_MAX entries or 1 MiB),
 * or negative errno.
 */
int tether_peer_list_load(const char *dir, const char *name, struct tether_peer_list *out);

/** tether_peer_list_free() - release the entries; the list is empty after. */
void tether_peer_list_free(struct tether_peer_list *l);

/** tether_peer_list_find() - the entry pinned to @fp, or NULL. */
const struct tether_peer *tether_peer_list_find(const struct tether_peer_list *l, const struct tether_fingerprint *fp);

/** tether_peer_list_find_address() - the entry for @address (normalised first), or NULL. */
const struct tether_peer *tether_peer_list_find_address(const struct tether_peer_list *l, const char *address);

/**
 * tether_peer_list_add() - add @p to @dir/@name, or replace the entry with its fingerprint
 * @same_address_replaces: also drop other entries with @p's address (a
 *                         client's list: one pinned server per address)
 * Under the directory's lock; written atomically.
 * Return: 0 or negative errno.
 */
int tether_peer_list_add(const char *dir, const char *name, const struct tether_peer *p, bool same_address_replaces);

/**
 * tether_peer_list_remove() - remove the entry @what names from @dir/@name
 * @what: a fingerprint ("SHA256:" and at least 8 hex digits of it), a name
 *        or an address, matched in that order
 * @removed: the entry removed
 * Return: 0; -ENOENT when nothing matches; -EEXIST when several entries
 * match (nothing removed; give the fingerprint); or negative errno.
 */
int tether_peer_list_remove(const char *dir, const char *name, const char *what, struct tether_peer *removed);

/**
 * tether_peer_sanitize() - make @in fit a peer name: printable ASCII without
 * tabs, at most TETHER_PEER_NAME_MAX bytes, "unnamed" when empty
 */
void tether_peer_sanitize(const char *in, char out[TETHER_PEER_NAME_MAX + 1]);

/** tether_format_time() - "2026-05-01T10:00:00Z" for @t. */
void tether_format_time(int64_t t, char out[32]);

#endif /* TETHER_TRUST_H */
