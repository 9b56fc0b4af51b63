/* tether message framing: every message is a 16-byte little-endian header
 * (u32 type, u32 flags, u64 payload size) followed by the payload. See
 * docs/ARCHITECTURE.md "Messages". Headers from the peer are checked here. */
#ifndef TETHER_MESSAGE_H
#define TETHER_MESSAGE_H

#include <stdint.h>

#include "protocol/buffer.h"
#include "transport/conn.h"

#define TETHER_MSG_HEADER_SIZE 16
/* Largest payload accepted or sent; bulk memory transfers are split below it. */
#define TETHER_MSG_MAX_SIZE (256u << 20)
/* The smallest message limit a server may set: the ICD's largest messages are
 * a batch of memory writes (up to 64 MiB, then a 32 MiB window more). */
#define TETHER_MSG_MIN_LIMIT (128u << 20)

enum tether_msg_type {
	TETHER_MSG_HELLO = 1,    /* client -> server: versions, name, extensions */
	TETHER_MSG_WELCOME = 2,  /* server -> client: status, versions, common extensions */
	TETHER_MSG_COMMANDS = 3, /* client -> server: batch of encoded commands */
	TETHER_MSG_REPLY = 4,    /* server -> client: reply to the batch's last command */
	TETHER_MSG_MEMORY = 5,   /* server -> client: GPU writes to mapped memory, before a REPLY */
	/* server -> client, first on a frame channel (protocol 1.1): the session
	 * has taken this connection for its frames; empty payload. */
	TETHER_MSG_FRAME_READY = 6,
	TETHER_MSG_FRAME = 7,    /* server -> client, frame channel: one presented image */
	/* Pairing connections only (protocol/pairing.h). */
	TETHER_MSG_PAIR_REQUEST = 8,      /* client -> server: pairing version, client name */
	TETHER_MSG_PAIR_PIN = 9,          /* server -> client: a PIN is shown (or why not) */
	TETHER_MSG_PAIR_SHARE = 10,       /* client -> server: SPAKE2 pA */
	TETHER_MSG_PAIR_SERVER_PROOF = 11, /* server -> client: SPAKE2 pB and cB */
	TETHER_MSG_PAIR_CLIENT_PROOF = 12, /* client -> server: SPAKE2 cA */
	TETHER_MSG_PAIR_RESULT = 13,      /* server -> client: paired, wrong PIN, or refused */
	TETHER_MSG_TYPE_END      /* one past the last valid type: add new types above */
};

struct tether_msg_header {
	uint32_t type;  /* enum tether_msg_type */
	uint32_t flags; /* must be 0 in protocol 1.0 */
	uint64_t size;  /* payload bytes that follow, <= TETHER_MSG_MAX_SIZE */
};

/** tether_msg_header_encode() - write @h as its 16 wire bytes. */
void tether_msg_header_encode(const struct tether_msg_header *h, uint8_t out[TETHER_MSG_HEADER_SIZE]);

/**
 * tether_msg_header_decode() - parse and check 16 wire bytes
 * Return: 0, or -EPROTO (logged) for an unknown type, non-zero flags or a
 * size above TETHER_MSG_MAX_SIZE.
 */
int tether_msg_header_decode(const uint8_t in[TETHER_MSG_HEADER_SIZE], struct tether_msg_header *h);

/**
 * tether_msg_send() - send one message: header and payload in one gather send
 * @iov, @iovcnt: the payload pieces, in order (may be empty).
 * Return: 0, -EMSGSIZE when the payload exceeds TETHER_MSG_MAX_SIZE, or the
 * error of tether_conn_send().
 */
int tether_msg_send(struct tether_conn *c, uint32_t type, const struct tether_iovec *iov, int iovcnt);

/**
 * tether_msg_recv_max() - tether_msg_recv() with a lower size limit
 * Return: as tether_msg_recv(), and -EMSGSIZE (logged, nothing of the
 * payload read) when the header announces more than @max bytes.
 */
int tether_msg_recv_max(struct tether_conn *c, struct tether_msg_header *h, struct tether_buffer *buf,
			uint64_t max);

/**
 * tether_msg_recv_header() - receive and check the next header
 * The caller then reads exactly h->size payload bytes with tether_conn_recv().
 * Return: 0, -EPROTO (see tether_msg_header_decode()) or a tether_conn_recv() error.
 */
int tether_msg_recv_header(struct tether_conn *c, struct tether_msg_header *h);

/**
 * tether_msg_recv() - receive a whole message into @buf
 * On success buf->data[0..buf->size) is the payload. The buffer grows with
 * the bytes actually received, so a header claiming a large size does not by
 * itself make us allocate that much.
 * Return: 0, -ENOMEM, or a tether_msg_recv_header() / tether_conn_recv() error.
 */
int tether_msg_recv(struct tether_conn *c, struct tether_msg_header *h, struct tether_buffer *buf);

#endif /* TETHER_MESSAGE_H */
