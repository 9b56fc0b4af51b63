/* The link-test channel (link_test.h): wire format, the checks a server
 * makes of every request, and the client's three exchanges. */
#include "protocol/link_test.h"
#include "protocol/byte_order.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void tether_link_request_encode(const struct tether_link_request *r, uint8_t out[TETHER_LINK_HEADER_SIZE])
{
	tether_le32_put(out, r->op);
	tether_le32_put(out + 4, r->reserved);
	tether_le64_put(out + 8, r->size);
}

void tether_link_request_decode(const uint8_t in[TETHER_LINK_HEADER_SIZE], struct tether_link_request *r)
{
	r->op = tether_le32_get(in);
	r->reserved = tether_le32_get(in + 4);
	r->size = tether_le64_get(in + 8);
}

void tether_link_response_encode(const struct tether_link_response *r, uint8_t out[TETHER_LINK_HEADER_SIZE])
{
	tether_le32_put(out, r->status);
	tether_le32_put(out + 4, r->text_len);
	tether_le64_put(out + 8, r->value);
}

void tether_link_response_decode(const uint8_t in[TETHER_LINK_HEADER_SIZE], struct tether_link_response *r)
{
	r->status = tether_le32_get(in);
	r->text_len = tether_le32_get(in + 4);
	r->value = tether_le64_get(in + 8);
}

int tether_link_request_check(const struct tether_link_request *r, uint64_t transfer_max, char *why, size_t len)
{
	if (r->reserved) {
		snprintf(why, len, "reserved field is %u, must be 0", (unsigned)r->reserved);
		return -EINVAL;
	}
	switch (r->op) {
	case TETHER_LINK_ECHO:
		if (r->size && r->size <= TETHER_LINK_ECHO_MAX)
			return 0;
		snprintf(why, len, "echo of %llu bytes: must be 1..%u", (unsigned long long)r->size,
			 (unsigned)TETHER_LINK_ECHO_MAX);
		return -EINVAL;
	case TETHER_LINK_SINK:
	case TETHER_LINK_SOURCE:
		if (r->size && r->size <= transfer_max)
			return 0;
		snprintf(why, len, "%s of %llu bytes: must be 1..%llu (the server's limit per request)",
			 r->op == TETHER_LINK_SINK ? "upload" : "download", (unsigned long long)r->size,
			 (unsigned long long)transfer_max);
		return -EINVAL;
	default:
		snprintf(why, len, "unknown request %u (1 echo, 2 upload, 3 download)", (unsigned)r->op);
		return -EINVAL;
	}
}

/* ---- client ---- */

static int send_request(struct tether_conn *c, uint32_t op, uint64_t size, const void *body, size_t body_len)
{
	uint8_t h[TETHER_LINK_HEADER_SIZE];
	struct tether_link_request r = {op, 0, size};
	tether_link_request_encode(&r, h);
	struct tether_iovec iov[2] = {{h, sizeof(h)}, {body, body_len}};
	return tether_conn_send(c, iov, body_len ? 2 : 1);
}

/* The next response; a refusal's text into @why as -ECONNREFUSED. */
static int recv_response(struct tether_conn *c, struct tether_link_response *r, char *why, size_t why_len)
{
	uint8_t h[TETHER_LINK_HEADER_SIZE];
	int err = tether_conn_recv(c, h, sizeof(h));
	if (err)
		return err;
	tether_link_response_decode(h, r);
	if (r->status == TETHER_LINK_OK && r->text_len) {
		snprintf(why, why_len, "text after an OK response");
		return -EPROTO;
	}
	if (r->status == TETHER_LINK_OK)
		return 0;
	if (r->text_len > TETHER_LINK_TEXT_MAX) {
		snprintf(why, why_len, "refusal with %u bytes of text", (unsigned)r->text_len);
		return -EPROTO;
	}
	char text[TETHER_LINK_TEXT_MAX + 1];
	err = r->text_len ? tether_conn_recv(c, text, r->text_len) : 0;
	if (err)
		return err;
	for (uint32_t i = 0; i < r->text_len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			text[i] = '?';
	text[r->text_len] = '\0';
	snprintf(why, why_len, "%s%s", r->status == TETHER_LINK_EXPIRED ? "time is up: " : "", text);
	return -ECONNREFUSED;
}

static int expect_value(const struct tether_link_response *r, uint64_t want, char *why, size_t why_len)
{
	if (r->value == want)
		return 0;
	snprintf(why, why_len, "response value %llu, expected %llu", (unsigned long long)r->value,
		 (unsigned long long)want);
	return -EPROTO;
}

int tether_link_echo(struct tether_conn *c, const void *payload, size_t n, void *back, char *why, size_t why_len)
{
	struct tether_link_response r;
	int err = send_request(c, TETHER_LINK_ECHO, n, payload, n);
	if (!err)
		err = recv_response(c, &r, why, why_len);
	if (!err)
		err = expect_value(&r, n, why, why_len);
	if (!err)
		err = tether_conn_recv(c, back, n);
	if (!err && memcmp(back, payload, n)) {
		snprintf(why, why_len, "echo came back different");
		err = -EPROTO;
	}
	return err;
}

int tether_link_sink(struct tether_conn *c, uint64_t size, const void *chunk, size_t chunk_len,
		     uint64_t *server_ns, char *why, size_t why_len)
{
	struct tether_link_response r;
	int err = send_request(c, TETHER_LINK_SINK, size, NULL, 0);
	if (!err)
		err = recv_response(c, &r, why, why_len);
	if (!err)
		err = expect_value(&r, 0, why, why_len);
	for (uint64_t done = 0; !err && done < size;) {
		size_t n = size - done < chunk_len ? (size_t)(size - done) : chunk_len;
		struct tether_iovec iov = {chunk, n};
		err = tether_conn_send(c, &iov, 1);
		done += n;
	}
	if (!err)
		err = recv_response(c, &r, why, why_len);
	if (!err)
		*server_ns = r.value;
	return err;
}

int tether_link_source(struct tether_conn *c, uint64_t size, void *chunk, size_t chunk_len, char *why,
		       size_t why_len)
{
	struct tether_link_response r;
	int err = send_request(c, TETHER_LINK_SOURCE, size, NULL, 0);
	if (!err)
		err = recv_response(c, &r, why, why_len);
	if (!err)
		err = expect_value(&r, size, why, why_len);
	for (uint64_t done = 0; !err && done < size;) {
		size_t n = size - done < chunk_len ? (size_t)(size - done) : chunk_len;
		err = tether_conn_recv(c, chunk, n);
		done += n;
	}
	return err;
}
