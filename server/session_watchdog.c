/*
 * The session watchdog (session_watchdog.h): a thread that sleeps in poll()
 * on the client's socket for a hang-up only (it never reads), and on a pipe
 * that says the session ended.
 */
#include "server/session_watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h> /* POLLRDHUP: _GNU_SOURCE, set for the whole build */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport/platform/log.h"
#include "transport/platform/platform.h"

struct tether_srv_watchdog {
	int fd;
	int stop[2]; /* pipe: a byte (or its closing) means the session ended */
	char peer[128];
	struct tether_thread *thread;
};

/* Waits for the stop pipe for at most @ms (-1: forever). Return: true when stopped. */
static bool wait_stop(struct tether_srv_watchdog *w, struct pollfd *conn, int ms)
{
	struct pollfd p[2] = {{.fd = w->stop[0], .events = POLLIN}};
	int n = 1;
	if (conn)
		p[n++] = *conn;
	for (;;) {
		int r = poll(p, n, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (p[0].revents)
			return true;
		if (conn && p[1].revents) {
			*conn = p[1];
			return false;
		}
	}
}

static void *watch_main(void *arg)
{
	struct tether_srv_watchdog *w = arg;
	struct pollfd conn = {.fd = w->fd, .events = POLLRDHUP};
	if (wait_stop(w, &conn, -1))
		return NULL;
	/* The client is gone. A session that is not stuck notices at its next read. */
	if (wait_stop(w, NULL, TETHER_SESSION_GRACE_MS))
		return NULL;
	TETHER_LOGW("session",
		    "%s: the client left %d s ago and the session is still inside the driver "
		    "(a wait nobody will end): ending the session process",
		    w->peer, TETHER_SESSION_GRACE_MS / 1000);
	_exit(1);
}

int tether_srv_watchdog_start(int fd, const char *peer, struct tether_srv_watchdog **out)
{
	struct tether_srv_watchdog *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	snprintf(w->peer, sizeof(w->peer), "%s", peer ? peer : "client");
	if (fd < 0 || pipe2(w->stop, O_CLOEXEC) < 0) {
		free(w);
		return fd < 0 ? -EBADF : -errno;
	}
	int r = tether_thread_create(&w->thread, watch_main, w);
	if (r < 0) {
		close(w->stop[0]);
		close(w->stop[1]);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

void tether_srv_watchdog_stop(struct tether_srv_watchdog *w)
{
	if (!w)
		return;
	close(w->stop[1]); /* wakes the thread's poll: POLLHUP on the read end */
	tether_thread_join(w->thread);
	close(w->stop[0]);
	free(w);
}
