/*
 * Looking up a command's name and kind by its wire id (for logs and checks).
 */
#include "tether_wire.h"

const struct tether_command_info *tether_command_find(uint32_t id)
{
	size_t lo = 0, hi = tether_command_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tether_commands[mid].id == id)
			return &tether_commands[mid];
		if (tether_commands[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
