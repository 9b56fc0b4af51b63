/* DNS-SD discovery of tetherd servers (docs/LINK.md): tetherd advertises
 * itself as _tether._tcp with a TXT record saying what it serves; the ICD and
 * `tether discover` browse for it. discovery_avahi.c speaks to avahi-daemon
 * through Avahi's client library, loaded at run time so that a machine
 * without it still runs the ICD; discovery_none.c is the Windows stand-in.
 * discovery.c holds what every platform shares: TXT parsing (TXT records
 * come from the network: hostile) and the order in which servers and their
 * addresses are tried. */
#ifndef TETHER_DISCOVERY_H
#define TETHER_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/thunderbolt.h"

#define TETHER_DISCOVERY_SERVICE_TYPE "_tether._tcp"
/* How long the ICD browses when TETHER_SERVER is unset (it waits less when
 * avahi-daemon says it has everything; TETHER_DISCOVERY_TIMEOUT_MS overrides). */
#define TETHER_DISCOVERY_ICD_TIMEOUT_MS 1500
#define TETHER_DISCOVERY_MAX_TIMEOUT_MS 60000

/* TXT keys (DNS-SD, RFC 6763 section 6: key=value, keys case-insensitive). */
#define TETHER_TXT_VERSION "txtvers" /* "1": the layout of this record */
#define TETHER_TXT_PROTO "proto"     /* tether protocol "MAJOR.MINOR" */
#define TETHER_TXT_GPU "gpu"         /* name of the (first) GPU served */
#define TETHER_TXT_GPUS "gpus"       /* how many GPUs are served */
#define TETHER_TXT_NAME "name"       /* the server name its WELCOME gives */
#define TETHER_TXT_PAIR "pair"       /* "1": a client must be paired first */

#define TETHER_DISCOVERY_MAX_SERVERS 32
#define TETHER_DISCOVERY_MAX_ADDRS 8
#define TETHER_DISCOVERY_TEXT_MAX 128 /* longest TXT value kept (longer: cut) */
#define TETHER_DISCOVERY_IP_MAX (TETHER_TB_IP_MAX + TETHER_TB_IFNAME_MAX + 1)

struct tether_discovered_addr {
	char ip[TETHER_DISCOVERY_IP_MAX];     /* "10.5.0.1"; link-local IPv6 scoped: "fe80::1%eth0" */
	char ifname[TETHER_TB_IFNAME_MAX];    /* the interface it was learnt on, "" if unknown */
	int family;                           /* 4 or 6 */
	int tb_link;                          /* tether_discovery_rank(): link index, -1: not on a link */
};

struct tether_discovered_server {
	char instance[64];  /* DNS-SD instance name (at most 63 bytes) */
	char host[256];     /* "gpu-box.local" */
	uint16_t port;
	/* From TXT; 0 / "" / -1 when absent or malformed. */
	unsigned txt_version;
	unsigned proto_major, proto_minor;
	bool has_proto;
	char gpu[TETHER_DISCOVERY_TEXT_MAX];
	unsigned gpu_count;
	char server_name[TETHER_DISCOVERY_TEXT_MAX];
	int pairing;        /* 1 required, 0 not, -1 not said */
	struct tether_discovered_addr addrs[TETHER_DISCOVERY_MAX_ADDRS];
	unsigned addr_count;
	bool on_thunderbolt; /* tether_discovery_rank(): an address is on a link */
};

struct tether_discovery {
	struct tether_discovered_server servers[TETHER_DISCOVERY_MAX_SERVERS];
	unsigned count;
};

/* One TXT string as it came off the wire: bytes, not NUL-terminated. */
struct tether_txt_item {
	const uint8_t *data;
	size_t len;
};

/**
 * tether_discovery_browse() - find the tetherd servers DNS-SD knows of now
 * @timeout_ms: at most this long; returns sooner once avahi-daemon says it
 *              has reported everything and each server is resolved
 * @out: filled with the servers found (out->count may be 0); unsorted:
 *       see tether_discovery_rank()
 *
 * Runs in the caller's thread (no thread is left behind).
 * Return: 0; -ENOTSUP when this platform or machine has no DNS-SD client
 * (Windows; Avahi's client library not installed); -ECONNREFUSED when
 * avahi-daemon (or the system bus) is not running; -ENOMEM.
 */
int tether_discovery_browse(int timeout_ms, struct tether_discovery *out);

/**
 * tether_discovery_add() - record one resolved service in @d
 * @instance, @host: DNS-SD instance and host names (cut to fit, made printable)
 * @ip: the numeric address; an IPv6 link-local one gets "%@ifname" added
 * @ifname: the interface it was resolved on, or NULL
 * @txt, @txt_count: its TXT strings
 *
 * The same instance seen on several interfaces or protocols becomes one
 * server with several addresses (duplicates dropped). Servers and addresses
 * past the limits are dropped. Used by the DNS-SD backend; public for tests.
 * Return: the server, or NULL when dropped.
 */
struct tether_discovered_server *tether_discovery_add(struct tether_discovery *d, const char *instance,
						      const char *host, uint16_t port, const char *ip,
						      const char *ifname, const struct tether_txt_item *txt,
						      size_t txt_count);

/**
 * tether_discovery_parse_txt() - read one TXT string into @s
 * Known keys (TETHER_TXT_*) are checked and kept; unknown keys, malformed
 * values and over-long strings are ignored; values are made printable.
 */
void tether_discovery_parse_txt(struct tether_discovered_server *s, const uint8_t *data, size_t len);

/**
 * tether_discovery_rank() - order servers and their addresses as they should be tried
 * @links: this machine's Thunderbolt links (tether_tb_links_find()), or NULL
 * @preferred_instance: the instance to put first (the last server used), or NULL
 * @want_major: the protocol major version this build speaks
 *
 * Addresses: those over a Thunderbolt link first, then IPv4, then IPv6
 * (link-local last). Servers: @preferred_instance first, then those that
 * speak @want_major (or do not say), those reachable over a link before the
 * others, then by instance name. Sets tb_link and on_thunderbolt.
 */
void tether_discovery_rank(struct tether_discovery *d, const struct tether_tb_links *links,
			   const char *preferred_instance, unsigned want_major);

/**
 * tether_discovered_address() - an address as tether_conn_connect() takes it
 * "10.5.0.1:7380", "[fe80::1%eth0]:7380". Return: 0, or -ENOSPC.
 */
int tether_discovered_address(const struct tether_discovered_server *s, unsigned i, char *buf, size_t len);

/* What tetherd advertises. */
struct tether_discovery_service {
	const char *instance;    /* DNS-SD instance name (cut to 63 bytes) */
	uint16_t port;
	int ifindex;             /* the interface to advertise on; 0: all */
	int family;              /* 4 or 6: only that protocol; 0: both */
	const char *const *txt;  /* "key=value" strings */
	unsigned txt_count;
};

struct tether_discovery_publisher;

/**
 * tether_discovery_publish() - advertise a service until tether_discovery_unpublish()
 * Runs Avahi's event loop in a thread of its own. When avahi-daemon is not
 * running, one warning is logged and the service is advertised once it
 * starts; a name taken by another server is replaced by Avahi's alternative
 * ("name #2"). Not to be called again in a forked child.
 * Return: 0; -ENOTSUP (no DNS-SD client library here, logged once);
 * -ECONNREFUSED (no system bus); -ENOMEM; -EINVAL for a bad service.
 */
int tether_discovery_publish(const struct tether_discovery_service *svc, struct tether_discovery_publisher **out);

/** tether_discovery_unpublish() - withdraw the service and free @p; NULL is ignored. */
void tether_discovery_unpublish(struct tether_discovery_publisher *p);

#endif /* TETHER_DISCOVERY_H */
