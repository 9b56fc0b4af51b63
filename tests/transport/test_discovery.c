/* tests for transport/discovery.h without a network: TXT strings as a
 * hostile peer might send them, services folded into servers, the order in
 * which servers and addresses are tried (Thunderbolt path, cached server,
 * protocol), and browsing with no avahi-daemon to ask. Run one test per
 * CTest entry: test_discovery <test name>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "transport/discovery.h"
#include "transport/platform/platform.h"

static void txt(struct tether_discovered_server *s, const char *text)
{
	tether_discovery_parse_txt(s, (const uint8_t *)text, strlen(text));
}

static struct tether_discovered_server fresh(void)
{
	struct tether_discovered_server s;
	memset(&s, 0, sizeof(s));
	s.pairing = -1;
	return s;
}

static void disc_txt_fields_parsed(void **state)
{
	struct tether_discovered_server s = fresh();
	txt(&s, "txtvers=1");
	txt(&s, "proto=1.2");
	txt(&s, "gpu=NVIDIA GeForce RTX 4090");
	txt(&s, "gpus=2");
	txt(&s, "name=gpu-box");
	txt(&s, "pair=1");
	txt(&s, "future=whatever"); /* unknown keys are room for later versions */
	assert_int_equal(s.txt_version, 1);
	assert_true(s.has_proto);
	assert_int_equal(s.proto_major, 1);
	assert_int_equal(s.proto_minor, 2);
	assert_string_equal(s.gpu, "NVIDIA GeForce RTX 4090");
	assert_int_equal(s.gpu_count, 2);
	assert_string_equal(s.server_name, "gpu-box");
	assert_int_equal(s.pairing, 1);
	/* Keys are case-insensitive (RFC 6763 6.4); "pair=0" says no pairing. */
	struct tether_discovered_server t = fresh();
	txt(&t, "GPU=llvmpipe");
	txt(&t, "Pair=0");
	assert_string_equal(t.gpu, "llvmpipe");
	assert_int_equal(t.pairing, 0);
}

static void disc_txt_hostile_values_ignored(void **state)
{
	struct tether_discovered_server s = fresh();
	char big[400];
	memset(big, 'A', sizeof(big));
	memcpy(big, "gpu=", 4);
	/* Longer than a TXT string can be: ignored whole. */
	tether_discovery_parse_txt(&s, (const uint8_t *)big, sizeof(big));
	assert_string_equal(s.gpu, "");
	/* 255 bytes: kept, cut to what the field holds. */
	tether_discovery_parse_txt(&s, (const uint8_t *)big, 255);
	assert_int_equal(strlen(s.gpu), TETHER_DISCOVERY_TEXT_MAX - 1);
	/* Control bytes and a NUL inside a value are shown as '?'. */
	static const uint8_t name[] = {'n', 'a', 'm', 'e', '=', 'a', 0x1b, '[', 'm', 0, 'b', 0xff};
	tether_discovery_parse_txt(&s, name, sizeof(name));
	assert_string_equal(s.server_name, "a?[m?b?");
	/* Malformed numbers and flags leave the fields unset. */
	const char *bad[] = {"proto=1", "proto=1.", "proto=.2", "proto=1.2.3", "proto=99999999.1", "proto=x.y",
			     "proto=-1.2", "txtvers=", "txtvers=256", "gpus=abc", "gpus=99999", "pair=2", "pair=",
			     "pair=yes", "=1", "pair", "", "gpus=1 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		txt(&s, bad[i]);
	tether_discovery_parse_txt(&s, NULL, 5);
	assert_false(s.has_proto);
	assert_int_equal(s.proto_major, 0);
	assert_int_equal(s.txt_version, 0);
	assert_int_equal(s.gpu_count, 0);
	assert_int_equal(s.pairing, -1);
}

static const struct tether_txt_item server_txt[] = {
	{(const uint8_t *)"proto=1.2", 9},
	{(const uint8_t *)"gpu=llvmpipe", 12},
};

static void disc_services_fold_into_servers(void **state)
{
	struct tether_discovery *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	/* One server seen on two interfaces and both protocols. */
	assert_non_null(tether_discovery_add(d, "gpu-box", "gpu-box.local", 7380, "192.168.1.9", "eth0", server_txt, 2));
	assert_non_null(tether_discovery_add(d, "gpu-box", "gpu-box.local", 7380, "10.5.0.1", "thunderbolt0", NULL, 0));
	assert_non_null(tether_discovery_add(d, "gpu-box", "gpu-box.local", 7380, "fe80::1", "thunderbolt0", NULL, 0));
	assert_non_null(tether_discovery_add(d, "gpu-box", "gpu-box.local", 7380, "10.5.0.1", "thunderbolt0", NULL, 0));
	/* Unusable addresses are dropped: link-local without an interface, a
	 * name, an interface name that is not one, another port. */
	tether_discovery_add(d, "gpu-box", "gpu-box.local", 7380, "fe80::2", NULL, NULL, 0);
	tether_discovery_add(d, "gpu-box", "gpu-box.local", 7380, "evil.example", "eth0", NULL, 0);
	tether_discovery_add(d, "gpu-box", "gpu-box.local", 7380, "10.9.9.9", "eth0]:1", NULL, 0);
	tether_discovery_add(d, "gpu-box", "gpu-box.local", 7381, "10.7.7.7", "eth0", NULL, 0);
	assert_int_equal(d->count, 1);
	struct tether_discovered_server *s = &d->servers[0];
	assert_string_equal(s->instance, "gpu-box");
	assert_string_equal(s->host, "gpu-box.local");
	assert_int_equal(s->port, 7380);
	assert_true(s->has_proto);
	assert_string_equal(s->gpu, "llvmpipe");
	assert_int_equal(s->addr_count, 4);
	assert_string_equal(s->addrs[0].ip, "192.168.1.9");
	assert_string_equal(s->addrs[0].ifname, "eth0");
	assert_int_equal(s->addrs[0].family, 4);
	assert_string_equal(s->addrs[1].ip, "10.5.0.1");
	assert_string_equal(s->addrs[2].ip, "fe80::1%thunderbolt0");
	assert_int_equal(s->addrs[2].family, 6);
	assert_string_equal(s->addrs[3].ip, "10.9.9.9");
	assert_string_equal(s->addrs[3].ifname, "");
	/* No instance or no port: not a server. */
	assert_null(tether_discovery_add(d, "", "h", 7380, "10.0.0.1", NULL, NULL, 0));
	assert_null(tether_discovery_add(d, "x", "h", 0, "10.0.0.1", NULL, NULL, 0));
	/* Limits: servers and addresses past them are dropped. */
	char name[32], ip[32];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "server-%02d", i);
		tether_discovery_add(d, name, "h.local", 7380, "10.0.0.1", NULL, NULL, 0);
	}
	assert_int_equal(d->count, TETHER_DISCOVERY_MAX_SERVERS);
	for (int i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "10.1.0.%d", i);
		tether_discovery_add(d, "server-01", "h.local", 7380, ip, NULL, NULL, 0);
	}
	assert_int_equal(d->servers[2].addr_count, TETHER_DISCOVERY_MAX_ADDRS);
	free(d);
}

/* This machine: a link whose thunderbolt0 is 10.5.0.2/24. */
static void one_link(struct tether_tb_links *links)
{
	memset(links, 0, sizeof(*links));
	links->bus_present = true;
	links->count = 1;
	struct tether_tb_link *l = &links->link[0];
	strcpy(l->device, "0-1");
	strcpy(l->netdev, "thunderbolt0");
	l->addr_count = 1;
	l->addrs[0] = (struct tether_tb_addr){4, "10.5.0.2", 24};
}

static void disc_rank_thunderbolt_first(void **state)
{
	struct tether_discovery *d = calloc(1, sizeof(*d));
	struct tether_tb_links links;
	assert_non_null(d);
	one_link(&links);
	/* "alpha": Ethernet only. "beta": Ethernet, IPv6 and the cable.
	 * "gamma": on the cable but a protocol this build does not speak. */
	tether_discovery_add(d, "gamma", "g.local", 7380, "10.5.0.3", "thunderbolt0", NULL, 0);
	d->servers[0].has_proto = true;
	d->servers[0].proto_major = 2;
	tether_discovery_add(d, "beta", "b.local", 7380, "fe80::b", "eth0", NULL, 0);
	tether_discovery_add(d, "beta", "b.local", 7380, "2001:db8::b", "eth0", NULL, 0);
	tether_discovery_add(d, "beta", "b.local", 7380, "192.168.1.11", "eth0", NULL, 0);
	tether_discovery_add(d, "beta", "b.local", 7380, "10.5.0.1", "thunderbolt0", NULL, 0);
	tether_discovery_add(d, "alpha", "a.local", 7380, "192.168.1.10", "eth0", NULL, 0);
	tether_discovery_rank(d, &links, NULL, 1);
	assert_int_equal(d->count, 3);
	assert_string_equal(d->servers[0].instance, "beta");
	assert_true(d->servers[0].on_thunderbolt);
	assert_string_equal(d->servers[1].instance, "alpha");
	assert_false(d->servers[1].on_thunderbolt);
	assert_string_equal(d->servers[2].instance, "gamma");
	assert_true(d->servers[2].on_thunderbolt);
	/* beta's addresses: the cable, then IPv4, then IPv6, link-local last. */
	const struct tether_discovered_server *b = &d->servers[0];
	assert_int_equal(b->addr_count, 4);
	assert_string_equal(b->addrs[0].ip, "10.5.0.1");
	assert_int_equal(b->addrs[0].tb_link, 0);
	assert_string_equal(b->addrs[1].ip, "192.168.1.11");
	assert_int_equal(b->addrs[1].tb_link, -1);
	assert_string_equal(b->addrs[2].ip, "2001:db8::b");
	assert_string_equal(b->addrs[3].ip, "fe80::b%eth0");
	/* Without links nothing is on a cable: by name, protocol last. */
	tether_discovery_rank(d, NULL, NULL, 1);
	assert_string_equal(d->servers[0].instance, "alpha");
	assert_string_equal(d->servers[1].instance, "beta");
	assert_false(d->servers[1].on_thunderbolt);
	assert_string_equal(d->servers[1].addrs[0].ip, "10.5.0.1"); /* stable: IPv4 kept in order */
	assert_string_equal(d->servers[2].instance, "gamma");
	free(d);
}

static void disc_rank_cached_server_first(void **state)
{
	struct tether_discovery *d = calloc(1, sizeof(*d));
	struct tether_tb_links links;
	assert_non_null(d);
	one_link(&links);
	tether_discovery_add(d, "beta", "b.local", 7380, "10.5.0.1", "thunderbolt0", NULL, 0);
	tether_discovery_add(d, "alpha", "a.local", 7380, "192.168.1.10", "eth0", NULL, 0);
	/* The server used last wins over the one on the cable... */
	tether_discovery_rank(d, &links, "alpha", 1);
	assert_string_equal(d->servers[0].instance, "alpha");
	assert_string_equal(d->servers[1].instance, "beta");
	/* ...and a cached name nobody advertises changes nothing. */
	tether_discovery_rank(d, &links, "nobody", 1);
	assert_string_equal(d->servers[0].instance, "beta");
	assert_string_equal(d->servers[1].instance, "alpha");
	free(d);
}

static void disc_address_strings(void **state)
{
	struct tether_discovery *d = calloc(1, sizeof(*d));
	char buf[80];
	assert_non_null(d);
	tether_discovery_add(d, "s", "s.local", 7380, "10.5.0.1", "eth0", NULL, 0);
	tether_discovery_add(d, "s", "s.local", 7380, "fe80::1", "thunderbolt0", NULL, 0);
	tether_discovery_add(d, "s", "s.local", 7380, "2001:db8::1", "eth0", NULL, 0);
	assert_int_equal(tether_discovered_address(&d->servers[0], 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.5.0.1:7380");
	assert_int_equal(tether_discovered_address(&d->servers[0], 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "[fe80::1%thunderbolt0]:7380");
	assert_int_equal(tether_discovered_address(&d->servers[0], 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "[2001:db8::1]:7380");
	assert_int_equal(tether_discovered_address(&d->servers[0], 3, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tether_discovered_address(&d->servers[0], 1, buf, 10), -ENOSPC);
	free(d);
}

/* No avahi-daemon to ask (a system bus that is not there): a quick, clean
 * "refused", as the ICD needs to fall back at once. */
static void disc_browse_without_daemon_fails_soft(void **state)
{
	struct tether_discovery *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/tether-test-bus", 1);
	uint64_t t0 = tether_time_ns();
	int r = tether_discovery_browse(5000, d);
	uint64_t took_ms = (tether_time_ns() - t0) / 1000000;
	assert_int_equal(r, -ECONNREFUSED);
	assert_int_equal(d->count, 0);
	assert_true(took_ms < 1000);
	/* Publishing waits for an avahi-daemon that starts later, but not
	 * without a system bus to wait on. */
	const char *kv[] = {"txtvers=1"};
	struct tether_discovery_service svc = {"t", 7380, 0, 4, kv, 1};
	struct tether_discovery_publisher *p = NULL;
	r = tether_discovery_publish(&svc, &p);
	assert_int_equal(r, -ECONNREFUSED);
	assert_null(p);
	free(d);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(disc_txt_fields_parsed),
	cmocka_unit_test(disc_txt_hostile_values_ignored),
	cmocka_unit_test(disc_services_fold_into_servers),
	cmocka_unit_test(disc_rank_thunderbolt_first),
	cmocka_unit_test(disc_rank_cached_server_first),
	cmocka_unit_test(disc_address_strings),
	cmocka_unit_test(disc_browse_without_daemon_fails_soft),
};

TETHER_CMOCKA_MAIN(tests)
