/* Thunderbolt/USB4 links where there is no sysfs (Windows): not available.
 * Windows' USB4 host-to-host networking is found a later way (docs/LINK.md). */
#include "transport/thunderbolt.h"

#include <errno.h>
#include <string.h>

int tether_tb_links_read(const char *sysfs_root, const struct ifaddrs *ifa, struct tether_tb_links *out)
{
	memset(out, 0, sizeof(*out));
	return -ENOTSUP;
}

int tether_tb_links_find(struct tether_tb_links *out)
{
	return tether_tb_links_read(NULL, NULL, out);
}

int tether_tb_link_of_address(const struct tether_tb_links *links, const char *ip, const char *ifname)
{
	return -1;
}
