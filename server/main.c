/*
 * tetherd: serves a machine's GPU to tether clients. Each connection gets its
 * own process, so a driver crash caused by one client ends only that
 * client's session; the listening daemon goes on serving the next. A
 * connection that attaches a session's frame channel is handed to that
 * session's process (server/frame_channel.h). A TCP listener is advertised
 * on DNS-SD by a process of its own (server/advertise.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/advertise.h"
#include "server/frame_channel.h"
#include "server/session.h"
#include "transport/conn.h"
#include "transport/platform/log.h"
#include "transport/thunderbolt.h"

/* A Unix socket path to remove when tetherd is stopped. */
static char socket_path[256];
/* The DNS-SD advertiser to stop with tetherd (0: none). */
static volatile pid_t advertiser;

static void on_terminate(int sig)
{
	if (socket_path[0])
		unlink(socket_path);
	tether_srv_advertise_stop(advertiser);
	_exit(128 + sig);
}

/* One line per Thunderbolt/USB4 host-to-host link: what a client on the
 * other end of the cable can reach us over. */
static void log_links(void)
{
	struct tether_tb_links links;
	char line[512];
	if (tether_tb_links_find(&links) < 0)
		return;
	if (!links.count)
		fprintf(stderr, "tetherd: no Thunderbolt/USB4 host-to-host link%s\n",
			links.bus_present ? "" : " (no Thunderbolt bus in sysfs)");
	for (unsigned i = 0; i < links.count; i++)
		fprintf(stderr, "tetherd: Thunderbolt/USB4 link %s: %s\n", links.link[i].device,
			tether_tb_link_describe(&links.link[i], line, sizeof(line)));
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tetherd [--listen ADDR] [--device N] [--name NAME] [--no-advertise]\n"
		"  --listen ADDR  HOST:PORT or unix:PATH (default %s, loopback only)\n"
		"  --device N     serve only the N-th GPU of this machine's Vulkan loader\n"
		"  --name NAME    server name shown to clients (default: host name)\n"
		"  --once         serve one client in this process, then exit (for debugging)\n"
		"  --no-advertise do not advertise a TCP listener on DNS-SD (_tether._tcp)\n"
		"Limits per client session (K, M, G suffixes; a client over one gets the\n"
		"Vulkan error for it, see docs/RELIABILITY.md):\n"
		"  --max-memory SIZE   device memory, swapchains included (default: the GPU's)\n"
		"  --max-objects N     live Vulkan objects (default %u)\n"
		"  --max-message SIZE  largest message, %uM to %uM (default %uM)\n"
		"The GPU follows the loader's own selection (VK_DRIVER_FILES etc.).\n"
		"TETHER_LOG=error|warn|info|debug sets the log level.\n",
		TETHER_DEFAULT_LISTEN, TETHER_SRV_DEFAULT_MAX_OBJECTS, TETHER_MSG_MIN_LIMIT >> 20,
		TETHER_MSG_MAX_SIZE >> 20, TETHER_SRV_DEFAULT_MAX_MESSAGE >> 20);
}

/* --once: one session in this process; its frame channel comes to the
 * listener, which stays open for it. */
static int serve_once(struct tether_listener *l, struct tether_srv_options *opts)
{
	struct tether_srv_frame_link link;
	struct tether_conn *c;
	int r;
	do
		r = tether_listener_accept(l, &c);
	while (r == -EINTR);
	if (r < 0) {
		TETHER_LOGE("tetherd", "accept failed: %s", strerror(-r));
		tether_listener_close(l);
		return 1;
	}
	opts->frames = tether_srv_frame_link_once(&link, l) < 0 ? NULL : &link;
	r = tether_srv_session_run(c, opts);
	tether_conn_close(c);
	tether_listener_close(l);
	return r < 0 ? 1 : 0;
}

/* The session process of connection @c (or the process that hands it to its session). */
static void run_child(struct tether_conn *c, const struct tether_srv_options *opts)
{
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	int r = tether_srv_session_run(c, opts);
	tether_conn_close(c);
	_exit(r < 0 ? 1 : 0);
}

/* One process per connection. Before forking, each gets a token and a
 * socketpair, since only its HELLO says whether it is a session. */
static int serve(struct tether_listener *l, struct tether_srv_options *opts)
{
	struct tether_srv_sessions *sessions;
	if (tether_srv_sessions_create(&sessions) < 0) {
		fprintf(stderr, "tetherd: out of memory\n");
		return 1;
	}
	for (;;) {
		struct tether_conn *c;
		struct tether_srv_frame_link link;
		int r = tether_srv_sessions_wait(sessions, tether_listener_fd(l));
		if (r == 0)
			r = tether_listener_accept(l, &c);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			TETHER_LOGE("tetherd", "accept failed: %s", strerror(-r));
			continue;
		}
		opts->frames = tether_srv_sessions_add(sessions, &link) < 0 ? NULL : &link;
		pid_t pid = fork();
		if (pid == 0)
			run_child(c, opts);
		if (pid < 0)
			TETHER_LOGE("tetherd", "cannot start a session process: %s", strerror(errno));
		if (opts->frames)
			tether_srv_sessions_forked(sessions, &link, pid > 0);
		tether_conn_close(c);
	}
}

int main(int argc, char **argv)
{
	const char *listen_addr = TETHER_DEFAULT_LISTEN;
	static char host[256];
	struct tether_srv_options opts = {
		.device_index = -1,
		.limits = {.objects = TETHER_SRV_DEFAULT_MAX_OBJECTS, .message_bytes = TETHER_SRV_DEFAULT_MAX_MESSAGE},
	};
	bool once = false, advertise = true;
	int r;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen_addr = argv[++i];
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*end || n < 0 || n > 1024) {
				fprintf(stderr, "tetherd: bad --device %s\n", argv[i]);
				return 2;
			}
			opts.device_index = (int)n;
		} else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			opts.server_name = argv[++i];
		} else if (i + 1 < argc && (r = tether_srv_limits_option(&opts.limits, argv[i], argv[i + 1])) != 0) {
			if (r < 0)
				return 2;
			i++;
		} else if (!strcmp(argv[i], "--once")) {
			once = true;
		} else if (!strcmp(argv[i], "--no-advertise")) {
			advertise = false;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!opts.server_name) {
		if (gethostname(host, sizeof(host) - 1))
			strcpy(host, "tetherd");
		opts.server_name = host;
	}
	struct tether_listener *l;
	r = tether_listener_open(listen_addr, &l);
	if (r < 0) {
		fprintf(stderr, "tetherd: cannot listen on %s: %s\n", listen_addr, strerror(-r));
		return 1;
	}
	char bound[300];
	if (tether_listener_address(l, bound, sizeof(bound)) < 0)
		snprintf(bound, sizeof(bound), "%s", listen_addr);
	fprintf(stderr, "tetherd: listening on %s\n", bound);
	if (!strncmp(listen_addr, "unix:", 5))
		snprintf(socket_path, sizeof(socket_path), "%s", listen_addr + 5);
	signal(SIGTERM, on_terminate);
	signal(SIGINT, on_terminate);
	/* Sessions are children; nobody waits for them (their control sockets
	 * say when they end). */
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_links();
	if (advertise) {
		pid_t pid = tether_srv_advertise_start(bound, &opts, tether_listener_fd(l));
		advertiser = pid > 0 ? pid : 0;
	}
	r = once ? serve_once(l, &opts) : serve(l, &opts);
	tether_srv_advertise_stop(advertiser);
	return r;
}
