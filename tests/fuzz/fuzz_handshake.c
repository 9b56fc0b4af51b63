/*
 * libFuzzer target: the first bytes a client sends tetherd. They are written
 * into a fresh Unix-socket connection whose sending half is then closed, and
 * tether_handshake_server_hello() (what tether_srv_session_run() calls first)
 * reads them from the accepted end under a receive timeout, so no input can
 * hang it; the HELLO is then accepted or, for a frame channel, refused, as
 * tetherd does with a token it does not know. A link-test HELLO is accepted
 * and the rest of the input served as link-test requests
 * (tether_srv_link_test_serve(), with a per-request limit small enough that
 * no answer can fill the socket). The first 16 bytes also go through
 * tether_msg_header_decode().
 * (transport/ has no way to wrap a socketpair in a tether_conn, hence the
 * listener.)
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "protocol/handshake.h"
#include "protocol/message.h"
#include "server/link_test.h"
#include "tether_wire.h"

/* Well under a Unix socket's send buffer, so the write cannot block before
 * the server side reads; a valid HELLO this build sends is far smaller. */
#define MAX_INPUT (64u << 10)

static struct tether_listener *listener;
static struct sockaddr_un addr;

static void remove_socket(void)
{
	tether_listener_close(listener);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tether_fuzz_quiet_logs();
	char name[100];
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/tether-fuzz-handshake-%d.sock", dir, (int)getpid());
	addr.sun_family = AF_UNIX;
	snprintf(name, sizeof(name), "unix:%s", addr.sun_path);
	if (tether_listener_open(name, &listener)) {
		fprintf(stderr, "fuzz_handshake: cannot listen on %s\n", name);
		abort();
	}
	atexit(remove_socket);
	return 0;
}

static void check_header(const uint8_t *data, size_t size)
{
	if (size < TETHER_MSG_HEADER_SIZE)
		return;
	struct tether_msg_header h;
	if (tether_msg_header_decode(data, &h))
		return;
	if (h.type == 0 || h.type >= TETHER_MSG_TYPE_END || h.flags || h.size > TETHER_MSG_MAX_SIZE)
		abort();
	uint8_t again[TETHER_MSG_HEADER_SIZE];
	tether_msg_header_encode(&h, again);
	if (memcmp(again, data, sizeof(again)))
		abort();
}

/* What handshake.h promises about @out after tether_handshake_server_hello(). */
static void check_result(int r, const struct tether_handshake_result *out)
{
	if (memchr(out->error, 0, sizeof(out->error)) == NULL)
		abort();
	if (r) {
		if (out->peer_name || out->exts || out->ext_count || out->has_token)
			abort(); /* "On error nothing in @out is heap-owned" */
		return;
	}
	if (out->channel > TETHER_CHANNEL_LINK_TEST || out->has_token != (out->channel == TETHER_CHANNEL_FRAMES) ||
	    (out->channel != TETHER_CHANNEL_COMMANDS && out->peer_minor < 1))
		abort(); /* a channel other than commands needs a 1.1 HELLO; frames, a token */
	if (out->channel == TETHER_CHANNEL_LINK_TEST && out->ext_count)
		abort(); /* a link test agrees on no extensions */
	if (!out->peer_name || out->peer_major != TETHER_PROTOCOL_MAJOR || out->minor > TETHER_PROTOCOL_MINOR ||
	    out->ext_count > tether_carried_extension_count || (out->ext_count && !out->exts))
		abort();
	for (const char *p = out->peer_name; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
	for (uint32_t i = 0; i < out->ext_count; i++) {
		uint32_t k = 0;
		while (k < tether_carried_extension_count && strcmp(out->exts[i], tether_carried_extensions[k]))
			k++;
		if (k == tether_carried_extension_count)
			abort(); /* agreed to an extension this server does not carry */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_header(data, size);
	if (size > MAX_INPUT)
		size = MAX_INPUT;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = send(fd, data + done, size - done, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR)
			abort();
		done += n > 0 ? (size_t)n : 0;
	}
	shutdown(fd, SHUT_WR); /* the server reads end-of-stream after the input */

	struct tether_conn *c;
	if (tether_listener_accept(listener, &c))
		abort();
	tether_conn_set_timeout(c, 2000);
	static const uint8_t token[TETHER_SESSION_TOKEN_SIZE] = {1, 2, 3};
	struct tether_handshake_result out;
	int r = tether_handshake_server_hello(c, tether_carried_extensions, tether_carried_extension_count, &out);
	check_result(r, &out);
	if (!r && out.channel == TETHER_CHANNEL_FRAMES) {
		tether_handshake_server_refuse(c, TETHER_HANDSHAKE_REFUSED, "no live session has this token");
	} else if (!r && out.channel == TETHER_CHANNEL_LINK_TEST) {
		/* Answers stay below the input's size plus 32 bytes a request: the
		 * socket's buffer holds them all, nobody needs to read. */
		static const struct tether_srv_link_limits limits = {1000000000u, 500, 16};
		if (!tether_handshake_server_accept(c, "tetherd (fuzz)", &out, NULL)) {
			int e = tether_srv_link_test_serve(c, &limits);
			if (e && e != -EINVAL && e != -ETIMEDOUT && e != -EPIPE && e != -ECONNRESET)
				abort(); /* the client's end closing is the only other way out */
		}
	} else if (!r) {
		tether_handshake_server_accept(c, "tetherd (fuzz)", &out, token);
	}
	if (!r)
		tether_handshake_result_free(&out);
	tether_conn_close(c);
	close(fd);
	return 0;
}
