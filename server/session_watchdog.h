/*
 * A session's watchdog: the session thread can be stuck inside the driver
 * (a vkQueueSubmit that waits for a semaphore the client will never signal
 * blocks on some drivers), where it cannot notice that its client is gone.
 * The watchdog does: once the client has hung up and the session has not
 * ended by itself within a grace period, it ends the session process. Each
 * session is its own process (with --once, tetherd ends with its session
 * anyway), so nothing else is lost with it.
 */
#ifndef TETHER_SERVER_SESSION_WATCHDOG_H
#define TETHER_SERVER_SESSION_WATCHDOG_H

struct tether_srv_watchdog;

/* How long a session may go on after its client hung up. */
#define TETHER_SESSION_GRACE_MS 5000

/**
 * tether_srv_watchdog_start() - watch the client's connection @fd
 * Return: 0 or negative errno (the session then runs unwatched).
 */
int tether_srv_watchdog_start(int fd, const char *peer, struct tether_srv_watchdog **out);

/** tether_srv_watchdog_stop() - the session ended by itself; NULL is ignored */
void tether_srv_watchdog_stop(struct tether_srv_watchdog *w);

#endif
