/*
 * Test helpers: identities in a private temporary directory, and a connected
 * TCP loopback pair whose two ends run the TLS handshake against each other
 * (the server's side in a thread). Header-only; the tests in this folder
 * include it once each.
 */
#ifndef TETHER_TESTS_TLS_PAIR_H
#define TETHER_TESTS_TLS_PAIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/conn.h"
#include "transport/platform/platform.h"
#include "transport/tls.h"

/* A fresh directory under $TMPDIR (or /tmp), removed by scratch_remove(). */
static inline void scratch_dir(char *dir, size_t len, const char *what)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, len, "%s/tether-%s-XXXXXX", tmp, what);
	assert_non_null(mkdtemp(dir));
}

static inline void scratch_remove(const char *dir)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* An identity made in @base/@name. */
static inline struct tether_tls_identity *make_identity(const char *base, const char *name)
{
	char dir[300];
	struct tether_tls_identity *id;
	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	assert_int_equal(tether_tls_identity_load(dir, name, true, &id), 0);
	return id;
}

struct tls_pair {
	struct tether_conn *client, *server;
	struct tether_tls_peer client_saw, server_saw; /* what each side learned of the other */
	int client_err, server_err;
};

struct tls_accept {
	struct tether_conn *conn;
	struct tether_tls_context *ctx;
	struct tether_tls_peer *peer;
	int err;
};

static void *tls_pair_accept(void *arg)
{
	struct tls_accept *a = arg;
	a->err = tether_tls_server_start(a->conn, a->ctx, a->peer);
	return NULL;
}

/*
 * Connects a client presenting @client_id to a server presenting @server_id
 * over TCP loopback and runs both handshakes. @expect: the server fingerprint
 * the client pins (NULL: any). Both connections are kept even when a
 * handshake failed (their errors are in the pair).
 */
static inline void tls_pair_open(struct tls_pair *p, struct tether_tls_identity *client_id,
				 struct tether_tls_identity *server_id, const char *alpn,
				 const struct tether_fingerprint *expect)
{
	struct tether_listener *l;
	struct tether_tls_context *cctx, *sctx;
	struct tether_thread *t;
	char addr[64];
	memset(p, 0, sizeof(*p));
	assert_int_equal(tether_tls_context_new(client_id, TETHER_TLS_CLIENT, NULL, &cctx), 0);
	assert_int_equal(tether_tls_context_new(server_id, TETHER_TLS_SERVER, NULL, &sctx), 0);
	assert_int_equal(tether_listener_open("127.0.0.1:0", &l), 0);
	assert_int_equal(tether_listener_address(l, addr, sizeof(addr)), 0);
	assert_int_equal(tether_conn_connect(addr, &p->client), 0);
	assert_int_equal(tether_listener_accept(l, &p->server), 0);
	tether_listener_close(l);
	struct tls_accept a = {p->server, sctx, &p->server_saw, 0};
	assert_int_equal(tether_thread_create(&t, tls_pair_accept, &a), 0);
	p->client_err = tether_tls_client_start(p->client, cctx, alpn, expect, &p->client_saw);
	if (p->client_err)
		tether_conn_shutdown(p->client); /* the server must not wait for a client that gave up */
	assert_int_equal(tether_thread_join(t), 0);
	p->server_err = a.err;
	tether_tls_context_free(cctx);
	tether_tls_context_free(sctx);
}

static inline void tls_pair_close(struct tls_pair *p)
{
	tether_conn_close(p->client);
	tether_conn_close(p->server);
}

#endif /* TETHER_TESTS_TLS_PAIR_H */
