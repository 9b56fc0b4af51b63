/*
 * Revocation of live sessions (security.h): `tetherd --revoke` rewrites the
 * paired-clients list (a rename in the state directory); every session of a
 * paired client watches the directory with inotify and, when its client's
 * fingerprint is gone from the new list, shuts its connection down, which
 * ends the session as if the client had left. New connections read the list
 * anyway, so a revoked client is refused from then on.
 */
#include "server/security.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "transport/platform/log.h"
#include "transport/platform/platform.h"

struct tether_srv_revocation {
	const struct tether_srv_security *sec;
	struct tether_fingerprint fingerprint;
	struct tether_conn *conn;
	int inotify, stop[2];
	struct tether_thread *thread;
};

/* Whether the event buffer names the paired-clients list. */
static bool names_list(const char *buf, ssize_t n)
{
	for (ssize_t at = 0; at + (ssize_t)sizeof(struct inotify_event) <= n;) {
		const struct inotify_event *e = (const void *)(buf + at);
		if (e->len && !strcmp(e->name, TETHER_PAIRED_CLIENTS_FILE))
			return true;
		if (e->mask & IN_Q_OVERFLOW)
			return true;
		at += (ssize_t)sizeof(*e) + e->len;
	}
	return false;
}

static void *watch_main(void *arg)
{
	struct tether_srv_revocation *r = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		struct pollfd p[2] = {{.fd = r->stop[0], .events = POLLIN}, {.fd = r->inotify, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (p[0].revents)
			return NULL;
		ssize_t n = read(r->inotify, buf, sizeof(buf));
		if (n <= 0 || !names_list(buf, n))
			continue;
		int paired = tether_srv_client_paired(r->sec, &r->fingerprint, NULL);
		if (paired == 1)
			continue;
		char fp[TETHER_FINGERPRINT_SHORT_SIZE];
		tether_fingerprint_short(&r->fingerprint, fp);
		/* A list that cannot be read confirms nobody: fail closed. */
		TETHER_LOGW("session", "%s: client %s %s: ending its session", tether_conn_peer(r->conn), fp,
			    paired == 0 ? "was revoked" : "cannot be confirmed (the paired-clients list is unreadable)");
		tether_conn_shutdown(r->conn);
		return NULL;
	}
}

int tether_srv_revocation_start(const struct tether_srv_security *sec, const struct tether_srv_client *client,
				struct tether_conn *conn, struct tether_srv_revocation **out)
{
	struct tether_srv_revocation *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->sec = sec;
	r->fingerprint = client->fingerprint;
	r->conn = conn;
	r->stop[0] = r->stop[1] = -1;
	int err = 0;
	r->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (r->inotify < 0 ||
	    inotify_add_watch(r->inotify, sec->state_dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_CREATE) < 0 ||
	    pipe2(r->stop, O_CLOEXEC))
		err = -errno;
	/* Revoked between admission and now: the watch would never fire. */
	if (!err && tether_srv_client_paired(sec, &r->fingerprint, NULL) != 1)
		err = -EACCES;
	if (!err)
		err = tether_thread_create(&r->thread, watch_main, r);
	if (err) {
		if (r->inotify >= 0)
			close(r->inotify);
		if (r->stop[0] >= 0) {
			close(r->stop[0]);
			close(r->stop[1]);
		}
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

void tether_srv_revocation_stop(struct tether_srv_revocation *r)
{
	if (!r)
		return;
	ssize_t n;
	do
		n = write(r->stop[1], "", 1);
	while (n < 0 && errno == EINTR);
	tether_thread_join(r->thread);
	close(r->inotify);
	close(r->stop[0]);
	close(r->stop[1]);
	free(r);
}
