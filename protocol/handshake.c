/* tether handshake (see handshake.h): HELLO / WELCOME with a small hand-written
 * byte writer and a bounds-checked reader. The server treats every HELLO byte
 * as hostile; the client checks WELCOME just as strictly. A 1.1 HELLO also
 * says which channel the connection is; WELCOME gives the session's token. */
#include "protocol/handshake.h"
#include "protocol/buffer.h"
#include "protocol/message.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan_core.h>

/* ---- writer: appends to a buffer, remembers the first error ---- */

struct writer {
	struct tether_buffer b;
	int err;
};

static void w_bytes(struct writer *w, const void *p, size_t n)
{
	if (!w->err)
		w->err = tether_buffer_append(&w->b, p, n);
}

static void w_u32(struct writer *w, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	w_bytes(w, p, sizeof(p));
}

/* Names (application name, GPU name) are shown by the peer, not parsed:
 * make them fit the rules instead of failing (UTF-8 app names are common). */
static void w_name(struct writer *w, const char *s)
{
	char clean[TETHER_HANDSHAKE_MAX_STRING];
	size_t n = 0;
	for (; s && s[n] && n < sizeof(clean); n++)
		clean[n] = s[n] >= 0x20 && s[n] <= 0x7e ? s[n] : '?';
	w_u32(w, (uint32_t)n);
	w_bytes(w, clean, n);
}

/* Extension names are our own build's: a bad one is a bug here, not a fix-up. */
static void w_ext(struct writer *w, const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TETHER_HANDSHAKE_MAX_STRING) {
		if (!w->err)
			w->err = TETHER_ERR("handshake", -EINVAL, "bad local extension name \"%.64s\"", s);
		return;
	}
	w_u32(w, (uint32_t)n);
	w_bytes(w, s, n);
}

/* ---- reader: every read is bounds checked; the first problem is kept ---- */

struct reader {
	const uint8_t *p;
	size_t left;
	char bad[160]; /* first problem found, "" while all is well */
};

static void r_fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void r_fail(struct reader *r, const char *fmt, ...)
{
	if (r->bad[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->bad, sizeof(r->bad), fmt, ap);
	va_end(ap);
}

static uint32_t r_u32(struct reader *r, const char *what)
{
	if (r->bad[0])
		return 0;
	if (r->left < 4) {
		r_fail(r, "truncated at %s", what);
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
		     (uint32_t)r->p[3] << 24;
	r->p += 4;
	r->left -= 4;
	return v;
}

/* A length-prefixed string of printable ASCII, returned NUL-terminated on the heap. */
static char *r_str(struct reader *r, const char *what, int allow_empty)
{
	uint32_t n = r_u32(r, what);
	if (r->bad[0])
		return NULL;
	if (n > TETHER_HANDSHAKE_MAX_STRING || (!n && !allow_empty)) {
		r_fail(r, "%s length %u outside 1..%u", what, (unsigned)n, TETHER_HANDSHAKE_MAX_STRING);
		return NULL;
	}
	if (r->left < n) {
		r_fail(r, "truncated in %s", what);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (r->p[i] < 0x20 || r->p[i] > 0x7e) {
			r_fail(r, "%s has byte 0x%02x at %u", what, r->p[i], (unsigned)i);
			return NULL;
		}
	}
	char *s = malloc((size_t)n + 1);
	if (!s) {
		r_fail(r, "out of memory");
		return NULL;
	}
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	r->left -= n;
	return s;
}

static void free_strings(char **v, uint32_t n)
{
	for (uint32_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* u32 count + strings. */
static char **r_ext_list(struct reader *r, uint32_t *count)
{
	uint32_t n = r_u32(r, "extension count");
	*count = 0;
	if (r->bad[0])
		return NULL;
	/* Each entry takes at least 5 bytes: reject impossible counts before allocating. */
	if (n > TETHER_HANDSHAKE_MAX_EXTENSIONS || (uint64_t)n * 5 > r->left) {
		r_fail(r, "extension count %u too large", (unsigned)n);
		return NULL;
	}
	char **v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		r_fail(r, "out of memory");
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		v[i] = r_str(r, "extension name", 0);
		if (!v[i]) {
			free_strings(v, i);
			return NULL;
		}
	}
	*count = n;
	return v;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static int contains(const char *const *v, uint32_t n, const char *s)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

static void r_bytes(struct reader *r, void *out, size_t n, const char *what)
{
	if (r->bad[0])
		return;
	if (r->left < n) {
		r_fail(r, "truncated at %s", what);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
}

static bool token_is_zero(const uint8_t t[TETHER_SESSION_TOKEN_SIZE])
{
	static const uint8_t zero[TETHER_SESSION_TOKEN_SIZE];
	return tether_session_token_equal(t, zero);
}

bool tether_session_token_equal(const uint8_t a[TETHER_SESSION_TOKEN_SIZE],
				const uint8_t b[TETHER_SESSION_TOKEN_SIZE])
{
	uint8_t diff = 0;
	for (size_t i = 0; i < TETHER_SESSION_TOKEN_SIZE; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* ---- messages ---- */

/* @token_field: the peer speaks 1.1, so an accepting WELCOME carries a token
 * (zeros for NULL). Refusals never do: their layout is the same in every
 * version, so any client can read why it was refused. */
static int send_welcome(struct tether_conn *c, uint32_t status, const char *text,
			const char *const *exts, uint32_t ext_count, bool token_field,
			const uint8_t *token)
{
	static const uint8_t no_token[TETHER_SESSION_TOKEN_SIZE];
	struct writer w = { 0 };
	w_u32(&w, status);
	w_u32(&w, TETHER_PROTOCOL_MAJOR);
	w_u32(&w, TETHER_PROTOCOL_MINOR);
	w_u32(&w, VK_HEADER_VERSION_COMPLETE);
	w_name(&w, text);
	w_u32(&w, ext_count);
	for (uint32_t i = 0; i < ext_count; i++)
		w_ext(&w, exts[i]);
	if (status == TETHER_HANDSHAKE_ACCEPTED && token_field)
		w_bytes(&w, token ? token : no_token, TETHER_SESSION_TOKEN_SIZE);
	int err = w.err;
	if (!err) {
		struct tether_iovec iov = { w.b.data, w.b.size };
		err = tether_msg_send(c, TETHER_MSG_WELCOME, &iov, 1);
	}
	tether_buffer_free(&w.b);
	return err;
}

/* Receive one message of @type, at most TETHER_HANDSHAKE_MAX_SIZE bytes. */
static int recv_handshake_msg(struct tether_conn *c, uint32_t type, struct tether_buffer *buf,
			      char *why, size_t why_len)
{
	struct tether_msg_header h;
	int err = tether_msg_recv_header(c, &h);
	if (err) {
		snprintf(why, why_len, "bad message header");
		return err;
	}
	if (h.type != type) {
		snprintf(why, why_len, "expected message type %u, got %u", (unsigned)type, (unsigned)h.type);
		return -EPROTO;
	}
	if (h.size > TETHER_HANDSHAKE_MAX_SIZE) {
		snprintf(why, why_len, "message of %llu bytes, limit %u", (unsigned long long)h.size,
			 (unsigned)TETHER_HANDSHAKE_MAX_SIZE);
		return -EPROTO;
	}
	buf->size = 0;
	err = tether_buffer_reserve(buf, (size_t)h.size);
	if (!err && h.size)
		err = tether_conn_recv(c, buf->data, (size_t)h.size);
	if (err) {
		snprintf(why, why_len, "connection lost in handshake");
		return err;
	}
	buf->size = (size_t)h.size;
	return 0;
}

int tether_handshake_server_refuse(struct tether_conn *c, enum tether_handshake_status status, const char *text)
{
	TETHER_LOGW("handshake", "refusing %s: %s", tether_conn_peer(c), text);
	return send_welcome(c, status, text, NULL, 0, false, NULL);
}

/* Refuse with @status, keep the reason in @out, return @err (the reply is
 * best effort: the connection is closed anyway). */
static int refuse(struct tether_conn *c, struct tether_handshake_result *out, uint32_t status,
		  int err, const char *text)
{
	snprintf(out->error, sizeof(out->error), "%s", text);
	tether_handshake_server_refuse(c, status, out->error);
	return err;
}

/* The 1.1 fields of HELLO: channel, and the token of a frame channel. */
static void read_channel(struct reader *r, struct tether_handshake_result *out)
{
	out->channel = r_u32(r, "channel");
	if (r->bad[0])
		return;
	if (out->channel == TETHER_CHANNEL_FRAMES) {
		r_bytes(r, out->token, sizeof(out->token), "session token");
		out->has_token = !r->bad[0];
	} else if (out->channel != TETHER_CHANNEL_COMMANDS && out->channel != TETHER_CHANNEL_LINK_TEST) {
		r_fail(r, "unknown channel %u", (unsigned)out->channel);
	}
}

int tether_handshake_server_hello(struct tether_conn *c, const char *const *exts, uint32_t ext_count,
				  struct tether_handshake_result *out)
{
	struct tether_buffer buf = { 0 };
	struct reader r = { 0 };
	char *name = NULL, **client_exts = NULL, **common = NULL;
	uint32_t client_ext_count = 0, n = 0;
	char why[200];
	int err;

	memset(out, 0, sizeof(*out));
	err = recv_handshake_msg(c, TETHER_MSG_HELLO, &buf, r.bad, sizeof(r.bad));
	if (err) {
		/* A dead or silent peer gets no answer; a wrong one is told why. */
		if (err == -EPROTO) {
			snprintf(why, sizeof(why), "bad HELLO: %s", r.bad);
			err = refuse(c, out, TETHER_HANDSHAKE_BAD_HELLO, -EPROTO, why);
		}
		goto done;
	}
	r.p = buf.data;
	r.left = buf.size;
	if (r.left < TETHER_HANDSHAKE_MAGIC_SIZE || memcmp(r.p, TETHER_HANDSHAKE_MAGIC, TETHER_HANDSHAKE_MAGIC_SIZE)) {
		err = refuse(c, out, TETHER_HANDSHAKE_BAD_HELLO, -EPROTO, "bad HELLO: wrong magic, not a tether client");
		goto done;
	}
	r.p += TETHER_HANDSHAKE_MAGIC_SIZE;
	r.left -= TETHER_HANDSHAKE_MAGIC_SIZE;
	out->peer_major = r_u32(&r, "major version");
	out->peer_minor = r_u32(&r, "minor version");
	/* Versions first: another major version may lay out the rest differently. */
	if (!r.bad[0] && out->peer_major != TETHER_PROTOCOL_MAJOR) {
		snprintf(why, sizeof(why), "protocol version mismatch: server speaks %u.%u, client speaks %u.%u",
			 TETHER_PROTOCOL_MAJOR, TETHER_PROTOCOL_MINOR, (unsigned)out->peer_major,
			 (unsigned)out->peer_minor);
		err = refuse(c, out, TETHER_HANDSHAKE_VERSION_MISMATCH, -EPROTONOSUPPORT, why);
		goto done;
	}
	out->peer_vk_header_version = r_u32(&r, "Vulkan header version");
	name = r_str(&r, "client name", 1);
	client_exts = r_ext_list(&r, &client_ext_count);
	if (!r.bad[0] && out->peer_minor >= 1)
		read_channel(&r, out);
	if (r.bad[0]) {
		snprintf(why, sizeof(why), "bad HELLO: %s", r.bad);
		err = refuse(c, out, TETHER_HANDSHAKE_BAD_HELLO, -EPROTO, why);
		goto done;
	}

	/* Common extensions, in the server's order. */
	common = calloc(ext_count ? ext_count : 1, sizeof(*common));
	if (!common) {
		err = -ENOMEM;
		goto done;
	}
	for (uint32_t i = 0; i < ext_count; i++) {
		if (!contains((const char *const *)client_exts, client_ext_count, exts[i]))
			continue;
		common[n] = strdup(exts[i]);
		if (!common[n]) {
			err = -ENOMEM;
			goto done;
		}
		n++;
	}
	out->minor = min_u32(out->peer_minor, TETHER_PROTOCOL_MINOR);
	out->peer_name = name;
	out->exts = common;
	out->ext_count = n;
	name = NULL;
	common = NULL;
	TETHER_LOGI("handshake",
		    "client \"%s\" from %s: protocol %u.%u, Vulkan header %u.%u.%u, %u of %u extensions%s",
		    out->peer_name, tether_conn_peer(c), (unsigned)out->peer_major, (unsigned)out->peer_minor,
		    VK_API_VERSION_MAJOR(out->peer_vk_header_version),
		    VK_API_VERSION_MINOR(out->peer_vk_header_version),
		    VK_API_VERSION_PATCH(out->peer_vk_header_version), (unsigned)n, (unsigned)client_ext_count,
		    out->channel == TETHER_CHANNEL_FRAMES ? ", frame channel"
		    : out->channel == TETHER_CHANNEL_LINK_TEST ? ", link test" : "");
done:
	if (err) {
		memset(out->token, 0, sizeof(out->token));
		out->has_token = false;
	}
	free(name);
	free_strings(client_exts, client_ext_count);
	free_strings(common, n);
	tether_buffer_free(&buf);
	return err;
}

int tether_handshake_server_accept(struct tether_conn *c, const char *server_name,
				   const struct tether_handshake_result *hello,
				   const uint8_t token[TETHER_SESSION_TOKEN_SIZE])
{
	/* A frame channel belongs to a session that has agreed on extensions
	 * already; a link test has no use for them. */
	bool none = hello->channel != TETHER_CHANNEL_COMMANDS;
	return send_welcome(c, TETHER_HANDSHAKE_ACCEPTED, server_name,
			    none ? NULL : (const char *const *)hello->exts, none ? 0 : hello->ext_count,
			    hello->minor >= 1, token);
}

static int send_hello(struct tether_conn *c, const char *client_name, const char *const *exts,
		      uint32_t ext_count, uint32_t channel, const uint8_t *token)
{
	struct writer w = { 0 };
	w_bytes(&w, TETHER_HANDSHAKE_MAGIC, TETHER_HANDSHAKE_MAGIC_SIZE);
	w_u32(&w, TETHER_PROTOCOL_MAJOR);
	w_u32(&w, TETHER_PROTOCOL_MINOR);
	w_u32(&w, VK_HEADER_VERSION_COMPLETE);
	w_name(&w, client_name);
	if (ext_count > TETHER_HANDSHAKE_MAX_EXTENSIONS && !w.err)
		w.err = TETHER_ERR("handshake", -EINVAL, "%u extensions, limit %u", (unsigned)ext_count,
				   TETHER_HANDSHAKE_MAX_EXTENSIONS);
	w_u32(&w, ext_count);
	for (uint32_t i = 0; i < ext_count; i++)
		w_ext(&w, exts[i]);
	w_u32(&w, channel);
	if (channel == TETHER_CHANNEL_FRAMES)
		w_bytes(&w, token, TETHER_SESSION_TOKEN_SIZE);
	int err = w.err;
	if (!err) {
		struct tether_iovec iov = { w.b.data, w.b.size };
		err = tether_msg_send(c, TETHER_MSG_HELLO, &iov, 1);
	}
	tether_buffer_free(&w.b);
	return err;
}

static int refused_errno(uint32_t status, uint32_t peer_major)
{
	if (status == TETHER_HANDSHAKE_VERSION_MISMATCH || peer_major != TETHER_PROTOCOL_MAJOR)
		return -EPROTONOSUPPORT;
	return status == TETHER_HANDSHAKE_REFUSED ? -ECONNREFUSED : -EPROTO;
}

/* Both kinds of client connection: HELLO for @channel, then WELCOME checked. */
static int client_handshake(struct tether_conn *c, const char *client_name, const char *const *exts,
			    uint32_t ext_count, uint32_t channel, const uint8_t *token,
			    struct tether_handshake_result *out)
{
	struct tether_buffer buf = { 0 };
	struct reader r = { 0 };
	char *text = NULL, **common = NULL;
	uint32_t n = 0;
	int err;

	memset(out, 0, sizeof(*out));
	out->channel = channel;
	err = send_hello(c, client_name, exts, ext_count, channel, token);
	if (err)
		return err;
	err = recv_handshake_msg(c, TETHER_MSG_WELCOME, &buf, r.bad, sizeof(r.bad));
	if (err) {
		TETHER_LOGE("handshake", "server %s: %s", tether_conn_peer(c), r.bad);
		goto done;
	}
	r.p = buf.data;
	r.left = buf.size;
	uint32_t status = r_u32(&r, "status");
	out->peer_major = r_u32(&r, "major version");
	out->peer_minor = r_u32(&r, "minor version");
	out->peer_vk_header_version = r_u32(&r, "Vulkan header version");
	text = r_str(&r, "server name", 1);
	if (r.bad[0]) {
		err = TETHER_ERR("handshake", -EPROTO, "bad WELCOME from %s: %s", tether_conn_peer(c), r.bad);
		goto done;
	}
	if (status != TETHER_HANDSHAKE_ACCEPTED || out->peer_major != TETHER_PROTOCOL_MAJOR) {
		if (status == TETHER_HANDSHAKE_ACCEPTED)
			snprintf(out->error, sizeof(out->error),
				 "protocol version mismatch: server speaks %u.%u, client speaks %u.%u",
				 (unsigned)out->peer_major, (unsigned)out->peer_minor, TETHER_PROTOCOL_MAJOR,
				 TETHER_PROTOCOL_MINOR);
		else
			snprintf(out->error, sizeof(out->error), "%s", text);
		err = refused_errno(status, out->peer_major);
		TETHER_LOGE("handshake", "server %s refused us: %s", tether_conn_peer(c), out->error);
		goto done;
	}
	common = r_ext_list(&r, &n);
	if (out->peer_minor >= 1)
		r_bytes(&r, out->token, sizeof(out->token), "session token");
	if (r.bad[0]) {
		err = TETHER_ERR("handshake", -EPROTO, "bad WELCOME from %s: %s", tether_conn_peer(c), r.bad);
		goto done;
	}
	/* The server may only agree to what we offered. */
	for (uint32_t i = 0; i < n; i++) {
		if (!contains(exts, ext_count, common[i])) {
			err = TETHER_ERR("handshake", -EPROTO, "server %s chose extension %s we did not offer",
					 tether_conn_peer(c), common[i]);
			goto done;
		}
	}
	if (channel == TETHER_CHANNEL_FRAMES) {
		/* Only the session itself answers a frame channel, with its token. */
		if (out->peer_minor < 1 || !tether_session_token_equal(out->token, token)) {
			err = TETHER_ERR("handshake", -EPROTO, "server %s accepted the frame channel without its session's token",
					 tether_conn_peer(c));
			goto done;
		}
		out->has_token = true;
	} else {
		out->has_token = out->peer_minor >= 1 && !token_is_zero(out->token);
	}
	out->minor = min_u32(out->peer_minor, TETHER_PROTOCOL_MINOR);
	out->peer_name = text;
	out->exts = common;
	out->ext_count = n;
	text = NULL;
	common = NULL;
	TETHER_LOGI("handshake", "connected to \"%s\" at %s: protocol %u.%u, %u extensions%s", out->peer_name,
		    tether_conn_peer(c), (unsigned)out->peer_major, (unsigned)out->peer_minor, (unsigned)n,
		    channel == TETHER_CHANNEL_FRAMES ? ", frame channel" : "");
done:
	if (err) {
		memset(out->token, 0, sizeof(out->token));
		out->has_token = false;
	}
	free(text);
	free_strings(common, n);
	tether_buffer_free(&buf);
	return err;
}

int tether_handshake_client(struct tether_conn *c, const char *client_name, const char *const *exts,
			    uint32_t ext_count, struct tether_handshake_result *out)
{
	return client_handshake(c, client_name, exts, ext_count, TETHER_CHANNEL_COMMANDS, NULL, out);
}

int tether_handshake_client_attach(struct tether_conn *c, const char *client_name,
				   const uint8_t token[TETHER_SESSION_TOKEN_SIZE],
				   struct tether_handshake_result *out)
{
	return client_handshake(c, client_name, NULL, 0, TETHER_CHANNEL_FRAMES, token, out);
}

int tether_handshake_client_link_test(struct tether_conn *c, const char *client_name,
				      struct tether_handshake_result *out)
{
	return client_handshake(c, client_name, NULL, 0, TETHER_CHANNEL_LINK_TEST, NULL, out);
}

void tether_handshake_result_free(struct tether_handshake_result *r)
{
	free(r->peer_name);
	free_strings(r->exts, r->ext_count);
	r->peer_name = NULL;
	r->exts = NULL;
	r->ext_count = 0;
}
