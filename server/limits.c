/* Per-session limits (see limits.h). */
#include "server/limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol/limits.h"
#include "protocol/message.h"
#include "server/session.h"
#include "transport/platform/log.h"

int tether_srv_limits_option(struct tether_srv_limits *l, const char *name, const char *value)
{
	uint64_t v;
	if (strcmp(name, "--max-memory") && strcmp(name, "--max-objects") && strcmp(name, "--max-message"))
		return 0;
	if (!value || tether_parse_size(value, &v) < 0) {
		fprintf(stderr, "tetherd: %s wants a number (K, M, G suffixes allowed), not '%s'\n", name,
			value ? value : "");
		return -EINVAL;
	}
	if (!strcmp(name, "--max-memory")) {
		l->memory_bytes = v;
	} else if (!strcmp(name, "--max-objects")) {
		if (v < 16) {
			fprintf(stderr, "tetherd: --max-objects below 16 leaves no room for a device\n");
			return -EINVAL;
		}
		l->objects = v;
	} else {
		if (v < TETHER_MSG_MIN_LIMIT || v > TETHER_MSG_MAX_SIZE) {
			fprintf(stderr, "tetherd: --max-message must be between %uM and %uM\n",
				TETHER_MSG_MIN_LIMIT >> 20, TETHER_MSG_MAX_SIZE >> 20);
			return -EINVAL;
		}
		l->message_bytes = v;
	}
	return 1;
}

bool tether_srv_memory_charge(struct tether_srv_session *s, uint64_t bytes, const char *what)
{
	uint64_t limit = s->opts->limits.memory_bytes;
	if (limit && (bytes > limit || s->memory_used > limit - bytes)) {
		TETHER_LOGW("limits", "%s: %s of %llu bytes refused: the session has %llu of its %llu bytes "
			    "of device memory (--max-memory)", tether_conn_peer(s->conn), what,
			    (unsigned long long)bytes, (unsigned long long)s->memory_used,
			    (unsigned long long)limit);
		return false;
	}
	s->memory_used += bytes;
	return true;
}

void tether_srv_memory_discharge(struct tether_srv_session *s, uint64_t bytes)
{
	s->memory_used -= bytes < s->memory_used ? bytes : s->memory_used;
}

bool tether_srv_objects_allowed(struct tether_srv_session *s, uint64_t count)
{
	uint64_t limit = s->opts->limits.objects;
	if (count > limit || s->objects.live > limit - count) {
		TETHER_LOGE("limits", "%s: %llu new objects would pass the session's limit of %llu live objects "
			    "(--max-objects; the ICD asks before it passes it)", tether_conn_peer(s->conn),
			    (unsigned long long)count, (unsigned long long)limit);
		return false;
	}
	return true;
}

void tether_srv_session_limits(struct tether_srv_session *s, struct tether_encoder *r)
{
	const struct tether_srv_limits *l = &s->opts->limits;
	struct tether_session_limits out = {
		.memory_bytes = l->memory_bytes,
		.memory_used = s->memory_used,
		.objects = l->objects,
		.objects_used = s->objects.live,
		.message_bytes = l->message_bytes,
	};
	tether_session_limits_encode(r, &out);
	tether_srv_reply_ready(s);
}
