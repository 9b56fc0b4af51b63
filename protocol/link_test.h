/* The link-test channel (HELLO channel 2, docs/LINK.md): `tether bench-link`
 * measures round trips and throughput to tetherd over the path a session
 * would take. tetherd serves it in the connection's own process
 * (server/link_test.c); this file is the wire format and the client side.
 *
 * After an accepting WELCOME the client sends requests, one at a time; each
 * is answered before the next is read. Integers are little endian.
 *   request   16 bytes: u32 op, u32 reserved (0), u64 size
 *   response  16 bytes: u32 status, u32 text_len, u64 value,
 *             then text_len bytes of text when status is not OK
 *   ECHO    size (1..TETHER_LINK_ECHO_MAX) bytes follow the request; the
 *           response (value = size) is followed by the same bytes
 *   SINK    the response (value 0) says "send"; the client then sends
 *           size (1..TETHER_LINK_TRANSFER_MAX) bytes; a second response's
 *           value is the nanoseconds the server took to receive them
 *   SOURCE  the response (value = size, 1..TETHER_LINK_TRANSFER_MAX) is
 *           followed by size bytes
 * A request the server will not serve gets a refusal (status REFUSED, or
 * EXPIRED once the connection has used its time) whose text says why; the
 * server then closes. A connection lasts at most TETHER_LINK_MAX_SECONDS and
 * ends after TETHER_LINK_IDLE_MS without a byte either way.
 */
#ifndef TETHER_LINK_TEST_H
#define TETHER_LINK_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "transport/conn.h"

#define TETHER_LINK_HEADER_SIZE 16
#define TETHER_LINK_ECHO_MAX (64u << 10)
#define TETHER_LINK_TRANSFER_MAX (1ull << 30)
#define TETHER_LINK_MAX_SECONDS 120
#define TETHER_LINK_IDLE_MS 10000
#define TETHER_LINK_TEXT_MAX 200

enum tether_link_op {
	TETHER_LINK_ECHO = 1,
	TETHER_LINK_SINK = 2,
	TETHER_LINK_SOURCE = 3,
};

enum tether_link_status {
	TETHER_LINK_OK = 0,
	TETHER_LINK_REFUSED = 1, /* a bad request: the text says what */
	TETHER_LINK_EXPIRED = 2, /* the connection has used its TETHER_LINK_MAX_SECONDS */
};

struct tether_link_request {
	uint32_t op;       /* enum tether_link_op */
	uint32_t reserved; /* 0 */
	uint64_t size;
};

struct tether_link_response {
	uint32_t status;   /* enum tether_link_status */
	uint32_t text_len; /* bytes of text that follow a refusal */
	uint64_t value;
};

void tether_link_request_encode(const struct tether_link_request *r, uint8_t out[TETHER_LINK_HEADER_SIZE]);
void tether_link_request_decode(const uint8_t in[TETHER_LINK_HEADER_SIZE], struct tether_link_request *r);
void tether_link_response_encode(const struct tether_link_response *r, uint8_t out[TETHER_LINK_HEADER_SIZE]);
void tether_link_response_decode(const uint8_t in[TETHER_LINK_HEADER_SIZE], struct tether_link_response *r);

/**
 * tether_link_request_check() - whether a server may serve @r
 * @transfer_max: the largest SINK/SOURCE size served (TETHER_LINK_TRANSFER_MAX
 *                or less)
 * @why: the reason for a refusal, sent to the client
 * Return: 0 when @r is served, -EINVAL (with @why) when it is refused.
 */
int tether_link_request_check(const struct tether_link_request *r, uint64_t transfer_max, char *why, size_t len);

/*
 * Client side. Each returns 0; -ECONNREFUSED when the server refused the
 * request (@why holds its text, made printable); -EPROTO when the answer is
 * not what the protocol says (@why says what); or a transport error.
 */

/**
 * tether_link_echo() - one round trip: send @n bytes of @payload, get them back into @back
 * The bytes returned are checked against those sent (-EPROTO when they differ).
 */
int tether_link_echo(struct tether_conn *c, const void *payload, size_t n, void *back, char *why, size_t why_len);

/**
 * tether_link_sink() - send @size bytes, taken over and over from @chunk
 * @server_ns: how long the server took to receive them
 */
int tether_link_sink(struct tether_conn *c, uint64_t size, const void *chunk, size_t chunk_len,
		     uint64_t *server_ns, char *why, size_t why_len);

/**
 * tether_link_source() - receive @size bytes, into @chunk over and over
 */
int tether_link_source(struct tether_conn *c, uint64_t size, void *chunk, size_t chunk_len, char *why,
		       size_t why_len);

#endif /* TETHER_LINK_TEST_H */
