/*
 * The ICD's connection to tetherd. Asynchronous calls are appended to a batch
 * under a lock and cost no system call; the batch is shipped when a call needs
 * an answer, when it grows large, or when work must reach the GPU (submit).
 */
#include "icd/icd.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol/limits.h"
#include "protocol/message.h"
#include "tether_wire.h"
#include "transport/client_connect.h"
#include "transport/locate.h"

#define TETHER_ICD_BATCH_LIMIT (4u << 20)
#define TETHER_ICD_REPLY_ARENA (512u << 20)
#define TETHER_ICD_CACHE_BUCKETS 256
/* How long opening the frame channel may take: WELCOME and FRAME_READY. */
#define TETHER_ICD_FRAMES_TIMEOUT_MS 10000

/* Answers to queries that never change, keyed by the encoded request. */
struct tether_icd_cached_reply {
	uint64_t hash;
	size_t request_size;
	size_t reply_size;
	struct tether_icd_cached_reply *next;
	uint8_t bytes[]; /* request, then reply */
};


struct tether_icd_conn {
	struct tether_conn *conn;
	struct tether_mutex lock;
	struct tether_encoder batch;
	struct tether_buffer reply;
	struct tether_arena arena;
	struct tether_decoder dec;
	struct tether_handshake_result hs; /* hs.token: the session's, for its frame channel */
	char *address;                     /* the server's, to connect the frame channel to */
	struct tether_client_security security; /* TLS pinned to the paired server, or plaintext */
	bool lost;
	/* The server's limits (protocol 1.2), asked for when the objects this
	 * connection made might pass them; objects counts every id sent as a new
	 * object since, so it never undercounts what the server holds. */
	struct tether_session_limits limits;
	bool limits_known;
	uint64_t objects;
	struct tether_icd_cached_reply *cache[TETHER_ICD_CACHE_BUCKETS];
	/* Reported at close (TETHER_LOG=info): what the session cost the link. */
	uint64_t round_trips, cache_hits, messages, bytes_sent;
};

static atomic_uint_fast64_t next_id = 1;

uint64_t tether_icd_new_id(void)
{
	return atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
}

void tether_icd_dispatchable_init(struct tether_icd_dispatchable *o, struct tether_icd_conn *c,
				  uint64_t id)
{
	set_loader_magic_value(o);
	o->id = id;
	o->conn = c;
}

/* The server this process reached by locating it, tried first by its next
 * instance (an application may create several): no second browse. */
static struct tether_candidate located_memo;
static atomic_flag located_lock = ATOMIC_FLAG_INIT;

static void memo_get(struct tether_candidate *out)
{
	while (atomic_flag_test_and_set_explicit(&located_lock, memory_order_acquire))
		;
	*out = located_memo;
	atomic_flag_clear_explicit(&located_lock, memory_order_release);
}

static void memo_set(const struct tether_candidate *c)
{
	while (atomic_flag_test_and_set_explicit(&located_lock, memory_order_acquire))
		;
	located_memo = *c;
	atomic_flag_clear_explicit(&located_lock, memory_order_release);
}

/* A refusal that needs the user to act: say what to do, once more in the
 * ICD's own words (the application may show nothing else). */
static void explain_refusal(const char *addr, const struct tether_handshake_result *hs)
{
	if (!strstr(hs->error, "pairing"))
		return;
#ifdef TETHER_HAVE_TLS
	TETHER_LOGE("icd", "tetherd at %s serves paired clients only: run `tether pair %s` on this machine once, "
		    "with the PIN tetherd then shows", addr, addr);
#else
	TETHER_LOGE("icd", "tetherd at %s serves paired clients only, and this Windows build of tether has no TLS "
		    "yet (Schannel support comes later): on a link nobody else can reach, start tetherd with --insecure",
		    addr);
#endif
}

/* Connects to @addr and shakes hands. @quiet: a located candidate, whose
 * failure is one of several tries (logged at info, not as an error). */
static VkResult open_at(const char *addr, int connect_timeout_ms, bool quiet, const char *app_name,
			struct tether_icd_conn **out)
{
	struct tether_client_info info;
	char why[512];
	struct tether_icd_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	/* TLS pinned to the server this client paired with at @addr, when it
	 * did (`tether pair`); plaintext otherwise, which a TCP tetherd refuses
	 * unless it runs with --insecure (the refusal says what to do). */
	int r = tether_client_security_load(addr, &c->security, why, sizeof(why));
	if (r < 0) {
		free(c);
		return TETHER_ERR("icd", VK_ERROR_INITIALIZATION_FAILED, "cannot connect to tetherd at %s: %s", addr, why);
	}
	r = tether_client_connect_timeout(addr, &c->security, NULL, connect_timeout_ms, &c->conn, &info);
	if (r < 0) {
		tether_client_security_release(&c->security);
		free(c);
		if (quiet) {
			TETHER_LOGI("icd", "%s", info.error);
			return VK_ERROR_INITIALIZATION_FAILED;
		}
		return TETHER_ERR("icd", VK_ERROR_INITIALIZATION_FAILED, "%s (set TETHER_SERVER)", info.error);
	}
	r = tether_handshake_client(c->conn, app_name ? app_name : "vulkan-app",
				    tether_carried_extensions, tether_carried_extension_count, &c->hs);
	if (r < 0) {
		TETHER_LOG_AT(quiet ? TETHER_LOG_INFO : TETHER_LOG_ERROR, "icd", "handshake with %s failed: %s", addr,
			      c->hs.error[0] ? c->hs.error : strerror(-r));
		explain_refusal(addr, &c->hs);
		tether_conn_close(c->conn);
		tether_handshake_result_free(&c->hs);
		tether_client_security_release(&c->security);
		free(c);
		return VK_ERROR_INITIALIZATION_FAILED;
	}
	c->address = strdup(addr);
	tether_mutex_init(&c->lock);
	tether_encoder_init(&c->batch);
	c->batch.handles = &tether_icd_handle_ops;
	c->batch.handle_ctx = c;
	tether_arena_init(&c->arena, TETHER_ICD_REPLY_ARENA);
	TETHER_LOGI("icd", "connected to %s (%s), %s%s", addr, c->hs.peer_name,
		    c->security.tls ? "TLS 1.3 " : "plaintext", info.cipher);
	*out = c;
	return VK_SUCCESS;
}

static const char *source_name(enum tether_candidate_source s)
{
	return s == TETHER_CANDIDATE_CACHE ? "cached" : s == TETHER_CANDIDATE_DISCOVERY ? "found on DNS-SD" : "default";
}

/* No TETHER_SERVER: the server reached last in this process, then the
 * locator's candidates (transport/locate.h); the one that answers becomes
 * the cached server. Runs at vkCreateInstance only. */
static VkResult open_located(const char *app_name, struct tether_icd_conn **out)
{
	struct tether_candidate cand;
	VkResult r = VK_ERROR_INITIALIZATION_FAILED;
	unsigned tries = 0;
	memo_get(&cand);
	if (cand.address[0] && open_at(cand.address, TETHER_LOCATE_CACHED_CONNECT_MS, true, app_name, out) == VK_SUCCESS)
		return VK_SUCCESS;
	struct tether_locator loc;
	tether_locator_init(&loc, TETHER_PROTOCOL_MAJOR);
	while (r != VK_SUCCESS && r != VK_ERROR_OUT_OF_HOST_MEMORY && tether_locator_next(&loc, &cand)) {
		tries++;
		TETHER_LOGI("icd", "trying %s tetherd %s%s%s%s", source_name(cand.source), cand.address,
			    cand.instance[0] ? " (" : "", cand.instance, cand.instance[0] ? ")" : "");
		r = open_at(cand.address, cand.connect_timeout_ms, true, app_name, out);
	}
	tether_locator_done(&loc);
	if (r != VK_SUCCESS)
		return TETHER_ERR("icd", r, "no tetherd found: %u address(es) tried (the cached server, DNS-SD, %s); "
				  "set TETHER_SERVER=HOST:PORT", tries, TETHER_DEFAULT_LISTEN);
	if (cand.link[0])
		TETHER_LOGI("icd", "reached tetherd over the Thunderbolt link %s", cand.link);
	memo_set(&cand);
	int err = tether_locator_remember(&cand);
	if (err < 0)
		TETHER_LOGI("icd", "cannot write the server cache: %s", strerror(-err));
	return VK_SUCCESS;
}

/**
 * tether_icd_conn_open() - connect to tetherd and shake hands
 * @app_name: reported to the server for its logs
 * @out: the new connection
 *
 * The server is TETHER_SERVER's; without it, the one located as
 * transport/locate.h says (cached, DNS-SD, default).
 * Return: VK_SUCCESS, or VK_ERROR_INITIALIZATION_FAILED with the reason logged.
 */
VkResult tether_icd_conn_open(const char *app_name, struct tether_icd_conn **out)
{
	const char *addr = tether_getenv("TETHER_SERVER");
	if (addr && *addr)
		return open_at(addr, 0, false, app_name, out);
	return open_located(app_name, out);
}

void tether_icd_conn_close(struct tether_icd_conn *c)
{
	if (!c)
		return;
	tether_mutex_lock(&c->lock);
	if (!c->lost)
		tether_icd_conn_flush_locked(c);
	tether_mutex_unlock(&c->lock);
	TETHER_LOGI("icd", "session totals: %llu round trips, %llu queries answered from cache, "
		    "%llu messages, %llu bytes sent, %llu bytes of mapped memory compared",
		    (unsigned long long)c->round_trips, (unsigned long long)c->cache_hits,
		    (unsigned long long)c->messages, (unsigned long long)c->bytes_sent,
		    (unsigned long long)tether_icd_memory_bytes_compared());
	tether_conn_close(c->conn);
	tether_encoder_free(&c->batch);
	tether_buffer_free(&c->reply);
	tether_arena_free(&c->arena);
	tether_handshake_result_free(&c->hs);
	tether_client_security_release(&c->security);
	free(c->address);
	tether_mutex_destroy(&c->lock);
	for (unsigned i = 0; i < TETHER_ICD_CACHE_BUCKETS; i++)
		while (c->cache[i]) {
			struct tether_icd_cached_reply *next = c->cache[i]->next;
			free(c->cache[i]);
			c->cache[i] = next;
		}
	free(c);
}

bool tether_icd_conn_has_extension(const struct tether_icd_conn *c, const char *name)
{
	for (uint32_t i = 0; i < c->hs.ext_count; i++)
		if (!strcmp(c->hs.exts[i], name))
			return true;
	return false;
}

const char *tether_icd_conn_server_name(const struct tether_icd_conn *c)
{
	return c->hs.peer_name;
}

/* Waits for the session's TETHER_MSG_FRAME_READY, the first message on its frame channel. */
static int wait_frame_ready(struct tether_conn *fc)
{
	struct tether_msg_header h;
	struct tether_buffer payload = {0};
	int r = tether_msg_recv(fc, &h, &payload);
	tether_buffer_free(&payload);
	if (!r && h.type != TETHER_MSG_FRAME_READY)
		r = -EPROTO;
	return r;
}

/**
 * tether_icd_conn_open_frames() - open the session's frame channel
 * @out: the new connection, which the caller owns and closes
 *
 * A second connection to the same server, attached to this session with the
 * token its WELCOME gave (protocol 1.1), so that frames never queue in front
 * of the replies on the command connection. Thread-safe.
 * Return: VK_SUCCESS, VK_ERROR_INITIALIZATION_FAILED with the reason logged
 * (a 1.0 server, a refusal, a lost connection), or VK_ERROR_OUT_OF_HOST_MEMORY.
 */
VkResult tether_icd_conn_open_frames(struct tether_icd_conn *c, struct tether_conn **out)
{
	struct tether_handshake_result hs;
	struct tether_conn *fc;
	if (!c->hs.has_token)
		return TETHER_ERR("icd", VK_ERROR_INITIALIZATION_FAILED,
				  "tetherd at %s gives this session no frame channel (it speaks protocol %u.%u%s)",
				  c->address ? c->address : "?", (unsigned)c->hs.peer_major, (unsigned)c->hs.peer_minor,
				  c->hs.peer_minor < 1 ? "; frame channels need 1.1" : "");
	if (!c->address)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	/* Over TLS a frame channel first names its session (transport/tls.h);
	 * its certificate must be the one the command connection pinned. */
	struct tether_client_info info;
	const uint8_t *route = NULL;
#ifdef TETHER_HAVE_TLS
	uint8_t route_bytes[TETHER_FRAME_ROUTE_SIZE];
	if (c->security.tls) {
		tether_tls_frame_route(c->hs.token, route_bytes);
		route = route_bytes;
	}
#endif
	int r = tether_client_connect(c->address, &c->security, route, &fc, &info);
	if (r < 0)
		return TETHER_ERR("icd", VK_ERROR_INITIALIZATION_FAILED, "frame channel: %s", info.error);
	tether_conn_set_timeout(fc, TETHER_ICD_FRAMES_TIMEOUT_MS);
	r = tether_handshake_client_attach(fc, "frame channel", c->hs.token, &hs);
	if (!r) {
		tether_handshake_result_free(&hs);
		r = wait_frame_ready(fc);
	}
	if (!r)
		r = tether_conn_set_timeout(fc, 0);
	if (r < 0) {
		TETHER_LOGE("icd", "frame channel to %s refused or lost: %s", c->address,
			    hs.error[0] ? hs.error : strerror(-r));
		tether_conn_close(fc);
		return VK_ERROR_INITIALIZATION_FAILED;
	}
	TETHER_LOGI("icd", "frame channel open to %s", c->address);
	*out = fc;
	return VK_SUCCESS;
}

struct tether_encoder *tether_icd_conn_lock(struct tether_icd_conn *c)
{
	tether_mutex_lock(&c->lock);
	return &c->batch;
}

struct tether_encoder *tether_icd_conn_lock_held(struct tether_icd_conn *c)
{
	return &c->batch;
}

void tether_icd_conn_fail(struct tether_icd_conn *c, const char *why)
{
	if (!c->lost)
		TETHER_LOGE("icd", "connection to tetherd lost: %s", why ? why : "unknown error");
	c->lost = true;
}

VkResult tether_icd_conn_flush_locked(struct tether_icd_conn *c)
{
	if (c->lost)
		return VK_ERROR_DEVICE_LOST;
	if (c->batch.failed) {
		tether_icd_conn_fail(c, "out of memory encoding a call");
		return VK_ERROR_DEVICE_LOST;
	}
	if (c->batch.size == 0)
		return VK_SUCCESS;
	if (c->limits_known && c->batch.size > c->limits.message_bytes) {
		char why[160];
		snprintf(why, sizeof(why), "a message of %zu bytes is over the server's limit of %llu (tetherd --max-message)",
			 c->batch.size, (unsigned long long)c->limits.message_bytes);
		tether_icd_conn_fail(c, why);
		return VK_ERROR_DEVICE_LOST;
	}
	struct tether_iovec iov = {c->batch.data, c->batch.size};
	c->messages++;
	c->bytes_sent += c->batch.size;
	int r = tether_msg_send(c->conn, TETHER_MSG_COMMANDS, &iov, 1);
	tether_encoder_reset(&c->batch);
	if (r < 0) {
		tether_icd_conn_fail(c, strerror(-r));
		return VK_ERROR_DEVICE_LOST;
	}
	return VK_SUCCESS;
}

void tether_icd_conn_unlock_async(struct tether_icd_conn *c)
{
	if (c->batch.size >= TETHER_ICD_BATCH_LIMIT || c->batch.failed)
		tether_icd_conn_flush_locked(c);
	tether_mutex_unlock(&c->lock);
}

VkResult tether_icd_conn_call(struct tether_icd_conn *c, struct tether_decoder **d)
{
	VkResult vr = tether_icd_conn_flush_locked(c);
	if (vr != VK_SUCCESS)
		return vr;
	c->round_trips++;
	struct tether_msg_header h;
	for (;;) {
		int r = tether_msg_recv(c->conn, &h, &c->reply);
		if (r < 0 || (h.type != TETHER_MSG_REPLY && h.type != TETHER_MSG_MEMORY)) {
			tether_icd_conn_fail(c, r < 0 ? strerror(-r) : "unexpected message from server");
			return VK_ERROR_DEVICE_LOST;
		}
		tether_arena_reset(&c->arena);
		tether_decoder_init(&c->dec, c->reply.data, c->reply.size, &c->arena);
		if (h.type == TETHER_MSG_REPLY)
			break;
		/* GPU writes to mapped memory, made visible by the call being answered. */
		if (tether_icd_memory_receive(&c->dec) < 0) {
			tether_icd_conn_fail(c, c->dec.error);
			return VK_ERROR_DEVICE_LOST;
		}
	}
	c->dec.handles = &tether_icd_handle_ops;
	c->dec.handle_ctx = c;
	*d = &c->dec;
	return VK_SUCCESS;
}

void tether_icd_conn_unlock(struct tether_icd_conn *c)
{
	tether_mutex_unlock(&c->lock);
}

/* Asks the server for its limits and what this session uses of them. */
static VkResult limits_refresh(struct tether_icd_conn *c)
{
	struct tether_decoder *d;
	size_t start = tether_enc_cmd_begin(&c->batch, TETHER_CMD_SESSION_LIMITS);
	tether_enc_cmd_end(&c->batch, start);
	VkResult r = tether_icd_conn_call(c, &d);
	if (r != VK_SUCCESS)
		return r;
	struct tether_session_limits l;
	tether_session_limits_decode(d, &l);
	if (d->fatal) {
		tether_icd_conn_fail(c, d->error);
		return VK_ERROR_DEVICE_LOST;
	}
	c->limits = l;
	c->limits_known = true;
	c->objects = l.objects_used;
	return VK_SUCCESS;
}

VkResult tether_icd_conn_reserve_locked(struct tether_icd_conn *c, uint64_t count, const char *what)
{
	if (c->lost)
		return VK_ERROR_DEVICE_LOST;
	if (c->hs.minor < 2) /* a 1.1 server has no limits to ask for */
		return VK_SUCCESS;
	if (!c->limits_known || count > c->limits.objects || c->objects > c->limits.objects - count) {
		VkResult r = limits_refresh(c);
		if (r != VK_SUCCESS)
			return r;
		if (count > c->limits.objects || c->objects > c->limits.objects - count)
			return TETHER_ERR("icd", VK_ERROR_OUT_OF_HOST_MEMORY,
					  "%s: %llu new objects would pass the server's limit of %llu live objects "
					  "per session (%llu live)", what, (unsigned long long)count,
					  (unsigned long long)c->limits.objects, (unsigned long long)c->objects);
	}
	c->objects += count;
	return VK_SUCCESS;
}

VkResult tether_icd_conn_reserve(struct tether_icd_conn *c, uint64_t count, const char *what)
{
	tether_mutex_lock(&c->lock);
	VkResult r = tether_icd_conn_reserve_locked(c, count, what);
	tether_mutex_unlock(&c->lock);
	return r;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void decoder_over(struct tether_icd_conn *c, const uint8_t *data, size_t size)
{
	tether_arena_reset(&c->arena);
	tether_decoder_init(&c->dec, data, size, &c->arena);
	c->dec.handles = &tether_icd_handle_ops;
	c->dec.handle_ctx = c;
}

VkResult tether_icd_conn_call_cached(struct tether_icd_conn *c, size_t at, struct tether_decoder **d)
{
	if (c->batch.failed || at > c->batch.size)
		return tether_icd_conn_call(c, d);
	const uint8_t *req = c->batch.data + at;
	size_t req_size = c->batch.size - at;
	uint64_t h = fnv1a64(req, req_size);
	for (struct tether_icd_cached_reply *r = c->cache[h % TETHER_ICD_CACHE_BUCKETS]; r; r = r->next) {
		if (r->hash == h && r->request_size == req_size && !memcmp(r->bytes, req, req_size)) {
			c->batch.size = at; /* asked before: the server is not asked again */
			c->cache_hits++;
			decoder_over(c, r->bytes + req_size, r->reply_size);
			*d = &c->dec;
			return VK_SUCCESS;
		}
	}
	struct tether_icd_cached_reply *r = malloc(sizeof(*r) + req_size);
	if (r)
		memcpy(r->bytes, req, req_size);
	VkResult vr = tether_icd_conn_call(c, d);
	if (vr != VK_SUCCESS || !r) {
		free(r);
		return vr;
	}
	struct tether_icd_cached_reply *full = realloc(r, sizeof(*r) + req_size + c->reply.size);
	if (!full) {
		free(r);
		return vr;
	}
	full->hash = h;
	full->request_size = req_size;
	full->reply_size = c->reply.size;
	memcpy(full->bytes + req_size, c->reply.data, c->reply.size);
	full->next = c->cache[h % TETHER_ICD_CACHE_BUCKETS];
	c->cache[h % TETHER_ICD_CACHE_BUCKETS] = full;
	return vr;
}
