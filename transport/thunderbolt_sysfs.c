/* Thunderbolt/USB4 links from Linux's sysfs (thunderbolt.h, docs/LINK.md).
 * The kernel names an XDomain peer "<domain>-<route>" and tags it
 * DEVTYPE=thunderbolt_xdomain in its uevent; its services are
 * "<xdomain>.<id>", and thunderbolt-net hangs its netdev under the service
 * whose key is "network". Speeds and lanes are the XDomain's own attributes;
 * the generation is the parent router's. */
#include "transport/thunderbolt.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ATTR_MAX 256

/* "@dir/@name" into @out; false when it does not fit (such a path is skipped). */
static bool join(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);
	return n >= 0 && (size_t)n < len;
}

/* Reads a small attribute file, trimmed of trailing white space; "" when unreadable. */
static void read_attr(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX];
	out[0] = '\0';
	if (!join(path, sizeof(path), dir, name))
		return;
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	size_t n = fread(out, 1, len - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
}

/* DROM strings are shown, not parsed: anything unprintable becomes '?'. */
static void read_name(const char *dir, const char *name, char *out, size_t len)
{
	char raw[ATTR_MAX];
	read_attr(dir, name, raw, sizeof(raw));
	size_t i = 0;
	for (; raw[i] && i < len - 1; i++)
		out[i] = raw[i] >= 0x20 && raw[i] <= 0x7e ? raw[i] : '?';
	out[i] = '\0';
}

/* A small decimal attribute ("2"); 0 when absent or odd. */
static unsigned read_uint(const char *dir, const char *name, unsigned max)
{
	char raw[32], *end;
	read_attr(dir, name, raw, sizeof(raw));
	unsigned long v = strtoul(raw, &end, 10);
	return end != raw && *end == '\0' && v <= max ? (unsigned)v : 0;
}

/* "20.0 Gb/s" (the kernel writes "%u.0 Gb/s") -> 20000 Mbit/s; 0 when odd. */
static unsigned read_speed(const char *dir, const char *name)
{
	char raw[32], *end;
	read_attr(dir, name, raw, sizeof(raw));
	unsigned long whole = strtoul(raw, &end, 10);
	if (end == raw || whole > 1000)
		return 0;
	unsigned tenths = 0;
	if (*end == '.' && end[1] >= '0' && end[1] <= '9') {
		tenths = (unsigned)(end[1] - '0');
		end += 2;
		while (*end >= '0' && *end <= '9')
			end++;
	}
	if (strcmp(end, " Gb/s"))
		return 0;
	return (unsigned)whole * 1000 + tenths * 100;
}

/* "<domain>-<route>": decimal, '-', hex; what routers and XDomains are named. */
static bool is_router_name(const char *name, unsigned *domain)
{
	char *end;
	unsigned long d = strtoul(name, &end, 10);
	if (end == name || *end != '-' || !end[1])
		return false;
	for (const char *p = end + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	*domain = (unsigned)d;
	return d <= 255;
}

static bool is_xdomain(const char *dir)
{
	char uevent[1024], *save;
	read_attr(dir, "uevent", uevent, sizeof(uevent));
	/* strtok_r: the ICD may look for links from several threads at once. */
	for (char *line = strtok_r(uevent, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strcmp(line, "DEVTYPE=thunderbolt_xdomain"))
			return true;
	return false;
}

/* The generation of the router the XDomain hangs off: its sysfs parent
 * (the bus entry is a link into the device tree), else the domain's host
 * router "<domain>-0". */
static unsigned read_generation(const char *devices, const char *entry, unsigned domain)
{
	char path[PATH_MAX], real[PATH_MAX], host[32];
	if (join(path, sizeof(path), devices, entry) && realpath(path, real)) {
		char *slash = strrchr(real, '/');
		if (slash && slash != real) {
			*slash = '\0';
			unsigned g = read_uint(real, "generation", 255);
			if (g)
				return g;
		}
	}
	snprintf(host, sizeof(host), "%u-0", domain);
	if (!join(path, sizeof(path), devices, host))
		return 0;
	return read_uint(path, "generation", 255);
}

static bool is_ifname(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= TETHER_TB_IFNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

/* The first interface under "<service>/net/", or "". */
static void read_netdev(const char *service_dir, char out[TETHER_TB_IFNAME_MAX])
{
	char path[PATH_MAX];
	struct dirent **names;
	out[0] = '\0';
	if (!join(path, sizeof(path), service_dir, "net"))
		return;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (!out[0] && names[i]->d_name[0] != '.' && is_ifname(names[i]->d_name))
			memcpy(out, names[i]->d_name, strlen(names[i]->d_name) + 1); /* fits: is_ifname() */
		free(names[i]);
	}
	free(names);
}

/* The XDomain's services "<xdomain>.<id>": the one with key "network" and its netdev. */
static void read_services(const char *devices, struct dirent **names, int n, struct tether_tb_link *l)
{
	size_t len = strlen(l->device);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (strncmp(name, l->device, len) || name[len] != '.' || !name[len + 1])
			continue;
		if (strspn(name + len + 1, "0123456789") != strlen(name + len + 1))
			continue;
		char dir[PATH_MAX], key[64], netdev[TETHER_TB_IFNAME_MAX];
		if (!join(dir, sizeof(dir), devices, name))
			continue;
		read_attr(dir, "key", key, sizeof(key));
		if (strcmp(key, "network"))
			continue;
		l->network_service = true;
		read_netdev(dir, netdev);
		if (netdev[0] && !l->netdev[0])
			memcpy(l->netdev, netdev, sizeof(netdev));
	}
}

static unsigned prefix_of(const struct sockaddr *mask)
{
	const uint8_t *b;
	size_t n;
	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else if (mask->sa_family == AF_INET6) {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	} else {
		return 0;
	}
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++)
		bits += (unsigned)__builtin_popcount(b[i]);
	return bits;
}

static void attach_addresses(const struct ifaddrs *ifa, struct tether_tb_link *l)
{
	for (; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || !ifa->ifa_name || strcmp(ifa->ifa_name, l->netdev))
			continue;
		if (l->addr_count == TETHER_TB_MAX_ADDRS)
			return;
		struct tether_tb_addr *a = &l->addrs[l->addr_count];
		const void *raw;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			raw = &((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
			a->family = 4;
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			raw = &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
			a->family = 6;
		} else {
			continue;
		}
		if (!inet_ntop(ifa->ifa_addr->sa_family, raw, a->ip, sizeof(a->ip)))
			continue;
		a->prefix_len = prefix_of(ifa->ifa_netmask);
		l->addr_count++;
	}
}

static void read_link(const char *devices, const char *entry, unsigned domain, struct dirent **names, int n,
		      const struct ifaddrs *ifa, struct tether_tb_link *l)
{
	char dir[PATH_MAX];
	memset(l, 0, sizeof(*l));
	snprintf(l->device, sizeof(l->device), "%s", entry);
	if (!join(dir, sizeof(dir), devices, entry))
		return;
	read_name(dir, "device_name", l->peer_name, sizeof(l->peer_name));
	read_name(dir, "vendor_name", l->vendor_name, sizeof(l->vendor_name));
	l->rx_lanes = read_uint(dir, "rx_lanes", 16);
	l->tx_lanes = read_uint(dir, "tx_lanes", 16);
	l->rx_mbps_per_lane = read_speed(dir, "rx_speed");
	l->tx_mbps_per_lane = read_speed(dir, "tx_speed");
	l->generation = read_generation(devices, entry, domain);
	read_services(devices, names, n, l);
	attach_addresses(ifa, l);
}

int tether_tb_links_read(const char *sysfs_root, const struct ifaddrs *ifa, struct tether_tb_links *out)
{
	char devices[PATH_MAX];
	struct dirent **names;
	memset(out, 0, sizeof(*out));
	if (!join(devices, sizeof(devices), sysfs_root, "bus/thunderbolt/devices"))
		return 0;
	int n = scandir(devices, &names, NULL, alphasort);
	if (n < 0)
		return 0; /* no Thunderbolt driver, or no such hardware: no links */
	out->bus_present = true;
	for (int i = 0; i < n && out->count < TETHER_TB_MAX_LINKS; i++) {
		char dir[PATH_MAX];
		unsigned domain;
		const char *name = names[i]->d_name;
		if (!is_router_name(name, &domain) || strlen(name) >= sizeof(out->link[0].device))
			continue;
		if (!join(dir, sizeof(dir), devices, name) || !is_xdomain(dir))
			continue;
		read_link(devices, name, domain, names, n, ifa, &out->link[out->count++]);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

int tether_tb_links_find(struct tether_tb_links *out)
{
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa))
		ifa = NULL;
	int r = tether_tb_links_read(tether_tb_sysfs_root(), ifa, out);
	if (ifa)
		freeifaddrs(ifa);
	return r;
}

/* Whether @a and @b (raw addresses of @bytes) share their first @bits bits. */
static bool same_prefix(const uint8_t *a, const uint8_t *b, size_t bytes, unsigned bits)
{
	if (!bits || bits > bytes * 8)
		return false;
	size_t whole = bits / 8;
	if (memcmp(a, b, whole))
		return false;
	unsigned rest = bits % 8;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

static bool in_subnet(const struct tether_tb_link *l, int family, const uint8_t *raw)
{
	for (unsigned i = 0; i < l->addr_count; i++) {
		uint8_t mine[16];
		if (l->addrs[i].family != family)
			continue;
		if (inet_pton(family == 4 ? AF_INET : AF_INET6, l->addrs[i].ip, mine) != 1)
			continue;
		if (same_prefix(raw, mine, family == 4 ? 4 : 16, l->addrs[i].prefix_len))
			return true;
	}
	return false;
}

int tether_tb_link_of_address(const struct tether_tb_links *links, const char *ip, const char *ifname)
{
	char host[TETHER_TB_IP_MAX + TETHER_TB_IFNAME_MAX + 1];
	const char *scope = NULL;
	uint8_t raw[16];
	int family = 0;
	if (!links || !ip || strlen(ip) >= sizeof(host))
		return -1;
	strcpy(host, ip);
	char *pct = strchr(host, '%');
	if (pct) {
		*pct = '\0';
		scope = pct + 1;
	}
	if (inet_pton(AF_INET, host, raw) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, host, raw) == 1)
		family = 6;
	/* fe80::/10 exists on every interface: only its scope says which. */
	bool link_local = family == 6 && raw[0] == 0xfe && (raw[1] & 0xc0) == 0x80;
	for (unsigned i = 0; i < links->count; i++) {
		const struct tether_tb_link *l = &links->link[i];
		if (!l->netdev[0])
			continue;
		if ((ifname && !strcmp(ifname, l->netdev)) || (scope && !strcmp(scope, l->netdev)))
			return (int)i;
		if (family && !link_local && in_subnet(l, family, raw))
			return (int)i;
	}
	return -1;
}
