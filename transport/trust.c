/* Directories and lists of paired peers (trust.h). A list line is
 *   SHA256:<64 hex>\t<paired at, UTC>\t<address or ->\t<name>
 * Lines come from a file others might have edited: each field is checked,
 * and a line that fails is skipped (it then pins nobody). */
#include "transport/trust.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LIST_MAX_BYTES (1u << 20)
#define LOCK_FILE ".lock"

static int join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s%s", a, b);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* @dir/@name */
static int in_dir(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int tether_client_config_dir(char *buf, size_t len)
{
	const char *v = getenv("TETHER_CONFIG_DIR");
	if (v && *v)
		return join(buf, len, v, "");
	v = getenv("XDG_CONFIG_HOME");
	if (v && v[0] == '/')
		return join(buf, len, v, "/tether");
	v = getenv("HOME");
	if (v && *v)
		return join(buf, len, v, "/.config/tether");
	return -ENOENT;
}

int tether_server_state_dir(char *buf, size_t len)
{
	if (geteuid() == 0)
		return join(buf, len, "/var/lib/tether", "");
	const char *v = getenv("XDG_STATE_HOME");
	if (v && v[0] == '/')
		return join(buf, len, v, "/tether");
	v = getenv("HOME");
	if (v && *v)
		return join(buf, len, v, "/.local/state/tether");
	return -ENOENT;
}

int tether_private_dir_create(const char *dir)
{
	char path[TETHER_PATH_MAX];
	int err = join(path, sizeof(path), dir, "");
	if (err)
		return err;
	/* Parents as the umask says (they may be ~/.config), the last one private. */
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			err = -errno;
		*p = '/';
		if (err)
			return TETHER_ERR("trust", err, "cannot create %s: %s", path, strerror(-err));
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return TETHER_ERR("trust", -errno, "cannot create %s: %s", path, strerror(errno));
	return 0;
}

void tether_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int tether_dir_lock(const char *dir)
{
	char path[TETHER_PATH_MAX];
	int err = tether_private_dir_create(dir);
	if (!err)
		err = in_dir(path, sizeof(path), dir, LOCK_FILE);
	if (err)
		return err;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return TETHER_ERR("trust", -errno, "cannot open %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return TETHER_ERR("trust", err, "cannot lock %s: %s", path, strerror(-err));
		}
	}
	return fd;
}

void tether_dir_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

int tether_file_replace(const char *dir, const char *name, const void *data, size_t len)
{
	char path[TETHER_PATH_MAX], tmp[TETHER_PATH_MAX];
	int err = in_dir(path, sizeof(path), dir, name);
	if (!err)
		err = join(tmp, sizeof(tmp), path, ".tmp");
	if (err)
		return err;
	/* The lock is held: a left-over temporary file is ours to replace. */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return TETHER_ERR("trust", -errno, "cannot write %s: %s", tmp, strerror(errno));
	const uint8_t *p = data;
	for (size_t done = 0; done < len && !err;) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return TETHER_ERR("trust", err, "cannot write %s: %s", path, strerror(-err));
	}
	tether_fsync_dir(dir);
	return 0;
}

void tether_peer_sanitize(const char *in, char out[TETHER_PEER_NAME_MAX + 1])
{
	size_t n = 0;
	for (; in && in[n] && n < TETHER_PEER_NAME_MAX; n++)
		out[n] = in[n] >= 0x20 && in[n] <= 0x7e ? in[n] : '?';
	out[n] = '\0';
	if (!n)
		strcpy(out, "unnamed");
}

void tether_format_time(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "?");
}

static int parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char end;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &end) != 7 || end != 'Z' || s[20] != '\0')
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = (int64_t)t;
	return 0;
}

/* Splits @line at tabs into exactly @n fields (in place). */
static bool split_fields(char *line, char **f, int n)
{
	for (int i = 0; i < n; i++) {
		f[i] = line;
		char *tab = strchr(line, '\t');
		if (i == n - 1)
			return tab == NULL;
		if (!tab)
			return false;
		*tab = '\0';
		line = tab + 1;
	}
	return true;
}

static bool printable(const char *s, size_t max, bool allow_space)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < (allow_space ? 0x20 : 0x21) || s[i] > 0x7e)
			return false;
	return true;
}

static bool parse_line(char *line, struct tether_peer *p)
{
	char *f[4];
	memset(p, 0, sizeof(*p));
	if (!split_fields(line, f, 4) || tether_fingerprint_parse(f[0], &p->fingerprint) ||
	    parse_time(f[1], &p->paired_at) || !printable(f[2], TETHER_PEER_ADDRESS_MAX, false) ||
	    !printable(f[3], TETHER_PEER_NAME_MAX, true))
		return false;
	if (strcmp(f[2], "-"))
		strcpy(p->address, f[2]);
	strcpy(p->name, f[3]);
	return true;
}

static int read_all(const char *path, char **out, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	char *buf = malloc(LIST_MAX_BYTES + 1);
	size_t used = 0;
	int err = buf ? 0 : -ENOMEM;
	while (!err) {
		ssize_t n = read(fd, buf + used, LIST_MAX_BYTES + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else if (n == 0)
			break;
		else if ((used += (size_t)n) > LIST_MAX_BYTES)
			err = -EFBIG;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[used] = '\0';
	*out = buf;
	*size = used;
	return 0;
}

int tether_peer_list_load(const char *dir, const char *name, struct tether_peer_list *out)
{
	char path[TETHER_PATH_MAX], *text = NULL;
	size_t size;
	memset(out, 0, sizeof(*out));
	int err = in_dir(path, sizeof(path), dir, name);
	if (!err)
		err = read_all(path, &text, &size);
	if (err == -ENOENT)
		return 0;
	if (err)
		return TETHER_ERR("trust", err, "cannot read %s: %s", path, strerror(-err));
	unsigned lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (out->n == TETHER_PEER_LIST_MAX) {
			err = TETHER_ERR("trust", -EFBIG, "%s has more than %u entries", path, TETHER_PEER_LIST_MAX);
			break;
		}
		struct tether_peer p;
		if (!parse_line(line, &p)) {
			TETHER_LOGW("trust", "%s:%u: malformed entry skipped", path, lineno);
			continue;
		}
		struct tether_peer *v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (!v) {
			err = -ENOMEM;
			break;
		}
		out->v = v;
		out->v[out->n++] = p;
	}
	free(text);
	if (err)
		tether_peer_list_free(out);
	return err;
}

void tether_peer_list_free(struct tether_peer_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct tether_peer *tether_peer_list_find(const struct tether_peer_list *l, const struct tether_fingerprint *fp)
{
	const struct tether_peer *found = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (tether_fingerprint_equal(&l->v[i].fingerprint, fp))
			found = &l->v[i];
	return found;
}

const struct tether_peer *tether_peer_list_find_address(const struct tether_peer_list *l, const char *address)
{
	char norm[TETHER_PEER_ADDRESS_MAX + 1];
	if (tether_address_normalize(address, norm, sizeof(norm)))
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].address, norm))
			return &l->v[i];
	return NULL;
}

static int save(const char *dir, const char *name, const struct tether_peer_list *l)
{
	size_t cap = 256 + l->n * (TETHER_FINGERPRINT_TEXT_SIZE + 32 + TETHER_PEER_ADDRESS_MAX + TETHER_PEER_NAME_MAX + 4);
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	size_t used = (size_t)snprintf(buf, cap, "# tether %s: fingerprint, paired at (UTC), address, name\n", name);
	for (size_t i = 0; i < l->n; i++) {
		char fp[TETHER_FINGERPRINT_TEXT_SIZE], when[32];
		tether_fingerprint_format(&l->v[i].fingerprint, fp);
		tether_format_time(l->v[i].paired_at, when);
		used += (size_t)snprintf(buf + used, cap - used, "%s\t%s\t%s\t%s\n", fp, when,
					 l->v[i].address[0] ? l->v[i].address : "-", l->v[i].name);
	}
	int err = tether_file_replace(dir, name, buf, used);
	free(buf);
	return err;
}

int tether_peer_list_add(const char *dir, const char *name, const struct tether_peer *p, bool same_address_replaces)
{
	struct tether_peer entry = *p;
	tether_peer_sanitize(p->name, entry.name);
	if (!printable(entry.address, TETHER_PEER_ADDRESS_MAX, false))
		entry.address[0] = '\0';
	int lock = tether_dir_lock(dir);
	if (lock < 0)
		return lock;
	struct tether_peer_list l;
	int err = tether_peer_list_load(dir, name, &l);
	if (!err) {
		size_t kept = 0;
		for (size_t i = 0; i < l.n; i++) {
			bool same = tether_fingerprint_equal(&l.v[i].fingerprint, &entry.fingerprint) ||
				    (same_address_replaces && entry.address[0] && !strcmp(l.v[i].address, entry.address));
			if (!same)
				l.v[kept++] = l.v[i];
		}
		l.n = kept;
		struct tether_peer *v = realloc(l.v, (l.n + 1) * sizeof(*v));
		if (!v) {
			err = -ENOMEM;
		} else {
			l.v = v;
			l.v[l.n++] = entry;
			err = save(dir, name, &l);
		}
	}
	tether_peer_list_free(&l);
	tether_dir_unlock(lock);
	return err;
}

/* Does @what name @p? @kind: 0 fingerprint (or a prefix of 8+ hex digits), 1 name, 2 address. */
static bool names(const struct tether_peer *p, const char *what, int kind)
{
	if (kind == 0) {
		char fp[TETHER_FINGERPRINT_TEXT_SIZE];
		const char *hex = strncmp(what, "SHA256:", 7) ? what : what + 7;
		size_t n = strlen(hex);
		tether_fingerprint_format(&p->fingerprint, fp);
		if (n < 8 || n > 64)
			return false;
		for (size_t i = 0; i < n; i++)
			if ((hex[i] | 0x20) != fp[7 + i])
				return false;
		return true;
	}
	if (kind == 1)
		return !strcmp(p->name, what);
	char norm[TETHER_PEER_ADDRESS_MAX + 1];
	return p->address[0] && !tether_address_normalize(what, norm, sizeof(norm)) && !strcmp(p->address, norm);
}

int tether_peer_list_remove(const char *dir, const char *name, const char *what, struct tether_peer *removed)
{
	int lock = tether_dir_lock(dir);
	if (lock < 0)
		return lock;
	struct tether_peer_list l;
	int err = tether_peer_list_load(dir, name, &l);
	for (int kind = 0; !err && kind < 3; kind++) {
		size_t matches = 0, at = 0;
		for (size_t i = 0; i < l.n; i++)
			if (names(&l.v[i], what, kind)) {
				matches++;
				at = i;
			}
		if (!matches)
			continue;
		if (matches > 1) {
			err = -EEXIST;
			break;
		}
		*removed = l.v[at];
		memmove(&l.v[at], &l.v[at + 1], (l.n - at - 1) * sizeof(l.v[0]));
		l.n--;
		err = save(dir, name, &l);
		tether_peer_list_free(&l);
		tether_dir_unlock(lock);
		return err;
	}
	tether_peer_list_free(&l);
	tether_dir_unlock(lock);
	return err ? err : -ENOENT;
}
