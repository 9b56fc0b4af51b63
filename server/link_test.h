/* tetherd's side of the link-test channel (protocol/link_test.h): echo,
 * sink and source for `tether bench-link`, served in the connection's own
 * process, bounded in time and size whatever the client asks. */
#ifndef TETHER_SERVER_LINK_TEST_H
#define TETHER_SERVER_LINK_TEST_H

#include <stdint.h>

#include "protocol/handshake.h"
#include "transport/conn.h"

struct tether_srv_link_limits {
	uint64_t max_ns;       /* the connection's whole life (TETHER_LINK_MAX_SECONDS) */
	int idle_ms;           /* longest wait for the client, either way (TETHER_LINK_IDLE_MS) */
	uint64_t transfer_max; /* largest SINK/SOURCE (TETHER_LINK_TRANSFER_MAX) */
};

/**
 * tether_srv_link_test_serve() - answer link-test requests until the client leaves
 * @c: a connection whose link-test HELLO has been accepted
 * @limits: NULL for the protocol's limits (tests pass smaller ones)
 *
 * A bad request gets a refusal saying why, then the connection ends; so does
 * a request after the time is up. A transfer still running when the time is
 * up, or a client silent for idle_ms, ends the connection without a word.
 * Return: 0 when the client closed at a request boundary, else a negative
 * errno (-EINVAL refused, -ETIMEDOUT time or idle limit, transport errors).
 */
int tether_srv_link_test_serve(struct tether_conn *c, const struct tether_srv_link_limits *limits);

/**
 * tether_srv_link_test_run() - accept a link-test HELLO and serve it
 * @hello: from tether_handshake_server_hello(), channel TETHER_CHANNEL_LINK_TEST
 * @server_name: for the WELCOME
 * Return: as tether_srv_link_test_serve(), or the WELCOME's transport error.
 */
int tether_srv_link_test_run(struct tether_conn *c, const struct tether_handshake_result *hello,
			     const char *server_name);

#endif /* TETHER_SERVER_LINK_TEST_H */
