/*
 * What one session may take from the server: device memory (allocations and
 * swapchain images), live objects, and the size of one message. A session
 * that asks for more memory than its limit gets VK_ERROR_OUT_OF_DEVICE_MEMORY;
 * the ICD learns the limits (protocol/limits.h) and answers an object over
 * the limit with VK_ERROR_OUT_OF_HOST_MEMORY itself, so a client that still
 * sends one is not following the protocol and loses its session.
 */
#ifndef TETHER_SERVER_LIMITS_H
#define TETHER_SERVER_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/message.h"
#include "protocol/stream.h"

struct tether_srv_session;

/* Defaults of tetherd's --max-objects and --max-message. */
#define TETHER_SRV_DEFAULT_MAX_OBJECTS (1u << 20)
#define TETHER_SRV_DEFAULT_MAX_MESSAGE TETHER_MSG_MAX_SIZE

struct tether_srv_limits {
	uint64_t memory_bytes;  /* 0: only the driver's */
	uint64_t objects;
	uint64_t message_bytes; /* TETHER_MSG_MIN_LIMIT .. TETHER_MSG_MAX_SIZE */
};

/**
 * tether_srv_limits_option() - apply one tetherd command-line limit
 * @name: "--max-memory", "--max-objects" or "--max-message"
 * Return: 1 when @name is a limit option and @value is good, 0 when @name is
 * not a limit option, -EINVAL (with a message on stderr) for a bad value.
 */
int tether_srv_limits_option(struct tether_srv_limits *l, const char *name, const char *value);

/**
 * tether_srv_memory_charge() - account @bytes of device memory to the session
 * Return: false (logged) when that would pass the session's memory limit.
 */
bool tether_srv_memory_charge(struct tether_srv_session *s, uint64_t bytes, const char *what);
void tether_srv_memory_discharge(struct tether_srv_session *s, uint64_t bytes);

/* False (logged) when @count more live objects would pass the limit. */
bool tether_srv_objects_allowed(struct tether_srv_session *s, uint64_t count);

/* TETHER_CMD_SESSION_LIMITS: the reply says the limits and what is used. */
void tether_srv_session_limits(struct tether_srv_session *s, struct tether_encoder *r);

#endif
