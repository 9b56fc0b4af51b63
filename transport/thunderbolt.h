/* Thunderbolt/USB4 host-to-host links, as Linux's sysfs shows them: the
 * XDomain peers under /sys/bus/thunderbolt/devices, their lanes and speed,
 * and the network interface thunderbolt-net made for each (docs/LINK.md).
 * tetherd logs them, `tether status` shows them, and the ICD and the tool
 * prefer a server address reached over one. Windows: not available (yet). */
#ifndef TETHER_THUNDERBOLT_H
#define TETHER_THUNDERBOLT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where sysfs is read from; TETHER_SYSFS_ROOT overrides it (tests build fake trees). */
#define TETHER_SYSFS_ROOT_DEFAULT "/sys"

#define TETHER_TB_MAX_LINKS 16
#define TETHER_TB_MAX_ADDRS 8
#define TETHER_TB_NAME_MAX 64   /* device_name, vendor_name (DROM strings, shortened) */
#define TETHER_TB_IFNAME_MAX 16 /* IFNAMSIZ */
#define TETHER_TB_IP_MAX 46     /* INET6_ADDRSTRLEN */

/* One address of a link's network interface. */
struct tether_tb_addr {
	int family;                   /* 4 or 6 */
	char ip[TETHER_TB_IP_MAX];    /* numeric, without a scope ("fe80::1") */
	unsigned prefix_len;          /* from the netmask: 24, 64... */
};

/* One XDomain peer: another computer at the end of a Thunderbolt/USB4 cable. */
struct tether_tb_link {
	char device[32];                      /* its sysfs name, "0-1" (domain-route) */
	char peer_name[TETHER_TB_NAME_MAX];   /* device_name: the other host's name */
	char vendor_name[TETHER_TB_NAME_MAX]; /* vendor_name */
	/* Of the local router the peer hangs off: 1-3 Thunderbolt, 4 USB4
	 * (Thunderbolt 4 hosts are USB4 hosts and say 4); 0 when unknown. */
	unsigned generation;
	unsigned rx_lanes, tx_lanes;
	unsigned rx_mbps_per_lane, tx_mbps_per_lane; /* "20.0 Gb/s" -> 20000 */
	/* The peer offers the "network" XDomain service. */
	bool network_service;
	/* thunderbolt-net's interface for it ("thunderbolt0"); "" when the
	 * peer has no networking (no service, or the driver is not bound). */
	char netdev[TETHER_TB_IFNAME_MAX];
	struct tether_tb_addr addrs[TETHER_TB_MAX_ADDRS];
	unsigned addr_count;
};

struct tether_tb_links {
	/* The thunderbolt bus exists in sysfs (the driver is loaded). */
	bool bus_present;
	struct tether_tb_link link[TETHER_TB_MAX_LINKS];
	unsigned count;
};

struct ifaddrs;

/**
 * tether_tb_sysfs_root() - the sysfs root to read: $TETHER_SYSFS_ROOT, else /sys
 */
const char *tether_tb_sysfs_root(void);

/**
 * tether_tb_links_find() - find this machine's Thunderbolt/USB4 host-to-host links now
 * @out: filled; out->count is 0 when there is no link (or no Thunderbolt at all)
 *
 * Reads tether_tb_sysfs_root() and the interfaces' addresses (getifaddrs).
 * Return: 0; -ENOTSUP where there is no sysfs (Windows): nothing to show,
 * not an error to report.
 */
int tether_tb_links_find(struct tether_tb_links *out);

/**
 * tether_tb_links_read() - tether_tb_links_find() from a given root and address list
 * @sysfs_root: a directory holding bus/thunderbolt/devices (real or a test's fake tree)
 * @ifa: interface addresses to attach to the links' netdevs (a getifaddrs() list,
 *       or one a test built); NULL attaches none
 * @out: filled
 *
 * Anything odd in the tree (unreadable attributes, an XDomain without
 * speeds, too many links) is skipped or left 0, never fatal.
 * Return: 0, or -ENOTSUP on Windows.
 */
int tether_tb_links_read(const char *sysfs_root, const struct ifaddrs *ifa, struct tether_tb_links *out);

/**
 * tether_tb_generation_name() - "Thunderbolt 3", "USB4"... for a generation number
 * Return: a static string ("unknown generation" for 0 or an unknown value).
 */
const char *tether_tb_generation_name(unsigned generation);

/**
 * tether_tb_link_describe() - one line about a link for logs and the tool
 * e.g. "\"gpu-box\" (Framework), USB4, 2 x 20 Gbit/s each way, thunderbolt0 10.5.0.1/24"
 * or "... , no networking (thunderbolt-net not bound)".
 * Return: @buf.
 */
char *tether_tb_link_describe(const struct tether_tb_link *l, char *buf, size_t len);

/** tether_tb_link_rx_mbps() / _tx_mbps() - a direction's nominal speed, all lanes: Mbit/s */
uint64_t tether_tb_link_rx_mbps(const struct tether_tb_link *l);
uint64_t tether_tb_link_tx_mbps(const struct tether_tb_link *l);

/**
 * tether_tb_link_of_address() - the link through which a server address is reached
 * @links: what tether_tb_links_find() returned
 * @ip: numeric IPv4 or IPv6 address of the server; an IPv6 one may carry
 *      its interface as a scope ("fe80::1%thunderbolt0")
 * @ifname: the interface the address was learnt on (DNS-SD tells it), or NULL
 *
 * An address is on a link when it was learnt on, or is scoped to, the link's
 * netdev, or lies in the subnet of one of the netdev's addresses.
 * Return: the index of the link in @links, or -1.
 */
int tether_tb_link_of_address(const struct tether_tb_links *links, const char *ip, const char *ifname);

#endif /* TETHER_THUNDERBOLT_H */
