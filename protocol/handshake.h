/* tether handshake: the first HELLO / WELCOME exchange on a connection. It
 * checks the protocol version (major must match, minor negotiates down),
 * agrees on the Vulkan extensions both builds of the protocol carry and, since
 * 1.1, says what the connection is for: a new session's commands, or the frame
 * channel of an existing session, attached with the token its WELCOME gave. */
#ifndef TETHER_HANDSHAKE_H
#define TETHER_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/conn.h"

#define TETHER_PROTOCOL_MAJOR 1
#define TETHER_PROTOCOL_MINOR 2 /* 1.1: channels and the session token; 1.2: session limits, link-test channel */
#define TETHER_HANDSHAKE_MAGIC "TETHER\r\n" /* 8 bytes, no NUL on the wire */
#define TETHER_HANDSHAKE_MAGIC_SIZE 8

/* Limits on what a peer may send (the client is untrusted input). */
#define TETHER_HANDSHAKE_MAX_STRING 256
#define TETHER_HANDSHAKE_MAX_EXTENSIONS 4096
/* A session's secret: a client attaches its frame channel with it. */
#define TETHER_SESSION_TOKEN_SIZE 16
/* Magic, three u32s, a name, a count, the largest extension list, then the
 * 1.1 fields: channel and token. */
#define TETHER_HANDSHAKE_MAX_SIZE \
	(TETHER_HANDSHAKE_MAGIC_SIZE + 5 * 4 + TETHER_HANDSHAKE_MAX_STRING + \
	 TETHER_HANDSHAKE_MAX_EXTENSIONS * (4 + TETHER_HANDSHAKE_MAX_STRING) + 4 + TETHER_SESSION_TOKEN_SIZE)

/*
 * Wire format (u32 little endian; string = u32 length + bytes, no NUL):
 *   HELLO   magic[8], u32 major, u32 minor, u32 vk_header_version,
 *           string client_name, u32 n, n x string extension,
 *           since 1.1: u32 channel, and token[16] when channel is FRAMES
 *           (a LINK_TEST HELLO carries no extensions and no token)
 *   WELCOME u32 status, u32 major, u32 minor, u32 vk_header_version,
 *           string server_name_or_error, u32 n, n x string common extension,
 *           since 1.1, when accepted and both sides speak 1.1: token[16]
 *           (all zero: this session has no frame channel)
 * A side writes the 1.1 fields only when it says minor >= 1, and reads them
 * only from a peer that says so. Bytes after the fields a side knows are
 * ignored (room for later minor versions). A refusing WELCOME ends after the
 * (empty) extension list in every version.
 */
enum tether_handshake_status {
	TETHER_HANDSHAKE_ACCEPTED = 0,
	TETHER_HANDSHAKE_VERSION_MISMATCH = 1, /* protocol major versions differ */
	TETHER_HANDSHAKE_BAD_HELLO = 2,        /* malformed HELLO */
	TETHER_HANDSHAKE_REFUSED = 3,          /* well-formed but not served: the text says why */
};

/* What a connection carries (HELLO's channel field, 1.1). A server that
 * does not know a channel refuses the HELLO ("unknown channel N"), so a new
 * channel needs no version of its own. */
enum tether_channel {
	TETHER_CHANNEL_COMMANDS = 0,  /* a new session: commands and replies */
	TETHER_CHANNEL_FRAMES = 1,    /* a session's frame channel, attached by token */
	TETHER_CHANNEL_LINK_TEST = 2, /* link measurement, no session (protocol/link_test.h) */
};

struct tether_handshake_result {
	uint32_t peer_major, peer_minor;   /* protocol version the peer speaks */
	uint32_t peer_vk_header_version;   /* peer's VK_HEADER_VERSION_COMPLETE */
	uint32_t minor;                    /* negotiated: min of both minors */
	char *peer_name;                   /* client or server name; heap */
	char **exts;                       /* common extensions, server order; heap */
	uint32_t ext_count;
	uint32_t channel;                  /* enum tether_channel: asked for (server) or by us (client) */
	/* Server: the token of a FRAMES HELLO. Client: the session's token from
	 * WELCOME; has_token is false for a 1.0 server or a session without one. */
	uint8_t token[TETHER_SESSION_TOKEN_SIZE];
	bool has_token;
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
 * tether_handshake_client_attach() - attach this connection to a session as its frame channel
 * @client_name: shown in the server's logs
 * @token: the session's token, from the WELCOME of its command connection
 * @out: filled on success (no extensions); free with tether_handshake_result_free()
 *
 * The server's WELCOME must echo @token: it comes from the session itself,
 * which has then taken the connection (a TETHER_MSG_FRAME_READY follows).
 * Return: 0; -ECONNREFUSED when the server refused the attach (unknown or
 * ended session, one already attached; out->error says why, also logged);
 * the errors of tether_handshake_client() otherwise.
 */
int tether_handshake_client_attach(struct tether_conn *c, const char *client_name,
				   const uint8_t token[TETHER_SESSION_TOKEN_SIZE],
				   struct tether_handshake_result *out);

/**
 * tether_handshake_client_link_test() - open this connection as a link-test channel
 * @client_name: shown in the server's logs
 * @out: filled on success (no extensions, no token); free with tether_handshake_result_free()
 *
 * The link-test requests (protocol/link_test.h) follow an accepting WELCOME.
 * Return: as tether_handshake_client(); a server that predates the channel
 * refuses with -EPROTO and out->error "bad HELLO: unknown channel 2".
 */
int tether_handshake_client_link_test(struct tether_conn *c, const char *client_name,
				      struct tether_handshake_result *out);

/*
 * The server answers in two steps, so that what it does with a connection
 * can depend on the HELLO (a frame channel is handed to its session, which
 * answers it): tether_handshake_server_hello(), then
 * tether_handshake_server_accept() or tether_handshake_server_refuse().
 */

/**
 * tether_handshake_server_hello() - receive and check a client's HELLO
 * @exts: extension names this server supports, in preference order
 * @out: filled on success, the common extensions included; free with
 *       tether_handshake_result_free()
 *
 * Everything in HELLO is validated (magic, sizes, counts, printable strings,
 * channel). A malformed HELLO or another major version is refused here, with
 * a WELCOME saying why; a good one is not answered yet. The caller should set
 * a receive timeout first so a silent client cannot hold the process.
 * Return: 0; -EPROTONOSUPPORT on a major version mismatch; -EPROTO for a
 * malformed HELLO; or a transport error. On error nothing in @out is
 * heap-owned; peer_major/peer_minor and error are set when known.
 */
int tether_handshake_server_hello(struct tether_conn *c, const char *const *exts, uint32_t ext_count,
				  struct tether_handshake_result *out);

/**
 * tether_handshake_server_accept() - answer a good HELLO with an accepting WELCOME
 * @server_name: sent to the client (e.g. "tetherd 0.1 on NVIDIA GeForce RTX 4090")
 * @hello: what tether_handshake_server_hello() returned (its common
 *         extensions are sent; none on a frame or link-test channel)
 * @token: the session's token, sent to a 1.1 client; NULL sends zeros (no
 *         frame channel for this session)
 * Return: 0 or a transport error.
 */
int tether_handshake_server_accept(struct tether_conn *c, const char *server_name,
				   const struct tether_handshake_result *hello,
				   const uint8_t token[TETHER_SESSION_TOKEN_SIZE]);

/**
 * tether_handshake_server_refuse() - answer with a refusing WELCOME
 * @status: why, as a tether_handshake_status (TETHER_HANDSHAKE_REFUSED: see @text)
 * @text: the reason, logged here and shown by the client
 * Return: 0 or a transport error (the caller closes the connection either way).
 */
int tether_handshake_server_refuse(struct tether_conn *c, enum tether_handshake_status status,
				   const char *text);

/**
 * tether_session_token_equal() - compare two session tokens in constant time
 * (a guessing client learns nothing from how long a refusal took).
 */
bool tether_session_token_equal(const uint8_t a[TETHER_SESSION_TOKEN_SIZE],
				const uint8_t b[TETHER_SESSION_TOKEN_SIZE]);

/** tether_handshake_result_free() - free what a successful handshake allocated. */
void tether_handshake_result_free(struct tether_handshake_result *r);

#endif /* TETHER_HANDSHAKE_H */
