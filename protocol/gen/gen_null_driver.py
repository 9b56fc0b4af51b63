#!/usr/bin/env python3
"""Generates a null Vulkan driver from the Khronos registry, for fuzzing
tetherd's whole session (tests/fuzz/fuzz_session.c) without a real driver.

Every command tetherd's dispatch table holds gets a function with its exact
signature that succeeds and does nothing: VK_SUCCESS (0 for other return
types), unique non-null handles written to output handle parameters, and 0
written to output counts. Dispatchable handles point at a small object whose
first word is its dispatch key (tetherd finds dispatch tables by it): an
instance and a device are their own keys, a physical device has its
instance's, a queue and a command buffer their device's. The few commands
tetherd needs more from are the named exceptions below (NULL_EXCEPTIONS).
Objects come from a fixed pool; tether_null_driver_reset() starts over.

Emits tether_null_driver.h and tether_null_driver.c. Usage:
gen_null_driver.py vk.xml OUTDIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from registry import Registry  # noqa: E402
from gen_protocol import HEADER, write, param_role, params_decl  # noqa: E402

# Dispatchable objects the pool holds at once (a fuzz input is short).
POOL = 4096
# Largest vkAllocateMemory served: memory is real (tetherd maps it).
MEMORY_MAX = 16 << 20

# What tetherd needs beyond "succeed and do nothing": a physical device to
# make devices of, one host-visible memory type, and memory that can be
# mapped (tetherd keeps host-visible allocations mapped and reads them).
NULL_EXCEPTIONS = {
    'vkEnumeratePhysicalDevices': [
        'if (!pPhysicalDevices) {',
        '\t*pPhysicalDeviceCount = 1;',
        '\treturn VK_SUCCESS;',
        '}',
        'if (*pPhysicalDeviceCount < 1)',
        '\treturn VK_INCOMPLETE;',
        'pPhysicalDevices[0] = (VkPhysicalDevice)null_dispatchable(null_key(instance));',
        'if (!pPhysicalDevices[0])',
        '\treturn VK_ERROR_OUT_OF_HOST_MEMORY;',
        '*pPhysicalDeviceCount = 1;',
        'return VK_SUCCESS;',
    ],
    'vkGetPhysicalDeviceMemoryProperties': [
        'null_memory_properties(pMemoryProperties);',
    ],
    'vkGetPhysicalDeviceMemoryProperties2': [
        'null_memory_properties(&pMemoryProperties->memoryProperties);',
    ],
    'vkAllocateMemory': [
        'VkDeviceSize size = pAllocateInfo->allocationSize;',
        'void *block = size <= %d ? calloc(1, size ? (size_t)size : 1) : NULL;' % MEMORY_MAX,
        'if (!block)',
        '\treturn VK_ERROR_OUT_OF_DEVICE_MEMORY;',
        '*pMemory = (VkDeviceMemory)(uintptr_t)block;',
        'return VK_SUCCESS;',
    ],
    'vkFreeMemory': [
        'free((void *)(uintptr_t)memory);',
    ],
    'vkMapMemory': [
        '*ppData = (uint8_t *)(uintptr_t)memory + offset;',
        'return VK_SUCCESS;',
    ],
}

DISPATCH_TYPES = ('VkInstance', 'VkPhysicalDevice', 'VkDevice', 'VkQueue', 'VkCommandBuffer')


def table(reg):
    """What tetherd's dispatch table holds (gen_server.py) and the two loaders."""
    cmds = reg.carried_commands + [c for c in reg.client_only_commands if c.name == 'vkMapMemory']
    have = {c.name for c in cmds}
    for name in ('vkGetInstanceProcAddr', 'vkGetDeviceProcAddr'):
        if name not in have:
            cmds.append(reg.commands[name])
    return sorted(cmds, key=lambda c: c.name)


def new_handle(reg, cmd, t, target):
    """Lines that store one new handle of type t in target."""
    if t not in DISPATCH_TYPES:
        return ['%s = (%s)null_handle();' % (target, t)]
    first = cmd.params[0]
    # Instances and devices key themselves; the others share their parent's key.
    key = 'NULL' if t in ('VkInstance', 'VkDevice') else 'null_key(%s)' % first.name
    return ['%s = (%s)null_dispatchable(%s);' % (target, t, key)]


def gen_body(reg, cmd):
    if cmd.name in NULL_EXCEPTIONS:
        return NULL_EXCEPTIONS[cmd.name]
    body = []
    fail = 'return VK_ERROR_OUT_OF_HOST_MEMORY;' if cmd.ret == 'VkResult' else 'return%s;' % (
        '' if cmd.ret == 'void' else ' 0')
    for p in cmd.params:
        role = param_role(reg, cmd, p)
        if role == 'out_count':
            body += ['if (%s)' % p.name, '\t*%s = 0;' % p.name]
        elif role == 'out_handles':
            t = reg.resolve(p.type)
            if p.len:
                n = p.len_parts()[0]
                src = next((q for q in cmd.params if q.name == n.split('->')[0]), None)
                if src is not None and param_role(reg, cmd, src) == 'out_count':
                    continue  # an enumeration: its count was set to 0 above
                count = '(uint64_t)%s' % n
                body += ['for (uint64_t i_ = 0; %s && i_ < %s; i_++) {' % (p.name, count)]
                body += ['\t' + l for l in new_handle(reg, cmd, t, '%s[i_]' % p.name)]
                body += ['\tif (!%s[i_])' % p.name, '\t\t' + fail, '}']
            else:
                body += ['if (%s) {' % p.name]
                body += ['\t' + l for l in new_handle(reg, cmd, t, '*%s' % p.name)]
                body += ['\tif (!*%s)' % p.name, '\t\t' + fail, '}']
    if cmd.ret == 'VkResult':
        body.append('return VK_SUCCESS;')
    elif cmd.ret != 'void':
        body.append('return 0;')
    return body


def main():
    reg = Registry(sys.argv[1])
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    cmds = table(reg)

    h = [HEADER % 'gen_null_driver.py', '#ifndef TETHER_NULL_DRIVER_H', '#define TETHER_NULL_DRIVER_H', '',
         '#include <vulkan/vulkan.h>', '',
         '/* The null driver\'s entry points, for tetherd\'s dispatch loading. */',
         'VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tether_null_GetInstanceProcAddr(VkInstance instance, const char *pName);',
         'VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tether_null_GetDeviceProcAddr(VkDevice device, const char *pName);',
         '/* Forget every object (handles start over); allocated memory is the caller\'s to have freed. */',
         'void tether_null_driver_reset(void);', '', '#endif', '']
    write(os.path.join(outdir, 'tether_null_driver.h'), '\n'.join(h))

    c = [HEADER % 'gen_null_driver.py',
         '#include "tether_null_driver.h"', '',
         '#include <stdint.h>', '#include <stdlib.h>', '#include <string.h>', '',
         '/* A dispatchable object: its first word is its dispatch key. */',
         'struct null_object {', '\tconst void *key;', '};', '',
         'static struct null_object null_pool[%d];' % POOL,
         'static unsigned null_used;',
         'static uint64_t null_next_handle;', '',
         'void tether_null_driver_reset(void)', '{',
         '\tmemset(null_pool, 0, sizeof(null_pool));', '\tnull_used = 0;', '\tnull_next_handle = 0;', '}', '',
         '/* A new dispatchable object keyed by @key (NULL: its own), or NULL when the pool is used up. */',
         'static void *null_dispatchable(const void *key)', '{',
         '\tif (null_used == %d)' % POOL, '\t\treturn NULL;',
         '\tstruct null_object *o = &null_pool[null_used++];',
         '\to->key = key ? key : o;', '\treturn o;', '}', '',
         'static const void *null_key(const void *dispatchable)', '{',
         '\treturn ((const struct null_object *)dispatchable)->key;', '}', '',
         '/* Non-dispatchable handles: unique, nonzero, never dereferenced. */',
         'static uint64_t null_handle(void)', '{',
         '\tnull_next_handle += 0x10;', '\treturn 0x100000 + null_next_handle;', '}', '',
         '/* One memory type, host-visible and coherent, in one heap. */',
         'static void null_memory_properties(VkPhysicalDeviceMemoryProperties *p)', '{',
         '\tmemset(p, 0, sizeof(*p));',
         '\tp->memoryTypeCount = 1;',
         '\tp->memoryTypes[0].propertyFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |',
         '\t\t\t\t\t   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;',
         '\tp->memoryHeapCount = 1;',
         '\tp->memoryHeaps[0].size = 1ull << 30;',
         '\tp->memoryHeaps[0].flags = VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;', '}', '']
    for cmd in cmds:
        if cmd.name in ('vkGetInstanceProcAddr', 'vkGetDeviceProcAddr'):
            continue
        c += ['static VKAPI_ATTR %s VKAPI_CALL null_%s(%s)' % (cmd.ret, cmd.name, params_decl(cmd)), '{']
        c += ['\t' + l for l in gen_body(reg, cmd)]
        c += ['}', '']
    c += ['/* Sorted by name, for bsearch. */',
          'static const struct null_entry {', '\tconst char *name;', '\tPFN_vkVoidFunction fn;',
          '} null_entries[] = {']
    for cmd in cmds:
        fn = 'tether_null_' + cmd.name[2:] if cmd.name in ('vkGetInstanceProcAddr', 'vkGetDeviceProcAddr') \
            else 'null_' + cmd.name
        c.append('\t{"%s", (PFN_vkVoidFunction)%s},' % (cmd.name, fn))
    c += ['};', '',
          'static int entry_cmp(const void *key, const void *e)', '{',
          '\treturn strcmp(key, ((const struct null_entry *)e)->name);', '}', '',
          'VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tether_null_GetInstanceProcAddr(VkInstance instance, const char *pName)',
          '{',
          '\tconst struct null_entry *e = bsearch(pName, null_entries, sizeof(null_entries) / sizeof(null_entries[0]),',
          '\t\t\t\t\t      sizeof(null_entries[0]), entry_cmp);',
          '\treturn e ? e->fn : NULL;', '}', '',
          'VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL tether_null_GetDeviceProcAddr(VkDevice device, const char *pName)',
          '{', '\treturn tether_null_GetInstanceProcAddr(NULL, pName);', '}', '']
    write(os.path.join(outdir, 'tether_null_driver.c'), '\n'.join(c))


if __name__ == '__main__':
    main()
