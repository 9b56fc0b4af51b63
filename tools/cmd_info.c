/* `tether info`: who the server is (name, protocol, extensions in common)
 * and, when the Vulkan loader is pointed at the tether ICD, the server's GPUs
 * as this machine's applications will see them. */
#include "tools/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan_core.h>

#include "tether_wire.h"
#include "transport/platform/platform.h"

/* Loader variables that choose drivers (Vulkan-Loader's LoaderInterfaceArchitecture). */
static const char *const driver_env_vars[] = {
	"VK_DRIVER_FILES", "VK_ICD_FILENAMES", "VK_ADD_DRIVER_FILES",
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tether info [--server ADDR]\n"
		"Shows the tetherd server (name, protocol, common extensions) and, when\n"
		"the Vulkan loader is pointed at the tether ICD, the server's GPUs:\n"
		"  VK_DRIVER_FILES=PREFIX/share/vulkan/icd.d/tether_icd.json tether info\n"
		"  --server ADDR  HOST:PORT, [IPV6]:PORT or unix:PATH\n"
		"                 (default: $TETHER_SERVER, else located as the ICD does:\n"
		"                 the cached last server, DNS-SD, " TETHER_DEFAULT_LISTEN ")\n"
		"Exit status: 0 success, 1 server unreachable or a query failed, 2 bad usage.\n");
}

/* Whether the environment makes the loader load the tether ICD. A
 * system-wide install is found by the loader without this; those users see
 * the hint below and can still set VK_DRIVER_FILES. */
static int loader_selects_tether(void)
{
	for (size_t i = 0; i < sizeof(driver_env_vars) / sizeof(driver_env_vars[0]); i++) {
		const char *v = tether_getenv(driver_env_vars[i]);
		if (v && strstr(v, "tether"))
			return 1;
	}
	return 0;
}

/* The ICD reads TETHER_SERVER at vkCreateInstance: make it talk to the
 * server the handshake just reached. */
static int point_icd_at(const char *addr)
{
#ifdef _WIN32
	return _putenv_s("TETHER_SERVER", addr) ? -1 : 0;
#else
	return setenv("TETHER_SERVER", addr, 1);
#endif
}

static void print_vk_version(const char *label, uint32_t v)
{
	printf("%-12s%u.%u.%u\n", label, VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
	       VK_API_VERSION_PATCH(v));
}

static void print_server(const char *addr, const struct tether_tool_probe *p)
{
	const struct tether_handshake_result *hs = &p->hs;
	printf("%-12s%s (%s)\n", "server", addr, p->how);
	printf("%-12s%s\n", "name", hs->peer_name);
	printf("%-12s%u.%u (server %u.%u, this build %u.%u)\n", "protocol", TETHER_PROTOCOL_MAJOR,
	       (unsigned)hs->minor, (unsigned)hs->peer_major, (unsigned)hs->peer_minor,
	       TETHER_PROTOCOL_MAJOR, TETHER_PROTOCOL_MINOR);
	print_vk_version("server vk.h", hs->peer_vk_header_version);
	print_vk_version("our vk.h", VK_HEADER_VERSION_COMPLETE);
	printf("%-12s%u in common (this build carries %u)\n", "extensions", (unsigned)hs->ext_count,
	       (unsigned)tether_carried_extension_count);
	printf("%-12s%.3f ms\n", "round trip", p->handshake_ns / 1e6);
}

int tether_cmd_info(int argc, char **argv)
{
	struct tether_tool_opts opts;
	if (tether_tool_parse_opts(argc, argv, &opts) < 0) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (opts.help) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	struct tether_tool_probe p;
	if (tether_tool_reach("info", &opts, &p) < 0)
		return TETHER_EXIT_FAIL;
	print_server(opts.server, &p);
	tether_tool_probe_free(&p);
	if (!loader_selects_tether()) {
		printf("\nGPUs: not listed, the Vulkan loader is not pointed at the tether ICD.\n"
		       "  Run: VK_DRIVER_FILES=PREFIX/share/vulkan/icd.d/tether_icd.json tether info\n");
		return TETHER_EXIT_OK;
	}
	if (point_icd_at(opts.server) < 0) {
		fprintf(stderr, "tether info: cannot set TETHER_SERVER for the ICD\n");
		return TETHER_EXIT_FAIL;
	}
	printf("\n");
	fflush(stdout);
	return tether_tool_list_gpus();
}
