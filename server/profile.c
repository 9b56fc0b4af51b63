/* Per-command timing of a session (see profile.h). */
#include "server/profile.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/stream.h"
#include "tether_wire.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

#define SLOTS 1024 /* power of two, above the number of distinct commands */

struct entry {
	uint32_t id; /* 0: empty */
	uint64_t count, ns;
};

struct tether_srv_profile {
	struct entry e[SLOTS];
	uint64_t total_ns;
};

struct tether_srv_profile *tether_srv_profile_create(void)
{
	const char *v = tether_getenv("TETHER_PROFILE");
	if (!v || !*v || !strcmp(v, "0"))
		return NULL;
	return calloc(1, sizeof(struct tether_srv_profile));
}

void tether_srv_profile_add(struct tether_srv_profile *p, uint32_t id, uint64_t ns)
{
	uint32_t i = (id * 2654435761u) & (SLOTS - 1);
	while (p->e[i].id && p->e[i].id != id)
		i = (i + 1) & (SLOTS - 1);
	p->e[i].id = id ? id : 1;
	p->e[i].count++;
	p->e[i].ns += ns;
	p->total_ns += ns;
}

static int by_time(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return (x->ns < y->ns) - (x->ns > y->ns);
}

void tether_srv_profile_finish(struct tether_srv_profile *p, const char *peer, unsigned top)
{
	if (!p)
		return;
	qsort(p->e, SLOTS, sizeof(p->e[0]), by_time);
	TETHER_LOGI("profile", "%s: %.1f ms in commands; the most expensive:", peer, p->total_ns / 1e6);
	for (unsigned i = 0; i < top && i < SLOTS && p->e[i].id; i++) {
		const struct tether_command_info *c = tether_command_find(p->e[i].id);
		TETHER_LOGI("profile", "  %-36s %10llu calls %9.1f ms %5.1f%% %8.0f ns each",
			    c ? c->name : "(tether command)", (unsigned long long)p->e[i].count, p->e[i].ns / 1e6,
			    p->total_ns ? 100.0 * (double)p->e[i].ns / (double)p->total_ns : 0.0,
			    (double)p->e[i].ns / (double)p->e[i].count);
	}
	free(p);
}
