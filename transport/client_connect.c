/* Client connections to tetherd, with TLS when paired (client_connect.h). */
#include "transport/client_connect.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef TETHER_HAVE_TLS
#include "transport/trust.h"

int tether_client_security_load(const char *addr, struct tether_client_security *sec, char *why, size_t why_len)
{
	struct tether_address a;
	char dir[TETHER_PATH_MAX];
	memset(sec, 0, sizeof(*sec));
	why[0] = '\0';
	if (tether_address_parse(addr, &a)) {
		snprintf(why, why_len, "bad address \"%.200s\"", addr);
		return -EINVAL;
	}
	/* Unix sockets are guarded by file permissions (docs/SECURITY.md). */
	if (a.kind != TETHER_ADDRESS_TCP || tether_client_config_dir(dir, sizeof(dir)))
		return 0;
	struct tether_peer_list list;
	int err = tether_peer_list_load(dir, TETHER_PAIRED_SERVERS_FILE, &list);
	if (err) {
		snprintf(why, why_len, "cannot read %s/%s: %s", dir, TETHER_PAIRED_SERVERS_FILE, strerror(-err));
		return err;
	}
	const struct tether_peer *p = tether_peer_list_find_address(&list, addr);
	if (p) {
		sec->tls = true;
		sec->server = p->fingerprint;
		snprintf(sec->server_name, sizeof(sec->server_name), "%s", p->name);
		tether_peer_list_free(&list);
	} else if (list.n) {
		sec->paired = malloc(sizeof(*sec->paired));
		if (!sec->paired) {
			tether_peer_list_free(&list);
			snprintf(why, why_len, "out of memory");
			return -ENOMEM;
		}
		*sec->paired = list;
		sec->tls = sec->any_paired = true;
	} else {
		tether_peer_list_free(&list);
	}
	if (!sec->tls)
		return 0;
	struct tether_tls_identity *id;
	err = tether_tls_identity_load(dir, NULL, false, &id);
	if (!err) {
		err = tether_tls_context_new(id, TETHER_TLS_CLIENT, NULL, &sec->ctx);
		tether_tls_identity_free(id); /* the context keeps its own references */
	}
	if (err) {
		snprintf(why, why_len, "paired with %s, but this client's identity in %s cannot be used: %s", addr, dir,
			 strerror(-err));
		sec->tls = false;
		return err;
	}
	return 0;
}

void tether_client_security_release(struct tether_client_security *sec)
{
	tether_tls_context_free(sec->ctx);
	sec->ctx = NULL;
	if (sec->paired) {
		tether_peer_list_free(sec->paired);
		free(sec->paired);
		sec->paired = NULL;
	}
}

/* Any-paired mode: the server's certificate must be one paired with. */
static int check_any_paired(const char *addr, const struct tether_client_security *sec,
			    const struct tether_tls_peer *peer, struct tether_client_info *info)
{
	for (size_t i = 0; i < sec->paired->n; i++)
		if (tether_fingerprint_equal(&sec->paired->v[i].fingerprint, &peer->fingerprint))
			return 0;
	char got[TETHER_FINGERPRINT_SHORT_SIZE];
	tether_fingerprint_short(&peer->fingerprint, got);
	snprintf(info->error, sizeof(info->error),
		 "the server at %.80s presented certificate %s, which this client never paired with: "
		 "run `tether pair %.80s` to pair with it", addr, got, addr);
	return -EACCES;
}

/* The preamble that routes a frame channel to its session before TLS. */
static int send_preamble(struct tether_conn *c, const uint8_t *route)
{
	uint8_t p[TETHER_FRAME_PREAMBLE_SIZE];
	memcpy(p, TETHER_FRAME_ROUTE_MAGIC, TETHER_FRAME_ROUTE_MAGIC_SIZE);
	memcpy(p + TETHER_FRAME_ROUTE_MAGIC_SIZE, route, TETHER_FRAME_ROUTE_SIZE);
	struct tether_iovec iov = {p, sizeof(p)};
	return tether_conn_send(c, &iov, 1);
}

static int start_tls(struct tether_conn *c, const char *addr, const struct tether_client_security *sec,
		     struct tether_client_info *info)
{
	struct tether_tls_peer peer;
	int err = tether_tls_client_start(c, sec->ctx, TETHER_ALPN_SESSION, sec->any_paired ? NULL : &sec->server,
					  &peer);
	if (!err) {
		snprintf(info->cipher, sizeof(info->cipher), "%s", peer.cipher);
		return sec->any_paired ? check_any_paired(addr, sec, &peer, info) : 0;
	}
	if (err == -EACCES) {
		char want[TETHER_FINGERPRINT_SHORT_SIZE], got[TETHER_FINGERPRINT_SHORT_SIZE];
		tether_fingerprint_short(&sec->server, want);
		tether_fingerprint_short(&peer.fingerprint, got);
		snprintf(info->error, sizeof(info->error),
			 "the server at %.80s presented certificate %s, not %s that \"%.40s\" had when this client "
			 "paired: if tetherd there was reinstalled, run `tether unpair %.80s` and pair again; "
			 "otherwise someone may be impersonating it",
			 addr, got, want, sec->server_name, addr);
	} else {
		snprintf(info->error, sizeof(info->error), "TLS with %.80s failed: %.250s", addr, peer.error);
	}
	return err;
}

int tether_client_connect_timeout(const char *addr, const struct tether_client_security *sec, const uint8_t *route,
				  int connect_timeout_ms, struct tether_conn **out, struct tether_client_info *info)
{
	struct tether_conn *c;
	memset(info, 0, sizeof(*info));
	int err = tether_conn_connect_timeout(addr, connect_timeout_ms, &c);
	if (err) {
		snprintf(info->error, sizeof(info->error), "cannot reach tetherd at %.200s: %s", addr, strerror(-err));
		return err;
	}
	if (sec->tls) {
		if (route && (err = send_preamble(c, route)) != 0)
			snprintf(info->error, sizeof(info->error), "cannot reach tetherd at %.200s: %s", addr,
				 strerror(-err));
		if (!err)
			err = start_tls(c, addr, sec, info);
		if (err) {
			tether_conn_close(c);
			return err;
		}
	}
	*out = c;
	return 0;
}

#else /* no TLS in this build (Windows, for now): plaintext only */

int tether_client_security_load(const char *addr, struct tether_client_security *sec, char *why, size_t why_len)
{
	memset(sec, 0, sizeof(*sec));
	why[0] = '\0';
	return 0;
}

void tether_client_security_release(struct tether_client_security *sec)
{
}

int tether_client_connect_timeout(const char *addr, const struct tether_client_security *sec, const uint8_t *route,
				  int connect_timeout_ms, struct tether_conn **out, struct tether_client_info *info)
{
	memset(info, 0, sizeof(*info));
	int err = tether_conn_connect_timeout(addr, connect_timeout_ms, out);
	if (err)
		snprintf(info->error, sizeof(info->error), "cannot reach tetherd at %.200s: %s", addr, strerror(-err));
	return err;
}

#endif

int tether_client_connect(const char *addr, const struct tether_client_security *sec, const uint8_t *route,
			  struct tether_conn **out, struct tether_client_info *info)
{
	return tether_client_connect_timeout(addr, sec, route, 0, out, info);
}
