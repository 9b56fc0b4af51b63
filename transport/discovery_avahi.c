/* DNS-SD through avahi-daemon (discovery.h). Avahi's client library is
 * loaded at run time, once, and never unloaded: the ICD is loaded into every
 * Vulkan application, and one on a machine without libavahi-client must
 * still start (it falls back to the cached server, then the default).
 * Browsing runs Avahi's simple poll in the caller's thread for a bounded
 * time; publishing runs its threaded poll. */
#include "transport/discovery.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Debian's libavahi-client3 / libavahi-common3. */
#define AVAHI_CLIENT_SONAME "libavahi-client.so.3"
#define AVAHI_COMMON_SONAME "libavahi-common.so.3"

/* Every Avahi function used, called through this table. */
#define AVAHI_FUNCTIONS(X)                                                                          \
	X(avahi_client_new) X(avahi_client_free) X(avahi_client_errno) X(avahi_strerror)           \
	X(avahi_simple_poll_new) X(avahi_simple_poll_free) X(avahi_simple_poll_get)                \
	X(avahi_simple_poll_iterate) X(avahi_threaded_poll_new) X(avahi_threaded_poll_free)        \
	X(avahi_threaded_poll_get) X(avahi_threaded_poll_start) X(avahi_threaded_poll_stop)        \
	X(avahi_service_browser_new) X(avahi_service_browser_free) X(avahi_service_resolver_new)   \
	X(avahi_service_resolver_free) X(avahi_address_snprint) X(avahi_string_list_get_next)      \
	X(avahi_string_list_get_text) X(avahi_string_list_get_size)                                \
	X(avahi_string_list_new_from_array) X(avahi_string_list_free) X(avahi_entry_group_new)     \
	X(avahi_entry_group_free) X(avahi_entry_group_add_service_strlst)                          \
	X(avahi_entry_group_commit) X(avahi_entry_group_reset) X(avahi_entry_group_is_empty)       \
	X(avahi_alternative_service_name) X(avahi_free)

static struct {
#define AVAHI_DECLARE(fn) __typeof__(fn) *fn;
	AVAHI_FUNCTIONS(AVAHI_DECLARE)
#undef AVAHI_DECLARE
} av;

static pthread_once_t av_once = PTHREAD_ONCE_INIT;
static bool av_ok;

static void av_load(void)
{
	void *common = tether_dl_open(AVAHI_COMMON_SONAME);
	void *client = common ? tether_dl_open(AVAHI_CLIENT_SONAME) : NULL;
	if (!client) {
		TETHER_LOGI("discovery", "no DNS-SD: %s is not installed", common ? AVAHI_CLIENT_SONAME : AVAHI_COMMON_SONAME);
		tether_dl_close(common);
		return;
	}
#define AVAHI_LOAD(fn)                                                                           \
	if (!(*(void **)&av.fn = tether_dl_sym(client, #fn)) && !(*(void **)&av.fn = tether_dl_sym(common, #fn))) { \
		TETHER_LOGW("discovery", "no DNS-SD: Avahi's library lacks %s", #fn);              \
		return;                                                                            \
	}
	AVAHI_FUNCTIONS(AVAHI_LOAD)
#undef AVAHI_LOAD
	av_ok = true; /* the libraries stay loaded: libdbus does not like being unloaded */
}

static bool avahi_available(void)
{
	pthread_once(&av_once, av_load);
	return av_ok;
}

static int client_error(int err)
{
	switch (err) {
	case AVAHI_ERR_NO_DAEMON:
	case AVAHI_ERR_DBUS_ERROR:
	case AVAHI_ERR_DISCONNECTED:
		return -ECONNREFUSED;
	case AVAHI_ERR_NO_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* ---- browsing ---- */

struct browse {
	AvahiSimplePoll *poll;
	AvahiClient *client;
	struct tether_discovery *out;
	unsigned pending;  /* resolvers not yet answered */
	bool all_for_now;  /* the browser has reported what the daemon knows */
	bool failed;
};

static void on_resolved(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto, AvahiResolverEvent event,
			const char *name, const char *type, const char *domain, const char *host,
			const AvahiAddress *addr, uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
			void *userdata)
{
	struct browse *b = userdata;
	if (event == AVAHI_RESOLVER_FOUND && addr) {
		char ip[AVAHI_ADDRESS_STR_MAX], ifname[IF_NAMESIZE] = "";
		struct tether_txt_item items[32];
		size_t n = 0;
		av.avahi_address_snprint(ip, sizeof(ip), addr);
		if (iface >= 0 && !if_indextoname((unsigned)iface, ifname))
			ifname[0] = '\0';
		for (AvahiStringList *t = txt; t && n < sizeof(items) / sizeof(items[0]);
		     t = av.avahi_string_list_get_next(t))
			items[n++] = (struct tether_txt_item){av.avahi_string_list_get_text(t),
							      av.avahi_string_list_get_size(t)};
		tether_discovery_add(b->out, name, host, port, ip, ifname, items, n);
		TETHER_LOGD("discovery", "resolved \"%s\" on %s: %s:%u", name, ifname[0] ? ifname : "?", ip,
			    (unsigned)port);
	} else {
		TETHER_LOGD("discovery", "cannot resolve \"%s\": %s", name,
			    av.avahi_strerror(av.avahi_client_errno(b->client)));
	}
	av.avahi_service_resolver_free(r);
	b->pending--;
}

static void on_browse(AvahiServiceBrowser *sb, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent event,
		      const char *name, const char *type, const char *domain, AvahiLookupResultFlags flags,
		      void *userdata)
{
	struct browse *b = userdata;
	switch (event) {
	case AVAHI_BROWSER_NEW:
		/* The address of the protocol it was seen on: an A record over
		 * IPv4, AAAA over IPv6 (Avahi's defaults publish both so). */
		if (av.avahi_service_resolver_new(b->client, iface, proto, name, type, domain, proto, 0, on_resolved, b))
			b->pending++;
		break;
	case AVAHI_BROWSER_ALL_FOR_NOW:
		b->all_for_now = true;
		break;
	case AVAHI_BROWSER_FAILURE:
		TETHER_LOGI("discovery", "browsing failed: %s", av.avahi_strerror(av.avahi_client_errno(b->client)));
		b->failed = true;
		break;
	default: /* REMOVE, CACHE_EXHAUSTED: a one-shot browse ignores them */
		break;
	}
}

int tether_discovery_browse(int timeout_ms, struct tether_discovery *out)
{
	struct browse b = {.out = out};
	int err = 0;
	memset(out, 0, sizeof(*out));
	if (!avahi_available())
		return -ENOTSUP;
	if (timeout_ms < 0 || timeout_ms > TETHER_DISCOVERY_MAX_TIMEOUT_MS)
		timeout_ms = TETHER_DISCOVERY_MAX_TIMEOUT_MS;
	b.poll = av.avahi_simple_poll_new();
	if (!b.poll)
		return -ENOMEM;
	b.client = av.avahi_client_new(av.avahi_simple_poll_get(b.poll), 0, NULL, NULL, &err);
	if (!b.client) {
		TETHER_LOGI("discovery", "no DNS-SD: %s", av.avahi_strerror(err));
		av.avahi_simple_poll_free(b.poll);
		return client_error(err);
	}
	AvahiServiceBrowser *sb = av.avahi_service_browser_new(b.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
							       TETHER_DISCOVERY_SERVICE_TYPE, NULL, 0, on_browse, &b);
	if (!sb) {
		err = av.avahi_client_errno(b.client);
		TETHER_LOGI("discovery", "cannot browse: %s", av.avahi_strerror(err));
		av.avahi_client_free(b.client);
		av.avahi_simple_poll_free(b.poll);
		return client_error(err);
	}
	uint64_t deadline = tether_time_ns() + (uint64_t)timeout_ms * 1000000u;
	while (!b.failed && !(b.all_for_now && !b.pending)) {
		uint64_t now = tether_time_ns();
		if (now >= deadline)
			break;
		int wait_ms = (int)((deadline - now + 999999) / 1000000);
		if (av.avahi_simple_poll_iterate(b.poll, wait_ms) != 0)
			break;
	}
	TETHER_LOGD("discovery", "browse ended: %u server(s)%s%s", out->count, b.all_for_now ? ", all reported" : "",
		    b.pending ? ", some unresolved" : "");
	av.avahi_service_browser_free(sb);
	av.avahi_client_free(b.client); /* frees the resolvers still pending */
	av.avahi_simple_poll_free(b.poll);
	return 0;
}

/* ---- publishing ---- */

struct tether_discovery_publisher {
	AvahiThreadedPoll *poll;
	AvahiClient *client;
	AvahiEntryGroup *group;
	char *name;            /* ours (malloc): may become an alternative */
	AvahiStringList *txt;
	uint16_t port;
	AvahiIfIndex iface;
	AvahiProtocol proto;
	bool warned;           /* "avahi-daemon is not running" said once */
};

static void register_service(struct tether_discovery_publisher *p);

static void rename_after_collision(struct tether_discovery_publisher *p)
{
	char *alt = av.avahi_alternative_service_name(p->name);
	char *copy = alt ? strdup(alt) : NULL;
	av.avahi_free(alt);
	if (!copy)
		return;
	TETHER_LOGW("discovery", "DNS-SD name \"%s\" is taken on this network: advertising as \"%s\"", p->name, copy);
	free(p->name);
	p->name = copy;
}

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState state, void *userdata)
{
	struct tether_discovery_publisher *p = userdata;
	switch (state) {
	case AVAHI_ENTRY_GROUP_ESTABLISHED:
		TETHER_LOGI("discovery", "advertised as \"%s\" (%s, port %u)", p->name, TETHER_DISCOVERY_SERVICE_TYPE,
			    (unsigned)p->port);
		break;
	case AVAHI_ENTRY_GROUP_COLLISION:
		rename_after_collision(p);
		av.avahi_entry_group_reset(g);
		register_service(p);
		break;
	case AVAHI_ENTRY_GROUP_FAILURE:
		TETHER_LOGW("discovery", "advertising failed: %s", av.avahi_strerror(av.avahi_client_errno(p->client)));
		break;
	default:
		break;
	}
}

/* Adds and commits the service; called from Avahi's thread (or before it starts). */
static void register_service(struct tether_discovery_publisher *p)
{
	if (!p->group && !(p->group = av.avahi_entry_group_new(p->client, on_group, p))) {
		TETHER_LOGW("discovery", "cannot advertise: %s", av.avahi_strerror(av.avahi_client_errno(p->client)));
		return;
	}
	if (!av.avahi_entry_group_is_empty(p->group))
		return;
	for (int tries = 0; tries < 16; tries++) {
		int err = av.avahi_entry_group_add_service_strlst(p->group, p->iface, p->proto, 0, p->name,
								   TETHER_DISCOVERY_SERVICE_TYPE, NULL, NULL, p->port,
								   p->txt);
		if (err == AVAHI_ERR_COLLISION) {
			rename_after_collision(p);
			continue;
		}
		if (!err)
			err = av.avahi_entry_group_commit(p->group);
		if (err)
			TETHER_LOGW("discovery", "cannot advertise \"%s\": %s", p->name, av.avahi_strerror(err));
		return;
	}
}

static void on_client(AvahiClient *c, AvahiClientState state, void *userdata);

static AvahiClient *new_client(struct tether_discovery_publisher *p, int *err)
{
	/* NO_FAIL: wait for a daemon that is not running (yet), and come back
	 * after one that restarts. */
	return av.avahi_client_new(av.avahi_threaded_poll_get(p->poll), AVAHI_CLIENT_NO_FAIL, on_client, p, err);
}

static void on_client(AvahiClient *c, AvahiClientState state, void *userdata)
{
	struct tether_discovery_publisher *p = userdata;
	p->client = c; /* first called from inside avahi_client_new() */
	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
		if (p->warned)
			TETHER_LOGW("discovery", "avahi-daemon is running now: advertising");
		p->warned = false;
		register_service(p);
		break;
	case AVAHI_CLIENT_S_COLLISION:
	case AVAHI_CLIENT_S_REGISTERING:
		/* The host name changes: withdraw until the daemon runs again. */
		if (p->group)
			av.avahi_entry_group_reset(p->group);
		break;
	case AVAHI_CLIENT_CONNECTING:
		if (!p->warned)
			TETHER_LOGW("discovery", "avahi-daemon is not running: not advertised on DNS-SD "
				    "(clients need TETHER_SERVER) until it starts");
		p->warned = true;
		break;
	case AVAHI_CLIENT_FAILURE:
		if (av.avahi_client_errno(c) == AVAHI_ERR_DISCONNECTED) {
			/* The daemon went away: a new client waits for it (NO_FAIL). */
			int err;
			p->group = NULL;
			av.avahi_client_free(c);
			p->client = NULL;
			if (!new_client(p, &err))
				TETHER_LOGW("discovery", "DNS-SD lost: %s", av.avahi_strerror(err));
		} else {
			TETHER_LOGW("discovery", "DNS-SD failed: %s", av.avahi_strerror(av.avahi_client_errno(c)));
		}
		break;
	}
}

static void publisher_free(struct tether_discovery_publisher *p)
{
	if (p->client)
		av.avahi_client_free(p->client); /* withdraws and frees the entry group */
	if (p->poll)
		av.avahi_threaded_poll_free(p->poll);
	if (p->txt)
		av.avahi_string_list_free(p->txt);
	free(p->name);
	free(p);
}

int tether_discovery_publish(const struct tether_discovery_service *svc, struct tether_discovery_publisher **out)
{
	static bool said;
	char name[64];
	int err = 0;
	if (!svc->instance || !svc->instance[0] || !svc->port || svc->ifindex < 0)
		return -EINVAL;
	if (!avahi_available()) {
		if (!said)
			TETHER_LOGW("discovery", "not advertised on DNS-SD: %s is not installed", AVAHI_CLIENT_SONAME);
		said = true;
		return -ENOTSUP;
	}
	struct tether_discovery_publisher *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* DNS labels are at most 63 bytes; cut at a character boundary. */
	size_t n = strlen(svc->instance) < sizeof(name) - 1 ? strlen(svc->instance) : sizeof(name) - 1;
	while (n && ((unsigned char)svc->instance[n] & 0xc0) == 0x80)
		n--;
	memcpy(name, svc->instance, n);
	name[n] = '\0';
	p->port = svc->port;
	p->iface = svc->ifindex ? svc->ifindex : AVAHI_IF_UNSPEC;
	p->proto = svc->family == 4 ? AVAHI_PROTO_INET : svc->family == 6 ? AVAHI_PROTO_INET6 : AVAHI_PROTO_UNSPEC;
	p->txt = av.avahi_string_list_new_from_array((const char **)svc->txt, (int)svc->txt_count);
	p->poll = av.avahi_threaded_poll_new();
	p->name = strdup(name);
	if (!p->poll || (svc->txt_count && !p->txt) || !p->name) {
		publisher_free(p);
		return -ENOMEM;
	}
	if (!new_client(p, &err)) {
		TETHER_LOGW("discovery", "not advertised on DNS-SD: %s (no system D-Bus or avahi-daemon)",
			    av.avahi_strerror(err));
		p->client = NULL; /* a callback may have seen the client avahi_client_new() freed */
		publisher_free(p);
		return client_error(err);
	}
	if (av.avahi_threaded_poll_start(p->poll) < 0) {
		publisher_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void tether_discovery_unpublish(struct tether_discovery_publisher *p)
{
	if (!p)
		return;
	av.avahi_threaded_poll_stop(p->poll);
	publisher_free(p);
}
