/*
 * Pairing on tetherd's side (security.h): when a PIN exists, for whom, and
 * what happens after a right or a wrong one. The state is shared by every
 * connection process through a small file in the state directory, changed
 * under the directory's lock:
 *   pin, pin_client, pin_expires   the PIN shown now, for which certificate
 *   failures, last_failure         wrong PINs in a row
 *   locked_until                   no pairing before this time
 * A PIN is made when a client asks to pair, shown (stderr and
 * --pairing-pin-file) with the client's name and fingerprint, and spent by
 * the first PIN exchange that uses it, right or wrong.
 */
#include "server/security.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/pairing.h"
#include "transport/platform/log.h"

#define STATE_FILE "pairing-state"
/* The first wrong PIN locks pairing for this long; each further one in a
 * row doubles it, up to LOCK_MAX_S. Failures older than FAILURE_MEMORY_S
 * are forgotten. */
#define LOCK_FIRST_S 5
#define LOCK_MAX_S 600
#define FAILURE_MEMORY_S 3600
#define REQUEST_TIMEOUT_MS 10000
#define PROOF_TIMEOUT_MS 10000

struct pairing_state {
	char pin[TETHER_PIN_DIGITS + 1]; /* "" when none */
	struct tether_fingerprint pin_client;
	int64_t pin_expires;
	unsigned failures;
	int64_t last_failure, locked_until;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void state_load(const char *dir, struct pairing_state *st)
{
	char path[TETHER_PATH_MAX], line[160];
	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char key[32], value[100];
		long long v;
		if (sscanf(line, "%31s %99s", key, value) != 2)
			continue;
		if (!strcmp(key, "pin") && tether_pairing_valid_pin(value))
			strcpy(st->pin, value);
		else if (!strcmp(key, "pin_client"))
			tether_fingerprint_parse(value, &st->pin_client);
		else if (sscanf(value, "%lld", &v) == 1 && !strcmp(key, "pin_expires"))
			st->pin_expires = v;
		else if (sscanf(value, "%lld", &v) == 1 && !strcmp(key, "failures"))
			st->failures = v > 0 && v < 1000 ? (unsigned)v : 0;
		else if (sscanf(value, "%lld", &v) == 1 && !strcmp(key, "last_failure"))
			st->last_failure = v;
		else if (sscanf(value, "%lld", &v) == 1 && !strcmp(key, "locked_until"))
			st->locked_until = v;
	}
	fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
}

static int state_save(const char *dir, const struct pairing_state *st)
{
	char fp[TETHER_FINGERPRINT_TEXT_SIZE], text[512];
	tether_fingerprint_format(&st->pin_client, fp);
	int n = snprintf(text, sizeof(text),
			 "pin %s\npin_client %s\npin_expires %lld\nfailures %u\nlast_failure %lld\nlocked_until %lld\n",
			 st->pin[0] ? st->pin : "-", fp, (long long)st->pin_expires, st->failures,
			 (long long)st->last_failure, (long long)st->locked_until);
	int err = tether_file_replace(dir, STATE_FILE, text, (size_t)n);
	OPENSSL_cleanse(text, sizeof(text));
	return err;
}

/* --pairing-pin-file: the PIN shown now, replaced atomically; removed once spent. */
static void pin_file_write(const char *path, const char *pin)
{
	char tmp[TETHER_PATH_MAX], text[16];
	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int n = snprintf(text, sizeof(text), "%s\n", pin);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0 && write(fd, text, (size_t)n) == n;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path)) {
		TETHER_LOGW("pairing", "cannot write the PIN to %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

static void pin_file_remove(const char *path)
{
	if (path)
		unlink(path);
}

/* Six uniformly random digits. */
static int new_pin(char pin[TETHER_PIN_DIGITS + 1])
{
	uint32_t v;
	do {
		if (RAND_priv_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return -EIO;
	} while (v >= 4294000000u); /* a multiple of 10^6: no digit is likelier */
	snprintf(pin, TETHER_PIN_DIGITS + 1, "%06u", (unsigned)(v % 1000000u));
	return 0;
}

/* Under the lock: the PIN for this request, or why there is none.
 * Return: seconds it stays valid, or 0 with @why set. */
static unsigned issue_pin(const struct tether_srv_security *sec, const struct tether_fingerprint *client,
			  char pin[TETHER_PIN_DIGITS + 1], char *why, size_t why_len)
{
	struct pairing_state st;
	int lock = tether_dir_lock(sec->state_dir);
	if (lock < 0) {
		snprintf(why, why_len, "the server cannot keep pairing state now");
		return 0;
	}
	state_load(sec->state_dir, &st);
	int64_t now = now_s();
	unsigned valid = 0;
	if (st.locked_until > now) {
		snprintf(why, why_len, "too many wrong PINs: pairing is locked for %lld more seconds",
			 (long long)(st.locked_until - now));
	} else if (st.pin[0] && st.pin_expires > now && tether_fingerprint_equal(&st.pin_client, client)) {
		/* The same client asking again (it was interrupted): the PIN shown stays. */
		memcpy(pin, st.pin, sizeof(st.pin));
		valid = (unsigned)(st.pin_expires - now);
	} else if (new_pin(st.pin)) {
		snprintf(why, why_len, "the server has no random numbers");
	} else {
		st.pin_client = *client;
		st.pin_expires = now + TETHER_PAIRING_PIN_VALID_S;
		memcpy(pin, st.pin, sizeof(st.pin));
		valid = TETHER_PAIRING_PIN_VALID_S;
		if (state_save(sec->state_dir, &st)) {
			snprintf(why, why_len, "the server cannot keep pairing state now");
			valid = 0;
		}
	}
	OPENSSL_cleanse(&st, sizeof(st));
	tether_dir_unlock(lock);
	return valid;
}

/* Under the lock: spend the PIN shown for @client. Return: true when it was
 * there (@pin filled), false when it expired or a newer request replaced it. */
static bool spend_pin(const struct tether_srv_security *sec, const struct tether_fingerprint *client,
		      char pin[TETHER_PIN_DIGITS + 1])
{
	struct pairing_state st;
	int lock = tether_dir_lock(sec->state_dir);
	if (lock < 0)
		return false;
	state_load(sec->state_dir, &st);
	bool ok = st.pin[0] && st.pin_expires > now_s() && tether_fingerprint_equal(&st.pin_client, client);
	if (ok) {
		memcpy(pin, st.pin, sizeof(st.pin));
		st.pin[0] = '\0';
		ok = state_save(sec->state_dir, &st) == 0;
		pin_file_remove(sec->pin_file);
	}
	OPENSSL_cleanse(&st, sizeof(st));
	tether_dir_unlock(lock);
	return ok;
}

/* Under the lock: a wrong PIN (or an exchange abandoned after the PIN was
 * spent). Return: how long pairing is locked now. */
static unsigned record_failure(const struct tether_srv_security *sec, unsigned *failures)
{
	struct pairing_state st;
	int lock = tether_dir_lock(sec->state_dir);
	if (lock < 0)
		return 0;
	state_load(sec->state_dir, &st);
	int64_t now = now_s();
	if (now - st.last_failure > FAILURE_MEMORY_S)
		st.failures = 0;
	st.failures++;
	st.last_failure = now;
	unsigned lock_s = LOCK_FIRST_S;
	for (unsigned i = 1; i < st.failures && lock_s < LOCK_MAX_S; i++)
		lock_s *= 2;
	if (lock_s > LOCK_MAX_S)
		lock_s = LOCK_MAX_S;
	st.locked_until = now + lock_s;
	*failures = st.failures;
	state_save(sec->state_dir, &st);
	OPENSSL_cleanse(&st, sizeof(st));
	tether_dir_unlock(lock);
	return lock_s;
}

static int record_success(const struct tether_srv_security *sec, const struct tether_peer *client)
{
	struct pairing_state st;
	int err = tether_peer_list_add(sec->state_dir, TETHER_PAIRED_CLIENTS_FILE, client, false);
	int lock = tether_dir_lock(sec->state_dir);
	if (lock >= 0) {
		state_load(sec->state_dir, &st);
		st.failures = 0;
		state_save(sec->state_dir, &st);
		OPENSSL_cleanse(&st, sizeof(st));
		tether_dir_unlock(lock);
	}
	return err;
}

/* The client's IP address, without its port (which changes every time). */
static void peer_host(struct tether_conn *c, char *out, size_t len)
{
	const char *p = tether_conn_peer(c), *colon = strrchr(p, ':');
	size_t n = colon ? (size_t)(colon - p) : strlen(p);
	snprintf(out, len, "%.*s", (int)n, p);
}

/* After the PIN is spent: the exchange itself, and what it means. */
static void exchange(struct tether_conn *c, const struct tether_srv_security *sec, const struct tether_tls_peer *peer,
		     const char *name, const char *pin, const uint8_t share[TETHER_SPAKE2_SHARE_SIZE])
{
	struct tether_pairing_peers peers = {.client = peer->fingerprint, .server = sec->fingerprint};
	char fp[TETHER_FINGERPRINT_SHORT_SIZE], text[200];
	bool right = false;
	tether_fingerprint_short(&peer->fingerprint, fp);
	tether_conn_set_timeout(c, PROOF_TIMEOUT_MS);
	int err = tether_pairing_server_prove(c, &peers, pin, share, &right);
	if (!err && right) {
		struct tether_peer entry = {.fingerprint = peer->fingerprint, .paired_at = now_s()};
		peer_host(c, entry.address, sizeof(entry.address));
		tether_peer_sanitize(name, entry.name);
		err = record_success(sec, &entry);
		if (err) {
			tether_pairing_send_result(c, TETHER_PAIRING_REFUSED, "the server could not record the pairing");
			return;
		}
		fprintf(stderr, "tetherd: paired client \"%s\" (%s) from %s\n", entry.name, fp, tether_conn_peer(c));
		tether_pairing_send_result(c, TETHER_PAIRING_OK, "paired");
		return;
	}
	unsigned failures = 0, locked = record_failure(sec, &failures);
	TETHER_LOGW("pairing", "pairing with %s (\"%s\", %s) failed: %s; %u failure%s in a row, pairing locked for %u s",
		    tether_conn_peer(c), name, fp,
		    err == -ECONNRESET ? "the client left after our proof (it had another PIN)"
		    : err ? strerror(-err) : "wrong PIN",
		    failures,
		    failures == 1 ? "" : "s", locked);
	if (!err) {
		snprintf(text, sizeof(text), "wrong PIN: ask again in %u s, for a new PIN", locked);
		tether_pairing_send_result(c, TETHER_PAIRING_WRONG_PIN, text);
	}
}

void tether_srv_pairing_serve(struct tether_conn *c, const struct tether_srv_security *sec,
			      const struct tether_tls_peer *peer)
{
	char name[TETHER_PAIRING_NAME_MAX + 1], pin[TETHER_PIN_DIGITS + 1], why[200], fp[TETHER_FINGERPRINT_TEXT_SIZE];
	uint8_t share[TETHER_SPAKE2_SHARE_SIZE];
	tether_fingerprint_format(&peer->fingerprint, fp);
	if (!sec->pairing) {
		TETHER_LOGW("pairing", "refused %s: pairing request, and pairing is off (--no-pairing)", tether_conn_peer(c));
		tether_pairing_send_result(c, TETHER_PAIRING_REFUSED, "pairing is turned off on this server");
		return;
	}
	tether_conn_set_timeout(c, REQUEST_TIMEOUT_MS);
	if (tether_pairing_read_request(c, name))
		return;
	unsigned valid = issue_pin(sec, &peer->fingerprint, pin, why, sizeof(why));
	if (!valid) {
		TETHER_LOGW("pairing", "refused pairing request from %s (\"%s\"): %s", tether_conn_peer(c), name, why);
		tether_pairing_send_result(c, TETHER_PAIRING_REFUSED, why);
		return;
	}
	/* Shown at every log level: the person pairing needs it. */
	fprintf(stderr, "tetherd: pairing request from %s, client \"%s\" (%s)\ntetherd: PIN %s (valid %u s)\n",
		tether_conn_peer(c), name, fp, pin, valid);
	pin_file_write(sec->pin_file, pin);
	OPENSSL_cleanse(pin, sizeof(pin));
	if (tether_pairing_send_pin(c, sec->server_name, valid))
		return;
	tether_conn_set_timeout(c, (int)valid * 1000);
	if (tether_pairing_read_share(c, share)) {
		TETHER_LOGI("pairing", "%s left before sending its PIN proof: the PIN stays until it expires",
			    tether_conn_peer(c));
		return;
	}
	if (!spend_pin(sec, &peer->fingerprint, pin)) {
		TETHER_LOGW("pairing", "refused %s: its PIN expired or a newer request replaced it", tether_conn_peer(c));
		tether_pairing_send_result(c, TETHER_PAIRING_REFUSED,
					   "the PIN expired or was replaced by a newer request: pair again");
		return;
	}
	exchange(c, sec, peer, name, pin, share);
	OPENSSL_cleanse(pin, sizeof(pin));
}
