/* The tether command line: each subcommand is one entry of the table in
 * tether.c and one file (cmd_*.c); what several of them share (options,
 * reaching the server) is declared here. */
#ifndef TETHER_TOOL_H
#define TETHER_TOOL_H

#include <stdint.h>

#include "protocol/handshake.h"
#include "transport/thunderbolt.h"

/* Exit codes of every subcommand. */
enum tether_tool_exit {
	TETHER_EXIT_OK = 0,
	TETHER_EXIT_FAIL = 1,  /* server unreachable, refused, or a query failed */
	TETHER_EXIT_USAGE = 2, /* bad command line */
};

struct tether_tool_cmd {
	const char *name;
	const char *summary; /* one line for `tether --help` */
	/* @argv[0] is the subcommand's name; returns an enum tether_tool_exit. */
	int (*run)(int argc, char **argv);
};

/* Options every subcommand that talks to a server accepts. */
struct tether_tool_opts {
	/* --server, else TETHER_SERVER; NULL: located as the ICD does
	 * (transport/locate.h) by tether_tool_reach(), which sets it. */
	const char *server;
	int help;           /* -h / --help was given */
};

/**
 * tether_tool_parse_opts() - parse --server ADDR / --server=ADDR and --help
 * Prints what is wrong to stderr.
 * Return: 0, or -EINVAL for an unknown option or a missing value.
 */
int tether_tool_parse_opts(int argc, char **argv, struct tether_tool_opts *out);

/* A server reached and greeted, with how long each step took. */
struct tether_tool_probe {
	struct tether_handshake_result hs;
	int tls;               /* the connection was TLS to the paired server */
	char cipher[64];
	uint64_t connect_ns;   /* tether_conn_connect() */
	uint64_t handshake_ns; /* HELLO sent to WELCOME checked: one round trip */
	char peer[300];        /* the address connected to, "10.5.0.1:7380" */
	const char *how;       /* how the server was chosen: "--server", "located on DNS-SD"... */
};

/**
 * tether_tool_probe() - connect to @addr, shake hands, close again
 * @out: filled on success; free with tether_tool_probe_free()
 * Explains any failure on stderr, prefixed "tether @cmd:".
 * Return: 0 or the negative errno of the step that failed.
 */
int tether_tool_probe(const char *cmd, const char *addr, struct tether_tool_probe *out);

/** tether_tool_probe_free() - release what tether_tool_probe() allocated. */
void tether_tool_probe_free(struct tether_tool_probe *p);

/**
 * tether_tool_reach() - probe the server @opts names, or locate one
 * With opts->server NULL, tries the cached server, DNS-SD and the default
 * as the ICD does, and sets opts->server to the one that answered.
 * Return: 0 or a negative errno (explained on stderr).
 */
int tether_tool_reach(const char *cmd, struct tether_tool_opts *opts, struct tether_tool_probe *out);

/**
 * tether_tool_link_of_peer() - the Thunderbolt link a connection's peer is reached over
 * @peer: "10.5.0.1:7380" or "[fe80::1%thunderbolt0]:7380" (tether_conn_peer())
 * Return: the index in @links, or -1.
 */
int tether_tool_link_of_peer(const struct tether_tb_links *links, const char *peer);

/**
 * tether_tool_list_gpus() - print the physical devices the Vulkan loader shows
 * Meant to run with the loader pointed at the tether ICD, so the devices are
 * the server's. Return: TETHER_EXIT_OK or TETHER_EXIT_FAIL (reason on stderr).
 */
int tether_tool_list_gpus(void);

int tether_cmd_info(int argc, char **argv);
int tether_cmd_status(int argc, char **argv);
int tether_cmd_discover(int argc, char **argv);
int tether_cmd_bench_link(int argc, char **argv);
int tether_cmd_pair(int argc, char **argv);
int tether_cmd_unpair(int argc, char **argv);
int tether_cmd_paired(int argc, char **argv);

#endif /* TETHER_TOOL_H */
