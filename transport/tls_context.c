/* TLS contexts and handshakes (tls.h): TLS 1.3 only, both sides present a
 * self-signed certificate, and the only check that counts is the SHA-256
 * fingerprint of the peer's certificate: pinned by the client in the verify
 * callback, looked up in the paired-clients list by tetherd afterwards. No
 * session tickets, no resumption, so no 0-RTT data and nothing a recorded
 * handshake could replay. The handshake runs on a non-blocking socket with
 * poll() and a deadline, so a silent peer cannot hold a process. */
#include "transport/tls_internal.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chosen by bench/bench_tls (docs/PERFORMANCE.md): AES-128-GCM is the
 * fastest suite on every machine with AES-NI we measured; the others stay
 * for peers that prefer them. */
#define DEFAULT_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
/* With read-ahead, one recv() fills this much of OpenSSL's record buffer:
 * sixteen full records per system call instead of one. */
#define READ_BUFFER_SIZE (256 * 1024)

/* TETHER_TLS_READ_BUFFER=BYTES overrides READ_BUFFER_SIZE; bench/bench_tls measures it. */
static size_t read_buffer_size(void)
{
	const char *v = tether_getenv("TETHER_TLS_READ_BUFFER");
	char *end;
	unsigned long n = v && *v ? strtoul(v, &end, 10) : 0;
	return n && !*end && n <= (16u << 20) ? (size_t)n : READ_BUFFER_SIZE;
}

struct tether_tls_context {
	SSL_CTX *ctx;
	enum tether_tls_role role;
};

/* What one handshake's verify callback needs and finds. */
struct verify_state {
	const struct tether_fingerprint *expect; /* NULL: any certificate */
	struct tether_fingerprint seen;
	bool have_seen, mismatch;
};

static int verify_index = -1;
static pthread_once_t verify_once = PTHREAD_ONCE_INIT;

static void verify_index_init(void)
{
	verify_index = SSL_get_ex_new_index(0, "tether verify state", NULL, NULL, NULL);
}

/* Self-signed certificates fail every CA check by design: the leaf's
 * fingerprint is all that is checked (the handshake's CertificateVerify
 * already proved the peer holds its key). */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct verify_state *vs = ssl ? SSL_get_ex_data(ssl, verify_index) : NULL;
	if (!vs)
		return 0;
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	X509 *cert = X509_STORE_CTX_get_current_cert(store);
	if (!cert || tether_tls_cert_fingerprint(cert, &vs->seen))
		return 0;
	vs->have_seen = true;
	if (vs->expect && !tether_fingerprint_equal(vs->expect, &vs->seen)) {
		vs->mismatch = true;
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	X509_STORE_CTX_set_error(store, X509_V_OK);
	return 1;
}

static const unsigned char server_alpn[] = "\x08" TETHER_ALPN_SESSION "\x0d" TETHER_ALPN_PAIRING;

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		       unsigned int inlen, void *arg)
{
	unsigned char *chosen;
	if (SSL_select_next_proto(&chosen, outlen, server_alpn, sizeof(server_alpn) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = chosen;
	return SSL_TLSEXT_ERR_OK;
}

int tether_tls_context_new(struct tether_tls_identity *id, enum tether_tls_role role, const char *ciphersuites,
			   struct tether_tls_context **out)
{
	char why[300];
	pthread_once(&verify_once, verify_index_init);
	struct tether_tls_context *t = calloc(1, sizeof(*t));
	SSL_CTX *ctx = t ? SSL_CTX_new(TLS_method()) : NULL;
	if (!ctx) {
		free(t);
		return -ENOMEM;
	}
	t->ctx = ctx;
	t->role = role;
	int err = 0;
	if (verify_index < 0 || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) || SSL_CTX_use_certificate(ctx, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, id->key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		err = -ENOMEM;
	else if (!SSL_CTX_set_ciphersuites(ctx, ciphersuites ? ciphersuites : DEFAULT_SUITES))
		err = -EINVAL;
	if (err) {
		tether_tls_log_errors(why, sizeof(why));
		tether_tls_context_free(t);
		return TETHER_ERR("tls", err, "cannot set up a TLS context: %s", why);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	/* Nothing to resume: every connection is a full handshake. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, read_buffer_size());
	if (role == TETHER_TLS_SERVER)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	*out = t;
	return 0;
}

void tether_tls_context_free(struct tether_tls_context *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* Waits until @fd is ready for @events or the deadline passes. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = tether_time_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int ms = (int)((deadline_ns - now + 999999) / 1000000);
		int r = poll(&p, 1, ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Runs the handshake to its end. Return: 0 or negative errno, @why set. */
static int drive(SSL *ssl, int fd, bool server, const struct verify_state *vs, char *why, size_t why_len)
{
	uint64_t deadline = tether_time_ns() + (uint64_t)TETHER_TLS_HANDSHAKE_TIMEOUT_MS * 1000000u;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int r = server ? SSL_accept(ssl) : SSL_connect(ssl);
		if (r == 1)
			return 0;
		int e = SSL_get_error(ssl, r), sys = errno, err;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			err = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
			if (!err)
				continue;
			snprintf(why, why_len, "%s", err == -ETIMEDOUT ? "the TLS handshake timed out" : strerror(-err));
			return err;
		}
		if (vs->mismatch) {
			char seen[TETHER_FINGERPRINT_TEXT_SIZE];
			tether_fingerprint_format(&vs->seen, seen);
			snprintf(why, why_len, "the peer's certificate %s is not the pinned one", seen);
			ERR_clear_error();
			return -EACCES;
		}
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
			snprintf(why, why_len, "connection closed during the TLS handshake%s%s", sys ? ": " : "",
				 sys ? strerror(sys) : "");
			return sys && sys != ECONNRESET && sys != EPIPE ? -sys : -ECONNRESET;
		}
		char ssl_why[200];
		tether_tls_log_errors(ssl_why, sizeof(ssl_why));
		snprintf(why, why_len, "TLS handshake failed: %.200s", ssl_why);
		return -EPROTO;
	}
}

static void subject_name(X509 *cert, char *out, size_t len)
{
	char cn[256] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	size_t n = 0;
	for (; cn[n] && n + 1 < len; n++)
		out[n] = cn[n] >= 0x20 && cn[n] <= 0x7e ? cn[n] : '?';
	out[n] = '\0';
}

/* What the handshake agreed; the peer's certificate is checked once more. */
static int describe_peer(SSL *ssl, const struct verify_state *vs, struct tether_tls_peer *peer)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (!cert || tether_tls_cert_fingerprint(cert, &peer->fingerprint)) {
		snprintf(peer->error, sizeof(peer->error), "the peer sent no certificate");
		return -EPROTO;
	}
	if (vs->expect && !tether_fingerprint_equal(vs->expect, &peer->fingerprint)) {
		snprintf(peer->error, sizeof(peer->error), "the peer's certificate is not the pinned one");
		return -EACCES;
	}
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	if (!alpn_len || alpn_len >= sizeof(peer->alpn)) {
		snprintf(peer->error, sizeof(peer->error), "no application protocol was agreed");
		return -EPROTO;
	}
	memcpy(peer->alpn, alpn, alpn_len);
	peer->alpn[alpn_len] = '\0';
	snprintf(peer->cipher, sizeof(peer->cipher), "%s", SSL_get_cipher_name(ssl));
	subject_name(cert, peer->common_name, sizeof(peer->common_name));
	return 0;
}

static int start(struct tether_conn *c, struct tether_tls_context *t, bool server, const char *alpn,
		 const struct tether_fingerprint *expect, struct tether_tls_peer *peer)
{
	struct verify_state vs = {.expect = expect};
	memset(peer, 0, sizeof(*peer));
	int fd = tether_conn_fd(c);
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK))
		return -errno;
	SSL *ssl = SSL_new(t->ctx);
	struct tether_tls_link *link = NULL;
	int err = ssl ? tether_tls_link_new(ssl, fd, tether_conn_peer(c), &link) : -ENOMEM;
	if (err) {
		SSL_free(ssl);
		snprintf(peer->error, sizeof(peer->error), "out of memory");
		return err;
	}
	SSL_set_ex_data(ssl, verify_index, &vs);
	if (!server) {
		unsigned char wire[32];
		size_t n = strlen(alpn);
		if (n >= sizeof(wire)) {
			err = -EINVAL;
		} else {
			wire[0] = (unsigned char)n;
			memcpy(wire + 1, alpn, n);
			if (SSL_set_alpn_protos(ssl, wire, (unsigned)n + 1)) /* 0 means success */
				err = -EINVAL;
		}
	}
	if (!err)
		err = drive(ssl, fd, server, &vs, peer->error, sizeof(peer->error));
	if (!err)
		err = describe_peer(ssl, &vs, peer);
	if (!err && !server && strcmp(peer->alpn, alpn)) {
		snprintf(peer->error, sizeof(peer->error), "the server agreed to \"%s\", not \"%s\"", peer->alpn, alpn);
		err = -EPROTO;
	}
	SSL_set_ex_data(ssl, verify_index, NULL);
	if (!err)
		err = tether_conn_attach_tls(c, link);
	if (err) {
		if (vs.have_seen)
			peer->fingerprint = vs.seen; /* for the log line: who it was */
		tether_tls_link_free(link);
		return err;
	}
	return 0;
}

int tether_tls_client_start(struct tether_conn *c, struct tether_tls_context *ctx, const char *alpn,
			    const struct tether_fingerprint *expect, struct tether_tls_peer *peer)
{
	return start(c, ctx, false, alpn, expect, peer);
}

int tether_tls_server_start(struct tether_conn *c, struct tether_tls_context *ctx, struct tether_tls_peer *peer)
{
	return start(c, ctx, true, NULL, NULL, peer);
}

int tether_tls_export(struct tether_conn *c, const char *label, uint8_t *out, size_t len)
{
	struct tether_tls_link *l = tether_conn_tls_link(c);
	if (!l)
		return -EINVAL;
	SSL *ssl = tether_tls_link_ssl(l);
	return SSL_export_keying_material(ssl, out, len, label, strlen(label), NULL, 0, 0) == 1 ? 0 : -EINVAL;
}

bool tether_conn_is_tls(const struct tether_conn *c)
{
	return tether_conn_tls_link(c) != NULL;
}

void tether_tls_frame_route(const uint8_t token[16], uint8_t route[8])
{
	static const char label[] = "tether frame route";
	uint8_t in[sizeof(label) - 1 + 16], md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	memcpy(in, label, sizeof(label) - 1);
	memcpy(in + sizeof(label) - 1, token, 16);
	EVP_Digest(in, sizeof(in), md, &n, EVP_sha256(), NULL);
	memcpy(route, md, 8);
}
