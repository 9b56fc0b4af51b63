/*
 * Where a session's time goes, per command: with TETHER_PROFILE=1 in
 * tetherd's environment each command's execution (decode, checks, driver
 * call, reply) is timed, and the session's end logs the commands that took
 * the most time, with counts and mean cost. Off, it costs one branch per
 * command.
 */
#ifndef TETHER_SERVER_PROFILE_H
#define TETHER_SERVER_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

struct tether_srv_profile;

/* NULL (profiling off) unless TETHER_PROFILE is set to something but 0. */
struct tether_srv_profile *tether_srv_profile_create(void);
void tether_srv_profile_add(struct tether_srv_profile *p, uint32_t id, uint64_t ns);
/* Logs the @top most expensive commands (info level) for @peer, and frees. */
void tether_srv_profile_finish(struct tether_srv_profile *p, const char *peer, unsigned top);

#endif
