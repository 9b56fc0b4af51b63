/*
 * tetherd: serves a machine's GPU to tether clients. Each connection gets its
 * own process, so a driver crash caused by one client ends only that
 * client's session; the listening daemon goes on serving the next.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/session.h"
#include "transport/conn.h"
#include "transport/platform/log.h"

/* A Unix socket path to remove when tetherd is stopped. */
static char socket_path[256];

static void on_terminate(int sig)
{
	if (socket_path[0])
		unlink(socket_path);
	_exit(128 + sig);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tetherd [--listen ADDR] [--device N] [--name NAME]\n"
		"  --listen ADDR  HOST:PORT or unix:PATH (default %s, loopback only)\n"
		"  --device N     serve only the N-th GPU of this machine's Vulkan loader\n"
		"  --name NAME    server name shown to clients (default: host name)\n"
		"  --once         serve one client in this process, then exit (for debugging)\n"
		"The GPU follows the loader's own selection (VK_DRIVER_FILES etc.).\n"
		"TETHER_LOG=error|warn|info|debug sets the log level.\n",
		TETHER_DEFAULT_LISTEN);
}

int main(int argc, char **argv)
{
	const char *listen_addr = TETHER_DEFAULT_LISTEN;
	static char host[256];
	struct tether_srv_options opts = {.device_index = -1};
	bool once = false;
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
	if (!opts.server_name) {
		if (gethostname(host, sizeof(host) - 1))
			strcpy(host, "tetherd");
		opts.server_name = host;
	}
	struct tether_listener *l;
	int r = tether_listener_open(listen_addr, &l);
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
	/* Sessions are children; nobody waits for them. */
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct tether_conn *c;
		r = tether_listener_accept(l, &c);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			TETHER_LOGE("tetherd", "accept failed: %s", strerror(-r));
			continue;
		}
		if (once) {
			tether_listener_close(l);
			r = tether_srv_session_run(c, &opts);
			tether_conn_close(c);
			return r < 0 ? 1 : 0;
		}
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			r = tether_srv_session_run(c, &opts);
			tether_conn_close(c);
			_exit(r < 0 ? 1 : 0);
		}
		if (pid < 0)
			TETHER_LOGE("tetherd", "cannot start a session process: %s", strerror(errno));
		tether_conn_close(c);
	}
}
