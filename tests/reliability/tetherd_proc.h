/*
 * A real tetherd for a cmocka test: started on a loopback TCP port with the
 * options a test asks for, its log (every session process writes there too)
 * read back to check what tetherd said, and stopped only after each of its
 * session processes has ended, so that their sanitizer and leak reports are
 * in the log before the test looks for them.
 */
#ifndef TETHER_TESTS_TETHERD_PROC_H
#define TETHER_TESTS_TETHERD_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How long anything tetherd is expected to do may take (sanitizer builds
 * under a loaded 2-core CI machine included). */
#define TETHERD_WAIT_MS 20000

struct tetherd {
	pid_t pid;
	char dir[128];
	char log[160];
	char addr[64]; /* "127.0.0.1:PORT" */
};

/**
 * tetherd_start() - start $TETHERD on 127.0.0.1:0 and wait until it listens
 * @args: extra command-line arguments, NULL-terminated (may be NULL)
 *
 * The Vulkan driver is the environment's (VK_DRIVER_FILES, set by CTest).
 * Leak checking is on for tetherd and its sessions in sanitizer builds
 * (tests/tetherd_leak_env.h), even where the test itself runs with it off.
 */
void tetherd_start(struct tetherd *t, const char *const *args);

/** tetherd_alive() - whether the daemon (not a session) is still running. */
bool tetherd_alive(const struct tetherd *t);

/**
 * tetherd_expect_log() - wait for a log line holding both @who and @text
 * @who: the peer address a session's lines start with, or NULL for any line
 *
 * Fails the test (printing the log) when no such line comes within
 * TETHERD_WAIT_MS: session processes write their lines asynchronously.
 */
void tetherd_expect_log(const struct tetherd *t, const char *who, const char *text);

/** tetherd_log_has() - whether a line holding @who (or any, if NULL) and @text is there now. */
bool tetherd_log_has(const struct tetherd *t, const char *who, const char *text);

/** tetherd_session_pid() - the process of tetherd's only session (fails if not one). */
pid_t tetherd_session_pid(const struct tetherd *t);

/**
 * tetherd_stop() - end tetherd once its sessions have ended
 *
 * The caller has closed every connection. Waits for the session processes
 * to exit (they check for leaks on their way out), fails the test if the
 * log holds a sanitizer or leak report or the daemon died, then sends
 * SIGTERM and removes the log.
 */
void tetherd_stop(struct tetherd *t);

/**
 * tetherd_teardown() - cmocka teardown: stop the tetherd a failed test left
 * (its log is kept for a look: the failure printed where it is).
 */
int tetherd_teardown(void **state);

#endif
