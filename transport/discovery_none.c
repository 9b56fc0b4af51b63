/* DNS-SD where tether has no client for it yet (Windows: DnsServiceBrowse
 * is a later step, docs/LINK.md). Browsing finds nothing and says so; the
 * ICD then uses its cached server or the default. */
#include "transport/discovery.h"

#include <errno.h>
#include <string.h>

int tether_discovery_browse(int timeout_ms, struct tether_discovery *out)
{
	memset(out, 0, sizeof(*out));
	return -ENOTSUP;
}

int tether_discovery_publish(const struct tether_discovery_service *svc, struct tether_discovery_publisher **out)
{
	return -ENOTSUP;
}

void tether_discovery_unpublish(struct tether_discovery_publisher *p)
{
}
