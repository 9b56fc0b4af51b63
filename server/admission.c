/*
 * Admission (security.h): what a new connection is and whether it may talk
 * to a session. Runs in the connection's own process, before any tether
 * message is decoded; the only bytes read from an unknown peer are its first
 * byte (peeked), a frame channel's 16-byte preamble and its TLS handshake.
 */
#include "server/security.h"
#include "server/frame_channel.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/handshake.h"
#include "protocol/message.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

/* A new connection's first byte (and a preamble's rest) must come within this. */
#define FIRST_BYTES_TIMEOUT_MS 10000
/* After a refusal, what the client still sends is dropped for at most this long. */
#define DRAIN_MS 1000
#define DRAIN_MAX (64 * 1024)
/* The first byte of a TLS record carrying a handshake message (RFC 8446 5.1). */
#define TLS_HANDSHAKE_RECORD 0x16

static int wait_readable(int fd, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = tether_time_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)((deadline_ns - now + 999999) / 1000000));
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int tether_srv_peek(struct tether_conn *c, int timeout_ms)
{
	int fd = tether_conn_fd(c);
	int err = wait_readable(fd, tether_time_ns() + (uint64_t)timeout_ms * 1000000u);
	if (err)
		return err;
	uint8_t b;
	ssize_t n;
	do
		n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? TETHER_SRV_CONN_CLOSED : -errno;
	if (n == 0)
		return TETHER_SRV_CONN_CLOSED;
	if (b == TLS_HANDSHAKE_RECORD)
		return TETHER_SRV_CONN_TLS;
	if (b == (uint8_t)TETHER_FRAME_ROUTE_MAGIC[0])
		return TETHER_SRV_CONN_PREAMBLE;
	if (b == TETHER_MSG_HELLO) /* little-endian u32 type of the first header */
		return TETHER_SRV_CONN_PLAIN;
	return TETHER_SRV_CONN_OTHER;
}

int tether_srv_read_preamble(struct tether_conn *c, uint8_t route[TETHER_FRAME_ROUTE_SIZE])
{
	int fd = tether_conn_fd(c);
	uint8_t p[TETHER_FRAME_PREAMBLE_SIZE];
	size_t done = 0;
	uint64_t deadline = tether_time_ns() + (uint64_t)FIRST_BYTES_TIMEOUT_MS * 1000000u;
	while (done < sizeof(p)) {
		int err = wait_readable(fd, deadline);
		if (err)
			return err;
		ssize_t n = recv(fd, p + done, sizeof(p) - done, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		done += (size_t)n;
	}
	if (memcmp(p, TETHER_FRAME_ROUTE_MAGIC, TETHER_FRAME_ROUTE_MAGIC_SIZE))
		return -EPROTO;
	memcpy(route, p + TETHER_FRAME_ROUTE_MAGIC_SIZE, TETHER_FRAME_ROUTE_SIZE);
	return 0;
}

void tether_srv_refuse(struct tether_conn *c, const char *text)
{
	tether_handshake_server_refuse(c, TETHER_HANDSHAKE_REFUSED, text);
	tether_conn_close_write(c);
	tether_conn_set_timeout(c, DRAIN_MS);
	uint64_t end = tether_time_ns() + (uint64_t)DRAIN_MS * 1000000u;
	uint8_t sink[1024];
	for (size_t dropped = 0; dropped < DRAIN_MAX && tether_time_ns() < end; dropped += sizeof(sink))
		if (tether_conn_recv(c, sink, sizeof(sink)))
			break;
}

int tether_srv_client_paired(const struct tether_srv_security *sec, const struct tether_fingerprint *fp,
			     char name[TETHER_PEER_NAME_MAX + 1])
{
	struct tether_peer_list list;
	int err = tether_peer_list_load(sec->state_dir, TETHER_PAIRED_CLIENTS_FILE, &list);
	if (err)
		return err;
	const struct tether_peer *p = tether_peer_list_find(&list, fp);
	if (p && name)
		snprintf(name, TETHER_PEER_NAME_MAX + 1, "%s", p->name);
	tether_peer_list_free(&list);
	return p != NULL;
}

/* The address this connection reached us at, for "run `tether pair ADDR`". */
static void local_address(struct tether_conn *c, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	if (getsockname(tether_conn_fd(c), (struct sockaddr *)&ss, &sl) ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, len, "SERVER");
		return;
	}
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* A TLS connection: the pairing list decides. */
static int admit_tls(struct tether_conn *c, const struct tether_srv_security *sec, struct tether_srv_client *client)
{
	struct tether_tls_peer peer;
	char fp[TETHER_FINGERPRINT_SHORT_SIZE], here[80], text[300];
	int err = tether_tls_server_start(c, sec->tls, &peer);
	if (err) {
		TETHER_LOGW("admission", "refused %s: %s", tether_conn_peer(c), peer.error);
		return 0;
	}
	tether_fingerprint_short(&peer.fingerprint, fp);
	if (!strcmp(peer.alpn, TETHER_ALPN_PAIRING)) {
		tether_srv_pairing_serve(c, sec, &peer);
		return 0;
	}
	int paired = tether_srv_client_paired(sec, &peer.fingerprint, client->name);
	if (paired <= 0) {
		local_address(c, here, sizeof(here));
		TETHER_LOGW("admission", "refused %s: client certificate %s (\"%s\") is not paired%s", tether_conn_peer(c),
			    fp, peer.common_name, paired < 0 ? " (the paired-clients list cannot be read)" : "");
		snprintf(text, sizeof(text),
			 "this client (certificate %s) is not paired with this server, or its pairing was revoked: "
			 "run `tether pair %s` on the client",
			 fp, here);
		tether_srv_refuse(c, text);
		return 0;
	}
	client->paired = true;
	client->fingerprint = peer.fingerprint;
	TETHER_LOGI("admission", "%s: paired client \"%s\" (%s), %s", tether_conn_peer(c), client->name, fp,
		    peer.cipher);
	return 1;
}

int tether_srv_admit(struct tether_conn *c, const struct tether_srv_security *sec,
		     const struct tether_srv_frame_link *frames, struct tether_srv_client *client)
{
	char here[80], text[300];
	uint8_t route[TETHER_FRAME_ROUTE_SIZE];
	memset(client, 0, sizeof(*client));
	if (!sec || !sec->tls)
		return 1; /* a Unix socket: its file permissions decided already */
	int kind = tether_srv_peek(c, FIRST_BYTES_TIMEOUT_MS);
	switch (kind) {
	case TETHER_SRV_CONN_TLS:
		return admit_tls(c, sec, client);
	case TETHER_SRV_CONN_PREAMBLE:
		if (tether_srv_read_preamble(c, route)) {
			TETHER_LOGW("admission", "refused %s: malformed frame channel preamble", tether_conn_peer(c));
			return 0;
		}
		tether_srv_frame_channel_route(c, route, frames, sec);
		return 0;
	case TETHER_SRV_CONN_PLAIN:
		if (sec->insecure)
			return 1;
		local_address(c, here, sizeof(here));
		TETHER_LOGW("admission", "refused %s: plaintext connection, and this server requires pairing (TLS)",
			    tether_conn_peer(c));
		snprintf(text, sizeof(text), "this server requires pairing: run `tether pair %s` on the client", here);
		tether_srv_refuse(c, text);
		return 0;
	case TETHER_SRV_CONN_CLOSED:
		TETHER_LOGD("admission", "%s closed before sending anything", tether_conn_peer(c));
		return 0;
	case TETHER_SRV_CONN_OTHER:
		TETHER_LOGW("admission", "refused %s: not a tether client", tether_conn_peer(c));
		return 0;
	default:
		TETHER_LOGI("admission", "%s: no first bytes (%s): closed", tether_conn_peer(c), strerror(-kind));
		return 0;
	}
}
