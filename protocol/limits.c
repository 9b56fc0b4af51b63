/* Session limits on the wire, and sizes as people write them. */
#include "protocol/limits.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "protocol/message.h"

void tether_session_limits_encode(struct tether_encoder *e, const struct tether_session_limits *l)
{
	tether_enc_u64(e, l->memory_bytes);
	tether_enc_u64(e, l->memory_used);
	tether_enc_u64(e, l->objects);
	tether_enc_u64(e, l->objects_used);
	tether_enc_u64(e, l->message_bytes);
}

void tether_session_limits_decode(struct tether_decoder *d, struct tether_session_limits *l)
{
	l->memory_bytes = tether_dec_u64(d);
	l->memory_used = tether_dec_u64(d);
	l->objects = tether_dec_u64(d);
	l->objects_used = tether_dec_u64(d);
	l->message_bytes = tether_dec_u64(d);
	if (!d->fatal && (l->message_bytes < TETHER_MSG_MIN_LIMIT || l->message_bytes > TETHER_MSG_MAX_SIZE))
		tether_decoder_fail(d, "session limits: impossible message size");
}

int tether_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	static const char units[] = "KMGT";
	const char *u = *s ? strchr(units, toupper((unsigned char)*s)) : NULL;
	unsigned shift = u ? 10 * (unsigned)(u - units + 1) : 0;
	const char *rest = u ? s + 1 : s;
	if (*rest && strcasecmp(rest, "B") && strcasecmp(rest, "iB"))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}
