/*
 * Descriptor update templates. The layout of pData is only known to the
 * client, so a template update is turned into the equivalent
 * vkUpdateDescriptorSets / vkCmdPushDescriptorSetKHR writes here
 * ("Descriptor Update Templates": an update through a template is the same
 * as the writes its entries describe).
 */
#include "icd/icd.h"

#include <stdlib.h>

#include "tether_icd_entrypoints.h"
#include "tether_wire.h"

struct tether_icd_update_template {
	uint64_t id;
	uint32_t entry_count;
	VkDescriptorUpdateTemplateEntry *entries;
	VkPipelineBindPoint bind_point; /* push descriptor templates only */
	struct tether_icd_update_template *next;
};

VKAPI_ATTR VkResult VKAPI_CALL tether_icd_CreateDescriptorUpdateTemplate(
	VkDevice device, const VkDescriptorUpdateTemplateCreateInfo *pCreateInfo,
	const VkAllocationCallbacks *pAllocator, VkDescriptorUpdateTemplate *pDescriptorUpdateTemplate)
{
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	VkResult r = tether_icd_conn_reserve(dev->base.conn, 1, "vkCreateDescriptorUpdateTemplate");
	if (r != VK_SUCCESS)
		return r;
	struct tether_icd_update_template *t = calloc(1, sizeof(*t));
	uint32_t n = pCreateInfo->descriptorUpdateEntryCount;
	if (t)
		t->entries = calloc(n ? n : 1, sizeof(*t->entries));
	if (!t || !t->entries) {
		free(t);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	memcpy(t->entries, pCreateInfo->pDescriptorUpdateEntries, n * sizeof(*t->entries));
	t->entry_count = n;
	t->bind_point = pCreateInfo->pipelineBindPoint;
	t->id = tether_icd_new_id();
	*pDescriptorUpdateTemplate = (VkDescriptorUpdateTemplate)(uintptr_t)t->id;
	struct tether_icd_conn *c = dev->base.conn;
	tether_encode_cmd_vkCreateDescriptorUpdateTemplate(tether_icd_conn_lock(c), device, pCreateInfo, NULL,
							   pDescriptorUpdateTemplate);
	tether_icd_conn_unlock_async(c);
	tether_mutex_lock(&dev->template_lock);
	t->next = dev->templates;
	dev->templates = t;
	tether_mutex_unlock(&dev->template_lock);
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_DestroyDescriptorUpdateTemplate(VkDevice device,
								      VkDescriptorUpdateTemplate descriptorUpdateTemplate,
								      const VkAllocationCallbacks *pAllocator)
{
	if (!descriptorUpdateTemplate)
		return;
	struct tether_icd_device *dev = (struct tether_icd_device *)device;
	struct tether_icd_conn *c = dev->base.conn;
	tether_encode_cmd_vkDestroyDescriptorUpdateTemplate(tether_icd_conn_lock(c), device,
							    descriptorUpdateTemplate, NULL);
	tether_icd_conn_unlock_async(c);
	tether_mutex_lock(&dev->template_lock);
	for (struct tether_icd_update_template **link = &dev->templates; *link; link = &(*link)->next) {
		if ((*link)->id == (uint64_t)(uintptr_t)descriptorUpdateTemplate) {
			struct tether_icd_update_template *t = *link;
			*link = t->next;
			free(t->entries);
			free(t);
			break;
		}
	}
	tether_mutex_unlock(&dev->template_lock);
}

void tether_icd_templates_destroy_all(struct tether_icd_device *dev)
{
	while (dev->templates) {
		struct tether_icd_update_template *t = dev->templates;
		dev->templates = t->next;
		free(t->entries);
		free(t);
	}
}

/* The writes a template update stands for, in memory owned by the caller. */
struct template_writes {
	VkWriteDescriptorSet *writes;
	VkWriteDescriptorSetInlineUniformBlock *inline_blocks;
	void *infos;
	uint32_t count;
};

static void template_writes_free(struct template_writes *w)
{
	free(w->writes);
	free(w->inline_blocks);
	free(w->infos);
}

enum info_kind { INFO_NONE, INFO_IMAGE, INFO_BUFFER, INFO_TEXEL };

static enum info_kind info_kind(VkDescriptorType type)
{
	switch (type) {
	case VK_DESCRIPTOR_TYPE_SAMPLER:
	case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
	case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
	case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
	case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
		return INFO_IMAGE;
	case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
	case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
	case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
	case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
		return INFO_BUFFER;
	case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
	case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
		return INFO_TEXEL;
	default:
		return INFO_NONE;
	}
}

static size_t info_size(VkDescriptorType type)
{
	static const size_t sizes[] = {
		[INFO_NONE] = 0,
		[INFO_IMAGE] = sizeof(VkDescriptorImageInfo),
		[INFO_BUFFER] = sizeof(VkDescriptorBufferInfo),
		[INFO_TEXEL] = sizeof(VkBufferView),
	};
	return sizes[info_kind(type)];
}

static VkResult build_writes(struct tether_icd_device *dev, VkDescriptorUpdateTemplate handle,
			     VkDescriptorSet set, const void *pData, struct template_writes *w,
			     VkPipelineBindPoint *bind_point)
{
	memset(w, 0, sizeof(*w));
	tether_mutex_lock(&dev->template_lock);
	struct tether_icd_update_template *t = dev->templates;
	while (t && t->id != (uint64_t)(uintptr_t)handle)
		t = t->next;
	tether_mutex_unlock(&dev->template_lock);
	if (!t)
		return TETHER_ERR("icd", VK_ERROR_UNKNOWN, "unknown descriptor update template");
	*bind_point = t->bind_point;
	size_t bytes = 0;
	for (uint32_t i = 0; i < t->entry_count; i++)
		bytes += info_size(t->entries[i].descriptorType) * t->entries[i].descriptorCount;
	w->writes = calloc(t->entry_count ? t->entry_count : 1, sizeof(*w->writes));
	w->inline_blocks = calloc(t->entry_count ? t->entry_count : 1, sizeof(*w->inline_blocks));
	w->infos = calloc(bytes ? bytes : 1, 1);
	if (!w->writes || !w->inline_blocks || !w->infos) {
		template_writes_free(w);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	uint8_t *info = w->infos;
	for (uint32_t i = 0; i < t->entry_count; i++) {
		const VkDescriptorUpdateTemplateEntry *en = &t->entries[i];
		VkWriteDescriptorSet *wr = &w->writes[w->count++];
		*wr = (VkWriteDescriptorSet){
			.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
			.dstSet = set,
			.dstBinding = en->dstBinding,
			.dstArrayElement = en->dstArrayElement,
			.descriptorCount = en->descriptorCount,
			.descriptorType = en->descriptorType,
		};
		const uint8_t *src = (const uint8_t *)pData + en->offset;
		size_t size = info_size(en->descriptorType);
		if (en->descriptorType == VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK) {
			/* descriptorCount and dstArrayElement count bytes here. */
			w->inline_blocks[i] = (VkWriteDescriptorSetInlineUniformBlock){
				.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_INLINE_UNIFORM_BLOCK,
				.dataSize = en->descriptorCount,
				.pData = src,
			};
			wr->pNext = &w->inline_blocks[i];
			continue;
		}
		if (!size) {
			w->count--; /* a type tether does not carry: never reached with carried extensions */
			continue;
		}
		for (uint32_t j = 0; j < en->descriptorCount; j++)
			memcpy(info + j * size, src + j * en->stride, size);
		if (info_kind(en->descriptorType) == INFO_IMAGE)
			wr->pImageInfo = (const VkDescriptorImageInfo *)info;
		else if (info_kind(en->descriptorType) == INFO_BUFFER)
			wr->pBufferInfo = (const VkDescriptorBufferInfo *)info;
		else
			wr->pTexelBufferView = (const VkBufferView *)info;
		info += size * en->descriptorCount;
	}
	return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL tether_icd_UpdateDescriptorSetWithTemplate(VkDevice device, VkDescriptorSet descriptorSet,
								      VkDescriptorUpdateTemplate descriptorUpdateTemplate,
								      const void *pData)
{
	struct template_writes w;
	VkPipelineBindPoint bind_point;
	if (build_writes((struct tether_icd_device *)device, descriptorUpdateTemplate, descriptorSet, pData, &w,
			 &bind_point))
		return;
	tether_icd_UpdateDescriptorSets(device, w.count, w.writes, 0, NULL);
	template_writes_free(&w);
}

VKAPI_ATTR void VKAPI_CALL tether_icd_CmdPushDescriptorSetWithTemplateKHR(VkCommandBuffer commandBuffer,
									  VkDescriptorUpdateTemplate descriptorUpdateTemplate,
									  VkPipelineLayout layout, uint32_t set,
									  const void *pData)
{
	struct tether_icd_command_buffer *cb = (struct tether_icd_command_buffer *)commandBuffer;
	struct template_writes w;
	VkPipelineBindPoint bind_point;
	if (build_writes(cb->device, descriptorUpdateTemplate, VK_NULL_HANDLE, pData, &w, &bind_point))
		return;
	tether_icd_CmdPushDescriptorSetKHR(commandBuffer, bind_point, layout, set, w.count, w.writes);
	template_writes_free(&w);
}
