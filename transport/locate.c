/* Finding tetherd when TETHER_SERVER is unset (locate.h): the cache file of
 * the server used last, DNS-SD and the default, in that order of cost. */
#include "transport/locate.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _WIN32
#include <direct.h>
#include <process.h>
#define getpid _getpid
#else
#include <unistd.h>
#endif

#define CACHE_FILE_MAX 4096
#define CACHE_HEADER "# tether: the server the ICD reached last (safe to delete)\n"

enum {
	PHASE_START,
	PHASE_DISCOVERY,
	PHASE_CACHE_LATE,
	PHASE_DEFAULT,
	PHASE_END,
};

/* ---- the cache file ---- */

static int cache_dir(char *buf, size_t len)
{
	int n;
#ifdef _WIN32
	const char *base = tether_getenv("LOCALAPPDATA");
	if (!base || !*base)
		return -ENOENT;
	n = snprintf(buf, len, "%s\\tether", base);
#else
	const char *xdg = tether_getenv("XDG_CACHE_HOME");
	const char *home = tether_getenv("HOME");
	/* The XDG base directory spec: a relative XDG_CACHE_HOME is invalid, ignore it. */
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/tether", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/tether", home);
	else
		return -ENOENT;
#endif
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int tether_server_cache_path(char *buf, size_t len)
{
	int err = cache_dir(buf, len);
	if (err)
		return err;
	size_t used = strlen(buf);
#ifdef _WIN32
	int n = snprintf(buf + used, len - used, "\\last-server");
#else
	int n = snprintf(buf + used, len - used, "/last-server");
#endif
	return n < 0 || (size_t)n >= len - used ? -ENOSPC : 0;
}

static bool printable(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static bool is_ifname(const char *s)
{
	size_t n = strlen(s);
	return n < TETHER_TB_IFNAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* One "key=value" line into @c; false for anything unexpected. */
static bool cache_line(struct tether_server_cache *c, char *line)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return false;
	*eq = '\0';
	const char *v = eq + 1;
	if (!strcmp(line, "address")) {
		struct tether_address a;
		if (strlen(v) >= sizeof(c->address) || tether_address_parse(v, &a))
			return false;
		strcpy(c->address, v);
	} else if (!strcmp(line, "instance")) {
		if (!printable(v, sizeof(c->instance) - 1))
			return false;
		strcpy(c->instance, v);
	} else if (!strcmp(line, "link")) {
		if (!is_ifname(v))
			return false;
		strcpy(c->link, v);
	}
	/* Other keys: written by a later version, ignored. */
	return true;
}

int tether_server_cache_read(struct tether_server_cache *out)
{
	char path[1024], text[CACHE_FILE_MAX + 1];
	memset(out, 0, sizeof(*out));
	if (tether_server_cache_path(path, sizeof(path)))
		return -ENOENT;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -ENOENT;
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (n > CACHE_FILE_MAX || memchr(text, '\0', n))
		goto bad;
	text[n] = '\0';
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		if (!cache_line(out, line))
			goto bad;
	}
	if (!out->address[0])
		goto bad;
	return 0;
bad:
	TETHER_LOGW("locate", "ignoring %s: not a server cache this version wrote", path);
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

static int make_dir(const char *path)
{
#ifdef _WIN32
	int r = _mkdir(path);
#else
	int r = mkdir(path, 0700);
#endif
	return r && errno != EEXIST ? -errno : 0;
}

static char *last_separator(char *path)
{
	char *sep = strrchr(path, '/');
#ifdef _WIN32
	char *bsep = strrchr(path, '\\');
	if (!sep || (bsep && bsep > sep))
		sep = bsep;
#endif
	return sep;
}

/* The cache directory and its parent (~/.cache may not exist yet). */
static int make_dirs(char *dir)
{
	int err = make_dir(dir);
	if (err != -ENOENT)
		return err;
	char *sep = last_separator(dir);
	if (!sep || sep == dir)
		return err;
	char saved = *sep;
	*sep = '\0';
	err = make_dir(dir);
	*sep = saved;
	return err ? err : make_dir(dir);
}

int tether_server_cache_write(const struct tether_server_cache *c)
{
	char dir[1024], path[1100], tmp[1200];
	int err = cache_dir(dir, sizeof(dir));
	if (!err)
		err = tether_server_cache_path(path, sizeof(path));
	if (err)
		return err;
	if (!c->address[0] || !printable(c->instance, sizeof(c->instance) - 1) || !is_ifname(c->link))
		return -EINVAL;
	err = make_dirs(dir);
	if (err)
		return err;
	/* Unique per process and call: two instances created at once write apart. */
	static atomic_uint serial;
	snprintf(tmp, sizeof(tmp), "%s.%ld.%u.tmp", path, (long)getpid(), atomic_fetch_add(&serial, 1));
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return -errno;
	int bad = fprintf(f, CACHE_HEADER "address=%s\ninstance=%s\nlink=%s\n", c->address, c->instance, c->link) < 0;
	bad |= fclose(f) != 0;
#ifdef _WIN32
	remove(path); /* rename() does not replace on Windows */
#endif
	if (bad || rename(tmp, path)) {
		err = -(errno ? errno : EIO);
		remove(tmp);
		return err;
	}
	return 0;
}

/* ---- the locator ---- */

static int browse_timeout_from_env(void)
{
	const char *v = tether_getenv("TETHER_DISCOVERY_TIMEOUT_MS");
	if (!v || !*v)
		return TETHER_DISCOVERY_ICD_TIMEOUT_MS;
	char *end;
	long ms = strtol(v, &end, 10);
	if (*end || ms < 0 || ms > TETHER_DISCOVERY_MAX_TIMEOUT_MS) {
		TETHER_LOGW("locate", "TETHER_DISCOVERY_TIMEOUT_MS=%s is not 0..%d: using %d", v,
			    TETHER_DISCOVERY_MAX_TIMEOUT_MS, TETHER_DISCOVERY_ICD_TIMEOUT_MS);
		return TETHER_DISCOVERY_ICD_TIMEOUT_MS;
	}
	return (int)ms;
}

void tether_locator_init(struct tether_locator *l, unsigned want_major)
{
	memset(l, 0, sizeof(*l));
	l->browse_timeout_ms = browse_timeout_from_env();
	l->want_major = want_major;
	l->browse = tether_discovery_browse;
	l->phase = PHASE_START;
	l->browse_result = 1;
}

void tether_locator_done(struct tether_locator *l)
{
	free(l->links_found);
	free(l->found);
	l->links_found = NULL;
	l->found = NULL;
}

static const struct tether_tb_links *links_of(struct tether_locator *l)
{
	if (l->links)
		return l->links;
	if (!l->links_found) {
		l->links_found = calloc(1, sizeof(*l->links_found));
		if (l->links_found)
			tether_tb_links_find(l->links_found);
	}
	return l->links_found;
}

static bool tried(struct tether_locator *l, const char *address)
{
	for (unsigned i = 0; i < l->tried_count; i++)
		if (!strcmp(l->tried[i], address))
			return true;
	return false;
}

/* Hands out @address unless it was handed out before. */
static bool offer(struct tether_locator *l, struct tether_candidate *out, const char *address, const char *instance,
		  const char *link, int timeout_ms, enum tether_candidate_source source)
{
	if (tried(l, address) || strlen(address) >= sizeof(out->address))
		return false;
	if (l->tried_count < TETHER_LOCATE_MAX_TRIED)
		strcpy(l->tried[l->tried_count++], address);
	memset(out, 0, sizeof(*out));
	strcpy(out->address, address);
	snprintf(out->instance, sizeof(out->instance), "%s", instance ? instance : "");
	snprintf(out->link, sizeof(out->link), "%s", link ? link : "");
	out->connect_timeout_ms = timeout_ms;
	out->source = source;
	return true;
}

static bool offer_cache(struct tether_locator *l, struct tether_candidate *out)
{
	return l->have_cache && offer(l, out, l->cache.address, l->cache.instance, l->cache.link,
				      TETHER_LOCATE_CACHED_CONNECT_MS, TETHER_CANDIDATE_CACHE);
}

/* The cached server is tried before DNS-SD when no better path can have
 * come since: it went over a link that is still there, or no link has
 * networking now. Otherwise a cable plugged in since is looked for first. */
static bool cache_is_best(struct tether_locator *l)
{
	const struct tether_tb_links *links = links_of(l);
	bool any = false;
	for (unsigned i = 0; links && i < links->count; i++) {
		if (!links->link[i].netdev[0])
			continue;
		if (l->cache.link[0] && !strcmp(links->link[i].netdev, l->cache.link))
			return true;
		any = true;
	}
	return !l->cache.link[0] && !any;
}

static void run_browse(struct tether_locator *l)
{
	l->found = calloc(1, sizeof(*l->found));
	if (!l->found) {
		l->browse_result = -ENOMEM;
		return;
	}
	uint64_t t0 = tether_time_ns();
	l->browse_result = l->browse(l->browse_timeout_ms, l->found);
	tether_discovery_rank(l->found, links_of(l), l->have_cache ? l->cache.instance : NULL, l->want_major);
	TETHER_LOGI("locate", "DNS-SD: %u server(s) in %.0f ms%s", l->found->count, (tether_time_ns() - t0) / 1e6,
		    l->browse_result == -ENOTSUP ? " (no DNS-SD client here)"
		    : l->browse_result == -ECONNREFUSED ? " (avahi-daemon is not running)" : "");
}

/* The next discovered address not handed out yet. */
static bool offer_found(struct tether_locator *l, struct tether_candidate *out)
{
	const struct tether_tb_links *links = links_of(l);
	while (l->found && l->server < l->found->count) {
		const struct tether_discovered_server *s = &l->found->servers[l->server];
		if (l->addr >= s->addr_count) {
			l->server++;
			l->addr = 0;
			continue;
		}
		const struct tether_discovered_addr *a = &s->addrs[l->addr++];
		char address[TETHER_LOCATE_ADDRESS_MAX];
		if (tether_discovered_address(s, (unsigned)(a - s->addrs), address, sizeof(address)))
			continue;
		const char *link = a->tb_link >= 0 && links ? links->link[a->tb_link].netdev : NULL;
		if (offer(l, out, address, s->instance, link, TETHER_LOCATE_FOUND_CONNECT_MS, TETHER_CANDIDATE_DISCOVERY))
			return true;
	}
	return false;
}

bool tether_locator_next(struct tether_locator *l, struct tether_candidate *out)
{
	for (;;) {
		switch (l->phase) {
		case PHASE_START:
			l->have_cache = tether_server_cache_read(&l->cache) == 0;
			l->phase = PHASE_DISCOVERY;
			if (l->have_cache && cache_is_best(l) && offer_cache(l, out))
				return true;
			break;
		case PHASE_DISCOVERY:
			if (!l->found && l->browse_timeout_ms > 0)
				run_browse(l);
			if (offer_found(l, out))
				return true;
			l->phase = PHASE_CACHE_LATE;
			break;
		case PHASE_CACHE_LATE:
			l->phase = PHASE_DEFAULT;
			if (offer_cache(l, out))
				return true;
			break;
		case PHASE_DEFAULT:
			l->phase = PHASE_END;
			if (offer(l, out, TETHER_DEFAULT_LISTEN, NULL, NULL, 0, TETHER_CANDIDATE_DEFAULT))
				return true;
			break;
		default:
			return false;
		}
	}
}

int tether_locator_remember(const struct tether_candidate *c)
{
	struct tether_server_cache cache;
	memset(&cache, 0, sizeof(cache));
	snprintf(cache.address, sizeof(cache.address), "%s", c->address);
	snprintf(cache.instance, sizeof(cache.instance), "%s", c->instance);
	snprintf(cache.link, sizeof(cache.link), "%s", c->link);
	return tether_server_cache_write(&cache);
}
