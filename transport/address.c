/* tether address strings ("host:port", "[v6]:port", "unix:/path"): syntax
 * only, shared by conn_posix.c and conn_win32.c. Addresses come from users and
 * config files, so everything odd is refused here with a log line. */
#include "transport/conn.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/platform/platform.h"

static int is_host_char(char ch, int bracketed)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return 1;
	if (ch == '.' || ch == '-' || ch == '_')
		return 1;
	return bracketed && (ch == ':' || ch == '%'); /* IPv6 and its zone id */
}

static int parse_port(const char *s, char out[6])
{
	size_t n = strlen(s);
	unsigned v = 0;
	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	memcpy(out, s, n + 1);
	return 0;
}

static int parse_host(const char *s, size_t n, int bracketed, struct tether_address *out)
{
	if (n == 0 || n > TETHER_ADDRESS_MAX_HOST)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_host_char(s[i], bracketed))
			return -EINVAL;
	memcpy(out->host, s, n);
	out->host[n] = '\0';
	return 0;
}

static int parse_tcp(const char *str, struct tether_address *out)
{
	const char *port;
	int err;

	if (str[0] == '[') {
		const char *close = strchr(str, ']');
		if (!close)
			return -EINVAL;
		err = parse_host(str + 1, (size_t)(close - str - 1), 1, out);
		if (err)
			return err;
		if (close[1] == '\0')
			port = NULL;
		else if (close[1] == ':')
			port = close + 2;
		else
			return -EINVAL;
	} else {
		const char *colon = strchr(str, ':');
		/* An IPv6 literal without brackets is ambiguous ("::1:7380"). */
		if (colon && strchr(colon + 1, ':'))
			return -EINVAL;
		err = parse_host(str, colon ? (size_t)(colon - str) : strlen(str), 0, out);
		if (err)
			return err;
		port = colon ? colon + 1 : NULL;
	}
	out->kind = TETHER_ADDRESS_TCP;
	if (!port) {
		memcpy(out->port, "7380", 5);
		_Static_assert(TETHER_DEFAULT_PORT == 7380, "default port string");
		return 0;
	}
	return parse_port(port, out->port);
}

int tether_address_parse(const char *str, struct tether_address *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	if (!str)
		return -EINVAL;
	if (!strncmp(str, "unix:", 5)) {
		size_t n = strlen(str + 5);
		if (n == 0 || n > TETHER_ADDRESS_MAX_PATH) {
			err = -EINVAL;
		} else {
			out->kind = TETHER_ADDRESS_UNIX;
			memcpy(out->path, str + 5, n + 1);
			err = 0;
		}
	} else {
		err = parse_tcp(str, out);
	}
	if (err) {
		memset(out, 0, sizeof(*out));
		TETHER_LOGW("transport", "bad address \"%.300s\": expected HOST:PORT, [IPV6]:PORT or unix:PATH", str);
	}
	return err;
}

int tether_link_timeout_ms(void)
{
	const char *s = tether_getenv("TETHER_LINK_TIMEOUT_MS");
	if (!s || !*s)
		return TETHER_LINK_TIMEOUT_MS;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 1000 || v > 600000) {
		TETHER_LOGW("conn", "TETHER_LINK_TIMEOUT_MS=%s is not 1000 to 600000: using %d", s,
			    TETHER_LINK_TIMEOUT_MS);
		return TETHER_LINK_TIMEOUT_MS;
	}
	return (int)v;
}

int tether_address_normalize(const char *str, char *buf, size_t len)
{
	struct tether_address a;
	int err = tether_address_parse(str, &a);
	if (err)
		return err;
	int n;
	if (a.kind == TETHER_ADDRESS_UNIX)
		n = snprintf(buf, len, "unix:%s", a.path);
	else
		n = snprintf(buf, len, strchr(a.host, ':') ? "[%s]:%s" : "%s:%s", a.host, a.port);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}
