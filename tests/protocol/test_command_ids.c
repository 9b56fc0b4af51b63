/*
 * Command ids must never depend on registry order: each is the FNV-1a hash of
 * the command's name, so builds from different vk.xml versions agree on every
 * command they share. These tests recompute every id from its name.
 */
#include <stdio.h>
#include <string.h>

#include "protocol/memory_sync.h"
#include "tether_wire.h"

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 0x811C9DC5u;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x01000193u;
	}
	return h;
}

static int ids_are_name_hashes(void)
{
	int bad = 0;
	for (size_t i = 0; i < tether_command_count; i++) {
		const struct tether_command_info *c = &tether_commands[i];
		if (c->id != fnv1a(c->name)) {
			fprintf(stderr, "%s: id 0x%08x is not the hash of its name\n", c->name, c->id);
			bad++;
		}
		if (c->id < TETHER_RESERVED_ID_LIMIT) {
			fprintf(stderr, "%s: id 0x%08x is in tether's reserved range\n", c->name, c->id);
			bad++;
		}
		if (i && tether_commands[i - 1].id >= c->id) {
			fprintf(stderr, "%s: table not sorted or ids collide\n", c->name);
			bad++;
		}
		if (tether_command_find(c->id) != c) {
			fprintf(stderr, "%s: lookup by id fails\n", c->name);
			bad++;
		}
	}
	printf("%zu command ids checked\n", tether_command_count);
	return bad;
}

/* Known values: a change here means older peers would stop understanding us. */
static int ids_are_stable(void)
{
	static const struct {
		uint32_t id;
		const char *name;
	} known[] = {
		{TETHER_CMD_vkCreateBuffer, "vkCreateBuffer"},
		{TETHER_CMD_vkQueueSubmit, "vkQueueSubmit"},
		{TETHER_CMD_vkCmdDispatch, "vkCmdDispatch"},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].id != fnv1a(known[i].name))
			bad++;
	if (TETHER_CMD_vkCreateBuffer != 0x507f87ecu) {
		fprintf(stderr, "vkCreateBuffer's id changed: 0x%08x\n", TETHER_CMD_vkCreateBuffer);
		bad++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	if (!strcmp(argv[1], "command_ids_are_name_hashes"))
		return ids_are_name_hashes() ? 1 : 0;
	if (!strcmp(argv[1], "command_ids_are_stable"))
		return ids_are_stable() ? 1 : 0;
	fprintf(stderr, "unknown test %s\n", argv[1]);
	return 2;
}
