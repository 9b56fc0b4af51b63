/* Certificate fingerprints (tls.h): SHA-256 of the DER certificate, written
 * "SHA256:" and hex. Peers are pinned by them, so they are parsed strictly and
 * compared in constant time. No OpenSSL here: lists of peers are read on
 * every platform. */
#include "transport/tls.h"

#include <errno.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

void tether_fingerprint_format(const struct tether_fingerprint *f, char out[TETHER_FINGERPRINT_TEXT_SIZE])
{
	memcpy(out, "SHA256:", 7);
	for (size_t i = 0; i < TETHER_FINGERPRINT_SIZE; i++) {
		out[7 + 2 * i] = hex_digits[f->b[i] >> 4];
		out[8 + 2 * i] = hex_digits[f->b[i] & 15];
	}
	out[TETHER_FINGERPRINT_TEXT_SIZE - 1] = '\0';
}

void tether_fingerprint_short(const struct tether_fingerprint *f, char out[TETHER_FINGERPRINT_SHORT_SIZE])
{
	char full[TETHER_FINGERPRINT_TEXT_SIZE];
	tether_fingerprint_format(f, full);
	memcpy(out, full, 7 + 16);
	memcpy(out + 7 + 16, "...", 3); /* ASCII: it also travels in WELCOME texts */
	out[TETHER_FINGERPRINT_SHORT_SIZE - 1] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tether_fingerprint_parse(const char *s, struct tether_fingerprint *out)
{
	if (!strncmp(s, "SHA256:", 7) || !strncmp(s, "sha256:", 7))
		s += 7;
	if (strlen(s) != 2 * TETHER_FINGERPRINT_SIZE)
		return -EINVAL;
	for (size_t i = 0; i < TETHER_FINGERPRINT_SIZE; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool tether_fingerprint_equal(const struct tether_fingerprint *a, const struct tether_fingerprint *b)
{
	uint8_t diff = 0;
	for (size_t i = 0; i < TETHER_FINGERPRINT_SIZE; i++)
		diff |= a->b[i] ^ b->b[i];
	return diff == 0;
}
