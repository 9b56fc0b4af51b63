/* Finding tetherd when TETHER_SERVER is not set (docs/LINK.md): the server
 * used last (a cache file), DNS-SD, then the default address, each server
 * reached over a Thunderbolt link in preference to another path. A locator
 * hands out candidates one at a time, so that the slow steps (a browse) run
 * only when the quick ones failed. Used by the ICD at vkCreateInstance and
 * by the tether tool; never on a hot path. */
#ifndef TETHER_LOCATE_H
#define TETHER_LOCATE_H

#include <stdbool.h>

#include "transport/conn.h"
#include "transport/discovery.h"
#include "transport/thunderbolt.h"

/* How long a cached or discovered address may take to connect: they are on
 * a local link or a LAN, where a connect takes far less; a stale one must
 * not hold an application's start-up for long. */
#define TETHER_LOCATE_CACHED_CONNECT_MS 1000
#define TETHER_LOCATE_FOUND_CONNECT_MS 2000

#define TETHER_LOCATE_ADDRESS_MAX (TETHER_ADDRESS_MAX_HOST + 16)

/* The cache file: the server the ICD last reached while locating. */
struct tether_server_cache {
	char address[TETHER_LOCATE_ADDRESS_MAX]; /* as tether_conn_connect() takes it */
	char instance[64];                       /* its DNS-SD instance name, or "" */
	char link[TETHER_TB_IFNAME_MAX];         /* the Thunderbolt netdev it was reached over, or "" */
};

/**
 * tether_server_cache_path() - where the cache file lives
 * $XDG_CACHE_HOME/tether/last-server, else ~/.cache/tether/last-server
 * (%LOCALAPPDATA%\tether\last-server on Windows).
 * Return: 0, -ENOENT when there is no such directory to name, -ENOSPC.
 */
int tether_server_cache_path(char *buf, size_t len);

/**
 * tether_server_cache_read() - read the cache file
 * The file is checked as any input: a bad address, an odd name or a line
 * that is too long makes the whole file ignored.
 * Return: 0; -ENOENT (no file), -EINVAL (ignored as malformed).
 */
int tether_server_cache_read(struct tether_server_cache *out);

/**
 * tether_server_cache_write() - replace the cache file (atomically on POSIX)
 * Creates the directory (private to the user). Return: 0 or negative errno.
 */
int tether_server_cache_write(const struct tether_server_cache *c);

enum tether_candidate_source {
	TETHER_CANDIDATE_CACHE = 1,     /* the server used last */
	TETHER_CANDIDATE_DISCOVERY = 2, /* found on DNS-SD */
	TETHER_CANDIDATE_DEFAULT = 3,   /* TETHER_DEFAULT_LISTEN */
};

/* One address to try. */
struct tether_candidate {
	char address[TETHER_LOCATE_ADDRESS_MAX];
	char instance[64];               /* DNS-SD instance, "" when not known */
	char link[TETHER_TB_IFNAME_MAX]; /* the Thunderbolt netdev it goes over, "" */
	int connect_timeout_ms;
	enum tether_candidate_source source;
};

#define TETHER_LOCATE_MAX_TRIED 64

struct tether_locator {
	/* Set by tether_locator_init(); a test may replace them before the first next(). */
	int browse_timeout_ms;      /* TETHER_DISCOVERY_TIMEOUT_MS, else TETHER_DISCOVERY_ICD_TIMEOUT_MS; 0: no DNS-SD */
	unsigned want_major;        /* protocol major of this build */
	int (*browse)(int timeout_ms, struct tether_discovery *out); /* tether_discovery_browse */
	const struct tether_tb_links *links; /* NULL: tether_tb_links_find() */
	/* State. */
	int phase;
	struct tether_server_cache cache;
	bool have_cache;
	struct tether_tb_links *links_found;
	struct tether_discovery *found;
	unsigned server, addr;      /* next discovered address to hand out */
	char tried[TETHER_LOCATE_MAX_TRIED][TETHER_LOCATE_ADDRESS_MAX];
	unsigned tried_count;
	int browse_result;          /* what the browse returned (1 before it ran) */
};

/**
 * tether_locator_init() - start locating a server
 * @want_major: TETHER_PROTOCOL_MAJOR of the caller (servers that advertise
 *              another one are tried last)
 */
void tether_locator_init(struct tether_locator *l, unsigned want_major);

/**
 * tether_locator_next() - the next address to try, best first
 *
 * Order: the cached server when it is as good as any (reached over a
 * Thunderbolt link that is still there, or no link has networking now);
 * then DNS-SD's servers as tether_discovery_rank() orders them (the cached
 * one first, Thunderbolt paths first); then the cached server if not tried
 * yet; then TETHER_DEFAULT_LISTEN. No address is handed out twice.
 * Return: true with @out filled, false when there is nothing left.
 */
bool tether_locator_next(struct tether_locator *l, struct tether_candidate *out);

/** tether_locator_done() - free what the locator holds. */
void tether_locator_done(struct tether_locator *l);

/**
 * tether_locator_remember() - the candidate worked: make it the cached server
 * Return: as tether_server_cache_write().
 */
int tether_locator_remember(const struct tether_candidate *c);

#endif /* TETHER_LOCATE_H */
