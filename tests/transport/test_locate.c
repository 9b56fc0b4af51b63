/* tests for transport/locate.h: the cache file (written, read back, and
 * refused when it is not what tether writes) and the order in which a
 * locator hands out addresses, with DNS-SD and the Thunderbolt links
 * replaced by test doubles. Run one test per CTest entry: test_locate <name>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "transport/locate.h"

static char home[64];

/* A fresh XDG_CACHE_HOME for each test. */
static int setup(void **state)
{
	snprintf(home, sizeof(home), "/tmp/tether-locate-XXXXXX");
	if (!mkdtemp(home))
		return -1;
	setenv("XDG_CACHE_HOME", home, 1);
	unsetenv("TETHER_DISCOVERY_TIMEOUT_MS");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *text)
{
	char dir[128], path[160];
	snprintf(dir, sizeof(dir), "%s/tether", home);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/last-server", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- DNS-SD and links, replaced ---- */

static struct {
	int result;
	int calls;
	int timeout_ms;
	void (*fill)(struct tether_discovery *d);
} browse_double;

static int fake_browse(int timeout_ms, struct tether_discovery *out)
{
	browse_double.calls++;
	browse_double.timeout_ms = timeout_ms;
	if (browse_double.fill)
		browse_double.fill(out);
	return browse_double.result;
}

/* alpha: 192.168.1.10 on eth0. beta: 192.168.1.11 on eth0 and 10.5.0.1 over the cable. */
static void two_servers(struct tether_discovery *d)
{
	tether_discovery_add(d, "beta", "beta.local", 7380, "192.168.1.11", "eth0", NULL, 0);
	tether_discovery_add(d, "beta", "beta.local", 7380, "10.5.0.1", "tbt0", NULL, 0);
	tether_discovery_add(d, "alpha", "alpha.local", 7381, "192.168.1.10", "eth0", NULL, 0);
}

static struct tether_tb_links no_links, cable;

static void init(struct tether_locator *l, void (*fill)(struct tether_discovery *), int result,
		 const struct tether_tb_links *links)
{
	memset(&browse_double, 0, sizeof(browse_double));
	browse_double.fill = fill;
	browse_double.result = result;
	memset(&no_links, 0, sizeof(no_links));
	memset(&cable, 0, sizeof(cable));
	cable.bus_present = true;
	cable.count = 1;
	strcpy(cable.link[0].device, "0-1");
	strcpy(cable.link[0].netdev, "tbt0");
	cable.link[0].addr_count = 1;
	cable.link[0].addrs[0] = (struct tether_tb_addr){4, "10.5.0.2", 24};
	tether_locator_init(l, 1);
	l->browse = fake_browse;
	l->links = links == &cable ? &cable : &no_links;
}

/* The next candidate must be @address from @source. */
static void expect(struct tether_locator *l, const char *address, enum tether_candidate_source source)
{
	struct tether_candidate c;
	assert_true(tether_locator_next(l, &c));
	assert_string_equal(c.address, address);
	assert_int_equal(c.source, source);
}

static void expect_end(struct tether_locator *l)
{
	struct tether_candidate c;
	assert_false(tether_locator_next(l, &c));
	assert_false(tether_locator_next(l, &c));
	tether_locator_done(l);
}

/* ---- tests ---- */

static void locate_nothing_found_uses_default(void **state)
{
	struct tether_locator l;
	init(&l, NULL, 0, NULL);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
	assert_int_equal(browse_double.calls, 1);
	assert_int_equal(browse_double.timeout_ms, TETHER_DISCOVERY_ICD_TIMEOUT_MS);
}

static void locate_cache_first_without_cable(void **state)
{
	struct tether_locator l;
	struct tether_candidate c;
	write_file("address=192.168.1.10:7381\ninstance=alpha\nlink=\n");
	init(&l, two_servers, 0, NULL);
	/* No link has networking: the cached server is as good as any, and
	 * DNS-SD is not asked before it has been tried. */
	assert_true(tether_locator_next(&l, &c));
	assert_string_equal(c.address, "192.168.1.10:7381");
	assert_string_equal(c.instance, "alpha");
	assert_int_equal(c.source, TETHER_CANDIDATE_CACHE);
	assert_int_equal(c.connect_timeout_ms, TETHER_LOCATE_CACHED_CONNECT_MS);
	assert_int_equal(browse_double.calls, 0);
	/* Then the others DNS-SD finds (alpha's address is not repeated). */
	expect(&l, "192.168.1.11:7380", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, "10.5.0.1:7380", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
	assert_int_equal(browse_double.calls, 1);
}

static void locate_cable_plugged_in_since_is_looked_for(void **state)
{
	struct tether_locator l;
	struct tether_candidate c;
	/* Last time over Ethernet; now a cable with networking is there. */
	write_file("address=192.168.1.10:7381\ninstance=alpha\n");
	init(&l, two_servers, 0, &cable);
	/* DNS-SD first; the cached instance is still preferred among what it finds. */
	expect(&l, "192.168.1.10:7381", TETHER_CANDIDATE_DISCOVERY);
	assert_int_equal(browse_double.calls, 1);
	/* beta over the cable before beta over Ethernet. */
	assert_true(tether_locator_next(&l, &c));
	assert_string_equal(c.address, "10.5.0.1:7380");
	assert_string_equal(c.instance, "beta");
	assert_string_equal(c.link, "tbt0");
	assert_int_equal(c.connect_timeout_ms, TETHER_LOCATE_FOUND_CONNECT_MS);
	expect(&l, "192.168.1.11:7380", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
}

static void locate_no_cache_prefers_cable(void **state)
{
	struct tether_locator l;
	init(&l, two_servers, 0, &cable);
	expect(&l, "10.5.0.1:7380", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, "192.168.1.11:7380", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, "192.168.1.10:7381", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
}

static void locate_cache_over_cable_first(void **state)
{
	struct tether_locator l;
	write_file("address=10.5.0.1:7380\ninstance=beta\nlink=tbt0\n");
	init(&l, two_servers, 0, &cable);
	expect(&l, "10.5.0.1:7380", TETHER_CANDIDATE_CACHE);
	assert_int_equal(browse_double.calls, 0);
	expect(&l, "192.168.1.11:7380", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, "192.168.1.10:7381", TETHER_CANDIDATE_DISCOVERY);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
}

static void locate_without_avahi_cache_then_default(void **state)
{
	struct tether_locator l;
	/* The cable is there, so DNS-SD is asked first; avahi-daemon is not running. */
	write_file("address=192.168.1.10:7381\n");
	init(&l, NULL, -ECONNREFUSED, &cable);
	expect(&l, "192.168.1.10:7381", TETHER_CANDIDATE_CACHE);
	assert_int_equal(browse_double.calls, 1);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
	/* The cached server is the default: handed out once. */
	write_file("address=" TETHER_DEFAULT_LISTEN "\n");
	init(&l, NULL, -ENOTSUP, NULL);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_CACHE);
	expect_end(&l);
}

static void locate_discovery_timeout_from_env(void **state)
{
	struct tether_locator l;
	setenv("TETHER_DISCOVERY_TIMEOUT_MS", "0", 1); /* no DNS-SD at all */
	init(&l, two_servers, 0, &cable);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
	assert_int_equal(browse_double.calls, 0);
	setenv("TETHER_DISCOVERY_TIMEOUT_MS", "250", 1);
	init(&l, NULL, 0, NULL);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
	assert_int_equal(browse_double.timeout_ms, 250);
	const char *bad[] = {"-1", "1e3", "999999", "soon"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("TETHER_DISCOVERY_TIMEOUT_MS", bad[i], 1);
		tether_locator_init(&l, 1);
		assert_int_equal(l.browse_timeout_ms, TETHER_DISCOVERY_ICD_TIMEOUT_MS);
		tether_locator_done(&l);
	}
	unsetenv("TETHER_DISCOVERY_TIMEOUT_MS");
}

static void locate_cache_file_roundtrip(void **state)
{
	char path[256], want[256];
	struct tether_server_cache c;
	assert_int_equal(tether_server_cache_path(path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/tether/last-server", home);
	assert_string_equal(path, want);
	assert_int_equal(tether_server_cache_read(&c), -ENOENT);
	struct tether_candidate cand = {"[fe80::1%tbt0]:7380", "gpu box #2", "tbt0", 1000, TETHER_CANDIDATE_DISCOVERY};
	assert_int_equal(tether_locator_remember(&cand), 0);
	assert_int_equal(tether_server_cache_read(&c), 0);
	assert_string_equal(c.address, "[fe80::1%tbt0]:7380");
	assert_string_equal(c.instance, "gpu box #2");
	assert_string_equal(c.link, "tbt0");
	/* The directory is the user's own. */
	struct stat st;
	snprintf(want, sizeof(want), "%s/tether", home);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Without XDG_CACHE_HOME (or with a relative one): ~/.cache, created. */
	setenv("XDG_CACHE_HOME", "relative/dir", 1);
	setenv("HOME", home, 1);
	assert_int_equal(tether_server_cache_path(path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/.cache/tether/last-server", home);
	assert_string_equal(path, want);
	assert_int_equal(tether_locator_remember(&cand), 0);
	assert_int_equal(access(want, R_OK), 0);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(tether_server_cache_path(path, sizeof(path)), -ENOENT);
	assert_int_equal(tether_server_cache_read(&c), -ENOENT);
	setenv("XDG_CACHE_HOME", home, 1);
	/* Nothing unwritable is written. */
	struct tether_candidate bad = {"10.0.0.1:7380", "x", "no/slash", 0, TETHER_CANDIDATE_CACHE};
	assert_int_equal(tether_locator_remember(&bad), -EINVAL);
}

static void locate_cache_file_malformed_ignored(void **state)
{
	struct tether_server_cache c;
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "address=", 8);
	const char *bad[] = {
		"garbage\n",
		"instance=alpha\n",                         /* no address */
		"address=not an address\n",
		"address=10.0.0.1:99999\n",
		"address=10.0.0.1:7380\nlink=../../etc\n",
		"address=10.0.0.1:7380\ninstance=a\x1b[2Jb\n",
		"address=10.0.0.1:7380\nlink=an-interface-name-too-long\n",
		big,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i]);
		assert_int_equal(tether_server_cache_read(&c), -EINVAL);
		assert_string_equal(c.address, "");
	}
	/* A NUL inside. */
	char path[256];
	assert_int_equal(tether_server_cache_path(path, sizeof(path)), 0);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("address=10.0.0.1:7380\n\0\n", 1, 24, f);
	fclose(f);
	assert_int_equal(tether_server_cache_read(&c), -EINVAL);
	/* Comments, CRLF and keys of a later version are fine. */
	write_file("# hello\r\naddress=10.0.0.1:7380\r\nfuture=1\r\n");
	assert_int_equal(tether_server_cache_read(&c), 0);
	assert_string_equal(c.address, "10.0.0.1:7380");
	/* A locator ignores a bad cache and goes on. */
	struct tether_locator l;
	write_file("address=not an address\n");
	init(&l, NULL, 0, NULL);
	expect(&l, TETHER_DEFAULT_LISTEN, TETHER_CANDIDATE_DEFAULT);
	expect_end(&l);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(locate_nothing_found_uses_default, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_cache_first_without_cable, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_cable_plugged_in_since_is_looked_for, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_no_cache_prefers_cable, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_cache_over_cable_first, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_without_avahi_cache_then_default, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_discovery_timeout_from_env, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_cache_file_roundtrip, setup, teardown),
	cmocka_unit_test_setup_teardown(locate_cache_file_malformed_ignored, setup, teardown),
};

TETHER_CMOCKA_MAIN(tests)
