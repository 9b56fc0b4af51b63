/*
 * The frame channel end to end: a real tetherd (forking, and --once), a
 * command connection with a real handshake, then a second connection that
 * attaches with the session's token and gets the session's FRAME_READY.
 * Over a Unix socket, plaintext TCP (--insecure) and TLS with a paired
 * client, where the frame channel is routed by its preamble and the session
 * runs the TLS handshake itself. Refusals (wrong token, second attach, ended
 * session, hostile HELLOs, another client's certificate) and tetherd's
 * bookkeeping of ended sessions. tetherd's path comes in $TETHERD.
 * Run one test per CTest entry: test_frame_channel <test name>.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/cmocka_named.h"
#include "tests/tetherd_leak_env.h"

#include "protocol/buffer.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "transport/client_connect.h"
#include "transport/conn.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"
#include "transport/tls.h"
#include "transport/trust.h"

#define WAIT_MS 10000

static const char unknown_token[] = "no live session has this token (it ended, or the token is wrong)";
static const char already_attached[] = "this session already has a frame channel";

/* FORKED_TCP: plaintext TCP, served because of --insecure; the TLS modes:
 * a client paired ahead of the run (both lists written directly). */
enum mode { FORKED_UNIX, FORKED_TCP, FORKED_TLS, ONCE, ONCE_TLS };

struct tetherd {
	pid_t pid;
	enum mode mode;
	char dir[128];
	char log[160];
	char addr[200];
	struct tether_client_security sec; /* the paired client, in the TLS modes */
};

static bool tls_mode(enum mode m)
{
	return m == FORKED_TLS || m == ONCE_TLS;
}

static uint64_t now_ms(void)
{
	return tether_time_ns() / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	tether_sleep_ns((uint64_t)ms * 1000000u);
}

/* The address tetherd prints once it listens, or "" before that. */
static void bound_address(const struct tetherd *t, char *addr, size_t len)
{
	char text[4096] = "";
	addr[0] = '\0';
	FILE *f = fopen(t->log, "r");
	if (!f)
		return;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *p = strstr(text, "listening on ");
	if (!p || !strchr(p, '\n'))
		return;
	p += strlen("listening on ");
	snprintf(addr, len, "%.*s", (int)(strchr(p, '\n') - p), p);
}

/* An identity in @t->dir/@name, and its fingerprint. */
static struct tether_tls_identity *identity(const struct tetherd *t, const char *name)
{
	char dir[200];
	struct tether_tls_identity *id;
	snprintf(dir, sizeof(dir), "%s/%s", t->dir, name);
	assert_int_equal(tether_tls_identity_load(dir, name, true, &id), 0);
	return id;
}

/* Writes @id into the server's paired-clients list. */
static void pair_client(const struct tetherd *t, const struct tether_tls_identity *id, const char *name)
{
	char dir[200];
	struct tether_peer p = {.fingerprint = *tether_tls_identity_fingerprint(id), .paired_at = 1};
	snprintf(dir, sizeof(dir), "%s/state", t->dir);
	snprintf(p.name, sizeof(p.name), "%s", name);
	assert_int_equal(tether_peer_list_add(dir, TETHER_PAIRED_CLIENTS_FILE, &p, false), 0);
}

/* What `tether pair` would have left: the server's identity made, the
 * client in its list, and the client's TLS context pinned to the server. */
static void pair_ahead(struct tetherd *t)
{
	struct tether_tls_identity *server = identity(t, "state"), *client = identity(t, "client");
	pair_client(t, client, "test client");
	t->sec.tls = true;
	t->sec.server = *tether_tls_identity_fingerprint(server);
	assert_int_equal(tether_tls_context_new(client, TETHER_TLS_CLIENT, NULL, &t->sec.ctx), 0);
	tether_tls_identity_free(server);
	tether_tls_identity_free(client);
}

static void tetherd_start(struct tetherd *t, enum mode mode)
{
	const char *exe = getenv("TETHERD");
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char listen[200], state[200];
	assert_non_null(exe);
	memset(t, 0, sizeof(*t));
	t->mode = mode;
	snprintf(t->dir, sizeof(t->dir), "%s/tether-frames-XXXXXX", tmp);
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->log, sizeof(t->log), "%s/tetherd.log", t->dir);
	snprintf(state, sizeof(state), "%s/state", t->dir);
	if (mode == FORKED_TCP || tls_mode(mode))
		snprintf(listen, sizeof(listen), "127.0.0.1:0");
	else
		snprintf(listen, sizeof(listen), "unix:%s/s", t->dir);
	if (tls_mode(mode))
		pair_ahead(t);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		int fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("TETHER_LOG", "info", 1);
		tether_test_tetherd_leak_env();
		const char *args[12] = {exe, "--listen", listen, "--state-dir", state};
		int n = 5;
		if (mode == ONCE || mode == ONCE_TLS)
			args[n++] = "--once";
		if (mode == FORKED_TCP)
			args[n++] = "--insecure";
		execv(exe, (char *const *)args);
		_exit(127);
	}
	for (uint64_t end = now_ms() + WAIT_MS; !t->addr[0]; sleep_ms(10)) {
		assert_true(now_ms() < end);
		assert_int_equal(waitpid(t->pid, NULL, WNOHANG), 0); /* still running */
		bound_address(t, t->addr, sizeof(t->addr));
	}
}

static bool tetherd_running(const struct tetherd *t)
{
	return waitpid(t->pid, NULL, WNOHANG) == 0;
}

/* Exit status of tetherd after it ends by itself (--once), -1 on timeout. */
static int tetherd_wait_exit(struct tetherd *t)
{
	int status;
	for (uint64_t end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(10))
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
	return -1;
}

static int children_of(pid_t parent, pid_t *out, int max);

/* Sanitizer builds: a session or tetherd --once that leaked, or worse, said
 * so in the log (its check runs as it exits). */
static void expect_clean_log(const struct tetherd *t)
{
	static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"};
	char text[1 << 16];
	FILE *f = fopen(t->log, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(text, marks[i]))
			fail_msg("tetherd's log holds a sanitizer report:\n%s", text);
}

static void tetherd_stop(struct tetherd *t)
{
	pid_t kids[8];
	/* Sessions end as their clients leave, checking for leaks on the way. */
	for (uint64_t end = now_ms() + WAIT_MS; t->pid > 0 && children_of(t->pid, kids, 8) > 0; sleep_ms(20))
		if (now_ms() >= end)
			fail_msg("tetherd still has session processes after their clients left");
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
	}
	expect_clean_log(t);
	tether_client_security_release(&t->sec);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

/* A connection as the paired client (TLS modes; @token: a frame channel's
 * route is sent first) or in plaintext. */
static struct tether_conn *dial_as(const struct tetherd *t, const struct tether_client_security *sec,
				   const uint8_t *token)
{
	struct tether_conn *c;
	struct tether_client_info info;
	uint8_t route[TETHER_FRAME_ROUTE_SIZE];
	if (token)
		tether_tls_frame_route(token, route);
	int err = tether_client_connect(t->addr, sec, token && sec->tls ? route : NULL, &c, &info);
	if (err)
		fail_msg("cannot connect to %s: %s", t->addr, info.error);
	tether_conn_set_timeout(c, WAIT_MS);
	return c;
}

static struct tether_conn *dial(const struct tetherd *t, const uint8_t *token)
{
	return dial_as(t, &t->sec, token);
}

/* ---- client side ---- */

struct session {
	struct tether_conn *cmd;
	struct tether_handshake_result hs;
};

static void session_open(const struct tetherd *t, struct session *s)
{
	s->cmd = dial(t, NULL);
	assert_int_equal(tether_handshake_client(s->cmd, "frame channel test", NULL, 0, &s->hs), 0);
	assert_int_equal(s->hs.minor, TETHER_PROTOCOL_MINOR);
	assert_true(s->hs.has_token);
}

static void session_close(struct session *s)
{
	tether_conn_close(s->cmd);
	tether_handshake_result_free(&s->hs);
	s->cmd = NULL;
}

/* What tether_icd_conn_open_frames() does: attach, then wait for FRAME_READY.
 * Return: 0 with *out, or the handshake's error with its text in @why. */
static int attach(const struct tetherd *t, const uint8_t *token, struct tether_conn **out, char *why,
		  size_t why_len)
{
	struct tether_handshake_result r;
	struct tether_conn *c = dial(t, token);
	int err = tether_handshake_client_attach(c, "frames", token, &r);
	if (why)
		snprintf(why, why_len, "%s", r.error);
	if (err) {
		tether_conn_close(c);
		return err;
	}
	tether_handshake_result_free(&r);
	struct tether_msg_header h;
	struct tether_buffer b = { 0 };
	assert_int_equal(tether_msg_recv(c, &h, &b), 0);
	assert_int_equal(h.type, TETHER_MSG_FRAME_READY);
	assert_int_equal(b.size, 0);
	tether_buffer_free(&b);
	*out = c;
	return 0;
}

static struct tether_conn *attach_ok(const struct tetherd *t, const struct session *s)
{
	struct tether_conn *c = NULL;
	assert_int_equal(attach(t, s->hs.token, &c, NULL, 0), 0);
	return c;
}

static void attach_refused(const struct tetherd *t, const uint8_t *token, const char *why)
{
	char got[TETHER_HANDSHAKE_MAX_STRING + 1];
	struct tether_conn *c = NULL;
	assert_int_equal(attach(t, token, &c, got, sizeof(got)), -ECONNREFUSED);
	assert_string_equal(got, why);
}

/* Nothing arrives and the peer has not closed. */
static void expect_open(struct tether_conn *c)
{
	uint8_t byte;
	tether_conn_set_timeout(c, 200);
	assert_int_equal(tether_conn_recv(c, &byte, 1), -ETIMEDOUT);
	tether_conn_set_timeout(c, WAIT_MS);
}

static void expect_closed(struct tether_conn *c)
{
	uint8_t byte;
	tether_conn_set_timeout(c, WAIT_MS);
	assert_int_equal(tether_conn_recv(c, &byte, 1), -ECONNRESET);
}

static const enum mode every_mode[] = { FORKED_UNIX, FORKED_TCP, FORKED_TLS, ONCE, ONCE_TLS };
#define MODE_COUNT (sizeof(every_mode) / sizeof(every_mode[0]))
#define FOR_EACH_MODE(m) for (size_t m##_i = 0; m##_i < MODE_COUNT && ((m) = every_mode[m##_i], 1); m##_i++)

/* ---- tests ---- */

/* The session gets the connection: its FRAME_READY arrives on it, and the
 * command connection stays up beside it. */
static void frames_attach_reaches_session(void **state)
{
	enum mode m;
	FOR_EACH_MODE(m) {
		struct tetherd t;
		struct session s;
		tetherd_start(&t, m);
		session_open(&t, &s);
		struct tether_conn *fc = attach_ok(&t, &s);
		expect_open(s.cmd);
		expect_open(fc);
		session_close(&s);
		expect_closed(fc); /* the session ended, and its frame channel with it */
		tether_conn_close(fc);
		if (m == ONCE || m == ONCE_TLS)
			assert_int_equal(tetherd_wait_exit(&t), 0);
		else
			assert_true(tetherd_running(&t));
		tetherd_stop(&t);
	}
}

static void frames_wrong_token_refused(void **state)
{
	enum mode m;
	FOR_EACH_MODE(m) {
		struct tetherd t;
		struct session s;
		tetherd_start(&t, m);
		session_open(&t, &s);
		uint8_t wrong[TETHER_SESSION_TOKEN_SIZE];
		memcpy(wrong, s.hs.token, sizeof(wrong));
		wrong[TETHER_SESSION_TOKEN_SIZE - 1] ^= 1;
		attach_refused(&t, wrong, unknown_token);
		/* A wrong guess costs the session nothing. */
		struct tether_conn *fc = attach_ok(&t, &s);
		expect_open(s.cmd);
		tether_conn_close(fc);
		session_close(&s);
		tetherd_stop(&t);
	}
}

static void frames_second_attach_refused(void **state)
{
	enum mode m;
	FOR_EACH_MODE(m) {
		struct tetherd t;
		struct session s;
		tetherd_start(&t, m);
		session_open(&t, &s);
		struct tether_conn *fc = attach_ok(&t, &s);
		attach_refused(&t, s.hs.token, already_attached);
		expect_open(fc); /* the first one is kept */
		tether_conn_close(fc);
		attach_refused(&t, s.hs.token, already_attached); /* even once it is closed */
		session_close(&s);
		tetherd_stop(&t);
	}
}

/* Two sessions of one tetherd, each with its own token and channel. */
static void frames_concurrent_sessions_separate(void **state)
{
	struct tetherd t;
	struct session a, b;
	tetherd_start(&t, FORKED_UNIX);
	session_open(&t, &a);
	session_open(&t, &b);
	assert_false(tether_session_token_equal(a.hs.token, b.hs.token));
	struct tether_conn *fa = attach_ok(&t, &a);
	attach_refused(&t, a.hs.token, already_attached);
	struct tether_conn *fb = attach_ok(&t, &b); /* a's attach took nothing of b's */
	attach_refused(&t, b.hs.token, already_attached);
	session_close(&a);
	expect_closed(fa);
	expect_open(fb);
	expect_open(b.cmd);
	tether_conn_close(fa);
	tether_conn_close(fb);
	session_close(&b);
	tetherd_stop(&t);
}

/* An ended session's token attaches nothing; tetherd serves on. */
static void frames_ended_session_refused(void **state)
{
	struct tetherd t;
	struct session s, next;
	tetherd_start(&t, FORKED_UNIX);
	session_open(&t, &s);
	struct tether_conn *fc = attach_ok(&t, &s);
	uint8_t token[TETHER_SESSION_TOKEN_SIZE];
	memcpy(token, s.hs.token, sizeof(token));
	session_close(&s);
	expect_closed(fc); /* the session has stopped its frame channel */
	tether_conn_close(fc);
	char why[TETHER_HANDSHAKE_MAX_STRING + 1];
	assert_int_equal(attach(&t, token, &fc, why, sizeof(why)), -ECONNREFUSED);
	assert_true(!strncmp(why, "no live session has this token", 30));
	/* Once tetherd has noticed the end, the token is unknown. */
	for (uint64_t end = now_ms() + WAIT_MS; strcmp(why, unknown_token); sleep_ms(20)) {
		assert_true(now_ms() < end);
		assert_int_equal(attach(&t, token, &fc, why, sizeof(why)), -ECONNREFUSED);
	}
	assert_true(tetherd_running(&t));
	session_open(&t, &next);
	fc = attach_ok(&t, &next);
	tether_conn_close(fc);
	session_close(&next);
	tetherd_stop(&t);
}

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Waits until tetherd holds @want descriptors: it notices an end at once,
 * but the ended process takes its time to exit. */
static void wait_fds(const struct tetherd *t, int want)
{
	int n = count_fds(t->pid);
	for (uint64_t end = now_ms() + WAIT_MS; n != want; sleep_ms(20)) {
		if (now_ms() >= end)
			fail_msg("tetherd holds %d descriptors, %d before the sessions came and went", n, want);
		n = count_fds(t->pid);
	}
}

/* tetherd closes the control socket of every session that ended, however it
 * ended: with or without a frame channel, refused, or never a session. */
static void frames_ended_sessions_release_control_sockets(void **state)
{
	struct tetherd t;
	tetherd_start(&t, FORKED_UNIX);
	struct session s;
	session_open(&t, &s); /* one live session throughout */
	int baseline = count_fds(t.pid);
	for (int i = 0; i < 20; i++) {
		struct session x;
		session_open(&t, &x);
		if (i % 2)
			tether_conn_close(attach_ok(&t, &x));
		else
			attach_refused(&t, (const uint8_t *)"not a real token", unknown_token);
		session_close(&x);
		struct tether_conn *probe;
		assert_int_equal(tether_conn_connect(t.addr, &probe), 0); /* gone before its HELLO */
		tether_conn_close(probe);
	}
	wait_fds(&t, baseline);
	struct tether_conn *fc = attach_ok(&t, &s);
	wait_fds(&t, baseline); /* an attach leaves nothing behind */
	tether_conn_close(fc);
	session_close(&s);
	tetherd_stop(&t);
}

/* Child processes of @parent, up to @max of them. */
static int children_of(pid_t parent, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		char path[300], line[256];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "PPid:", 5) && atoi(line + 5) == (int)parent)
				out[n++] = (pid_t)atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Each session process keeps its own control socket and none of those of
 * the sessions forked before it: the third holds no more than the first. */
static void frames_session_holds_only_its_control_socket(void **state)
{
	struct tetherd t;
	struct session s[3];
	pid_t kids[8];
	tetherd_start(&t, FORKED_UNIX);
	for (int i = 0; i < 3; i++)
		session_open(&t, &s[i]);
	int n = children_of(t.pid, kids, 8);
	for (uint64_t end = now_ms() + WAIT_MS; n != 3; sleep_ms(20)) {
		assert_true(now_ms() < end); /* processes that just ended may still show */
		n = children_of(t.pid, kids, 8);
	}
	int fds = count_fds(kids[0]);
	for (int i = 1; i < 3; i++)
		assert_int_equal(count_fds(kids[i]), fds);
	for (int i = 0; i < 3; i++)
		session_close(&s[i]);
	tetherd_stop(&t);
}

/* Send @hello raw: tetherd must refuse it (or just close), never attach it.
 * @token: over TLS, the session the connection is routed to. */
static void send_hostile_hello(const struct tetherd *t, const uint8_t *token, const uint8_t *hello, size_t len)
{
	struct tether_msg_header h;
	struct tether_buffer b = { 0 };
	struct tether_iovec iov = { hello, len };
	struct tether_conn *c = dial(t, token);
	assert_int_equal(tether_msg_send(c, TETHER_MSG_HELLO, &iov, 1), 0);
	int err = tether_msg_recv(c, &h, &b);
	if (!err) {
		assert_int_equal(h.type, TETHER_MSG_WELCOME);
		assert_true(b.size >= 4);
		assert_int_not_equal(b.data[0], TETHER_HANDSHAKE_ACCEPTED);
		expect_closed(c);
	} else {
		assert_int_equal(err, -ECONNRESET);
	}
	tether_buffer_free(&b);
	tether_conn_close(c);
}

static void put_u32(struct tether_buffer *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	assert_int_equal(tether_buffer_append(b, p, 4), 0);
}

/* Magic, version 1.1, a Vulkan header version: what every hostile HELLO starts with. */
static void hello_head(struct tether_buffer *b)
{
	b->size = 0;
	assert_int_equal(tether_buffer_append(b, TETHER_HANDSHAKE_MAGIC, TETHER_HANDSHAKE_MAGIC_SIZE), 0);
	put_u32(b, TETHER_PROTOCOL_MAJOR);
	put_u32(b, 1);
	put_u32(b, 0);
}

/* Garbage after the magic of an attach HELLO: refused, tetherd and the
 * session unharmed, and the real attach still works. */
static void frames_garbage_attach_hello_refused(void **state)
{
	enum mode m;
	tether_log_set_level(TETHER_LOG_ERROR - 1);
	FOR_EACH_MODE(m) {
		struct tetherd t;
		struct session s;
		struct tether_buffer b = { 0 };
		tetherd_start(&t, m);
		session_open(&t, &s);
		const uint8_t *route = tls_mode(m) ? s.hs.token : NULL;

		hello_head(&b); /* channel 1, token cut short */
		put_u32(&b, 1);
		tether_buffer_append(&b, "x", 1);
		put_u32(&b, 0);
		put_u32(&b, TETHER_CHANNEL_FRAMES);
		tether_buffer_append(&b, s.hs.token, TETHER_SESSION_TOKEN_SIZE - 1);
		send_hostile_hello(&t, route, b.data, b.size);
		hello_head(&b); /* unknown channel */
		put_u32(&b, 0);
		put_u32(&b, 0);
		put_u32(&b, 7);
		send_hostile_hello(&t, route, b.data, b.size);

		uint32_t x = 12345;
		for (int round = 0; round < 40; round++) {
			hello_head(&b);
			size_t n = (size_t)(round * 7 % 53);
			for (size_t i = 0; i < n; i++) {
				x = x * 1103515245u + 12345u;
				uint8_t byte = (uint8_t)(x >> 16);
				if (round & 1 && i % 4) /* small lengths, and channel 1 at offset 8 */
					byte = i == 8 ? 1 : 0;
				tether_buffer_append(&b, &byte, 1);
			}
			send_hostile_hello(&t, route, b.data, b.size);
		}
		assert_true(tetherd_running(&t));
		expect_open(s.cmd);
		struct tether_conn *fc = attach_ok(&t, &s);
		tether_conn_close(fc);
		session_close(&s);
		tether_buffer_free(&b);
		if (m == ONCE || m == ONCE_TLS)
			assert_int_equal(tetherd_wait_exit(&t), 0);
		tetherd_stop(&t);
	}
}

/* tetherd --once serves one session: a second one is told so. */
static void frames_once_refuses_second_session(void **state)
{
	struct tetherd t;
	struct session s;
	struct tether_conn *c;
	struct tether_handshake_result r;
	tetherd_start(&t, ONCE);
	session_open(&t, &s);
	assert_int_equal(tether_conn_connect(t.addr, &c), 0);
	tether_conn_set_timeout(c, WAIT_MS);
	assert_int_equal(tether_handshake_client(c, "second", NULL, 0, &r), -ECONNREFUSED);
	assert_string_equal(r.error, "this tetherd (--once) serves a single session, which is running");
	tether_conn_close(c);
	session_close(&s);
	assert_int_equal(tetherd_wait_exit(&t), 0);
	tetherd_stop(&t);
}

/* A 1.0 client's session works as before: WELCOME without a token. */
static void frames_old_client_gets_no_token(void **state)
{
	struct tetherd t;
	struct tether_conn *c;
	struct tether_buffer b = { 0 };
	struct tether_msg_header h;
	tetherd_start(&t, FORKED_UNIX);
	assert_int_equal(tether_buffer_append(&b, TETHER_HANDSHAKE_MAGIC, TETHER_HANDSHAKE_MAGIC_SIZE), 0);
	put_u32(&b, TETHER_PROTOCOL_MAJOR);
	put_u32(&b, 0); /* minor */
	put_u32(&b, 0);
	put_u32(&b, 3);
	assert_int_equal(tether_buffer_append(&b, "old", 3), 0);
	put_u32(&b, 0); /* no extensions, and nothing after them */
	assert_int_equal(tether_conn_connect(t.addr, &c), 0);
	tether_conn_set_timeout(c, WAIT_MS);
	struct tether_iovec iov = { b.data, b.size };
	assert_int_equal(tether_msg_send(c, TETHER_MSG_HELLO, &iov, 1), 0);
	assert_int_equal(tether_msg_recv(c, &h, &b), 0);
	assert_int_equal(h.type, TETHER_MSG_WELCOME);
	assert_int_equal(b.data[0], TETHER_HANDSHAKE_ACCEPTED);
	size_t name = b.data[16] | (size_t)b.data[17] << 8;
	uint32_t n_ext = b.data[20 + name] | (uint32_t)b.data[21 + name] << 8;
	assert_int_equal(n_ext, 0);
	assert_int_equal(b.size, 24 + name); /* nothing after the extensions */
	expect_open(c);
	tether_conn_close(c);
	tether_buffer_free(&b);
	tetherd_stop(&t);
}

static const enum mode tls_modes[] = { FORKED_TLS, ONCE_TLS };

/* Over TLS the route is plaintext, so anyone on the path knows it: knowing
 * it without the token gets a refusal from the session, nothing else. */
static void frames_tls_route_without_token_refused(void **state)
{
	for (size_t i = 0; i < 2; i++) {
		struct tetherd t;
		struct session s;
		struct tether_handshake_result r;
		tetherd_start(&t, tls_modes[i]);
		session_open(&t, &s);
		uint8_t wrong[TETHER_SESSION_TOKEN_SIZE];
		memcpy(wrong, s.hs.token, sizeof(wrong));
		wrong[0] ^= 0x80;
		struct tether_conn *c = dial(&t, s.hs.token); /* the right route */
		assert_int_equal(tether_handshake_client_attach(c, "frames", wrong, &r), -ECONNREFUSED);
		assert_string_equal(r.error, unknown_token);
		tether_conn_close(c);
		struct tether_conn *fc = attach_ok(&t, &s);
		expect_open(s.cmd);
		tether_conn_close(fc);
		session_close(&s);
		tetherd_stop(&t);
	}
}

/* A session's frame channel must come from its own client's certificate:
 * another paired client, or an unpaired one, is refused even with the
 * route and the token. */
static void frames_tls_other_client_refused(void **state)
{
	static const char not_ours[] = "this frame channel's certificate is not its session's client";
	for (size_t i = 0; i < 2; i++) {
		struct tetherd t;
		struct session s;
		struct tether_handshake_result r;
		tetherd_start(&t, tls_modes[i]);
		session_open(&t, &s);
		struct tether_tls_identity *other = identity(&t, "other"), *stranger = identity(&t, "stranger");
		pair_client(&t, other, "another client");
		struct tether_client_security as_other = t.sec, as_stranger = t.sec;
		assert_int_equal(tether_tls_context_new(other, TETHER_TLS_CLIENT, NULL, &as_other.ctx), 0);
		assert_int_equal(tether_tls_context_new(stranger, TETHER_TLS_CLIENT, NULL, &as_stranger.ctx), 0);
		for (int who = 0; who < 2; who++) {
			struct tether_conn *c = dial_as(&t, who ? &as_stranger : &as_other, s.hs.token);
			assert_int_equal(tether_handshake_client_attach(c, "frames", s.hs.token, &r), -ECONNREFUSED);
			assert_string_equal(r.error, not_ours);
			tether_conn_close(c);
		}
		struct tether_conn *fc = attach_ok(&t, &s);
		tether_conn_close(fc);
		tether_client_security_release(&as_other);
		tether_client_security_release(&as_stranger);
		tether_tls_identity_free(other);
		tether_tls_identity_free(stranger);
		session_close(&s);
		tetherd_stop(&t);
	}
}

#define TEST(fn) cmocka_unit_test(fn)
static const struct CMUnitTest tests[] = {
	TEST(frames_attach_reaches_session),
	TEST(frames_wrong_token_refused),
	TEST(frames_second_attach_refused),
	TEST(frames_concurrent_sessions_separate),
	TEST(frames_ended_session_refused),
	TEST(frames_ended_sessions_release_control_sockets),
	TEST(frames_session_holds_only_its_control_socket),
	TEST(frames_garbage_attach_hello_refused),
	TEST(frames_once_refuses_second_session),
	TEST(frames_old_client_gets_no_token),
	TEST(frames_tls_route_without_token_refused),
	TEST(frames_tls_other_client_refused),
};

TETHER_CMOCKA_MAIN(tests)
