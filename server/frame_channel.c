/*
 * The frame channel (see frame_channel.h): tetherd's table of live sessions,
 * the hand-over of an attach connection to its session with SCM_RIGHTS, and
 * the session's thread that takes the connection and answers it.
 */
#include "server/frame_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/message.h"
#include "server/security.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

/* A frame connection's HELLO (--once) must come within this time. */
#define FRAME_HELLO_TIMEOUT_MS 10000

/* What the process that routed a connection sends with it: for a plaintext
 * attach, the client's minor version from the HELLO it read, for the WELCOME
 * the session answers with; for TLS, nothing was read past the preamble and
 * the session runs the handshake and reads the HELLO itself. */
struct attach_note {
	uint32_t peer_minor;
	uint32_t tls; /* 1: a TLS frame channel, its handshake still unread */
};

static const char refused_unknown[] = "no live session has this token (it ended, or the token is wrong)";
static const char refused_ended[] = "no live session has this token (its session has ended)";
static const char refused_not_session[] = "this frame channel's certificate is not its session's client";

static int new_token(uint8_t token[TETHER_SESSION_TOKEN_SIZE])
{
	size_t done = 0;
	while (done < TETHER_SESSION_TOKEN_SIZE) {
		ssize_t n = getrandom(token + done, TETHER_SESSION_TOKEN_SIZE - done, 0);
		if (n < 0 && errno != EINTR)
			return TETHER_ERR("frames", -errno, "getrandom: %s", strerror(errno));
		done += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/* ---- tetherd's table ---- */

struct session_entry {
	uint8_t token[TETHER_SESSION_TOKEN_SIZE];
	uint8_t route[TETHER_FRAME_ROUTE_SIZE]; /* names the session before TLS (transport/tls.h) */
	int fd; /* tetherd's end of the session's socketpair */
};

struct tether_srv_sessions {
	struct session_entry *v;
	size_t n, cap;
	struct pollfd *pfd; /* listener, then one per entry */
};

int tether_srv_sessions_create(struct tether_srv_sessions **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void close_all(struct tether_srv_sessions *t)
{
	for (size_t i = 0; i < t->n; i++)
		close(t->v[i].fd);
	t->n = 0;
}

void tether_srv_sessions_destroy(struct tether_srv_sessions *t)
{
	if (!t)
		return;
	close_all(t);
	free(t->v);
	free(t->pfd);
	free(t);
}

static int grow(struct tether_srv_sessions *t)
{
	if (t->n < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : 16;
	struct session_entry *v = realloc(t->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	struct pollfd *p = realloc(t->pfd, (cap + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->pfd = p;
	t->cap = cap;
	return 0;
}

int tether_srv_sessions_add(struct tether_srv_sessions *t, struct tether_srv_frame_link *link)
{
	int sv[2];
	memset(link, 0, sizeof(*link));
	link->control_fd = -1;
	int err = grow(t);
	if (!err)
		err = new_token(link->token);
	if (err)
		return err;
	/* SEQPACKET: each hand-over is one record, and the parent's end hangs up
	 * when the child's process ends (its only holder of the other end). */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return TETHER_ERR("frames", -errno, "socketpair: %s", strerror(errno));
	memcpy(t->v[t->n].token, link->token, sizeof(link->token));
	tether_tls_frame_route(link->token, t->v[t->n].route);
	t->v[t->n].fd = sv[0];
	t->n++;
	link->control_fd = sv[1];
	link->sessions = t;
	return 0;
}

void tether_srv_sessions_forked(struct tether_srv_sessions *t, struct tether_srv_frame_link *link,
				bool started)
{
	close(link->control_fd);
	link->control_fd = -1;
	if (!started && t->n) {
		/* tether_srv_sessions_add() appended it last. */
		t->n--;
		close(t->v[t->n].fd);
	}
}

int tether_srv_sessions_wait(struct tether_srv_sessions *t, int listen_fd)
{
	struct pollfd one;
	struct pollfd *p = t->pfd ? t->pfd : &one;
	p[0] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
	for (size_t i = 0; i < t->n; i++)
		p[i + 1] = (struct pollfd){.fd = t->v[i].fd}; /* POLLHUP is always reported */
	if (poll(p, t->n + 1, -1) < 0)
		return -errno;
	/* Drop the hung-up entries, keeping the others in order. */
	size_t kept = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (p[i + 1].revents) {
			close(t->v[i].fd);
			continue;
		}
		t->v[kept++] = t->v[i];
	}
	t->n = kept;
	return p[0].revents & POLLIN ? 0 : -EINTR;
}

int tether_srv_frame_link_once(struct tether_srv_frame_link *link, struct tether_listener *listener)
{
	memset(link, 0, sizeof(*link));
	link->control_fd = -1;
	link->listener = listener;
	return new_token(link->token);
}

/* ---- a connection process with an attach HELLO ---- */

/* Sends @fd and @note over a session's control socket. */
static int send_fd(int control, int fd, const struct attach_note *note)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {(void *)note, sizeof(*note)};
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
	memset(&cm, 0, sizeof(cm));
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	/* Never wait on a session that does not read: refuse instead. */
	ssize_t n;
	do
		n = sendmsg(control, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int tether_srv_frame_channel_attach(struct tether_conn *conn, const struct tether_handshake_result *hello,
				    const struct tether_srv_frame_link *link)
{
	const struct tether_srv_sessions *t = link ? link->sessions : NULL;
	int found = -1;
	if (tether_conn_is_tls(conn)) {
		/* The TLS state cannot travel with the socket: a TLS frame
		 * channel comes with a preamble instead (tether_srv_frame_channel_route()). */
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED,
					       "a frame channel over TLS must be routed with its preamble");
		return -ENOENT;
	}
	/* Every entry is compared, each in constant time: how long a refusal
	 * takes says nothing about the token. */
	for (size_t i = 0; t && i < t->n; i++)
		if (tether_session_token_equal(t->v[i].token, hello->token))
			found = (int)i;
	if (found < 0) {
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED, refused_unknown);
		return -ENOENT;
	}
	struct attach_note note = {hello->peer_minor, 0};
	int err = send_fd(t->v[found].fd, tether_conn_fd(conn), &note);
	if (err) {
		/* EPIPE / ECONNREFUSED: the session ended or is ending;
		 * EAGAIN: it has not read the attaches already queued. */
		TETHER_LOGI("frames", "%s: cannot hand the frame channel to its session: %s", tether_conn_peer(conn),
			    strerror(-err));
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED,
					       err == -EAGAIN ? "the session is not taking frame channels now"
							      : refused_ended);
		return -ENOENT;
	}
	TETHER_LOGI("frames", "%s: frame channel handed to its session", tether_conn_peer(conn));
	return 0;
}

int tether_srv_frame_channel_route(struct tether_conn *conn, const uint8_t route[TETHER_FRAME_ROUTE_SIZE],
				   const struct tether_srv_frame_link *link, const struct tether_srv_security *sec)
{
	const struct tether_srv_sessions *t = link ? link->sessions : NULL;
	int found = -1, err = -ENOENT;
	/* Routes are not secret: the session checks who it is (TLS) and the token. */
	for (size_t i = 0; t && i < t->n; i++)
		if (!memcmp(t->v[i].route, route, TETHER_FRAME_ROUTE_SIZE))
			found = (int)i;
	if (found >= 0) {
		struct attach_note note = {0, 1};
		err = send_fd(t->v[found].fd, tether_conn_fd(conn), &note);
		if (!err) {
			TETHER_LOGI("frames", "%s: TLS frame channel routed to its session", tether_conn_peer(conn));
			return 0;
		}
		TETHER_LOGI("frames", "%s: cannot hand the frame channel to its session: %s", tether_conn_peer(conn),
			    strerror(-err));
	}
	/* Refused inside TLS, so that a paired client reads why; anyone else
	 * learns nothing. */
	struct tether_tls_peer peer;
	if (tether_tls_server_start(conn, sec->tls, &peer)) {
		TETHER_LOGW("frames", "refused %s: %s", tether_conn_peer(conn), peer.error);
		return -ENOENT;
	}
	if (tether_srv_client_paired(sec, &peer.fingerprint, NULL) == 1)
		tether_srv_refuse(conn, found < 0        ? refused_unknown
					: err == -EAGAIN ? "the session is not taking frame channels now"
							 : refused_ended);
	else
		TETHER_LOGW("frames", "refused %s: frame channel for no live session, from an unpaired certificate",
			    tether_conn_peer(conn));
	return -ENOENT;
}

/* ---- the session ---- */

struct tether_srv_frame_channel {
	uint8_t token[TETHER_SESSION_TOKEN_SIZE];
	const char *server_name;
	const struct tether_srv_security *sec; /* TLS frame channels: our context and the paired list */
	const struct tether_srv_client *client; /* whose session this is */
	int control_fd;                   /* forked: our end of the socketpair; -1 */
	struct tether_listener *listener; /* --once */
	int wake[2];                      /* stop() writes to wake[1] */
	struct tether_thread *thread;
	struct tether_mutex lock;         /* guards what follows */
	struct tether_cond arrived;
	struct tether_conn *conn;         /* the frame channel, once attached */
	struct tether_conn *pending;      /* a connection whose handshake or HELLO is being read */
	bool stopping;
};

/* Answers a frame connection: the first is taken, any other refused. */
static void take(struct tether_srv_frame_channel *fc, struct tether_conn *conn,
		 const struct tether_handshake_result *hello)
{
	tether_conn_set_timeout(conn, 0);
	tether_mutex_lock(&fc->lock);
	if (fc->conn || fc->stopping) {
		tether_mutex_unlock(&fc->lock);
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED,
					       fc->conn ? "this session already has a frame channel" : refused_ended);
		tether_conn_close(conn);
		return;
	}
	/* Sent under the lock: nothing may go out on the channel before these. */
	int err = tether_handshake_server_accept(conn, fc->server_name, hello, fc->token);
	if (!err)
		err = tether_msg_send(conn, TETHER_MSG_FRAME_READY, NULL, 0);
	if (!err) {
		fc->conn = conn;
		tether_cond_broadcast(&fc->arrived);
	}
	tether_mutex_unlock(&fc->lock);
	if (err) {
		TETHER_LOGW("frames", "%s: frame channel lost while answering it: %s", tether_conn_peer(conn),
			    strerror(-err));
		tether_conn_close(conn);
		return;
	}
	TETHER_LOGI("frames", "%s: frame channel attached", tether_conn_peer(conn));
}

/* One record from the control socket: a connection and its note. */
static int recv_fd(int control, int *fd, struct attach_note *note)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct iovec iov = {note, sizeof(*note)};
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
	ssize_t n;
	do
		n = recvmsg(control, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET; /* tetherd and every attach process are gone */
	*fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = got;
			else
				close(got); /* only one is ever sent */
		}
	}
	if (*fd < 0 || n != sizeof(*note) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		return TETHER_ERR("frames", -EPROTO, "malformed hand-over on the control socket");
	}
	return 0;
}

/* Marks @conn as being read, so that stop() can end the read. Return: false when stopping. */
static bool begin_reading(struct tether_srv_frame_channel *fc, struct tether_conn *conn)
{
	tether_mutex_lock(&fc->lock);
	bool stopping = fc->stopping;
	if (!stopping)
		fc->pending = conn;
	tether_mutex_unlock(&fc->lock);
	if (!stopping)
		tether_conn_set_timeout(conn, FRAME_HELLO_TIMEOUT_MS);
	return !stopping;
}

static void end_reading(struct tether_srv_frame_channel *fc)
{
	tether_mutex_lock(&fc->lock);
	fc->pending = NULL;
	tether_mutex_unlock(&fc->lock);
}

/* A TLS frame channel: the handshake, the certificate of this session's own
 * client (still paired), then its HELLO with this session's token. Anything
 * else is refused here. Return: 0 with @hello, or negative errno. */
static int admit_tls(struct tether_srv_frame_channel *fc, struct tether_conn *conn,
		     struct tether_handshake_result *hello)
{
	struct tether_tls_peer peer;
	char got[TETHER_FINGERPRINT_SHORT_SIZE], want[TETHER_FINGERPRINT_SHORT_SIZE];
	const char *why = NULL;
	if (!fc->sec || !fc->sec->tls)
		return -EPROTO;
	int err = tether_tls_server_start(conn, fc->sec->tls, &peer);
	if (err) {
		TETHER_LOGW("frames", "refused %s: %s", tether_conn_peer(conn), peer.error);
		return err;
	}
	if (strcmp(peer.alpn, TETHER_ALPN_SESSION)) {
		why = "a pairing connection cannot be a frame channel";
	} else if (!fc->client || !fc->client->paired ||
		   !tether_fingerprint_equal(&peer.fingerprint, &fc->client->fingerprint)) {
		tether_fingerprint_short(&peer.fingerprint, got);
		if (fc->client)
			tether_fingerprint_short(&fc->client->fingerprint, want);
		TETHER_LOGW("frames", "refused %s: frame channel from certificate %s, but this session belongs to %s",
			    tether_conn_peer(conn), got, fc->client && fc->client->paired ? want : "a plaintext client");
		why = refused_not_session;
	} else if (tether_srv_client_paired(fc->sec, &peer.fingerprint, NULL) != 1) {
		why = "this client's pairing was revoked";
	}
	if (!why) {
		err = tether_handshake_server_hello(conn, NULL, 0, hello);
		if (err)
			return err;
		if (hello->channel != TETHER_CHANNEL_FRAMES || !tether_session_token_equal(hello->token, fc->token)) {
			tether_handshake_result_free(hello);
			why = refused_unknown;
		}
	}
	if (why) {
		tether_srv_refuse(conn, why);
		return -EACCES;
	}
	return 0;
}

/* A frame connection handed over by the process that routed it. */
static void take_handed_over(struct tether_srv_frame_channel *fc, int fd, const struct attach_note *note)
{
	struct tether_conn *conn;
	struct tether_handshake_result hello = {
		.peer_major = TETHER_PROTOCOL_MAJOR,
		.peer_minor = note->peer_minor,
		.minor = note->peer_minor < TETHER_PROTOCOL_MINOR ? note->peer_minor : TETHER_PROTOCOL_MINOR,
		.channel = TETHER_CHANNEL_FRAMES,
	};
	if (tether_conn_from_fd(fd, &conn) < 0)
		return;
	if (!note->tls) {
		take(fc, conn, &hello);
		return;
	}
	int err = begin_reading(fc, conn) ? admit_tls(fc, conn, &hello) : -ECONNABORTED;
	end_reading(fc);
	if (err) {
		tether_conn_close(conn);
		return;
	}
	take(fc, conn, &hello);
	tether_handshake_result_free(&hello);
}

/* --once, plaintext: the HELLO must attach to our session. */
static int once_plain(struct tether_srv_frame_channel *fc, struct tether_conn *conn,
		      struct tether_handshake_result *hello)
{
	int err = tether_handshake_server_hello(conn, NULL, 0, hello);
	if (err)
		return err;
	const char *why = NULL;
	if (hello->channel != TETHER_CHANNEL_FRAMES)
		why = "this tetherd (--once) serves a single session, which is running";
	else if (!tether_session_token_equal(hello->token, fc->token))
		why = refused_unknown;
	if (why) {
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED, why);
		tether_handshake_result_free(hello);
		return -EACCES;
	}
	return 0;
}

/* --once, TLS: the preamble must name our session. */
static int once_tls(struct tether_srv_frame_channel *fc, struct tether_conn *conn,
		    struct tether_handshake_result *hello)
{
	uint8_t route[TETHER_FRAME_ROUTE_SIZE], ours[TETHER_FRAME_ROUTE_SIZE];
	int err = tether_srv_read_preamble(conn, route);
	if (err)
		return err;
	tether_tls_frame_route(fc->token, ours);
	if (memcmp(route, ours, sizeof(ours))) {
		/* As tetherd without --once answers: inside TLS, to a paired client only. */
		struct tether_tls_peer peer;
		if (!tether_tls_server_start(conn, fc->sec->tls, &peer) &&
		    tether_srv_client_paired(fc->sec, &peer.fingerprint, NULL) == 1)
			tether_srv_refuse(conn, refused_unknown);
		else
			TETHER_LOGW("frames", "refused %s: frame channel for another session", tether_conn_peer(conn));
		return -ENOENT;
	}
	return admit_tls(fc, conn, hello);
}

/* --once: a connection on the listener, which must be our frame channel. */
static void accept_on_listener(struct tether_srv_frame_channel *fc)
{
	struct tether_conn *conn;
	struct tether_handshake_result hello;
	if (tether_listener_accept(fc->listener, &conn) < 0)
		return;
	int err = -ECONNABORTED;
	if (begin_reading(fc, conn)) {
		bool tls = fc->sec && fc->sec->tls;
		int kind = tls ? tether_srv_peek(conn, FRAME_HELLO_TIMEOUT_MS) : TETHER_SRV_CONN_PLAIN;
		if (kind == TETHER_SRV_CONN_PREAMBLE && tls) {
			err = once_tls(fc, conn, &hello);
		} else if (kind == TETHER_SRV_CONN_PLAIN && (!tls || fc->sec->insecure)) {
			err = once_plain(fc, conn, &hello);
		} else {
			TETHER_LOGW("frames", "refused %s: this tetherd (--once) serves a single session, which is running",
				    tether_conn_peer(conn));
			err = -EBUSY;
		}
	}
	end_reading(fc);
	if (err) {
		tether_conn_close(conn);
		return;
	}
	take(fc, conn, &hello); /* keeps or closes it */
	tether_handshake_result_free(&hello);
}

static void *frame_thread(void *arg)
{
	struct tether_srv_frame_channel *fc = arg;
	int source = fc->listener ? tether_listener_fd(fc->listener) : fc->control_fd;
	for (;;) {
		struct pollfd p[2] = {{.fd = fc->wake[0], .events = POLLIN}, {.fd = source, .events = POLLIN}};
		/* Once tetherd has gone, no frame connection can come: wait for stop(). */
		int r = poll(p, source >= 0 ? 2 : 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || p[0].revents)
			break;
		if (fc->listener) {
			accept_on_listener(fc);
			continue;
		}
		int fd;
		struct attach_note note;
		int err = recv_fd(source, &fd, &note);
		if (!err)
			take_handed_over(fc, fd, &note);
		else if (err != -EAGAIN && err != -EPROTO)
			source = -1;
	}
	return NULL;
}

void tether_srv_frame_link_release(struct tether_srv_frame_link *link)
{
	if (link->sessions)
		close_all(link->sessions);
	link->sessions = NULL;
	if (link->control_fd >= 0)
		close(link->control_fd);
	link->control_fd = -1;
}

int tether_srv_frame_channel_start(struct tether_srv_frame_link *link, const char *server_name,
				   const struct tether_srv_security *sec, const struct tether_srv_client *client,
				   struct tether_srv_frame_channel **out)
{
	struct tether_srv_frame_channel *fc = calloc(1, sizeof(*fc));
	if (!fc) {
		tether_srv_frame_link_release(link);
		return -ENOMEM;
	}
	memcpy(fc->token, link->token, sizeof(fc->token));
	fc->server_name = server_name;
	fc->sec = sec;
	fc->client = client;
	fc->control_fd = link->control_fd;
	fc->listener = link->listener;
	link->control_fd = -1;
	tether_srv_frame_link_release(link); /* a session keeps only its own control socket */
	fc->wake[0] = fc->wake[1] = -1;
	int err = 0;
	if (pipe2(fc->wake, O_CLOEXEC))
		err = TETHER_ERR("frames", -errno, "pipe: %s", strerror(errno));
	if (!err) {
		tether_mutex_init(&fc->lock);
		tether_cond_init(&fc->arrived);
		err = tether_thread_create(&fc->thread, frame_thread, fc);
		if (err) {
			TETHER_LOGE("frames", "cannot start the frame channel thread: %s", strerror(-err));
			tether_cond_destroy(&fc->arrived);
			tether_mutex_destroy(&fc->lock);
		}
	}
	if (err) {
		if (fc->wake[0] >= 0) {
			close(fc->wake[0]);
			close(fc->wake[1]);
		}
		if (fc->control_fd >= 0)
			close(fc->control_fd);
		free(fc);
		return err;
	}
	*out = fc;
	return 0;
}

struct tether_conn *tether_srv_frame_channel_wait(struct tether_srv_frame_channel *fc, int timeout_ms)
{
	uint64_t deadline = tether_time_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	tether_mutex_lock(&fc->lock);
	while (!fc->conn && !fc->stopping && timeout_ms != 0) {
		if (timeout_ms < 0) {
			tether_cond_wait(&fc->arrived, &fc->lock);
			continue;
		}
		uint64_t now = tether_time_ns();
		if (now >= deadline)
			break;
		tether_cond_timedwait(&fc->arrived, &fc->lock, deadline - now);
	}
	struct tether_conn *conn = fc->conn;
	tether_mutex_unlock(&fc->lock);
	return conn;
}

/* Connections handed over but not yet taken are refused, not dropped
 * silently: their clients learn that the session ended. */
static void refuse_queued(int control)
{
	int fd;
	struct attach_note note;
	/* After shutdown, no process can queue more; what is queued stays readable. */
	shutdown(control, SHUT_RDWR);
	while (recv_fd(control, &fd, &note) == 0) {
		struct tether_conn *conn;
		if (tether_conn_from_fd(fd, &conn) < 0)
			continue;
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED, refused_ended);
		tether_conn_close(conn);
	}
}

void tether_srv_frame_channel_stop(struct tether_srv_frame_channel *fc)
{
	if (!fc)
		return;
	tether_mutex_lock(&fc->lock);
	fc->stopping = true;
	if (fc->pending)
		tether_conn_shutdown(fc->pending);
	tether_cond_broadcast(&fc->arrived);
	tether_mutex_unlock(&fc->lock);
	ssize_t n;
	do
		n = write(fc->wake[1], "", 1);
	while (n < 0 && errno == EINTR);
	tether_thread_join(fc->thread);
	if (fc->control_fd >= 0) {
		refuse_queued(fc->control_fd);
		close(fc->control_fd);
	}
	close(fc->wake[0]);
	close(fc->wake[1]);
	tether_conn_close(fc->conn);
	tether_cond_destroy(&fc->arrived);
	tether_mutex_destroy(&fc->lock);
	free(fc);
}
