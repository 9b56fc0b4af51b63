/*
 * Pools on the server: objects allocated from a pool are forgotten with it,
 * so an id of a freed command buffer or descriptor set never reaches the
 * driver again.
 */
#include "server/session.h"

#include "tether_wire.h"

void tether_srv_vkFreeCommandBuffers(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkFreeCommandBuffers a = {0};
	tether_decode_cmd_vkFreeCommandBuffers(d, &a);
	if (d->fatal)
		return;
	tether_srv_dispatch_of(s, a.device)->FreeCommandBuffers(a.device, a.commandPool, a.commandBufferCount,
								a.pCommandBuffers);
	for (uint32_t i = 0; i < a.commandBufferCount; i++) {
		struct tether_srv_object *o = tether_srv_object_of_handle(s, VK_OBJECT_TYPE_COMMAND_BUFFER,
									  (uint64_t)(uintptr_t)a.pCommandBuffers[i]);
		if (o)
			tether_srv_object_remove(s, o->type, o->id);
	}
}

void tether_srv_vkDestroyCommandPool(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkDestroyCommandPool a = {0};
	tether_decode_cmd_vkDestroyCommandPool(d, &a);
	if (d->fatal || !a.commandPool)
		return;
	tether_srv_dispatch_of(s, a.device)->DestroyCommandPool(a.device, a.commandPool, NULL);
	tether_srv_objects_remove_children(s, VK_OBJECT_TYPE_COMMAND_BUFFER, (uint64_t)(uintptr_t)a.commandPool);
	tether_srv_object_remove(s, VK_OBJECT_TYPE_COMMAND_POOL, a.commandPool_id);
}

void tether_srv_vkResetCommandPool(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkResetCommandPool a = {0};
	tether_decode_cmd_vkResetCommandPool(d, &a);
	if (d->fatal)
		return;
	a.result = tether_srv_dispatch_of(s, a.device)->ResetCommandPool(a.device, a.commandPool, a.flags);
	if (a.result < 0)
		tether_srv_async_error(s, "vkResetCommandPool", a.result);
}

void tether_srv_vkFreeDescriptorSets(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkFreeDescriptorSets a = {0};
	tether_decode_cmd_vkFreeDescriptorSets(d, &a);
	if (d->fatal)
		return;
	a.result = tether_srv_dispatch_of(s, a.device)->FreeDescriptorSets(a.device, a.descriptorPool,
									   a.descriptorSetCount, a.pDescriptorSets);
	for (uint32_t i = 0; i < a.descriptorSetCount; i++) {
		struct tether_srv_object *o = tether_srv_object_of_handle(s, VK_OBJECT_TYPE_DESCRIPTOR_SET,
									  (uint64_t)(uintptr_t)a.pDescriptorSets[i]);
		if (o)
			tether_srv_object_remove(s, o->type, o->id);
	}
}

void tether_srv_vkDestroyDescriptorPool(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkDestroyDescriptorPool a = {0};
	tether_decode_cmd_vkDestroyDescriptorPool(d, &a);
	if (d->fatal || !a.descriptorPool)
		return;
	tether_srv_dispatch_of(s, a.device)->DestroyDescriptorPool(a.device, a.descriptorPool, NULL);
	tether_srv_objects_remove_children(s, VK_OBJECT_TYPE_DESCRIPTOR_SET, (uint64_t)(uintptr_t)a.descriptorPool);
	tether_srv_object_remove(s, VK_OBJECT_TYPE_DESCRIPTOR_POOL, a.descriptorPool_id);
}

void tether_srv_vkResetDescriptorPool(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)
{
	struct tether_args_vkResetDescriptorPool a = {0};
	tether_decode_cmd_vkResetDescriptorPool(d, &a);
	if (d->fatal)
		return;
	a.result = tether_srv_dispatch_of(s, a.device)->ResetDescriptorPool(a.device, a.descriptorPool, a.flags);
	tether_srv_objects_remove_children(s, VK_OBJECT_TYPE_DESCRIPTOR_SET, (uint64_t)(uintptr_t)a.descriptorPool);
}
