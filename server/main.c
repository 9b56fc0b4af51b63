/*
 * tetherd: serves a machine's GPU to tether clients. Each connection gets its
 * own process, so a driver crash caused by one client ends only that
 * client's session; the listening daemon goes on serving the next. That
 * process first admits the connection (server/security.h: TLS and pairing
 * on TCP); a connection that attaches a session's frame channel is handed to
 * that session's process (server/frame_channel.h). A TCP listener is
 * advertised on DNS-SD by a process of its own (server/advertise.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/admin.h"
#include "server/advertise.h"
#include "server/frame_channel.h"
#include "server/security.h"
#include "server/session.h"
#include "transport/conn.h"
#include "transport/platform/log.h"
#include "transport/thunderbolt.h"
#include "transport/tls.h"
#include "transport/trust.h"

/* AddressSanitizer builds (gcc says __SANITIZE_ADDRESS__, clang __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define TETHER_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TETHER_LEAK_CHECK 1
#endif
#endif
#ifdef TETHER_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif

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
		"usage: tetherd [--listen ADDR] [--device N] [--name NAME] [--state-dir DIR]\n"
		"               [--pairing-pin-file FILE] [--no-pairing] [--insecure] [--once]\n"
		"               [--no-advertise] [--max-memory SIZE] [--max-objects N] [--max-message SIZE]\n"
		"       tetherd [--state-dir DIR] --list-clients | --revoke FINGERPRINT|NAME\n"
		"  --listen ADDR     HOST:PORT or unix:PATH (default %s, loopback only)\n"
		"  --device N        serve only the N-th GPU of this machine's Vulkan loader\n"
		"  --name NAME       server name shown to clients (default: host name)\n"
		"  --state-dir DIR   identity and paired clients (default /var/lib/tether as root,\n"
		"                    else $XDG_STATE_HOME/tether or ~/.local/state/tether)\n"
		"  --pairing-pin-file FILE  also write each pairing PIN to FILE (mode 0600)\n"
		"  --no-pairing      refuse pairing requests (paired clients are still served)\n"
		"  --insecure        also serve plaintext TCP clients, unpaired and unencrypted:\n"
		"                    only on a link nobody else can reach\n"
		"  --list-clients    print the paired clients and exit\n"
		"  --revoke WHAT     unpair a client (fingerprint, 8+ hex digits of it, or name)\n"
		"                    and exit; its live sessions end\n"
		"  --once            serve one client in this process, then exit (for debugging)\n"
		"  --no-advertise    do not advertise a TCP listener on DNS-SD (_tether._tcp)\n"
		"Limits per client session (K, M, G suffixes; a client over one gets the\n"
		"Vulkan error for it, see docs/RELIABILITY.md):\n"
		"  --max-memory SIZE   device memory, swapchains included (default: the GPU's)\n"
		"  --max-objects N     live Vulkan objects (default %u)\n"
		"  --max-message SIZE  largest message, %uM to %uM (default %uM)\n"
		"TCP clients must pair first (`tether pair HOST` on the client, with the PIN this\n"
		"server then prints) and then talk TLS 1.3; Unix sockets are created mode 0660 and\n"
		"rely on file permissions. The GPU follows the loader's own selection\n"
		"(VK_DRIVER_FILES etc.). TETHER_LOG=error|warn|info|debug sets the log level.\n",
		TETHER_DEFAULT_LISTEN, TETHER_SRV_DEFAULT_MAX_OBJECTS, TETHER_MSG_MIN_LIMIT >> 20,
		TETHER_MSG_MAX_SIZE >> 20, TETHER_SRV_DEFAULT_MAX_MESSAGE >> 20);
}

/* --once: one session in this process; its frame channel comes to the
 * listener, which stays open for it. */
static int serve_once(struct tether_listener *l, struct tether_srv_options *opts)
{
	struct tether_srv_frame_link link;
	struct tether_srv_client client;
	struct tether_conn *c;
	int r;
	do {
		do
			r = tether_listener_accept(l, &c);
		while (r == -EINTR);
		if (r < 0) {
			TETHER_LOGE("tetherd", "accept failed: %s", strerror(-r));
			tether_listener_close(l);
			return 1;
		}
		/* Pairing attempts and refused connections do not count as the one session. */
		if (tether_srv_admit(c, opts->security, NULL, &client) == 1)
			break;
		tether_conn_close(c);
	} while (1);
	opts->client = &client;
	opts->frames = tether_srv_frame_link_once(&link, l) < 0 ? NULL : &link;
	r = tether_srv_session_run(c, opts);
	tether_conn_close(c);
	tether_listener_close(l);
	return r < 0 ? 1 : 0;
}

/*
 * A session process ends with _exit() (it must not run the daemon's atexit
 * work, nor flush stdio buffers it inherited), which also skips
 * LeakSanitizer's check at exit: in sanitizer builds it is done here, once
 * the session has freed what it held, so that every session is checked
 * (ASAN_OPTIONS=detect_leaks=0 turns it off; the report goes to stderr).
 */
static void leak_check(void)
{
#ifdef TETHER_LEAK_CHECK
	if (__lsan_do_recoverable_leak_check())
		TETHER_LOGE("tetherd", "this session process leaked memory: LeakSanitizer report above");
#endif
}

/* The session process of connection @c (or the process that hands it to its session). */
static void run_child(struct tether_conn *c, struct tether_srv_options *opts)
{
	struct tether_srv_client client;
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	int r = 0;
	if (tether_srv_admit(c, opts->security, opts->frames, &client) == 1) {
		opts->client = &client;
		r = tether_srv_session_run(c, opts);
	} else if (opts->frames) {
		tether_srv_frame_link_release(opts->frames);
	}
	tether_conn_close(c);
	leak_check();
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

/* The TLS side of a TCP listener: our identity (made on first start) and
 * context. A Unix listener needs none. Return: 0 or an exit status. */
static int setup_security(struct tether_srv_security *sec, bool tcp)
{
	if (!tcp)
		return 0;
	char cn[300];
	snprintf(cn, sizeof(cn), "tetherd on %s", sec->server_name);
	struct tether_tls_identity *id;
	int r = tether_tls_identity_load(sec->state_dir, cn, true, &id);
	if (!r) {
		sec->fingerprint = *tether_tls_identity_fingerprint(id);
		r = tether_tls_context_new(id, TETHER_TLS_SERVER, NULL, &sec->tls);
		tether_tls_identity_free(id);
	}
	if (r) {
		fprintf(stderr, "tetherd: cannot set up TLS with the identity in %s: %s\n", sec->state_dir, strerror(-r));
		return 1;
	}
	return 0;
}

static void announce_security(const struct tether_srv_security *sec, const char *bound)
{
	if (!sec->tls) {
		fprintf(stderr, "tetherd: Unix socket: clients are whoever its file permissions let in (mode 0660)\n");
		return;
	}
	char fp[TETHER_FINGERPRINT_TEXT_SIZE];
	struct tether_peer_list l;
	tether_fingerprint_format(&sec->fingerprint, fp);
	if (tether_peer_list_load(sec->state_dir, TETHER_PAIRED_CLIENTS_FILE, &l))
		l.n = 0;
	fprintf(stderr, "tetherd: TLS 1.3 for paired clients: certificate %s, %zu paired, state in %s\n", fp, l.n,
		sec->state_dir);
	tether_peer_list_free(&l);
	if (sec->pairing)
		fprintf(stderr, "tetherd: new clients pair with `tether pair %s`; the PIN appears here\n", bound);
	if (sec->insecure)
		fprintf(stderr, "tetherd: WARNING: --insecure: plaintext TCP clients are served too, unpaired and "
				"unencrypted: anyone who can reach %s can use this GPU and read those sessions\n",
			bound);
}

int main(int argc, char **argv)
{
	const char *listen_addr = TETHER_DEFAULT_LISTEN, *revoke = NULL;
	static char host[256], state_dir[TETHER_PATH_MAX];
	struct tether_srv_options opts = {
		.device_index = -1,
		.get_instance_proc_addr = vkGetInstanceProcAddr,
		.get_device_proc_addr = vkGetDeviceProcAddr,
		.limits = {.objects = TETHER_SRV_DEFAULT_MAX_OBJECTS, .message_bytes = TETHER_SRV_DEFAULT_MAX_MESSAGE},
	};
	struct tether_srv_security sec = {.pairing = true};
	bool once = false, list_clients = false, advertise = true;
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
		} else if (!strcmp(argv[i], "--state-dir") && i + 1 < argc) {
			sec.state_dir = argv[++i];
		} else if (!strcmp(argv[i], "--pairing-pin-file") && i + 1 < argc) {
			sec.pin_file = argv[++i];
		} else if (!strcmp(argv[i], "--no-pairing")) {
			sec.pairing = false;
		} else if (!strcmp(argv[i], "--insecure")) {
			sec.insecure = true;
		} else if (!strcmp(argv[i], "--list-clients")) {
			list_clients = true;
		} else if (!strcmp(argv[i], "--revoke") && i + 1 < argc) {
			revoke = argv[++i];
		} else if (i + 1 < argc && (r = tether_srv_limits_option(&opts.limits, argv[i], argv[i + 1])) != 0) {
			if (r < 0)
				return 2;
			i++;
		} else if (!strcmp(argv[i], "--no-advertise")) {
			advertise = false;
		} else if (!strcmp(argv[i], "--once")) {
			once = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!sec.state_dir) {
		if (tether_server_state_dir(state_dir, sizeof(state_dir))) {
			fprintf(stderr, "tetherd: no state directory: give --state-dir DIR\n");
			return 2;
		}
		sec.state_dir = state_dir;
	}
	if (list_clients)
		return tether_srv_admin_list(sec.state_dir, stdout);
	if (revoke)
		return tether_srv_admin_revoke(sec.state_dir, revoke, stdout);
	if (!opts.server_name) {
		if (gethostname(host, sizeof(host) - 1))
			strcpy(host, "tetherd");
		opts.server_name = host;
	}
	sec.server_name = opts.server_name;
	r = setup_security(&sec, strncmp(listen_addr, "unix:", 5) != 0);
	if (r)
		return r;
	opts.security = &sec;
	struct tether_listener *l;
	r = tether_listener_open(listen_addr, &l);
	if (r < 0) {
		fprintf(stderr, "tetherd: cannot listen on %s: %s\n", listen_addr, strerror(-r));
		tether_tls_context_free(sec.tls);
		return 1;
	}
	char bound[300];
	if (tether_listener_address(l, bound, sizeof(bound)) < 0)
		snprintf(bound, sizeof(bound), "%s", listen_addr);
	fprintf(stderr, "tetherd: listening on %s\n", bound);
	announce_security(&sec, bound);
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
	/* tetherd --once ends here, under LeakSanitizer's check in sanitizer builds. */
	tether_tls_context_free(sec.tls);
	return r;
}
