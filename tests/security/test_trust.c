/*
 * tests for transport/trust.h: lists of paired peers written privately and
 * atomically, found by fingerprint and address, replaced and removed by
 * fingerprint (prefix), name or address, and hostile or damaged lines
 * skipped without trusting anyone. Run one test per CTest entry:
 * test_trust <test name>.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "tests/security/tls_pair.h"

#include "transport/platform/log.h"
#include "transport/trust.h"

static struct tether_peer peer(uint8_t seed, const char *name, const char *address)
{
	struct tether_peer p = {.paired_at = 1700000000 + seed};
	for (int i = 0; i < TETHER_FINGERPRINT_SIZE; i++)
		p.fingerprint.b[i] = (uint8_t)(seed * 31 + i);
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.address, sizeof(p.address), "%s", address);
	return p;
}

static void trust_list_add_find_persist(void **state)
{
	char dir[200], path[300];
	struct tether_peer_list l;
	struct stat st;
	scratch_dir(dir, sizeof(dir), "trust");
	assert_int_equal(tether_peer_list_load(dir, "list", &l), 0); /* none yet: empty */
	assert_int_equal(l.n, 0);
	struct tether_peer a = peer(1, "laptop", "10.0.0.1:7380"), b = peer(2, "handheld with spaces", "");
	assert_int_equal(tether_peer_list_add(dir, "list", &a, true), 0);
	assert_int_equal(tether_peer_list_add(dir, "list", &b, true), 0);
	snprintf(path, sizeof(path), "%s/list", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tether_peer_list_load(dir, "list", &l), 0);
	assert_int_equal(l.n, 2);
	const struct tether_peer *f = tether_peer_list_find(&l, &b.fingerprint);
	assert_non_null(f);
	assert_string_equal(f->name, "handheld with spaces");
	assert_string_equal(f->address, "");
	assert_int_equal(f->paired_at, b.paired_at);
	f = tether_peer_list_find_address(&l, "10.0.0.1"); /* the default port is implied */
	assert_non_null(f);
	assert_true(tether_fingerprint_equal(&f->fingerprint, &a.fingerprint));
	assert_null(tether_peer_list_find_address(&l, "10.0.0.1:7381"));
	struct tether_peer unknown = peer(9, "x", "");
	assert_null(tether_peer_list_find(&l, &unknown.fingerprint));
	tether_peer_list_free(&l);
	scratch_remove(dir);
}

/* Same fingerprint: the entry is replaced. Same address in a client's list:
 * the old server is forgotten (one pinned server per address). */
static void trust_list_replaces_entries(void **state)
{
	char dir[200];
	struct tether_peer_list l;
	scratch_dir(dir, sizeof(dir), "trust");
	struct tether_peer a = peer(1, "old name", "10.0.0.1:7380"), a2 = a, c = peer(3, "new server", "10.0.0.1:7380");
	snprintf(a2.name, sizeof(a2.name), "new name");
	assert_int_equal(tether_peer_list_add(dir, "list", &a, true), 0);
	assert_int_equal(tether_peer_list_add(dir, "list", &a2, true), 0);
	assert_int_equal(tether_peer_list_load(dir, "list", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].name, "new name");
	tether_peer_list_free(&l);
	assert_int_equal(tether_peer_list_add(dir, "list", &c, true), 0);
	assert_int_equal(tether_peer_list_load(dir, "list", &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(tether_fingerprint_equal(&l.v[0].fingerprint, &c.fingerprint));
	tether_peer_list_free(&l);
	/* A server's list keeps clients of one address apart. */
	assert_int_equal(tether_peer_list_add(dir, "clients", &a, false), 0);
	assert_int_equal(tether_peer_list_add(dir, "clients", &c, false), 0);
	assert_int_equal(tether_peer_list_load(dir, "clients", &l), 0);
	assert_int_equal(l.n, 2);
	tether_peer_list_free(&l);
	scratch_remove(dir);
}

static void trust_list_remove_by_fingerprint_name_address(void **state)
{
	char dir[200], fp[TETHER_FINGERPRINT_TEXT_SIZE], prefix[20];
	struct tether_peer_list l;
	struct tether_peer removed;
	scratch_dir(dir, sizeof(dir), "trust");
	struct tether_peer a = peer(1, "same", "10.0.0.1:7380"), b = peer(2, "same", "10.0.0.2:7380"),
			   c = peer(3, "unique", "10.0.0.3:7380");
	assert_int_equal(tether_peer_list_add(dir, "list", &a, false), 0);
	assert_int_equal(tether_peer_list_add(dir, "list", &b, false), 0);
	assert_int_equal(tether_peer_list_add(dir, "list", &c, false), 0);
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	assert_int_equal(tether_peer_list_remove(dir, "list", "same", &removed), -EEXIST); /* ambiguous */
	assert_int_equal(tether_peer_list_remove(dir, "list", "nobody", &removed), -ENOENT);
	tether_fingerprint_format(&a.fingerprint, fp);
	snprintf(prefix, sizeof(prefix), "%.7s", fp + 7); /* too short to name anyone */
	assert_int_equal(tether_peer_list_remove(dir, "list", prefix, &removed), -ENOENT);
	snprintf(prefix, sizeof(prefix), "SHA256:%.10s", fp + 7);
	assert_int_equal(tether_peer_list_remove(dir, "list", prefix, &removed), 0);
	assert_true(tether_fingerprint_equal(&removed.fingerprint, &a.fingerprint));
	assert_int_equal(tether_peer_list_remove(dir, "list", "same", &removed), 0); /* one left with that name */
	assert_true(tether_fingerprint_equal(&removed.fingerprint, &b.fingerprint));
	assert_int_equal(tether_peer_list_remove(dir, "list", "10.0.0.3", &removed), 0);
	assert_string_equal(removed.name, "unique");
	assert_int_equal(tether_peer_list_load(dir, "list", &l), 0);
	assert_int_equal(l.n, 0);
	tether_peer_list_free(&l);
	scratch_remove(dir);
}

/* Lines someone else wrote: only well-formed ones count. */
static void trust_list_malformed_lines_skipped(void **state)
{
	char dir[200], path[300], fp[TETHER_FINGERPRINT_TEXT_SIZE];
	struct tether_peer_list l;
	struct tether_peer good = peer(5, "good", "-");
	scratch_dir(dir, sizeof(dir), "trust");
	tether_fingerprint_format(&good.fingerprint, fp);
	snprintf(path, sizeof(path), "%s/list", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# comment\n\n");
	fprintf(f, "%s\t2024-01-02T03:04:05Z\t-\tgood\n", fp);
	fprintf(f, "%s\t2024-01-02T03:04:05Z\t-\n", fp);                       /* a field short */
	fprintf(f, "%.70s\t2024-01-02T03:04:05Z\t-\tshort fp\n", fp);          /* truncated fingerprint */
	fprintf(f, "SHA256:%064d\tyesterday\t-\tbad time\n", 0);               /* time */
	fprintf(f, "SHA256:%064d\t2024-01-02T03:04:05Z\ta b\tspace\n", 1);     /* address with a space */
	fprintf(f, "SHA256:%064d\t2024-01-02T03:04:05Z\t-\tname\textra\n", 2); /* a field too many */
	fprintf(f, "SHA256:%064d\t2024-01-02T03:04:05Z\t-\t\x01\x02\n", 3);    /* control characters */
	fprintf(f, "garbage without tabs\n");
	fclose(f);
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	assert_int_equal(tether_peer_list_load(dir, "list", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].name, "good");
	assert_int_equal(l.v[0].paired_at, 1704164645);
	tether_peer_list_free(&l);
	/* A file larger than any list is refused whole. */
	f = fopen(path, "w");
	for (int i = 0; i < (1 << 20) / 63 + 10; i++) /* 63 bytes a line */
		fprintf(f, "# %060d\n", i);
	fclose(f);
	assert_int_equal(tether_peer_list_load(dir, "list", &l), -EFBIG);
	scratch_remove(dir);
}

/* Names and addresses that would break the file are cleaned, not trusted. */
static void trust_list_hostile_names_sanitized(void **state)
{
	char dir[200];
	struct tether_peer_list l;
	scratch_dir(dir, sizeof(dir), "trust");
	struct tether_peer p = peer(7, "", "10.0.0.9");
	snprintf(p.name, sizeof(p.name), "evil\tname\nSHA256:%s", "0000000000000000000000000000000000000000000");
	assert_int_equal(tether_peer_list_add(dir, "list", &p, false), 0);
	struct tether_peer q = peer(8, "", "bad address\t");
	assert_int_equal(tether_peer_list_add(dir, "list", &q, false), 0);
	assert_int_equal(tether_peer_list_load(dir, "list", &l), 0);
	assert_int_equal(l.n, 2);
	assert_true(!strncmp(l.v[0].name, "evil?name?SHA256:", 17));
	assert_string_equal(l.v[1].name, "unnamed");
	assert_string_equal(l.v[1].address, "");
	tether_peer_list_free(&l);
	scratch_remove(dir);
}

static void trust_directories_from_environment(void **state)
{
	char buf[TETHER_PATH_MAX];
	setenv("TETHER_CONFIG_DIR", "/somewhere/tether-test", 1);
	assert_int_equal(tether_client_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/somewhere/tether-test");
	unsetenv("TETHER_CONFIG_DIR");
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	assert_int_equal(tether_client_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/xdg/tether");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/someone", 1);
	assert_int_equal(tether_client_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/someone/.config/tether");
	assert_int_equal(tether_server_state_dir(buf, sizeof(buf)), 0);
	if (geteuid() == 0) {
		assert_string_equal(buf, "/var/lib/tether");
	} else {
		assert_string_equal(buf, "/home/someone/.local/state/tether");
	}
	assert_int_equal(tether_client_config_dir(buf, 8), -ENAMETOOLONG);
}

#define TEST(fn) cmocka_unit_test(fn)
static const struct CMUnitTest tests[] = {
	TEST(trust_list_add_find_persist),
	TEST(trust_list_replaces_entries),
	TEST(trust_list_remove_by_fingerprint_name_address),
	TEST(trust_list_malformed_lines_skipped),
	TEST(trust_list_hostile_names_sanitized),
	TEST(trust_directories_from_environment),
};

TETHER_CMOCKA_MAIN(tests)
