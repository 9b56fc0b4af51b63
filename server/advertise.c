/*
 * tetherd's DNS-SD advertiser (advertise.h): decides whether and where the
 * listener is advertised, then forks a process that asks the Vulkan loader
 * for the GPU's name, publishes through transport/discovery.h and waits for
 * SIGTERM (from tetherd, or from the kernel when tetherd dies) to withdraw.
 */
#include "server/advertise.h"
#include "server/security.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "protocol/handshake.h"
#include "transport/discovery.h"
#include "transport/platform/log.h"

/* Where to advertise: all interfaces (ifindex 0) or one; IPv4, IPv6 or both (0). */
struct where {
	int ifindex;
	int family;
	uint16_t port;
};

/* The interface that holds @raw (an address of @af), or 0. */
static int interface_of(int af, const void *raw)
{
	struct ifaddrs *ifa, *i;
	int index = 0;
	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i && !index; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != af)
			continue;
		const void *have = af == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
						 : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (!memcmp(have, raw, af == AF_INET ? 4 : 16))
			index = (int)if_nametoindex(i->ifa_name);
	}
	freeifaddrs(ifa);
	return index;
}

/* Return: 1 to advertise (@w filled), 0 not (@why says why). */
static int decide(const char *bound, struct where *w, const char **why)
{
	struct tether_address a;
	uint8_t raw[16];
	memset(w, 0, sizeof(*w));
	if (tether_address_parse(bound, &a) || a.kind != TETHER_ADDRESS_TCP) {
		*why = "not a TCP listener";
		return 0;
	}
	w->port = (uint16_t)atoi(a.port);
	if (inet_pton(AF_INET, a.host, raw) == 1) {
		if (raw[0] == 127) {
			*why = "listening on loopback only";
			return 0;
		}
		static const uint8_t any4[4];
		w->family = 4;
		w->ifindex = memcmp(raw, any4, 4) ? interface_of(AF_INET, raw) : 0;
		return 1;
	}
	if (inet_pton(AF_INET6, a.host, raw) == 1) {
		static const uint8_t any6[16], loop6[16] = {[15] = 1};
		if (!memcmp(raw, loop6, 16)) {
			*why = "listening on loopback only";
			return 0;
		}
		/* [::] also takes IPv4 (Linux's default bindv6only=0). */
		w->family = memcmp(raw, any6, 16) ? 6 : 0;
		w->ifindex = w->family ? interface_of(AF_INET6, raw) : 0;
		return 1;
	}
	w->family = 0; /* a host name: every interface */
	return 1;
}

/* The name and number of the GPUs sessions will see (--device N: that one). */
static void query_gpus(int device_index, char *name, size_t len, unsigned *count)
{
	VkInstance inst;
	VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "tetherd advertiser",
				 .apiVersion = VK_API_VERSION_1_0};
	VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
	snprintf(name, len, "unknown");
	*count = 0;
	if (vkCreateInstance(&ci, NULL, &inst) != VK_SUCCESS)
		return;
	VkPhysicalDevice devs[16];
	uint32_t n = 16;
	VkResult r = vkEnumeratePhysicalDevices(inst, &n, devs);
	if ((r == VK_SUCCESS || r == VK_INCOMPLETE) && n) {
		uint32_t first = device_index >= 0 ? (uint32_t)device_index : 0;
		if (first < n) {
			VkPhysicalDeviceProperties p;
			vkGetPhysicalDeviceProperties(devs[first], &p);
			snprintf(name, len, "%.*s", (int)len - 1, p.deviceName);
			*count = device_index >= 0 ? 1 : n;
		}
	}
	vkDestroyInstance(inst, NULL);
}

/* The advertiser process: never returns. */
static void advertiser(const struct where *w, const struct tether_srv_options *opts, pid_t parent)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	/* Blocked before Avahi's thread starts, so that sigwait() below takes them. */
	sigprocmask(SIG_BLOCK, &stop, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0); /* tetherd died before we could ask to be told */
	char gpu[TETHER_DISCOVERY_TEXT_MAX], kv[6][TETHER_DISCOVERY_TEXT_MAX + 16];
	unsigned count;
	query_gpus(opts->device_index, gpu, sizeof(gpu), &count);
	snprintf(kv[0], sizeof(kv[0]), TETHER_TXT_VERSION "=1");
	snprintf(kv[1], sizeof(kv[1]), TETHER_TXT_PROTO "=%u.%u", TETHER_PROTOCOL_MAJOR, TETHER_PROTOCOL_MINOR);
	snprintf(kv[2], sizeof(kv[2]), TETHER_TXT_GPU "=%s", gpu);
	snprintf(kv[3], sizeof(kv[3]), TETHER_TXT_GPUS "=%u", count);
	snprintf(kv[4], sizeof(kv[4]), TETHER_TXT_NAME "=%.*s", TETHER_DISCOVERY_TEXT_MAX - 1, opts->server_name);
	/* Only TCP listeners are advertised; their clients must be paired (TLS
	 * after pairing) unless tetherd runs --insecure: a client learns which
	 * before it tries. */
	snprintf(kv[5], sizeof(kv[5]), TETHER_TXT_PAIR "=%d", opts->security && opts->security->insecure ? 0 : 1);
	const char *txt[6] = {kv[0], kv[1], kv[2], kv[3], kv[4], kv[5]};
	struct tether_discovery_service svc = {opts->server_name, w->port, w->ifindex, w->family, txt, 6};
	struct tether_discovery_publisher *p;
	if (tether_discovery_publish(&svc, &p) < 0)
		_exit(0); /* said why; tetherd serves on without it */
	int sig;
	while (sigwait(&stop, &sig))
		;
	tether_discovery_unpublish(p); /* avahi-daemon withdraws the service with goodbye packets */
	_exit(0);
}

pid_t tether_srv_advertise_start(const char *bound, const struct tether_srv_options *opts, int listen_fd)
{
	struct where w;
	const char *why = "";
	char ifname[IF_NAMESIZE] = "";
	if (!decide(bound, &w, &why)) {
		TETHER_LOGI("advertise", "not advertised on DNS-SD: %s", why);
		return 0;
	}
	if (w.ifindex && !if_indextoname((unsigned)w.ifindex, ifname))
		ifname[0] = '\0';
	fprintf(stderr, "tetherd: advertising \"%s\" as %s on %s\n", opts->server_name, TETHER_DISCOVERY_SERVICE_TYPE,
		w.ifindex ? ifname : "every interface");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return TETHER_ERR("advertise", -errno, "cannot start the advertiser: %s", strerror(errno));
	if (pid == 0) {
		close(listen_fd);
		advertiser(&w, opts, parent);
	}
	return pid;
}

void tether_srv_advertise_stop(pid_t pid)
{
	if (pid > 0)
		kill(pid, SIGTERM);
}
