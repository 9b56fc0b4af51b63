/* tests for transport/thunderbolt.h: fake sysfs trees in a temporary
 * directory, laid out as the kernel lays them out (bus entries are links into
 * the device tree under the host router), a hand-built interface address
 * list, and every reported field checked. Run one test per CTest entry:
 * test_thunderbolt <test name>. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
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
#include "transport/thunderbolt.h"

/* ---- fake sysfs ---- */

struct fake {
	char root[64];     /* the sysfs root */
	char domain[256];  /* .../devices/pci0000:00/0000:00:0d.2/domain0 */
	char bus[256];     /* root/bus/thunderbolt/devices */
};

static void mkdirs(const char *path)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A bus entry @name linked to @real, as sysfs does. */
static void bus_link(struct fake *fk, const char *name, const char *real)
{
	char link[512];
	snprintf(link, sizeof(link), "%s/%s", fk->bus, name);
	assert_int_equal(symlink(real, link), 0);
}

/* Root, domain0 and the host router 0-0 of @generation. */
static void fake_init(struct fake *fk, unsigned generation)
{
	char dir[512], gen[16];
	snprintf(fk->root, sizeof(fk->root), "/tmp/tether-tb-XXXXXX");
	assert_non_null(mkdtemp(fk->root));
	snprintf(fk->domain, sizeof(fk->domain), "%s/devices/pci0000:00/0000:00:0d.2/domain0", fk->root);
	snprintf(fk->bus, sizeof(fk->bus), "%s/bus/thunderbolt/devices", fk->root);
	mkdirs(fk->domain);
	mkdirs(fk->bus);
	put(fk->domain, "uevent", "DEVTYPE=thunderbolt_domain\n");
	put(fk->domain, "security", "user\n");
	bus_link(fk, "domain0", fk->domain);
	snprintf(dir, sizeof(dir), "%s/0-0", fk->domain);
	mkdirs(dir);
	put(dir, "uevent", "DEVTYPE=thunderbolt_device\n");
	put(dir, "device_name", "Host Router\n");
	put(dir, "vendor_name", "Intel\n");
	snprintf(gen, sizeof(gen), "%u\n", generation);
	put(dir, "generation", gen);
	bus_link(fk, "0-0", dir);
}

/* An XDomain peer 0-<route> under the host router, with its speed attributes. */
static void fake_xdomain(struct fake *fk, const char *route, const char *name, const char *vendor,
			 const char *speed, const char *lanes)
{
	char dir[512], entry[32];
	snprintf(entry, sizeof(entry), "0-%s", route);
	snprintf(dir, sizeof(dir), "%s/0-0/%s", fk->domain, entry);
	mkdirs(dir);
	put(dir, "uevent", "MAJOR=0\nDEVTYPE=thunderbolt_xdomain\nUSB4_VERSION=1.0\n");
	put(dir, "device_name", name);
	put(dir, "vendor_name", vendor);
	put(dir, "device", "0x1\n");
	put(dir, "vendor", "0x8086\n");
	put(dir, "unique_id", "a1b2c3d4-0000-0000-0000-000000000001\n");
	put(dir, "rx_speed", speed);
	put(dir, "tx_speed", speed);
	put(dir, "rx_lanes", lanes);
	put(dir, "tx_lanes", lanes);
	bus_link(fk, entry, dir);
}

/* Service <xdomain>.<id> with @key and, when @netdev, thunderbolt-net's interface under it. */
static void fake_service(struct fake *fk, const char *xdomain, int id, const char *key, const char *netdev)
{
	char dir[512], entry[64];
	snprintf(entry, sizeof(entry), "%s.%d", xdomain, id);
	snprintf(dir, sizeof(dir), "%s/0-0/%s/%s", fk->domain, xdomain, entry);
	mkdirs(dir);
	put(dir, "uevent", "DEVTYPE=thunderbolt_service\n");
	put(dir, "key", key);
	put(dir, "prtcid", "0x1\n");
	if (netdev) {
		char net[600];
		snprintf(net, sizeof(net), "%s/net/%s", dir, netdev);
		mkdirs(net);
		put(net, "mtu", "65522\n");
	}
	bus_link(fk, entry, dir);
}

/* A device router 0-3 (a dock) and a retimer 0-0:1.1: neither is a link. */
static void fake_dock_and_retimer(struct fake *fk)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/0-0/0-3", fk->domain);
	mkdirs(dir);
	put(dir, "uevent", "DEVTYPE=thunderbolt_device\n");
	put(dir, "device_name", "Dock\n");
	put(dir, "rx_speed", "20.0 Gb/s\n");
	put(dir, "rx_lanes", "2\n");
	bus_link(fk, "0-3", dir);
	snprintf(dir, sizeof(dir), "%s/0-0/0-0:1.1", fk->domain);
	mkdirs(dir);
	put(dir, "uevent", "DEVTYPE=thunderbolt_retimer\n");
	bus_link(fk, "0-0:1.1", dir);
}

static void fake_free(struct fake *fk)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fk->root);
	assert_int_equal(system(cmd), 0);
}

/* ---- a hand-built getifaddrs() list ---- */

struct fake_if {
	struct ifaddrs ifa;
	struct sockaddr_storage addr, mask;
};

static void fake_if(struct fake_if *f, struct ifaddrs *next, const char *name, const char *ip, unsigned prefix)
{
	memset(f, 0, sizeof(*f));
	f->ifa.ifa_next = next;
	f->ifa.ifa_name = (char *)name;
	f->ifa.ifa_addr = (struct sockaddr *)&f->addr;
	f->ifa.ifa_netmask = (struct sockaddr *)&f->mask;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&f->addr, *m = (struct sockaddr_in6 *)&f->mask;
		a->sin6_family = m->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
		for (unsigned i = 0; i < prefix; i++)
			m->sin6_addr.s6_addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&f->addr, *m = (struct sockaddr_in *)&f->mask;
		a->sin_family = m->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
		m->sin_addr.s_addr = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
	}
}

/* eth0 192.168.1.20/24 and fe80::1/64, thunderbolt0 10.5.0.2/24 and fe80::2/64, lo. */
static struct fake_if ifs[5];

static const struct ifaddrs *interfaces(void)
{
	fake_if(&ifs[4], NULL, "lo", "127.0.0.1", 8);
	fake_if(&ifs[3], &ifs[4].ifa, "thunderbolt0", "fe80::2", 64);
	fake_if(&ifs[2], &ifs[3].ifa, "eth0", "fe80::1", 64);
	fake_if(&ifs[1], &ifs[2].ifa, "thunderbolt0", "10.5.0.2", 24);
	fake_if(&ifs[0], &ifs[1].ifa, "eth0", "192.168.1.20", 24);
	return &ifs[0].ifa;
}

/* ---- tests ---- */

static void tb_tb3_link_20gbps_two_lanes(void **state)
{
	struct fake fk;
	struct tether_tb_links links;
	fake_init(&fk, 3);
	fake_xdomain(&fk, "1", "gpu-box\n", "Razer\n", "20.0 Gb/s\n", "2\n");
	fake_service(&fk, "0-1", 0, "network\n", "thunderbolt0");
	fake_dock_and_retimer(&fk);
	assert_int_equal(tether_tb_links_read(fk.root, interfaces(), &links), 0);
	assert_true(links.bus_present);
	assert_int_equal(links.count, 1);
	const struct tether_tb_link *l = &links.link[0];
	assert_string_equal(l->device, "0-1");
	assert_string_equal(l->peer_name, "gpu-box");
	assert_string_equal(l->vendor_name, "Razer");
	assert_int_equal(l->generation, 3);
	assert_string_equal(tether_tb_generation_name(l->generation), "Thunderbolt 3");
	assert_int_equal(l->rx_lanes, 2);
	assert_int_equal(l->tx_lanes, 2);
	assert_int_equal(l->rx_mbps_per_lane, 20000);
	assert_int_equal(l->tx_mbps_per_lane, 20000);
	assert_int_equal(tether_tb_link_rx_mbps(l), 40000);
	assert_int_equal(tether_tb_link_tx_mbps(l), 40000);
	assert_true(l->network_service);
	assert_string_equal(l->netdev, "thunderbolt0");
	assert_int_equal(l->addr_count, 2);
	assert_int_equal(l->addrs[0].family, 4);
	assert_string_equal(l->addrs[0].ip, "10.5.0.2");
	assert_int_equal(l->addrs[0].prefix_len, 24);
	assert_int_equal(l->addrs[1].family, 6);
	assert_string_equal(l->addrs[1].ip, "fe80::2");
	assert_int_equal(l->addrs[1].prefix_len, 64);
	char line[512];
	assert_string_equal(tether_tb_link_describe(l, line, sizeof(line)),
			    "\"gpu-box\" (Razer), Thunderbolt 3, 2 x 20 Gbit/s each way, thunderbolt0 10.5.0.2/24 fe80::2/64");
	fake_free(&fk);
}

static void tb_usb4_link_40gbps(void **state)
{
	struct fake fk;
	struct tether_tb_links links;
	fake_init(&fk, 4);
	/* USB4 Gen 3: 20 Gbit/s a lane, two lanes bonded: 40 Gbit/s. The
	 * peer's other service (not networking) comes first. */
	fake_xdomain(&fk, "301", "legion-go\n", "Lenovo\n", "20.0 Gb/s\n", "2\n");
	fake_service(&fk, "0-301", 0, "targetdm\n", NULL);
	fake_service(&fk, "0-301", 1, "network\n", "thunderbolt1");
	assert_int_equal(tether_tb_links_read(fk.root, interfaces(), &links), 0);
	assert_int_equal(links.count, 1);
	const struct tether_tb_link *l = &links.link[0];
	assert_string_equal(l->device, "0-301");
	assert_string_equal(l->peer_name, "legion-go");
	assert_string_equal(l->vendor_name, "Lenovo");
	assert_int_equal(l->generation, 4);
	assert_string_equal(tether_tb_generation_name(l->generation), "USB4");
	assert_int_equal(l->rx_lanes, 2);
	assert_int_equal(l->tx_lanes, 2);
	assert_int_equal(tether_tb_link_rx_mbps(l), 40000);
	assert_int_equal(tether_tb_link_tx_mbps(l), 40000);
	assert_true(l->network_service);
	assert_string_equal(l->netdev, "thunderbolt1");
	assert_int_equal(l->addr_count, 0); /* no address configured on it yet */
	char line[512];
	assert_string_equal(tether_tb_link_describe(l, line, sizeof(line)),
			    "\"legion-go\" (Lenovo), USB4, 2 x 20 Gbit/s each way, thunderbolt1 (no address)");
	fake_free(&fk);
}

static void tb_no_link(void **state)
{
	struct fake fk;
	struct tether_tb_links links;
	/* A Thunderbolt bus with only the host router, a dock and a retimer. */
	fake_init(&fk, 4);
	fake_dock_and_retimer(&fk);
	assert_int_equal(tether_tb_links_read(fk.root, interfaces(), &links), 0);
	assert_true(links.bus_present);
	assert_int_equal(links.count, 0);
	fake_free(&fk);
	/* No Thunderbolt driver at all: no bus, no links, no error. */
	assert_int_equal(tether_tb_links_read("/nonexistent-sysfs", interfaces(), &links), 0);
	assert_false(links.bus_present);
	assert_int_equal(links.count, 0);
	/* tether_tb_links_find() reads TETHER_SYSFS_ROOT. */
	setenv("TETHER_SYSFS_ROOT", "/nonexistent-sysfs", 1);
	assert_string_equal(tether_tb_sysfs_root(), "/nonexistent-sysfs");
	assert_int_equal(tether_tb_links_find(&links), 0);
	assert_false(links.bus_present);
	unsetenv("TETHER_SYSFS_ROOT");
	assert_string_equal(tether_tb_sysfs_root(), "/sys");
}

static void tb_peer_without_networking(void **state)
{
	struct fake fk;
	struct tether_tb_links links;
	fake_init(&fk, 4);
	/* 0-1 offers networking but thunderbolt-net is not bound; 0-2 offers
	 * no network service at all (and reports one lane at 10 Gbit/s). */
	fake_xdomain(&fk, "1", "mac-studio\n", "Apple Inc.\n", "20.0 Gb/s\n", "2\n");
	fake_service(&fk, "0-1", 0, "network\n", NULL);
	fake_xdomain(&fk, "2", "nas\n", "ACME\n", "10.0 Gb/s\n", "1\n");
	fake_service(&fk, "0-2", 0, "targetdm\n", NULL);
	assert_int_equal(tether_tb_links_read(fk.root, interfaces(), &links), 0);
	assert_int_equal(links.count, 2);
	const struct tether_tb_link *a = &links.link[0], *b = &links.link[1];
	assert_string_equal(a->device, "0-1");
	assert_string_equal(a->peer_name, "mac-studio");
	assert_string_equal(a->vendor_name, "Apple Inc.");
	assert_int_equal(a->generation, 4);
	assert_int_equal(tether_tb_link_rx_mbps(a), 40000);
	assert_true(a->network_service);
	assert_string_equal(a->netdev, "");
	assert_int_equal(a->addr_count, 0);
	assert_string_equal(b->device, "0-2");
	assert_string_equal(b->peer_name, "nas");
	assert_string_equal(b->vendor_name, "ACME");
	assert_int_equal(b->rx_lanes, 1);
	assert_int_equal(b->rx_mbps_per_lane, 10000);
	assert_int_equal(tether_tb_link_tx_mbps(b), 10000);
	assert_false(b->network_service);
	assert_string_equal(b->netdev, "");
	char line[512];
	assert_string_equal(tether_tb_link_describe(a, line, sizeof(line)),
			    "\"mac-studio\" (Apple Inc.), USB4, 2 x 20 Gbit/s each way, no networking "
			    "(thunderbolt-net is not bound to the peer's network service)");
	assert_string_equal(tether_tb_link_describe(b, line, sizeof(line)),
			    "\"nas\" (ACME), USB4, 1 x 10 Gbit/s each way, no networking "
			    "(the peer offers no network service)");
	/* Nothing is reached over a link without a netdev. */
	assert_int_equal(tether_tb_link_of_address(&links, "10.5.0.1", NULL), -1);
	fake_free(&fk);
}

static void tb_hostile_attributes(void **state)
{
	struct fake fk;
	struct tether_tb_links links;
	fake_init(&fk, 3);
	/* Control bytes in a DROM name, speeds and lanes out of range, a netdev
	 * name that is not an interface name, and no generation file anywhere. */
	fake_xdomain(&fk, "1", "evil\x1b[2Jname\n", "\x01vendor\n", "99999.0 Gb/s\n", "4096\n");
	fake_service(&fk, "0-1", 0, "network\n", "a-name-far-too-long-for-ifnamsiz");
	char gen[512];
	snprintf(gen, sizeof(gen), "%s/0-0/generation", fk.domain);
	assert_int_equal(unlink(gen), 0);
	assert_int_equal(tether_tb_links_read(fk.root, interfaces(), &links), 0);
	assert_int_equal(links.count, 1);
	const struct tether_tb_link *l = &links.link[0];
	assert_string_equal(l->peer_name, "evil?[2Jname");
	assert_string_equal(l->vendor_name, "?vendor");
	assert_int_equal(l->rx_mbps_per_lane, 0);
	assert_int_equal(l->rx_lanes, 0);
	assert_int_equal(l->generation, 0);
	assert_string_equal(l->netdev, "");
	char line[512];
	assert_string_equal(tether_tb_link_describe(l, line, sizeof(line)),
			    "\"evil?[2Jname\" (?vendor), unknown generation, speed unknown, no networking "
			    "(thunderbolt-net is not bound to the peer's network service)");
	fake_free(&fk);
}

static void tb_address_preference(void **state)
{
	struct fake fk;
	struct tether_tb_links links;
	fake_init(&fk, 4);
	fake_xdomain(&fk, "1", "gpu-box\n", "Razer\n", "20.0 Gb/s\n", "2\n");
	fake_service(&fk, "0-1", 0, "network\n", "thunderbolt0");
	assert_int_equal(tether_tb_links_read(fk.root, interfaces(), &links), 0);
	assert_int_equal(links.count, 1);
	/* In the link's subnet (10.5.0.2/24), whatever interface it was learnt on. */
	assert_int_equal(tether_tb_link_of_address(&links, "10.5.0.1", NULL), 0);
	assert_int_equal(tether_tb_link_of_address(&links, "10.5.0.254", "eth0"), 0);
	/* Learnt on the link's interface (DNS-SD says where), or scoped to it. */
	assert_int_equal(tether_tb_link_of_address(&links, "169.254.3.7", "thunderbolt0"), 0);
	assert_int_equal(tether_tb_link_of_address(&links, "fe80::9%thunderbolt0", NULL), 0);
	/* Elsewhere: another subnet, a link-local address of another interface
	 * (fe80::/64 is on every interface, so only the scope counts). */
	assert_int_equal(tether_tb_link_of_address(&links, "10.5.1.1", NULL), -1);
	assert_int_equal(tether_tb_link_of_address(&links, "192.168.1.7", "eth0"), -1);
	assert_int_equal(tether_tb_link_of_address(&links, "fe80::9%eth0", NULL), -1);
	assert_int_equal(tether_tb_link_of_address(&links, "fe80::9", NULL), -1);
	assert_int_equal(tether_tb_link_of_address(&links, "gpu-box.local", NULL), -1);
	assert_int_equal(tether_tb_link_of_address(&links, "", NULL), -1);
	assert_int_equal(tether_tb_link_of_address(NULL, "10.5.0.1", NULL), -1);
	fake_free(&fk);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(tb_tb3_link_20gbps_two_lanes),
	cmocka_unit_test(tb_usb4_link_40gbps),
	cmocka_unit_test(tb_no_link),
	cmocka_unit_test(tb_peer_without_networking),
	cmocka_unit_test(tb_hostile_attributes),
	cmocka_unit_test(tb_address_preference),
};

TETHER_CMOCKA_MAIN(tests)
