/* DNS-SD discovery, the part every platform shares (discovery.h): reading
 * TXT strings, which come from anyone on the network, folding the services
 * a browse resolves into servers, and ranking them for the caller to try. */
#include "transport/discovery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A DNS TXT string is at most 255 bytes (RFC 6763 section 6.1). */
#define TXT_STRING_MAX 255

/* Copies @len bytes of @src as a printable C string into @out (cut to fit). */
static void copy_printable(char *out, size_t size, const uint8_t *src, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = src[i] >= 0x20 && src[i] <= 0x7e ? (char)src[i] : '?';
	out[n] = '\0';
}

/* A decimal of 1..@digits digits, at most @max. */
static bool parse_uint(const uint8_t *p, size_t len, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	if (!len || len > 9)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	if (v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool key_is(const uint8_t *key, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = key[i] >= 'A' && key[i] <= 'Z' ? (uint8_t)(key[i] + 32) : key[i];
		if (c != (uint8_t)name[i])
			return false;
	}
	return true;
}

/* "MAJOR.MINOR" */
static void parse_proto(struct tether_discovered_server *s, const uint8_t *v, size_t len)
{
	const uint8_t *dot = memchr(v, '.', len);
	unsigned major, minor;
	if (!dot || !parse_uint(v, (size_t)(dot - v), 65535, &major) ||
	    !parse_uint(dot + 1, len - (size_t)(dot - v) - 1, 65535, &minor))
		return;
	s->proto_major = major;
	s->proto_minor = minor;
	s->has_proto = true;
}

void tether_discovery_parse_txt(struct tether_discovered_server *s, const uint8_t *data, size_t len)
{
	if (!data || !len || len > TXT_STRING_MAX)
		return;
	const uint8_t *eq = memchr(data, '=', len);
	if (!eq)
		return; /* a boolean attribute: none is defined */
	size_t klen = (size_t)(eq - data), vlen = len - klen - 1;
	const uint8_t *v = eq + 1;
	unsigned u;
	if (key_is(data, klen, TETHER_TXT_VERSION)) {
		if (parse_uint(v, vlen, 255, &u))
			s->txt_version = u;
	} else if (key_is(data, klen, TETHER_TXT_PROTO)) {
		parse_proto(s, v, vlen);
	} else if (key_is(data, klen, TETHER_TXT_GPU)) {
		copy_printable(s->gpu, sizeof(s->gpu), v, vlen);
	} else if (key_is(data, klen, TETHER_TXT_GPUS)) {
		if (parse_uint(v, vlen, 1024, &u))
			s->gpu_count = u;
	} else if (key_is(data, klen, TETHER_TXT_NAME)) {
		copy_printable(s->server_name, sizeof(s->server_name), v, vlen);
	} else if (key_is(data, klen, TETHER_TXT_PAIR)) {
		if (vlen == 1 && (v[0] == '0' || v[0] == '1'))
			s->pairing = v[0] - '0';
	}
}

static struct tether_discovered_server *find_or_add(struct tether_discovery *d, const char *instance)
{
	char name[sizeof(d->servers[0].instance)];
	copy_printable(name, sizeof(name), (const uint8_t *)instance, strlen(instance));
	for (unsigned i = 0; i < d->count; i++)
		if (!strcmp(d->servers[i].instance, name))
			return &d->servers[i];
	if (d->count == TETHER_DISCOVERY_MAX_SERVERS)
		return NULL;
	struct tether_discovered_server *s = &d->servers[d->count++];
	memset(s, 0, sizeof(*s));
	memcpy(s->instance, name, sizeof(name));
	s->pairing = -1;
	return s;
}

static bool is_link_local6(const char *ip)
{
	return (ip[0] == 'f' || ip[0] == 'F') && (ip[1] == 'e' || ip[1] == 'E') && ip[2] &&
	       strchr("89abAB", ip[2]);
}

/* A numeric address as it may be written in an address string: hex digits, '.' and ':'. */
static bool is_numeric_ip(const char *ip)
{
	size_t n = strlen(ip);
	return n && n < TETHER_TB_IP_MAX && strspn(ip, "0123456789abcdefABCDEF.:") == n;
}

static bool is_ifname(const char *s)
{
	size_t n = strlen(s);
	return n && n < TETHER_TB_IFNAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static void add_address(struct tether_discovered_server *s, const char *ip, const char *ifname)
{
	struct tether_discovered_addr a = {.tb_link = -1};
	if (!ip || !is_numeric_ip(ip))
		return;
	if (ifname && is_ifname(ifname))
		snprintf(a.ifname, sizeof(a.ifname), "%s", ifname);
	a.family = strchr(ip, ':') ? 6 : 4;
	if (a.family == 6 && is_link_local6(ip)) {
		if (!a.ifname[0])
			return; /* unusable without its interface */
		snprintf(a.ip, sizeof(a.ip), "%s%%%s", ip, a.ifname);
	} else {
		snprintf(a.ip, sizeof(a.ip), "%s", ip);
	}
	for (unsigned i = 0; i < s->addr_count; i++)
		if (!strcmp(s->addrs[i].ip, a.ip))
			return;
	if (s->addr_count < TETHER_DISCOVERY_MAX_ADDRS)
		s->addrs[s->addr_count++] = a;
}

struct tether_discovered_server *tether_discovery_add(struct tether_discovery *d, const char *instance,
						      const char *host, uint16_t port, const char *ip,
						      const char *ifname, const struct tether_txt_item *txt,
						      size_t txt_count)
{
	if (!instance || !instance[0] || !port)
		return NULL;
	struct tether_discovered_server *s = find_or_add(d, instance);
	if (!s)
		return NULL;
	if (!s->port) {
		/* The first resolution describes the server; later ones only add addresses. */
		s->port = port;
		if (host)
			copy_printable(s->host, sizeof(s->host), (const uint8_t *)host, strlen(host));
		for (size_t i = 0; i < txt_count; i++)
			tether_discovery_parse_txt(s, txt[i].data, txt[i].len);
	}
	if (port == s->port)
		add_address(s, ip, ifname);
	return s;
}

/* Lower is tried first. */
static int address_rank(const struct tether_discovered_addr *a)
{
	int r = a->tb_link >= 0 ? 0 : 4;
	if (a->family == 6)
		r += strchr(a->ip, '%') ? 2 : 1;
	return r;
}

static void rank_addresses(struct tether_discovered_server *s, const struct tether_tb_links *links)
{
	s->on_thunderbolt = false;
	for (unsigned i = 0; i < s->addr_count; i++) {
		struct tether_discovered_addr *a = &s->addrs[i];
		a->tb_link = links ? tether_tb_link_of_address(links, a->ip, a->ifname[0] ? a->ifname : NULL) : -1;
		s->on_thunderbolt |= a->tb_link >= 0;
	}
	/* Insertion sort: stable, and there are at most a handful. */
	for (unsigned i = 1; i < s->addr_count; i++) {
		struct tether_discovered_addr a = s->addrs[i];
		unsigned j = i;
		for (; j > 0 && address_rank(&s->addrs[j - 1]) > address_rank(&a); j--)
			s->addrs[j] = s->addrs[j - 1];
		s->addrs[j] = a;
	}
}

struct rank_ctx {
	const char *preferred;
	unsigned want_major;
};

static int server_rank(const struct tether_discovered_server *s, const struct rank_ctx *c)
{
	if (c->preferred && !strcmp(s->instance, c->preferred))
		return 0;
	int r = 1;
	if (s->has_proto && s->proto_major != c->want_major)
		r += 4;
	if (!s->on_thunderbolt)
		r += 2;
	return r;
}

void tether_discovery_rank(struct tether_discovery *d, const struct tether_tb_links *links,
			   const char *preferred_instance, unsigned want_major)
{
	struct rank_ctx c = {preferred_instance && preferred_instance[0] ? preferred_instance : NULL, want_major};
	for (unsigned i = 0; i < d->count; i++)
		rank_addresses(&d->servers[i], links);
	/* Insertion sort on (rank, instance name); at most TETHER_DISCOVERY_MAX_SERVERS. */
	struct tether_discovered_server *tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return;
	for (unsigned i = 1; i < d->count; i++) {
		*tmp = d->servers[i];
		int r = server_rank(tmp, &c);
		unsigned j = i;
		for (; j > 0; j--) {
			int rp = server_rank(&d->servers[j - 1], &c);
			if (rp < r || (rp == r && strcmp(d->servers[j - 1].instance, tmp->instance) <= 0))
				break;
			d->servers[j] = d->servers[j - 1];
		}
		d->servers[j] = *tmp;
	}
	free(tmp);
}

int tether_discovered_address(const struct tether_discovered_server *s, unsigned i, char *buf, size_t len)
{
	if (i >= s->addr_count)
		return -EINVAL;
	const struct tether_discovered_addr *a = &s->addrs[i];
	int n = snprintf(buf, len, a->family == 6 ? "[%s]:%u" : "%s:%u", a->ip, (unsigned)s->port);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}
