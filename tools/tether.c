/* tether: the command line for a tether client machine. main() picks a
 * subcommand from the table below; each lives in its own cmd_*.c file.
 * Exit status: 0 success, 1 failure, 2 bad usage (enum tether_tool_exit). */
#include "tools/tool.h"

#include <stdio.h>
#include <string.h>

#ifndef TETHER_VERSION
#error "TETHER_VERSION must be set by the build (tools/CMakeLists.txt)"
#endif

static const struct tether_tool_cmd commands[] = {
	{"info", "show the server, its protocol and (through the ICD) its GPUs", tether_cmd_info},
	{"status", "check that tetherd is reachable, time a round trip, show the links", tether_cmd_status},
	{"discover", "list the tetherd servers advertised on DNS-SD", tether_cmd_discover},
	{"bench-link", "measure round trips and throughput to tetherd", tether_cmd_bench_link},
	{"pair", "pair with a tetherd once, with the PIN it shows", tether_cmd_pair},
	{"unpair", "forget a paired tetherd", tether_cmd_unpair},
	{"paired", "list the servers this client is paired with", tether_cmd_paired},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: tether [--help | --version] COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n`tether COMMAND --help` describes a command's options.\n"
		"TETHER_SERVER sets the default server address (without it, the server is\n"
		"located as the ICD does: the cached last server, DNS-SD, the default);\n"
		"TETHER_LOG=error|warn|info|debug the log level.\n");
}

static const struct tether_tool_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("tether %s\n", TETHER_VERSION);
		return TETHER_EXIT_OK;
	}
	const struct tether_tool_cmd *cmd = find_command(name);
	if (!cmd) {
		fprintf(stderr, "tether: unknown command '%s'\n", name);
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
