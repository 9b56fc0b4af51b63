/*
 * The per-session object table: ids to handles with their type, and back from
 * real handles to ids (replies, bind infos and frees name real handles),
 * ownership by instance and device, and the session's object and memory
 * limits.
 */
#include <stdio.h>
#include <string.h>

#include "server/session.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                              \
		}                                                              \
	} while (0)

int main(void)
{
	struct tether_srv_options opts = {.limits = {.objects = 1u << 30}};
	struct tether_srv_session s;
	memset(&s, 0, sizeof(s));
	s.opts = &opts;
	tether_srv_objects_init(&s.objects);
	const uint64_t n = 100000;

	for (uint64_t i = 1; i <= n; i++)
		CHECK(tether_srv_object_add(&s, VK_OBJECT_TYPE_BUFFER, i, 0x1000 + i * 16, 0));
	uint64_t ids[3] = {n + 1, n + 2, n + 2};
	CHECK(!tether_srv_objects_fresh(&s, ids, 3)); /* repeated id */
	CHECK(!strcmp(tether_srv_objects_refuse_new(&s, ids, 3), "new object id repeated in one call"));
	ids[2] = 7;
	CHECK(!tether_srv_objects_fresh(&s, ids, 3)); /* id in use */
	CHECK(!strcmp(tether_srv_objects_refuse_new(&s, ids, 3), "new object id already in use"));
	ids[2] = 0;
	CHECK(!strcmp(tether_srv_objects_refuse_new(&s, ids, 3), "new object id is 0 or reserved"));
	CHECK(!strcmp(tether_srv_objects_refuse_new(&s, NULL, 3), "NULL array for the new objects"));
	opts.limits.objects = n + 2;
	ids[2] = n + 3;
	CHECK(!strcmp(tether_srv_objects_refuse_new(&s, ids, 3),
		      "over the session's limit of live objects (--max-objects)"));
	opts.limits.objects = 1u << 30;
	CHECK(tether_srv_objects_fresh(&s, ids, 3) && !tether_srv_objects_refuse_new(&s, ids, 3));

	for (uint64_t i = 1; i <= n; i++) {
		struct tether_srv_object *o = tether_srv_object_find(&s.objects, i);
		CHECK(o && o->type == VK_OBJECT_TYPE_BUFFER && o->handle == 0x1000 + i * 16);
		CHECK(tether_srv_object_of_handle(&s, VK_OBJECT_TYPE_BUFFER, 0x1000 + i * 16) == o);
		/* A handle is found only as the type it was created as. */
		CHECK(!tether_srv_object_of_handle(&s, VK_OBJECT_TYPE_IMAGE, 0x1000 + i * 16));
	}

	/* Removing every other object forgets it both ways, keeps the rest. */
	for (uint64_t i = 1; i <= n; i += 2)
		tether_srv_object_remove(&s, VK_OBJECT_TYPE_BUFFER, i);
	for (uint64_t i = 1; i <= n; i++) {
		bool gone = i % 2;
		CHECK(!tether_srv_object_find(&s.objects, i) == gone);
		CHECK(!tether_srv_object_of_handle(&s, VK_OBJECT_TYPE_BUFFER, 0x1000 + i * 16) == gone);
	}
	/* Removing with the wrong type does nothing. */
	tether_srv_object_remove(&s, VK_OBJECT_TYPE_IMAGE, 2);
	CHECK(tether_srv_object_find(&s.objects, 2));

	/* A driver may hand out the same handle again (queues): the newest id wins. */
	CHECK(tether_srv_object_add(&s, VK_OBJECT_TYPE_QUEUE, 500001, 0xabc0, 0));
	CHECK(tether_srv_object_add(&s, VK_OBJECT_TYPE_QUEUE, 500002, 0xabc0, 0));
	CHECK(tether_srv_object_of_handle(&s, VK_OBJECT_TYPE_QUEUE, 0xabc0)->id == 500002);

	/* Pool children go with their pool, both ways. */
	for (uint64_t i = 0; i < 100; i++)
		CHECK(tether_srv_object_add(&s, VK_OBJECT_TYPE_DESCRIPTOR_SET, 600000 + i, 0x900000 + i * 8,
					    i < 50 ? 0x77 : 0x88));
	tether_srv_objects_remove_children(&s, VK_OBJECT_TYPE_DESCRIPTOR_SET, 0x77);
	for (uint64_t i = 0; i < 100; i++) {
		bool gone = i < 50;
		CHECK(!tether_srv_object_find(&s.objects, 600000 + i) == gone);
		CHECK(!tether_srv_object_of_handle(&s, VK_OBJECT_TYPE_DESCRIPTOR_SET, 0x900000 + i * 8) == gone);
	}

	/* Churn: creating and freeing many objects keeps both tables bounded. */
	for (uint64_t round = 0; round < 20; round++) {
		for (uint64_t i = 0; i < 10000; i++)
			CHECK(tether_srv_object_add(&s, VK_OBJECT_TYPE_FENCE, 1000000 + round * 10000 + i,
						    0x5000000 + (round * 10000 + i) * 8, 0));
		for (uint64_t i = 0; i < 10000; i++)
			tether_srv_object_remove(&s, VK_OBJECT_TYPE_FENCE, 1000000 + round * 10000 + i);
	}
	CHECK(s.objects.capacity <= 1u << 20 && s.objects.by_handle_capacity <= 1u << 20);

	/* The object limit counts live objects: new ids past it are refused. */
	opts.limits.objects = s.objects.live + 3;
	ids[0] = 2000001, ids[1] = 2000002, ids[2] = 2000003;
	CHECK(tether_srv_objects_fresh(&s, ids, 3));
	CHECK(tether_srv_object_add(&s, VK_OBJECT_TYPE_FENCE, 2000001, 0x7000000, 0));
	CHECK(!tether_srv_objects_fresh(&s, ids + 1, 3 - 1 + 1));
	CHECK(tether_srv_objects_fresh(&s, ids + 1, 2));
	tether_srv_object_remove(&s, VK_OBJECT_TYPE_FENCE, 2000001);
	opts.limits.objects = 1u << 30;

	/* Objects belong to the instance and device current when they were made;
	 * a device's objects go with it, and their memory leaves the account. */
	s.scope.set = true;
	s.scope.instance = 3000000, s.scope.device = 0;
	CHECK(tether_srv_object_add(&s, VK_OBJECT_TYPE_INSTANCE, 3000000, 0x8000000, 0));
	struct tether_srv_object *dev = tether_srv_object_add(&s, VK_OBJECT_TYPE_DEVICE, 3000001, 0x8000010, 0);
	CHECK(dev && dev->instance == 3000000 && dev->device == 3000001);
	s.scope.device = 3000001;
	for (uint64_t i = 0; i < 10; i++) {
		struct tether_srv_object *o =
			tether_srv_object_add(&s, VK_OBJECT_TYPE_DEVICE_MEMORY, 3000100 + i, 0x8100000 + i * 8, 0);
		CHECK(o && o->instance == 3000000 && o->device == 3000001);
		CHECK(tether_srv_memory_charge(&s, 1000, "test"));
		o->bytes = 1000;
	}
	CHECK(s.memory_used == 10000);
	opts.limits.memory_bytes = 10500;
	CHECK(!tether_srv_memory_charge(&s, 501, "test") && s.memory_used == 10000);
	CHECK(tether_srv_memory_charge(&s, 500, "test") && s.memory_used == 10500);
	tether_srv_memory_discharge(&s, 500);
	tether_srv_object_remove(&s, VK_OBJECT_TYPE_DEVICE_MEMORY, 3000100);
	CHECK(s.memory_used == 9000);
	uint64_t before = s.objects.live;
	tether_srv_objects_remove_owned(&s, VK_OBJECT_TYPE_DEVICE, 3000001);
	CHECK(s.objects.live == before - 9 && s.memory_used == 0);
	CHECK(tether_srv_object_find(&s.objects, 3000001) && !tether_srv_object_find(&s.objects, 3000105));
	tether_srv_objects_remove_owned(&s, VK_OBJECT_TYPE_INSTANCE, 3000000);
	CHECK(!tether_srv_object_find(&s.objects, 3000001) && tether_srv_object_find(&s.objects, 3000000));
	printf("object table: %llu live, %llu slots, %llu reverse slots\n", (unsigned long long)s.objects.live,
	       (unsigned long long)s.objects.capacity, (unsigned long long)s.objects.by_handle_capacity);
	tether_srv_objects_free(&s.objects);
	return 0;
}
