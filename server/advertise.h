/* tetherd on DNS-SD (docs/LINK.md): a small process of its own advertises
 * _tether._tcp with a TXT record (GPU, protocol, server name, pairing) for
 * as long as tetherd runs. Its own process, so that no session process
 * forked by tetherd inherits the connection to avahi-daemon (which would
 * keep a dead tetherd advertised), and so that the Vulkan driver it asks
 * for the GPU's name is never loaded into the listening process. */
#ifndef TETHER_SERVER_ADVERTISE_H
#define TETHER_SERVER_ADVERTISE_H

#include <sys/types.h>

#include "server/session.h"

/**
 * tether_srv_advertise_start() - start advertising this tetherd
 * @bound: the listener's bound address (tether_listener_address())
 * @opts: the server name and --device, as sessions use them
 * @listen_fd: the listening socket, closed in the advertiser
 *
 * Only TCP listeners reachable from elsewhere are advertised: on every
 * interface for a wildcard address, on the interface that holds a specific
 * one; a loopback or unix: listener is not (said at info level). Failures
 * to reach avahi-daemon are logged once by the advertiser and do not
 * concern tetherd, which serves on.
 * Return: the advertiser's pid, 0 when nothing is advertised, or a
 * negative errno (fork failed).
 */
pid_t tether_srv_advertise_start(const char *bound, const struct tether_srv_options *opts, int listen_fd);

/**
 * tether_srv_advertise_stop() - withdraw the advertisement (async-signal-safe)
 * The advertiser also ends by itself when tetherd dies.
 */
void tether_srv_advertise_stop(pid_t pid);

#endif /* TETHER_SERVER_ADVERTISE_H */
