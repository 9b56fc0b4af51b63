/* tether handshake: the first HELLO / WELCOME exchange on a connection. It
 * checks the protocol version (major must match, minor negotiates down) and
 * agrees on the Vulkan extensions both builds of the protocol carry. */
#ifndef TETHER_HANDSHAKE_H
#define TETHER_HANDSHAKE_H

#include <stdint.h>

#include "transport/conn.h"

#define TETHER_PROTOCOL_MAJOR 1
#define TETHER_PROTOCOL_MINOR 0
#define TETHER_HANDSHAKE_MAGIC "TETHER\r\n" /* 8 bytes, no NUL on the wire */
#define TETHER_HANDSHAKE_MAGIC_SIZE 8

/* Limits on what a peer may send (the client is untrusted input). */
#define TETHER_HANDSHAKE_MAX_STRING 256
#define TETHER_HANDSHAKE_MAX_EXTENSIONS 4096
/* Magic, three u32s, a name, a count and the largest extension list. */
#define TETHER_HANDSHAKE_MAX_SIZE \
	(TETHER_HANDSHAKE_MAGIC_SIZE + 5 * 4 + TETHER_HANDSHAKE_MAX_STRING + \
	 TETHER_HANDSHAKE_MAX_EXTENSIONS * (4 + TETHER_HANDSHAKE_MAX_STRING))

/*
 * Wire format (u32 little endian; string = u32 length + bytes, no NUL):
 *   HELLO   magic[8], u32 major, u32 minor, u32 vk_header_version,
 *           string client_name, u32 n, n x string extension
 *   WELCOME u32 status, u32 major, u32 minor, u32 vk_header_version,
 *           string server_name_or_error, u32 n, n x string common extension
 * Bytes after these fields are ignored (room for later minor versions).
 */
enum tether_handshake_status {
	TETHER_HANDSHAKE_ACCEPTED = 0,
	TETHER_HANDSHAKE_VERSION_MISMATCH = 1, /* protocol major versions differ */
	TETHER_HANDSHAKE_BAD_HELLO = 2,        /* malformed HELLO */
};

struct tether_handshake_result {
	uint32_t peer_major, peer_minor;   /* protocol version the peer speaks */
	uint32_t peer_vk_header_version;   /* peer's VK_HEADER_VERSION_COMPLETE */
	uint32_t minor;                    /* negotiated: min of both minors */
	char *peer_name;                   /* client or server name; heap */
	char **exts;                       /* common extensions, server order; heap */
	uint32_t ext_count;
	/* On refusal: the reason sent (server) or received (client); else "". */
	char error[TETHER_HANDSHAKE_MAX_STRING + 1];
};

/**
 * tether_handshake_client() - introduce ourselves to a server and agree on extensions
 * @client_name: shown in the server's logs (e.g. the application name)
 * @exts: extension names this build's protocol can encode
 * @out: filled on success; free with tether_handshake_result_free()
 *
 * Return: 0; -EPROTONOSUPPORT when the server speaks another major version
 * (out->error holds its explanation, also logged); -EPROTO for a malformed
 * or refusing WELCOME; or a transport error.
 */
int tether_handshake_client(struct tether_conn *c, const char *client_name, const char *const *exts,
			    uint32_t ext_count, struct tether_handshake_result *out);

/**
 * tether_handshake_server() - check a client's HELLO and answer with WELCOME
 * @server_name: sent to the client (e.g. "tetherd 0.1 on NVIDIA GeForce RTX 4090")
 * @exts: extension names this server supports, in preference order
 * @out: filled on success; free with tether_handshake_result_free()
 *
 * Everything in HELLO is validated (magic, sizes, counts, printable strings).
 * A refused client gets a WELCOME saying why. The caller should set a
 * receive timeout first so a silent client cannot hold the session.
 * Return: 0; -EPROTONOSUPPORT on a major version mismatch; -EPROTO for a
 * malformed HELLO; or a transport error. On error nothing in @out is
 * heap-owned; peer_major/peer_minor and error are set when known.
 */
int tether_handshake_server(struct tether_conn *c, const char *server_name, const char *const *exts,
			    uint32_t ext_count, struct tether_handshake_result *out);

/** tether_handshake_result_free() - free what a successful handshake allocated. */
void tether_handshake_result_free(struct tether_handshake_result *r);

#endif /* TETHER_HANDSHAKE_H */
