/*
 * One client session: read batches of commands, decode each within its own
 * declared size, execute, and answer the calls that asked for an answer. The
 * first malformed command ends the session (nothing after a bad read can be
 * trusted); the daemon and other sessions go on.
 */
#include "server/session.h"
#include "server/frame_channel.h"
#include "server/frame_pipeline.h"
#include "server/link_test.h"
#include "server/profile.h"
#include "server/security.h"
#include "server/session_watchdog.h"
#include "server/swapchain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/buffer.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "tether_wire.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

/* What one message may make the server allocate while it is decoded: its
 * copies of the message's arrays and the arrays its queries fill. */
#define SESSION_ARENA_LIMIT(message_limit) (2 * (size_t)(message_limit))

static uint64_t handle_to_wire(void *ctx, VkObjectType type, uint64_t handle)
{
	struct tether_srv_object *o = tether_srv_object_of_handle(ctx, type, handle);
	return o ? o->id : 0;
}

/* The first handle of a command (its dispatchable parameter) says whose
 * command it is; any other must belong to the same instance and device, or
 * to none (a surface belongs to no device). */
static bool in_scope(struct tether_srv_session *s, const struct tether_srv_object *o)
{
	if (!s->scope.set) {
		s->scope.set = true;
		s->scope.instance = o->instance;
		s->scope.device = o->device;
		return true;
	}
	return (!o->instance || !s->scope.instance || o->instance == s->scope.instance) &&
	       (!o->device || !s->scope.device || o->device == s->scope.device);
}

/* Each refusal has its own reason: the log says which check a client failed. */
static const char *handle_from_wire(void *ctx, VkObjectType type, uint64_t id, uint64_t *handle)
{
	struct tether_srv_session *s = ctx;
	struct tether_srv_object *o = tether_srv_object_find(&s->objects, id);
	if (!o)
		return "handle unknown to this session";
	if (o->type != type)
		return "handle names an object of another type";
	if (!in_scope(s, o))
		return "handle of another instance or device";
	*handle = o->handle;
	return NULL;
}

const struct tether_srv_dispatch *tether_srv_global_dispatch(struct tether_srv_session *s)
{
	return &s->global;
}

static const void *dispatch_key(const void *dispatchable)
{
	return *(const void *const *)dispatchable;
}

struct tether_srv_table *tether_srv_table_of(struct tether_srv_session *s, const void *dispatchable)
{
	if (!dispatchable)
		return NULL;
	const void *key = dispatch_key(dispatchable);
	for (uint32_t i = 0; i < s->table_count; i++)
		if (s->tables[i]->key == key)
			return s->tables[i];
	return NULL;
}

const struct tether_srv_dispatch *tether_srv_dispatch_of(struct tether_srv_session *s, const void *dispatchable)
{
	struct tether_srv_table *t = tether_srv_table_of(s, dispatchable);
	return t ? &t->dt : NULL;
}

struct tether_srv_table *tether_srv_table_add(struct tether_srv_session *s, const void *dispatchable)
{
	struct tether_srv_table *t = tether_srv_table_of(s, dispatchable);
	if (t)
		return t;
	struct tether_srv_table **tables = realloc(s->tables, (s->table_count + 1) * sizeof(*tables));
	if (!tables)
		return NULL;
	s->tables = tables;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->key = dispatch_key(dispatchable);
	s->tables[s->table_count++] = t;
	return t;
}

void tether_srv_reply_ready(struct tether_srv_session *s)
{
	s->reply_ready = true;
}

void tether_srv_async_error(struct tether_srv_session *s, const char *command, VkResult result)
{
	s->async_errors++;
	TETHER_LOGW("session", "%s failed on the driver with VkResult %d", command, (int)result);
}

static const char *command_name(uint32_t id)
{
	const struct tether_command_info *c = tether_command_find(id);
	return c ? c->name : "tether command";
}

/* Executes every command of one COMMANDS message. Returns 0 or -EPROTO. */
static int run_batch(struct tether_srv_session *s, const uint8_t *data, size_t size)
{
	struct tether_decoder msg;
	tether_decoder_init(&msg, data, size, &s->arena);
	while (tether_dec_remaining(&msg) && !msg.fatal) {
		if (tether_dec_remaining(&msg) < 8) {
			TETHER_LOGE("session", "%s: rejected a command: command framing is truncated (%zu bytes left)",
				    tether_conn_peer(s->conn), tether_dec_remaining(&msg));
			return -EPROTO;
		}
		uint32_t id = tether_dec_u32(&msg);
		uint32_t len = tether_dec_u32(&msg);
		if (len > tether_dec_remaining(&msg)) {
			TETHER_LOGE("session", "%s: rejected %s: command framing is truncated (%u bytes declared, %zu left)",
				    tether_conn_peer(s->conn), command_name(id), len, tether_dec_remaining(&msg));
			return -EPROTO;
		}
		struct tether_decoder d;
		tether_decoder_init(&d, msg.cur, len, &s->arena);
		d.handles = &s->handle_ops;
		d.handle_ctx = s;
		msg.cur += len;
		s->commands++;
		s->reply_ready = false;
		s->scope.set = false;
		s->scope.instance = s->scope.device = 0;
		tether_encoder_reset(&s->reply);
		const bool wait = id == TETHER_CMD_vkWaitForFences || id == TETHER_CMD_vkWaitSemaphores ||
				  id == TETHER_CMD_vkQueueWaitIdle || id == TETHER_CMD_vkDeviceWaitIdle;
		const bool timed = wait || s->profile;
		const uint64_t t0 = timed ? tether_time_ns() : 0;
		const bool known = tether_srv_execute(s, id, &d, &s->reply);
		if (timed) {
			uint64_t ns = tether_time_ns() - t0;
			if (wait)
				s->wait_ns += ns;
			if (s->profile)
				tether_srv_profile_add(s->profile, id, ns);
		}
		if (!known) {
			TETHER_LOGE("session", "%s: unknown command id 0x%08x", tether_conn_peer(s->conn), id);
			return -EPROTO;
		}
		if (d.fatal) {
			TETHER_LOGE("session", "%s: rejected %s: %s", tether_conn_peer(s->conn), command_name(id),
				    d.error ? d.error : "malformed");
			return -EPROTO;
		}
		if (s->reply_ready) {
			if (s->reply.failed)
				return -ENOMEM;
			struct tether_iovec iov = {s->reply.data, s->reply.size};
			int r = tether_msg_send(s->conn, TETHER_MSG_REPLY, &iov, 1);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void session_free(struct tether_srv_session *s)
{
	/* Frames in flight are abandoned: nothing more reaches the client. */
	tether_srv_frame_pipeline_stop(s->frame_pipeline);
	s->frame_pipeline = NULL;
	/* Everything the client left goes back to the driver (devices after
	 * their objects, instances last), so that a session's end frees all it
	 * held: the sanitizer builds check that nothing leaks. */
	tether_srv_instances_end_all(s);
	tether_srv_swapchains_release_all(s);
	tether_srv_memory_release_all(s);
	for (uint32_t i = 0; i < s->table_count; i++)
		free(s->tables[i]);
	free(s->tables);
	tether_srv_objects_free(&s->objects);
	tether_arena_free(&s->arena);
	tether_encoder_free(&s->reply);
	tether_encoder_free(&s->push);
}

/**
 * tether_srv_session_run() - serve one client until it leaves
 * @conn: the accepted connection (closed by the caller)
 * @opts: daemon options
 *
 * Return: 0 when the client closed the session, a negative errno otherwise.
 */
int tether_srv_session_run(struct tether_conn *conn, const struct tether_srv_options *opts)
{
	struct tether_srv_session s = {.conn = conn, .opts = opts};
	struct tether_handshake_result hs;
	tether_conn_set_timeout(conn, 10000);
	int r = tether_handshake_server_hello(conn, tether_carried_extensions, tether_carried_extension_count, &hs);
	if (!r && hs.channel == TETHER_CHANNEL_FRAMES) {
		/* Not a new session: another one's frame channel, handed over to it. */
		r = tether_srv_frame_channel_attach(conn, &hs, opts->frames);
		tether_handshake_result_free(&hs);
		return r;
	}
	if (!r && hs.channel == TETHER_CHANNEL_LINK_TEST) {
		/* Not a session: `tether bench-link` measuring the path. */
		if (opts->frames)
			tether_srv_frame_link_release(opts->frames);
		r = tether_srv_link_test_run(conn, &hs, opts->server_name);
		tether_handshake_result_free(&hs);
		return r;
	}
	/* Running before WELCOME: a client that has its answer finds the session
	 * complete (its descriptors included). */
	struct tether_srv_watchdog *watchdog = NULL;
	if (!r && tether_srv_watchdog_start(tether_conn_fd(conn), tether_conn_peer(conn), &watchdog) < 0)
		TETHER_LOGW("session", "%s: no watchdog: a session stuck in the driver outlives its client",
			    tether_conn_peer(conn));
	/* A paired client's session ends when its pairing is revoked. */
	struct tether_srv_revocation *revocation = NULL;
	if (!r && opts->client && opts->client->paired) {
		r = tether_srv_revocation_start(opts->security, opts->client, conn, &revocation);
		if (r == -EACCES) {
			tether_srv_refuse(conn, "this client's pairing was revoked");
		} else if (r < 0) {
			TETHER_LOGW("session", "%s: cannot watch for revocation (%s): a revoked client keeps this session",
				    tether_conn_peer(conn), strerror(-r));
			r = 0;
		}
	}
	/* The token goes out in WELCOME only when the frame channel can come
	 * (never to a 1.0 client). */
	if (!r && opts->frames) {
		if (hs.minor >= 1 && tether_srv_frame_channel_start(opts->frames, opts->server_name, opts->security,
								    opts->client, &s.frames) < 0)
			TETHER_LOGW("session", "%s: this session gets no frame channel", tether_conn_peer(conn));
		tether_srv_frame_link_release(opts->frames);
	}
	if (!r)
		r = tether_handshake_server_accept(conn, opts->server_name, &hs, s.frames ? opts->frames->token : NULL);
	if (r < 0) {
		tether_srv_revocation_stop(revocation);
		tether_srv_watchdog_stop(watchdog);
		tether_srv_frame_channel_stop(s.frames);
		TETHER_LOGW("session", "%s: handshake failed: %s", tether_conn_peer(conn),
			    hs.error[0] ? hs.error : strerror(-r));
		tether_handshake_result_free(&hs);
		return r;
	}
	if (opts->client && opts->client->paired)
		TETHER_LOGI("session", "%s: session for \"%s\" of paired client \"%s\" (TLS)", tether_conn_peer(conn),
			    hs.peer_name, opts->client->name);
	else
		TETHER_LOGI("session", "%s: session for \"%s\"", tether_conn_peer(conn), hs.peer_name);
	tether_handshake_result_free(&hs);
	tether_conn_set_timeout(conn, 0);

	tether_srv_objects_init(&s.objects);
	s.handle_ops = (struct tether_handle_ops){handle_to_wire, handle_from_wire};
	tether_arena_init(&s.arena, SESSION_ARENA_LIMIT(opts->limits.message_bytes));
	tether_encoder_init(&s.reply);
	tether_encoder_init(&s.push);
	s.reply.handles = &s.handle_ops;
	s.reply.handle_ctx = &s;
	tether_srv_dispatch_load_global(&s.global, opts->get_instance_proc_addr);
	s.profile = tether_srv_profile_create();

	struct tether_buffer msg = {0};
	for (;;) {
		struct tether_msg_header h;
		uint64_t t0 = tether_time_ns();
		r = tether_msg_recv_max(conn, &h, &msg, opts->limits.message_bytes);
		uint64_t t1 = tether_time_ns();
		s.recv_ns += t1 - t0;
		if (r == -ECONNRESET) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
		if (h.type != TETHER_MSG_COMMANDS) {
			TETHER_LOGE("session", "%s: unexpected message type %u", tether_conn_peer(conn), h.type);
			r = -EPROTO;
			break;
		}
		r = run_batch(&s, msg.data, msg.size);
		tether_arena_reset(&s.arena);
		s.messages++;
		s.busy_ns += tether_time_ns() - t1;
		if (r < 0)
			break;
	}
	TETHER_LOGI("session", "%s: session ended (%s): %llu bytes of mapped memory compared", tether_conn_peer(conn),
		    r ? strerror(-r) : "client left", (unsigned long long)s.bytes_compared);
	TETHER_LOGI("session", "%s: %llu commands in %llu messages; %.1f ms executing them (%.0f ns a command outside waits, "
		    "driver calls included), of which %.1f ms in waits; %.1f ms receiving", tether_conn_peer(conn),
		    (unsigned long long)s.commands, (unsigned long long)s.messages, s.busy_ns / 1e6,
		    s.commands ? (double)(s.busy_ns - s.wait_ns) / (double)s.commands : 0.0, s.wait_ns / 1e6,
		    s.recv_ns / 1e6);
	tether_srv_profile_finish(s.profile, tether_conn_peer(conn), 20);
	/* The client learns at once that its session is over, and the watchdog
	 * sees the hang-up: ending the devices below waits for them, and a wait
	 * nobody will end must not keep the process. */
	tether_conn_shutdown(conn);
	tether_buffer_free(&msg);
	session_free(&s);
	tether_srv_frame_channel_stop(s.frames); /* after the frame pipeline, its user */
	tether_srv_revocation_stop(revocation);
	tether_srv_watchdog_stop(watchdog);
	return r;
}
