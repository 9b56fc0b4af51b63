/*
 * The frame channel: a session's second connection, for the frames it
 * streams to the client, so that megabytes of a frame never queue in front of
 * a command's reply. The client connects to tetherd again and attaches with
 * the token its session's WELCOME gave it (protocol 1.1). tetherd forks a
 * process per connection, so the process that reads an attach HELLO hands the
 * connection to its session over a socketpair tetherd made before forking the
 * session (SCM_RIGHTS); with --once the session accepts it on the listener.
 */
#ifndef TETHER_SERVER_FRAME_CHANNEL_H
#define TETHER_SERVER_FRAME_CHANNEL_H

#include <stdint.h>

#include "protocol/handshake.h"
#include "transport/conn.h"
#include "transport/tls.h"

struct tether_srv_security;
struct tether_srv_client;

/* tetherd's table of live session processes: token and control socket of each. */
struct tether_srv_sessions;
/* A session's end: where its frame connection arrives. */
struct tether_srv_frame_channel;

/* How a session gets its frame connection; tetherd fills one per accepted
 * connection (before it knows what the connection is for). */
struct tether_srv_frame_link {
	uint8_t token[TETHER_SESSION_TOKEN_SIZE];
	int control_fd;                       /* forked: this process's end of its socketpair; else -1 */
	struct tether_listener *listener;     /* --once: frame connections are accepted here; else NULL */
	struct tether_srv_sessions *sessions; /* forked: the table inherited, to route attach connections */
};

/* ---- tetherd, the listening process ---- */

/** tether_srv_sessions_create() - an empty table. Return: 0 or -ENOMEM. */
int tether_srv_sessions_create(struct tether_srv_sessions **out);

/** tether_srv_sessions_destroy() - close every control socket and free; NULL is ignored. */
void tether_srv_sessions_destroy(struct tether_srv_sessions *t);

/**
 * tether_srv_sessions_add() - a token and a socketpair for a connection about to be forked
 * @link: filled for the child: the token, its end of the socketpair, the table
 *
 * Call tether_srv_sessions_forked() in the parent right after fork().
 * Return: 0, or negative errno (logged): the connection then gets no frame channel.
 */
int tether_srv_sessions_add(struct tether_srv_sessions *t, struct tether_srv_frame_link *link);

/**
 * tether_srv_sessions_forked() - the parent's half after fork()
 * @started: whether fork() succeeded; if not, the entry is dropped
 *
 * Closes the child's end of the socketpair, so that the parent's end hangs up
 * exactly when the child's process ends.
 */
void tether_srv_sessions_forked(struct tether_srv_sessions *t, struct tether_srv_frame_link *link,
				bool started);

/**
 * tether_srv_sessions_wait() - wait for a connection on @listen_fd, forgetting ended sessions
 *
 * Polls the listener and every control socket; a control socket that hung up
 * belongs to a process that ended, and is closed and dropped (attaching to it
 * is refused from then on).
 * Return: 0 when a connection is pending; -EINTR when woken without one (a
 * signal, or only ended sessions); another negative errno from poll().
 */
int tether_srv_sessions_wait(struct tether_srv_sessions *t, int listen_fd);

/**
 * tether_srv_frame_link_once() - the link of tetherd --once's single session
 * @listener: stays open during the session; its frame connection comes there
 * Return: 0, or negative errno (the session then gets no frame channel).
 */
int tether_srv_frame_link_once(struct tether_srv_frame_link *link, struct tether_listener *listener);

/* ---- a connection process whose HELLO asks for a frame channel ---- */

/**
 * tether_srv_frame_channel_attach() - hand @conn to the session its token names
 * @hello: its HELLO, channel TETHER_CHANNEL_FRAMES
 * @link: this process's link (NULL: no sessions to attach to)
 *
 * The token is looked up, in constant time, among the sessions that were
 * live when this process was forked; the session answers the client itself.
 * An unknown token or an ended session is refused here, with the reason.
 * Return: 0 when handed over (the caller closes its copy of @conn), or
 * -ENOENT (refused).
 */
int tether_srv_frame_channel_attach(struct tether_conn *conn, const struct tether_handshake_result *hello,
				    const struct tether_srv_frame_link *link);

/**
 * tether_srv_frame_channel_route() - hand a TLS frame channel to the session its preamble names
 * @conn: a connection whose preamble has been read and nothing else (the
 *        TLS handshake behind it is the session's to run)
 * @route: from the preamble (transport/tls.h); routes are not secret: the
 *         session checks the client's certificate and the token itself
 * @sec: to refuse inside TLS when no live session has @route
 * Return: 0 when handed over (the caller closes its copy), or -ENOENT (refused).
 */
int tether_srv_frame_channel_route(struct tether_conn *conn, const uint8_t route[TETHER_FRAME_ROUTE_SIZE],
				   const struct tether_srv_frame_link *link, const struct tether_srv_security *sec);

/* ---- the session ---- */

/**
 * tether_srv_frame_link_release() - close what a session process inherited and does not use
 * The other sessions' control sockets (link->sessions) and, if no channel
 * took it, this session's own: for a session that gets no frame channel
 * (a 1.0 client). tether_srv_frame_channel_start() calls it itself.
 */
void tether_srv_frame_link_release(struct tether_srv_frame_link *link);

/**
 * tether_srv_frame_channel_start() - start waiting for the session's frame connection
 * @link: this session's link; the channel takes over link->control_fd. The
 *        other sessions' control sockets inherited with link->sessions are
 *        closed: a session holds only its own.
 * @server_name: sent in the WELCOME that answers the frame connection
 * @sec, @client: tetherd's TLS settings and the session's client: a TLS frame
 *        channel must come from @client's certificate, still paired
 *
 * A thread takes the frame connection as it arrives, answers it (WELCOME with
 * the session's token, then TETHER_MSG_FRAME_READY) and refuses any later one.
 * Return: 0 or negative errno (logged).
 */
int tether_srv_frame_channel_start(struct tether_srv_frame_link *link, const char *server_name,
				   const struct tether_srv_security *sec, const struct tether_srv_client *client,
				   struct tether_srv_frame_channel **out);

/**
 * tether_srv_frame_channel_wait() - the client's frame connection
 * @timeout_ms: how long to wait for it; 0 does not wait, negative waits until
 *              it comes or the channel stops
 *
 * It may already have arrived. Thread-safe.
 * Return: the connection (the channel keeps owning it; one sender at a time),
 * or NULL when none came in time.
 */
struct tether_conn *tether_srv_frame_channel_wait(struct tether_srv_frame_channel *fc, int timeout_ms);

/**
 * tether_srv_frame_channel_stop() - stop accepting and close the frame connection
 * From now on attaching to this session is refused ("session ended"). Call
 * it when nothing uses the connection any more. NULL is ignored.
 */
void tether_srv_frame_channel_stop(struct tether_srv_frame_channel *fc);

#endif /* TETHER_SERVER_FRAME_CHANNEL_H */
