/* tether message framing (see message.h): header encode/decode with checks,
 * gather send of header + payload, and buffered receive of whole messages. */
#include "protocol/message.h"
#include "protocol/byte_order.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <stdlib.h>

/* Stack room for header + payload pieces; more pieces than this are rare. */
#define SEND_IOV_STACK 32
/* tether_msg_recv() grows its buffer at most this much ahead of received data. */
#define RECV_CHUNK (4u << 20)

void tether_msg_header_encode(const struct tether_msg_header *h, uint8_t out[TETHER_MSG_HEADER_SIZE])
{
	tether_le32_put(out, h->type);
	tether_le32_put(out + 4, h->flags);
	tether_le64_put(out + 8, h->size);
}

int tether_msg_header_decode(const uint8_t in[TETHER_MSG_HEADER_SIZE], struct tether_msg_header *h)
{
	h->type = tether_le32_get(in);
	h->flags = tether_le32_get(in + 4);
	h->size = tether_le64_get(in + 8);
	if (h->type < TETHER_MSG_HELLO || h->type >= TETHER_MSG_TYPE_END)
		return TETHER_ERR("protocol", -EPROTO, "unknown message type %u", (unsigned)h->type);
	if (h->flags)
		return TETHER_ERR("protocol", -EPROTO, "message type %u: unknown flags 0x%x",
				  (unsigned)h->type, (unsigned)h->flags);
	if (h->size > TETHER_MSG_MAX_SIZE)
		return TETHER_ERR("protocol", -EPROTO, "message type %u: size %llu over the %u limit",
				  (unsigned)h->type, (unsigned long long)h->size, TETHER_MSG_MAX_SIZE);
	return 0;
}

int tether_msg_send(struct tether_conn *c, uint32_t type, const struct tether_iovec *iov, int iovcnt)
{
	struct tether_iovec stack[SEND_IOV_STACK], *v = stack;
	uint8_t hdr[TETHER_MSG_HEADER_SIZE];
	uint64_t size = 0;

	if (iovcnt < 0)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		size += iov[i].len;
	if (size > TETHER_MSG_MAX_SIZE)
		return TETHER_ERR("protocol", -EMSGSIZE, "message type %u: %llu bytes over the %u limit",
				  (unsigned)type, (unsigned long long)size, TETHER_MSG_MAX_SIZE);
	if (iovcnt + 1 > SEND_IOV_STACK) {
		v = malloc(sizeof(*v) * ((size_t)iovcnt + 1));
		if (!v)
			return -ENOMEM;
	}
	tether_msg_header_encode(&(struct tether_msg_header){ .type = type, .size = size }, hdr);
	v[0] = (struct tether_iovec){ hdr, sizeof(hdr) };
	for (int i = 0; i < iovcnt; i++)
		v[i + 1] = iov[i];
	int err = tether_conn_send(c, v, iovcnt + 1);
	if (v != stack)
		free(v);
	return err;
}

int tether_msg_recv_header(struct tether_conn *c, struct tether_msg_header *h)
{
	uint8_t hdr[TETHER_MSG_HEADER_SIZE];
	int err = tether_conn_recv(c, hdr, sizeof(hdr));
	if (err)
		return err;
	err = tether_msg_header_decode(hdr, h);
	if (err)
		TETHER_LOGW("protocol", "bad message header from %s", tether_conn_peer(c));
	return err;
}

int tether_msg_recv(struct tether_conn *c, struct tether_msg_header *h, struct tether_buffer *buf)
{
	return tether_msg_recv_max(c, h, buf, TETHER_MSG_MAX_SIZE);
}

int tether_msg_recv_max(struct tether_conn *c, struct tether_msg_header *h, struct tether_buffer *buf,
			uint64_t max)
{
	int err = tether_msg_recv_header(c, h);
	if (err)
		return err;
	if (h->size > max)
		return TETHER_ERR("protocol", -EMSGSIZE, "%s: message type %u of %llu bytes is over this session's "
				  "limit of %llu", tether_conn_peer(c), (unsigned)h->type,
				  (unsigned long long)h->size, (unsigned long long)max);
	/* Grow with what actually arrives: a hostile 16-byte header must not
	 * cost 256 MiB of memory before its payload shows up. */
	size_t size = (size_t)h->size, done = 0;
	buf->size = 0;
	while (done < size) {
		size_t want = size - done;
		size_t ahead = done > RECV_CHUNK ? done : RECV_CHUNK;
		if (want > ahead)
			want = ahead;
		err = tether_buffer_reserve(buf, done + want);
		if (err)
			return err;
		err = tether_conn_recv(c, buf->data + done, want);
		if (err == -ECONNRESET) /* a peer that leaves mid-message is not leaving cleanly: say so */
			TETHER_LOGW("protocol", "%s: connection closed inside a message of %llu payload bytes",
				    tether_conn_peer(c), (unsigned long long)size);
		if (err)
			return err;
		done += want;
	}
	buf->size = size;
	return 0;
}
