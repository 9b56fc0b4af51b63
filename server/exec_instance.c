/*
 * Instances, physical devices and devices on the server: these create the
 * dispatch tables every other command is executed through.
 */
#include "server/session.h"
#include "server/swapchain.h"

#include <string.h>

#include "tether_wire.h"
#include "transport/platform/log.h"

void tether_srv_vkCreateInstance(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkCreateInstance a = {0};
	tether_decode_cmd_vkCreateInstance(d, &a);
	const char *refused = d->fatal ? NULL : tether_srv_objects_refuse_new(s, a.pInstance_ids, 1);
	if (d->fatal || refused) {
		tether_decoder_fail(d, refused);
		return;
	}
	/* The client's loader may ask for portability enumeration, which concerns
	 * the client's drivers, not this server's: this server's loader decides. */
	VkInstanceCreateInfo info = *a.pCreateInfo;
	info.flags &= ~VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
	/* The ICD offers the carried instance extensions without asking (there is
	 * no session yet); all are queries promoted to Vulkan 1.1, so one this
	 * server's loader lacks is left out rather than failing the instance. */
	VkExtensionProperties *have = NULL;
	uint32_t n_have = 0;
	const char **names = tether_dec_alloc(d, info.enabledExtensionCount + 1u, sizeof(char *));
	if (s->global.EnumerateInstanceExtensionProperties(NULL, &n_have, NULL) >= 0)
		have = tether_dec_alloc(d, n_have + 1u, sizeof(*have));
	if (!names || !have || s->global.EnumerateInstanceExtensionProperties(NULL, &n_have, have) < 0) {
		tether_decoder_fail(d, "cannot list instance extensions");
		return;
	}
	uint32_t kept = 0;
	for (uint32_t i = 0; i < info.enabledExtensionCount; i++) {
		bool found = false;
		for (uint32_t j = 0; j < n_have && !found; j++)
			found = !strcmp(have[j].extensionName, info.ppEnabledExtensionNames[i]);
		if (found)
			names[kept++] = info.ppEnabledExtensionNames[i];
		else
			TETHER_LOGI("session", "instance extension %s is not on this server; left out",
				    info.ppEnabledExtensionNames[i]);
	}
	info.enabledExtensionCount = kept;
	info.ppEnabledExtensionNames = names;
	/* The ICD itself uses Vulkan 1.1 (vkGetDeviceQueue2, properties2) for
	 * applications asking for 1.0: the server's instance is at least 1.1. */
	VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO};
	if (info.pApplicationInfo)
		app = *info.pApplicationInfo;
	if (app.apiVersion < VK_API_VERSION_1_1)
		app.apiVersion = VK_API_VERSION_1_1;
	info.pApplicationInfo = &app;
	a.result = s->global.CreateInstance(&info, NULL, a.pInstance);
	if (a.result != VK_SUCCESS)
		TETHER_LOGW("session", "vkCreateInstance failed on the server: VkResult %d", (int)a.result);
	if (a.result == VK_SUCCESS) {
		struct tether_srv_table *t = tether_srv_table_add(s, *a.pInstance);
		if (!t) {
			a.result = VK_ERROR_OUT_OF_HOST_MEMORY;
		} else {
			tether_srv_dispatch_load_instance(&t->dt, s->opts->get_instance_proc_addr, *a.pInstance);
			tether_srv_object_add(s, VK_OBJECT_TYPE_INSTANCE, a.pInstance_ids[0],
					      (uint64_t)(uintptr_t)*a.pInstance, 0);
		}
	}
	tether_encode_reply_vkCreateInstance(r, &a);
	tether_srv_reply_ready(s);
}

/* Live objects of the table, for loops that may remove the one they are at
 * (removing marks a slot; nothing moves). */
static bool live(struct tether_srv_session *s, const struct tether_srv_object *o)
{
	return o->id && tether_srv_object_find(&s->objects, o->id) == o;
}

/* Destroys the objects of @device (id @device_id) that the client left:
 * pools first (their command buffers and descriptor sets go with them),
 * memory last (resources bound to it are gone by then). Return: how many. */
static uint64_t destroy_leftovers(struct tether_srv_session *s, const struct tether_srv_dispatch *dt, VkDevice device,
				  uint64_t device_id)
{
	struct tether_srv_objects *t = &s->objects;
	uint64_t n = 0;
	for (int pass = 0; pass < 3; pass++) {
		for (uint64_t i = 0; i < t->capacity; i++) {
			struct tether_srv_object *o = &t->slots[i];
			if (!live(s, o) || o->device != device_id || o->id == device_id)
				continue;
			bool pool = o->type == VK_OBJECT_TYPE_COMMAND_POOL || o->type == VK_OBJECT_TYPE_DESCRIPTOR_POOL;
			int want = pool ? 0 : o->type == VK_OBJECT_TYPE_DEVICE_MEMORY ? 2 : 1;
			if (pass != want || !tether_srv_destroy_device_object(dt, device, o->type, o->handle))
				continue;
			tether_srv_object_remove(s, o->type, o->id);
			n++;
		}
	}
	return n;
}

/**
 * tether_srv_device_end() - destroy a device and whatever its client left on it
 * @device: its object in the session's table
 *
 * A client that destroys a device (or its instance, or leaves) with objects
 * still alive breaks "all child objects must be destroyed before the device"
 * (vkDestroyDevice), and the driver does not free them for it (lavapipe keeps
 * every one, device memory included): tetherd waits for the device and
 * destroys them first, so that neither the session's memory limit nor its
 * process's memory can be escaped that way.
 */
void tether_srv_device_end(struct tether_srv_session *s, struct tether_srv_object *device)
{
	VkDevice handle = (VkDevice)(uintptr_t)device->handle;
	uint64_t id = device->id;
	const struct tether_srv_dispatch *dt = tether_srv_dispatch_of(s, handle);
	if (!dt) { /* never: a device's object is added with its table */
		tether_srv_objects_remove_owned(s, VK_OBJECT_TYPE_DEVICE, id);
		tether_srv_object_remove(s, VK_OBJECT_TYPE_DEVICE, id);
		return;
	}
	/* Nothing may be in use by the GPU when it is destroyed; a wait nobody
	 * will end is bounded by the session watchdog. */
	if (dt->DeviceWaitIdle)
		dt->DeviceWaitIdle(handle);
	tether_srv_swapchains_release_device(s, handle);
	tether_srv_memory_release_device(s, handle);
	uint64_t left = destroy_leftovers(s, dt, handle, id);
	if (left)
		TETHER_LOGI("session", "%s: destroyed %llu objects the client left on device %llu",
			    tether_conn_peer(s->conn), (unsigned long long)left, (unsigned long long)id);
	dt->DestroyDevice(handle, NULL);
	tether_srv_objects_remove_owned(s, VK_OBJECT_TYPE_DEVICE, id);
	tether_srv_object_remove(s, VK_OBJECT_TYPE_DEVICE, id);
}

/**
 * tether_srv_instance_end() - destroy an instance, its devices first
 * (vkDestroyInstance: "all child objects must have been destroyed")
 */
void tether_srv_instance_end(struct tether_srv_session *s, struct tether_srv_object *instance)
{
	struct tether_srv_objects *t = &s->objects;
	VkInstance handle = (VkInstance)(uintptr_t)instance->handle;
	uint64_t id = instance->id;
	for (uint64_t i = 0; i < t->capacity; i++) {
		struct tether_srv_object *o = &t->slots[i];
		if (live(s, o) && o->type == VK_OBJECT_TYPE_DEVICE && o->instance == id)
			tether_srv_device_end(s, o);
	}
	const struct tether_srv_dispatch *dt = tether_srv_dispatch_of(s, handle);
	if (dt && dt->DestroyInstance)
		dt->DestroyInstance(handle, NULL);
	tether_srv_objects_remove_owned(s, VK_OBJECT_TYPE_INSTANCE, id);
	tether_srv_object_remove(s, VK_OBJECT_TYPE_INSTANCE, id);
}

void tether_srv_instances_end_all(struct tether_srv_session *s)
{
	struct tether_srv_objects *t = &s->objects;
	for (uint64_t i = 0; i < t->capacity; i++) {
		struct tether_srv_object *o = &t->slots[i];
		if (live(s, o) && o->type == VK_OBJECT_TYPE_INSTANCE)
			tether_srv_instance_end(s, o);
	}
}

void tether_srv_vkDestroyInstance(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkDestroyInstance a = {0};
	tether_decode_cmd_vkDestroyInstance(d, &a);
	if (d->fatal || !a.instance)
		return;
	tether_srv_instance_end(s, tether_srv_object_find(&s->objects, a.instance_id));
}

/*
 * The client names the physical devices with ids it chose. With --device N
 * only that GPU is shown.
 */
void tether_srv_vkEnumeratePhysicalDevices(struct tether_srv_session *s, struct tether_decoder *d,
					   struct tether_encoder *r)
{
	struct tether_args_vkEnumeratePhysicalDevices a = {0};
	tether_decode_cmd_vkEnumeratePhysicalDevices(d, &a);
	if (d->fatal)
		return;
	if (!a.pPhysicalDeviceCount) {
		tether_decoder_fail(d, "vkEnumeratePhysicalDevices without a count");
		return;
	}
	uint32_t cap = *a.pPhysicalDeviceCount;
	const char *refused = a.pPhysicalDevices ? tether_srv_objects_refuse_new(s, a.pPhysicalDevices_ids, cap) : NULL;
	if (refused) {
		tether_decoder_fail(d, refused);
		return;
	}
	const struct tether_srv_dispatch *dt = tether_srv_dispatch_of(s, a.instance);
	uint32_t n = 0;
	a.result = dt->EnumeratePhysicalDevices(a.instance, &n, NULL);
	VkPhysicalDevice *all = tether_dec_alloc(d, n ? n : 1, sizeof(*all));
	if (a.result >= 0 && all)
		a.result = dt->EnumeratePhysicalDevices(a.instance, &n, all);
	if (!all)
		return;
	if (s->opts->device_index >= 0) {
		if ((uint32_t)s->opts->device_index < n) {
			all[0] = all[s->opts->device_index];
			n = 1;
		} else {
			n = 0;
		}
	}
	if (a.pPhysicalDevices) {
		uint32_t k = n < cap ? n : cap;
		for (uint32_t i = 0; i < k; i++) {
			struct tether_srv_table *t = tether_srv_table_of(s, all[i]);
			if (!t) /* a loader that keys physical devices apart from their instance */
				t = tether_srv_table_add(s, all[i]), t->dt = dt ? *dt : t->dt;
			tether_srv_object_add(s, VK_OBJECT_TYPE_PHYSICAL_DEVICE, a.pPhysicalDevices_ids[i],
					      (uint64_t)(uintptr_t)all[i], 0);
			a.pPhysicalDevices[i] = all[i];
		}
		a.result = k < n ? VK_INCOMPLETE : a.result;
		n = k;
	}
	*a.pPhysicalDeviceCount = n;
	tether_encode_reply_vkEnumeratePhysicalDevices(r, &a);
	tether_srv_reply_ready(s);
}

void tether_srv_vkCreateDevice(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkCreateDevice a = {0};
	tether_decode_cmd_vkCreateDevice(d, &a);
	const char *refused = d->fatal ? NULL : tether_srv_objects_refuse_new(s, a.pDevice_ids, 1);
	if (d->fatal || refused) {
		tether_decoder_fail(d, refused);
		return;
	}
	const struct tether_srv_dispatch *idt = tether_srv_dispatch_of(s, a.physicalDevice);
	a.result = idt->CreateDevice(a.physicalDevice, a.pCreateInfo, NULL, a.pDevice);
	if (a.result == VK_SUCCESS) {
		struct tether_srv_table *t = tether_srv_table_add(s, *a.pDevice);
		if (!t) {
			a.result = VK_ERROR_OUT_OF_HOST_MEMORY;
		} else {
			/* Instance-level entries stay; device-level ones come from the device. */
			t->dt = *idt;
			t->physical = a.physicalDevice;
			tether_srv_dispatch_load_device(&t->dt, s->opts->get_device_proc_addr, *a.pDevice);
			tether_srv_object_add(s, VK_OBJECT_TYPE_DEVICE, a.pDevice_ids[0],
					      (uint64_t)(uintptr_t)*a.pDevice, 0);
		}
	}
	tether_encode_reply_vkCreateDevice(r, &a);
	tether_srv_reply_ready(s);
}

void tether_srv_vkDestroyDevice(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkDestroyDevice a = {0};
	tether_decode_cmd_vkDestroyDevice(d, &a);
	if (d->fatal || !a.device)
		return;
	tether_srv_device_end(s, tether_srv_object_find(&s->objects, a.device_id));
}
