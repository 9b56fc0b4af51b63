/* Thunderbolt/USB4 links (thunderbolt.h): what every platform shares, the
 * names and one-line descriptions. Reading the links is thunderbolt_sysfs.c
 * (Linux) or thunderbolt_none.c (Windows). */
#include "transport/thunderbolt.h"
#include "transport/platform/platform.h"

#include <stdio.h>
#include <string.h>

const char *tether_tb_sysfs_root(void)
{
	const char *root = tether_getenv("TETHER_SYSFS_ROOT");
	return root && *root ? root : TETHER_SYSFS_ROOT_DEFAULT;
}

const char *tether_tb_generation_name(unsigned generation)
{
	switch (generation) {
	case 1:
		return "Thunderbolt 1";
	case 2:
		return "Thunderbolt 2";
	case 3:
		return "Thunderbolt 3";
	case 4:
		return "USB4";
	default:
		return "unknown generation";
	}
}

uint64_t tether_tb_link_rx_mbps(const struct tether_tb_link *l)
{
	return (uint64_t)l->rx_mbps_per_lane * l->rx_lanes;
}

uint64_t tether_tb_link_tx_mbps(const struct tether_tb_link *l)
{
	return (uint64_t)l->tx_mbps_per_lane * l->tx_lanes;
}

/* "20", "12.5": Mbit/s as Gbit/s without trailing zeros. */
static void format_gbps(uint64_t mbps, char *buf, size_t len)
{
	if (mbps % 1000 == 0)
		snprintf(buf, len, "%llu", (unsigned long long)(mbps / 1000));
	else
		snprintf(buf, len, "%.1f", mbps / 1000.0);
}

/* "2 x 20 Gbit/s each way" or "rx 2 x 20, tx 1 x 20 Gbit/s" (asymmetric USB4 v2). */
static void format_speed(const struct tether_tb_link *l, char *buf, size_t len)
{
	char rx[24], tx[24];
	format_gbps(l->rx_mbps_per_lane, rx, sizeof(rx));
	format_gbps(l->tx_mbps_per_lane, tx, sizeof(tx));
	if (!l->rx_lanes && !l->tx_lanes)
		snprintf(buf, len, "speed unknown");
	else if (l->rx_lanes == l->tx_lanes && l->rx_mbps_per_lane == l->tx_mbps_per_lane)
		snprintf(buf, len, "%u x %s Gbit/s each way", l->rx_lanes, rx);
	else
		snprintf(buf, len, "rx %u x %s, tx %u x %s Gbit/s", l->rx_lanes, rx, l->tx_lanes, tx);
}

char *tether_tb_link_describe(const struct tether_tb_link *l, char *buf, size_t len)
{
	char speed[80], net[256];
	size_t used;
	format_speed(l, speed, sizeof(speed));
	if (l->netdev[0]) {
		used = (size_t)snprintf(net, sizeof(net), "%s", l->netdev);
		for (unsigned i = 0; i < l->addr_count && used < sizeof(net); i++)
			used += (size_t)snprintf(net + used, sizeof(net) - used, " %s/%u", l->addrs[i].ip,
						 l->addrs[i].prefix_len);
		if (!l->addr_count && used < sizeof(net))
			snprintf(net + used, sizeof(net) - used, " (no address)");
	} else {
		snprintf(net, sizeof(net), "no networking (%s)",
			 l->network_service ? "thunderbolt-net is not bound to the peer's network service"
					    : "the peer offers no network service");
	}
	snprintf(buf, len, "\"%s\" (%s), %s, %s, %s", l->peer_name[0] ? l->peer_name : l->device,
		 l->vendor_name[0] ? l->vendor_name : "unknown vendor", tether_tb_generation_name(l->generation),
		 speed, net);
	return buf;
}
