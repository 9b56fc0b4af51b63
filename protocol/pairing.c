/* The pairing exchange (pairing.h). Every message a peer sends is read with
 * an exact expected type and size limit: before pairing succeeds, the other
 * side is nobody we know. Secrets (PIN, SPAKE2 state) are wiped after use. */
#include "protocol/pairing.h"
#include "protocol/buffer.h"
#include "protocol/message.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define EXPORTER_SIZE 32
#define MSG_LIMIT 1024

static const char w_info[] = "tether pairing v1 password";

bool tether_pairing_valid_pin(const char *pin)
{
	if (!pin || strlen(pin) != TETHER_PIN_DIGITS)
		return false;
	for (int i = 0; i < TETHER_PIN_DIGITS; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return false;
	return true;
}

int tether_pairing_spake2(struct tether_conn *c, const struct tether_pairing_peers *peers, const char *pin,
			  enum tether_spake2_role role, struct tether_spake2 **out)
{
	uint8_t exporter[EXPORTER_SIZE], info[sizeof(w_info) - 1 + 2 * TETHER_FINGERPRINT_SIZE];
	uint8_t w[TETHER_SPAKE2_SCALAR_SIZE];
	int err = tether_tls_export(c, TETHER_PAIRING_EXPORTER_LABEL, exporter, sizeof(exporter));
	if (err)
		return err;
	memcpy(info, w_info, sizeof(w_info) - 1);
	memcpy(info + sizeof(w_info) - 1, peers->client.b, TETHER_FINGERPRINT_SIZE);
	memcpy(info + sizeof(w_info) - 1 + TETHER_FINGERPRINT_SIZE, peers->server.b, TETHER_FINGERPRINT_SIZE);
	err = tether_spake2_password(pin, exporter, sizeof(exporter), info, sizeof(info), w);
	if (!err) {
		struct tether_spake2_context ctx = {
			.id_a = peers->client.b, .id_a_len = TETHER_FINGERPRINT_SIZE,
			.id_b = peers->server.b, .id_b_len = TETHER_FINGERPRINT_SIZE,
			.aad = exporter, .aad_len = sizeof(exporter),
		};
		err = tether_spake2_new(role, w, NULL, &ctx, out);
	}
	OPENSSL_cleanse(w, sizeof(w));
	return err;
}

/* ---- messages ---- */

static void put_u32(struct tether_buffer *b, uint32_t v, int *err)
{
	uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	if (!*err)
		*err = tether_buffer_append(b, p, 4);
}

static void put_string(struct tether_buffer *b, const char *s, size_t max, int *err)
{
	size_t n = strnlen(s, max);
	put_u32(b, (uint32_t)n, err);
	if (!*err && n)
		*err = tether_buffer_append(b, s, n);
}

static int send_buffer(struct tether_conn *c, uint32_t type, struct tether_buffer *b, int err)
{
	if (!err) {
		struct tether_iovec iov = {b->data, b->size};
		err = tether_msg_send(c, type, &iov, 1);
	}
	tether_buffer_free(b);
	return err;
}

/* One message of type @type (or PAIR_RESULT when @or_result), at most MSG_LIMIT bytes. */
static int recv_msg(struct tether_conn *c, uint32_t type, bool or_result, struct tether_buffer *b, uint32_t *got)
{
	struct tether_msg_header h;
	int err = tether_msg_recv_header(c, &h);
	if (err)
		return err;
	if ((h.type != type && !(or_result && h.type == TETHER_MSG_PAIR_RESULT)) || h.size > MSG_LIMIT)
		return TETHER_ERR("pairing", -EPROTO, "%s: unexpected pairing message (type %u, %llu bytes)",
				  tether_conn_peer(c), (unsigned)h.type, (unsigned long long)h.size);
	b->size = 0;
	err = tether_buffer_reserve(b, (size_t)h.size);
	if (!err && h.size)
		err = tether_conn_recv(c, b->data, (size_t)h.size);
	if (err)
		return err;
	b->size = (size_t)h.size;
	*got = h.type;
	return 0;
}

struct reader {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint32_t get_u32(struct reader *r)
{
	if (r->left < 4) {
		r->bad = true;
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	r->left -= 4;
	return v;
}

/* A string shown to people: non-printable bytes become '?'. */
static void get_string(struct reader *r, char *out, size_t max)
{
	uint32_t n = get_u32(r);
	out[0] = '\0';
	if (r->bad || n > max || n > r->left) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		out[i] = r->p[i] >= 0x20 && r->p[i] <= 0x7e ? (char)r->p[i] : '?';
	out[n] = '\0';
	r->p += n;
	r->left -= n;
}

static void get_bytes(struct reader *r, uint8_t *out, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
}

/* A whole message read: no bytes may be left over. */
static int finish(struct reader *r, struct tether_conn *c, const char *what)
{
	if (r->bad || r->left)
		return TETHER_ERR("pairing", -EPROTO, "%s: malformed %s", tether_conn_peer(c), what);
	return 0;
}

static int read_result(struct tether_buffer *b, struct tether_conn *c, struct tether_pairing_outcome *out)
{
	struct reader r = {b->data, b->size, false};
	uint32_t status = get_u32(&r);
	get_string(&r, out->text, TETHER_PAIRING_TEXT_MAX);
	int err = finish(&r, c, "PAIR_RESULT");
	if (err)
		return err;
	if (status == TETHER_PAIRING_OK)
		out->status = TETHER_PAIRING_OK;
	else
		out->status = status == TETHER_PAIRING_WRONG_PIN ? TETHER_PAIRING_WRONG_PIN : TETHER_PAIRING_REFUSED;
	return 0;
}

int tether_pairing_read_request(struct tether_conn *c, char name[TETHER_PAIRING_NAME_MAX + 1])
{
	struct tether_buffer b = {0};
	uint32_t type;
	int err = recv_msg(c, TETHER_MSG_PAIR_REQUEST, false, &b, &type);
	if (!err) {
		struct reader r = {b.data, b.size, false};
		uint32_t version = get_u32(&r);
		get_string(&r, name, TETHER_PAIRING_NAME_MAX);
		/* Later versions may add fields: only the version's own are checked. */
		if (version == TETHER_PAIRING_VERSION)
			err = finish(&r, c, "PAIR_REQUEST");
		else if (r.bad || version < TETHER_PAIRING_VERSION)
			err = TETHER_ERR("pairing", -EPROTO, "%s: malformed PAIR_REQUEST", tether_conn_peer(c));
	}
	tether_buffer_free(&b);
	return err;
}

int tether_pairing_send_pin(struct tether_conn *c, const char *server_name, unsigned valid_s)
{
	struct tether_buffer b = {0};
	int err = 0;
	put_u32(&b, TETHER_PAIRING_OK, &err);
	put_u32(&b, valid_s, &err);
	put_string(&b, server_name, TETHER_PAIRING_NAME_MAX, &err);
	return send_buffer(c, TETHER_MSG_PAIR_PIN, &b, err);
}

int tether_pairing_send_result(struct tether_conn *c, enum tether_pairing_status status, const char *text)
{
	struct tether_buffer b = {0};
	int err = 0;
	put_u32(&b, (uint32_t)status, &err);
	put_string(&b, text, TETHER_PAIRING_TEXT_MAX, &err);
	return send_buffer(c, TETHER_MSG_PAIR_RESULT, &b, err);
}

int tether_pairing_read_share(struct tether_conn *c, uint8_t share[TETHER_SPAKE2_SHARE_SIZE])
{
	struct tether_buffer b = {0};
	uint32_t type;
	int err = recv_msg(c, TETHER_MSG_PAIR_SHARE, false, &b, &type);
	if (!err) {
		struct reader r = {b.data, b.size, false};
		get_bytes(&r, share, TETHER_SPAKE2_SHARE_SIZE);
		err = finish(&r, c, "PAIR_SHARE");
	}
	tether_buffer_free(&b);
	return err;
}

int tether_pairing_server_prove(struct tether_conn *c, const struct tether_pairing_peers *peers, const char *pin,
				const uint8_t share[TETHER_SPAKE2_SHARE_SIZE], bool *right)
{
	struct tether_spake2 *s;
	uint8_t mine[TETHER_SPAKE2_SHARE_SIZE], confirm[TETHER_SPAKE2_CONFIRM_SIZE], expect[TETHER_SPAKE2_CONFIRM_SIZE];
	uint8_t got[TETHER_SPAKE2_CONFIRM_SIZE];
	*right = false;
	int err = tether_pairing_spake2(c, peers, pin, TETHER_SPAKE2_B, &s);
	if (err)
		return err;
	tether_spake2_share(s, mine);
	err = tether_spake2_finish(s, share, confirm, expect, NULL);
	tether_spake2_free(s);
	if (err)
		return TETHER_ERR("pairing", err, "%s: the client's SPAKE2 share is not a valid point", tether_conn_peer(c));
	struct tether_iovec iov[2] = {{mine, sizeof(mine)}, {confirm, sizeof(confirm)}};
	err = tether_msg_send(c, TETHER_MSG_PAIR_SERVER_PROOF, iov, 2);
	struct tether_buffer b = {0};
	uint32_t type;
	if (!err)
		err = recv_msg(c, TETHER_MSG_PAIR_CLIENT_PROOF, false, &b, &type);
	if (!err) {
		struct reader r = {b.data, b.size, false};
		get_bytes(&r, got, sizeof(got));
		err = finish(&r, c, "PAIR_CLIENT_PROOF");
	}
	tether_buffer_free(&b);
	if (!err)
		*right = tether_spake2_confirm_equal(got, expect);
	OPENSSL_cleanse(expect, sizeof(expect));
	return err;
}

/* ---- client ---- */

/* PAIR_PIN, or PAIR_RESULT with a refusal. */
static int read_pin_notice(struct tether_conn *c, unsigned *valid_s, struct tether_pairing_outcome *out)
{
	struct tether_buffer b = {0};
	uint32_t type;
	int err = recv_msg(c, TETHER_MSG_PAIR_PIN, true, &b, &type);
	if (!err && type == TETHER_MSG_PAIR_RESULT) {
		err = read_result(&b, c, out);
		if (!err)
			err = -ECONNREFUSED;
	} else if (!err) {
		struct reader r = {b.data, b.size, false};
		uint32_t status = get_u32(&r);
		*valid_s = get_u32(&r);
		get_string(&r, out->server_name, TETHER_PAIRING_NAME_MAX);
		err = finish(&r, c, "PAIR_PIN");
		if (!err && status != TETHER_PAIRING_OK)
			err = TETHER_ERR("pairing", -EPROTO, "%s: PAIR_PIN with status %u", tether_conn_peer(c), status);
	}
	tether_buffer_free(&b);
	return err;
}

static int client_exchange(struct tether_conn *c, const struct tether_pairing_peers *peers, const char *pin,
			   struct tether_pairing_outcome *out)
{
	struct tether_spake2 *s;
	uint8_t mine[TETHER_SPAKE2_SHARE_SIZE], theirs[TETHER_SPAKE2_SHARE_SIZE];
	uint8_t confirm[TETHER_SPAKE2_CONFIRM_SIZE], expect[TETHER_SPAKE2_CONFIRM_SIZE], got[TETHER_SPAKE2_CONFIRM_SIZE];
	struct tether_buffer b = {0};
	uint32_t type;
	int err = tether_pairing_spake2(c, peers, pin, TETHER_SPAKE2_A, &s);
	if (err)
		return err;
	tether_spake2_share(s, mine);
	struct tether_iovec iov = {mine, sizeof(mine)};
	err = tether_msg_send(c, TETHER_MSG_PAIR_SHARE, &iov, 1);
	if (!err)
		err = recv_msg(c, TETHER_MSG_PAIR_SERVER_PROOF, true, &b, &type);
	if (!err && type == TETHER_MSG_PAIR_RESULT) {
		err = read_result(&b, c, out);
		if (!err)
			err = out->status == TETHER_PAIRING_WRONG_PIN ? -EACCES : -ECONNREFUSED;
	} else if (!err) {
		struct reader r = {b.data, b.size, false};
		get_bytes(&r, theirs, sizeof(theirs));
		get_bytes(&r, got, sizeof(got));
		err = finish(&r, c, "PAIR_SERVER_PROOF");
		if (!err && tether_spake2_finish(s, theirs, confirm, expect, NULL))
			err = TETHER_ERR("pairing", -EPROTO, "%s: the server's SPAKE2 share is not a valid point",
					 tether_conn_peer(c));
		if (!err && !tether_spake2_confirm_equal(got, expect)) {
			/* Said before anything of ours that depends on the PIN goes out. */
			out->status = TETHER_PAIRING_WRONG_PIN;
			snprintf(out->text, sizeof(out->text),
				 "the server did not prove it knows this PIN: the PIN is wrong, or someone is "
				 "between this machine and the server");
			err = -EACCES;
		}
	}
	tether_spake2_free(s);
	tether_buffer_free(&b);
	if (err)
		return err;
	iov = (struct tether_iovec){confirm, sizeof(confirm)};
	err = tether_msg_send(c, TETHER_MSG_PAIR_CLIENT_PROOF, &iov, 1);
	if (!err)
		err = recv_msg(c, TETHER_MSG_PAIR_RESULT, false, &b, &type);
	if (!err)
		err = read_result(&b, c, out);
	tether_buffer_free(&b);
	if (!err && out->status != TETHER_PAIRING_OK)
		err = out->status == TETHER_PAIRING_WRONG_PIN ? -EACCES : -ECONNREFUSED;
	return err;
}

int tether_pairing_client(struct tether_conn *c, const struct tether_pairing_peers *peers, const char *name,
			  tether_pairing_pin_fn get_pin, void *ctx, struct tether_pairing_outcome *out)
{
	char pin[TETHER_PIN_DIGITS + 1] = "";
	unsigned valid_s = 0;
	struct tether_buffer b = {0};
	int err = 0;
	memset(out, 0, sizeof(*out));
	out->status = TETHER_PAIRING_REFUSED;
	put_u32(&b, TETHER_PAIRING_VERSION, &err);
	put_string(&b, name, TETHER_PAIRING_NAME_MAX, &err);
	err = send_buffer(c, TETHER_MSG_PAIR_REQUEST, &b, err);
	if (!err)
		err = read_pin_notice(c, &valid_s, out);
	if (!err) {
		err = get_pin(ctx, out->server_name, valid_s, pin);
		if (err) {
			snprintf(out->text, sizeof(out->text), "no PIN was given");
			err = -ECANCELED;
		} else if (!tether_pairing_valid_pin(pin)) {
			snprintf(out->text, sizeof(out->text), "a PIN is %d digits", TETHER_PIN_DIGITS);
			err = -EINVAL;
		}
	}
	if (!err)
		err = client_exchange(c, peers, pin, out);
	OPENSSL_cleanse(pin, sizeof(pin));
	if (!err) {
		out->status = TETHER_PAIRING_OK;
		out->text[0] = '\0';
	} else if (!out->text[0]) {
		snprintf(out->text, sizeof(out->text), "%s", strerror(-err));
	}
	return err;
}
