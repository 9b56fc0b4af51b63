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
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

/* A frame connection's HELLO (--once) must come within this time. */
#define FRAME_HELLO_TIMEOUT_MS 10000

/* What the process that read an attach HELLO sends with the connection: the
 * client's minor version, for the WELCOME the session answers with. */
struct attach_note {
	uint32_t peer_minor;
};

static const char refused_unknown[] = "no live session has this token (it ended, or the token is wrong)";
static const char refused_ended[] = "no live session has this token (its session has ended)";

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
	/* Every entry is compared, each in constant time: how long a refusal
	 * takes says nothing about the token. */
	for (size_t i = 0; t && i < t->n; i++)
		if (tether_session_token_equal(t->v[i].token, hello->token))
			found = (int)i;
	if (found < 0) {
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED, refused_unknown);
		return -ENOENT;
	}
	struct attach_note note = {hello->peer_minor};
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

/* ---- the session ---- */

struct tether_srv_frame_channel {
	uint8_t token[TETHER_SESSION_TOKEN_SIZE];
	const char *server_name;
	int control_fd;                   /* forked: our end of the socketpair; -1 */
	struct tether_listener *listener; /* --once */
	int wake[2];                      /* stop() writes to wake[1] */
	struct tether_thread *thread;
	struct tether_mutex lock;         /* guards what follows */
	struct tether_cond arrived;
	struct tether_conn *conn;         /* the frame channel, once attached */
	struct tether_conn *pending;      /* --once: a connection whose HELLO is being read */
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

/* A frame connection handed over by the process that read its HELLO. */
static void take_handed_over(struct tether_srv_frame_channel *fc, int fd, const struct attach_note *note)
{
	struct tether_conn *conn;
	if (tether_conn_from_fd(fd, &conn) < 0)
		return;
	struct tether_handshake_result hello = {
		.peer_major = TETHER_PROTOCOL_MAJOR,
		.peer_minor = note->peer_minor,
		.minor = note->peer_minor < TETHER_PROTOCOL_MINOR ? note->peer_minor : TETHER_PROTOCOL_MINOR,
		.channel = TETHER_CHANNEL_FRAMES,
	};
	take(fc, conn, &hello);
}

/* --once: a connection on the listener, which must be our frame channel. */
static void accept_on_listener(struct tether_srv_frame_channel *fc)
{
	struct tether_conn *conn;
	struct tether_handshake_result hello;
	if (tether_listener_accept(fc->listener, &conn) < 0)
		return;
	tether_mutex_lock(&fc->lock);
	bool stopping = fc->stopping;
	if (!stopping)
		fc->pending = conn; /* stop() shuts it down to end the HELLO read */
	tether_mutex_unlock(&fc->lock);
	int err = stopping ? -ECONNABORTED : 0;
	if (!err) {
		tether_conn_set_timeout(conn, FRAME_HELLO_TIMEOUT_MS);
		err = tether_handshake_server_hello(conn, NULL, 0, &hello);
	}
	tether_mutex_lock(&fc->lock);
	fc->pending = NULL;
	tether_mutex_unlock(&fc->lock);
	if (err) {
		tether_conn_close(conn);
		return;
	}
	const char *why = NULL;
	if (hello.channel != TETHER_CHANNEL_FRAMES)
		why = "this tetherd (--once) serves a single session, which is running";
	else if (!tether_session_token_equal(hello.token, fc->token))
		why = refused_unknown;
	if (why) {
		tether_handshake_server_refuse(conn, TETHER_HANDSHAKE_REFUSED, why);
		tether_conn_close(conn);
	} else {
		take(fc, conn, &hello); /* keeps or closes it */
	}
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
				   struct tether_srv_frame_channel **out)
{
	struct tether_srv_frame_channel *fc = calloc(1, sizeof(*fc));
	if (!fc) {
		tether_srv_frame_link_release(link);
		return -ENOMEM;
	}
	memcpy(fc->token, link->token, sizeof(fc->token));
	fc->server_name = server_name;
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
