#!/usr/bin/env python3
"""Generates tetherd's command execution from the Khronos registry.

Emits tether_srv_dispatch.h (a table of the real driver's entry points and
its loaders) and tether_srv_exec.c (for every carried command: decode,
check the ids it creates, call the driver, record or forget handles, reply;
and the destroy call of every object type, for what a client leaves).
Commands in exceptions.SERVER_HAND_WRITTEN call `tether_srv_<name>` in
server/ instead. Usage: gen_server.py vk.xml OUTDIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from registry import Registry  # noqa: E402
from exceptions import SERVER_HAND_WRITTEN, SERVER_REFUSED, COMPLETION_COMMANDS, SERVER_AFTER  # noqa: E402
from gen_protocol import HEADER, write, param_role, is_sync  # noqa: E402
import codegen as cg  # noqa: E402

# Where the parent pool of an allocated object is found, so that destroying
# or resetting the pool forgets its objects too.
PARENT_OF = {
    'vkAllocateCommandBuffers': 'a->pAllocateInfo->commandPool',
    'vkAllocateDescriptorSets': 'a->pAllocateInfo->descriptorPool',
}

INSTANCE_LEVEL = ('VkInstance', 'VkPhysicalDevice')
DEVICE_LEVEL = ('VkDevice', 'VkQueue', 'VkCommandBuffer')


def level(cmd):
    t = cmd.params[0].type if cmd.params else None
    if t in INSTANCE_LEVEL:
        return 'instance'
    if t in DEVICE_LEVEL:
        return 'device'
    return 'global'


def aliases_of(reg, name):
    return [a for a, r in reg.command_aliases.items() if reg.resolve_cmd(r) == name]


def gen_exec(reg, cmd):
    n = cmd.name
    lines = ['static void exec_%s(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r)' % n,
             '{',
             '\tstruct tether_args_%s a_;' % n,
             '\tstruct tether_args_%s *a = &a_;' % n,
             '\tmemset(a, 0, sizeof(*a));',
             '\ttether_decode_cmd_%s(d, a);' % n,
             '\tif (d->fatal)',
             '\t\treturn;']
    ctx = cg.Ctx(reg, lambda x: 'a->' + x, {p.name: p for p in cmd.params})
    outs = [p for p in cmd.params if param_role(reg, cmd, p) == 'out_handles']
    for p in outs:
        cnt = cg.len_expr(ctx, p) if p.len else '1'
        lines += ['\t{',
                  '\t\tconst char *refused_ = tether_srv_objects_refuse_new(s, a->%s_ids, (uint64_t)(%s));' % (p.name, cnt),
                  '\t\tif (refused_) {',
                  '\t\t\ttether_decoder_fail(d, refused_);',
                  '\t\t\treturn;', '\t\t}', '\t}']
    lv = level(cmd)
    if lv == 'global':
        lines.append('\tconst struct tether_srv_dispatch *dt = tether_srv_global_dispatch(s);')
    else:
        lines.append('\tconst struct tether_srv_dispatch *dt = tether_srv_dispatch_of(s, (const void *)a->%s);' % cmd.params[0].name)
    short = n[2:]
    lines += ['\tif (!dt || !dt->%s) {' % short,
              '\t\ttether_decoder_fail(d, "%s is not available on this device");' % n,
              '\t\treturn;', '\t}']
    args = []
    for p in cmd.params:
        args.append('NULL' if param_role(reg, cmd, p) == 'skip' else 'a->' + p.name)
    call = 'dt->%s(%s);' % (short, ', '.join(args))
    if cmd.ret != 'void':
        call = 'a->result = ' + call
    lines.append('\t' + call)
    ok = 'a->result >= 0' if cmd.ret == 'VkResult' else '1'
    for p in outs:
        cnt = cg.len_expr(ctx, p) if p.len else '1'
        parent = '(uint64_t)(uintptr_t)%s' % PARENT_OF[n] if n in PARENT_OF else '0'
        lines += ['\tif (%s)' % ok,
                  '\t\tfor (uint64_t i_ = 0; i_ < (uint64_t)(%s); i_++)' % cnt,
                  '\t\t\tif (a->%s[i_])' % p.name,
                  '\t\t\t\ttether_srv_object_add(s, %s, a->%s_ids[i_], (uint64_t)(uintptr_t)a->%s[i_], %s);' % (
                      reg.objtype(p.type), p.name, p.name, parent)]
    if n.startswith('vkDestroy') and len(cmd.params) >= 2 and reg.is_handle(cmd.params[1].type):
        p = cmd.params[1]
        lines.append('\ttether_srv_object_remove(s, %s, a->%s_id);' % (reg.objtype(p.type), p.name))
    if cmd.ret == 'VkResult' and not is_sync(reg, cmd):
        lines += ['\tif (a->result < 0)',
                  '\t\ttether_srv_async_error(s, "%s", a->result);' % n]
    if n in SERVER_AFTER:
        lines.append('\ttether_srv_after_%s(s, a);' % n)
    if is_sync(reg, cmd):
        lines.append('\ttether_encode_reply_%s(r, a);' % n)
        if n in COMPLETION_COMMANDS:
            # Only work that finished makes GPU writes visible: a wait that
            # timed out or a status still pending sends nothing.
            if cmd.ret == 'VkResult':
                lines += ['\tif (a->result >= 0 && a->result != VK_TIMEOUT && a->result != VK_NOT_READY)',
                          '\t\ttether_srv_memory_push(s);']
            else:
                lines.append('\ttether_srv_memory_push(s);')
        lines.append('\ttether_srv_reply_ready(s);')
    lines += ['}', '']
    return lines


def destroyers(reg, cmds):
    """(object type, command) for each carried vkDestroyX/vkFreeX(VkDevice, X,
    pAllocator): what destroys an object of that type a client left."""
    out = {}
    for cmd in cmds:
        if not cmd.name.startswith(('vkDestroy', 'vkFree')) or len(cmd.params) != 3:
            continue
        dev, obj, alloc = cmd.params
        if dev.type != 'VkDevice' or not reg.is_handle(obj.type) or alloc.type != 'VkAllocationCallbacks':
            continue
        out.setdefault(reg.objtype(obj.type), (cmd, obj.type))
    return sorted(out.items())


def gen_destroy(reg, cmds):
    lines = ['/**',
             ' * tether_srv_destroy_device_object() - destroy an object of @device that the',
             ' * client left, with its type\'s vkDestroy or vkFree command',
             ' * Return: false when the type has none of the form vkDestroyX(device, x,',
             ' * pAllocator) (queues, command buffers and descriptor sets: they go with',
             ' * their device or pool) or the device did not load it.',
             ' */',
             'bool tether_srv_destroy_device_object(const struct tether_srv_dispatch *dt, VkDevice device, VkObjectType type,',
             '				      uint64_t handle)',
             '{', '	switch (type) {']
    for objtype, (cmd, tname) in destroyers(reg, cmds):
        short = cmd.name[2:]
        lines += ['	case %s:' % objtype,
                  '		if (!dt->%s)' % short,
                  '			return false;',
                  '		dt->%s(device, (%s)(uintptr_t)handle, NULL);' % (short, tname),
                  '		return true;']
    lines += ['	default:', '		return false;', '	}', '}', '']
    return lines


def main():
    reg = Registry(sys.argv[1])
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    cmds = reg.carried_commands

    # The table also holds what the server calls on its own (vkMapMemory).
    table = cmds + [c for c in reg.client_only_commands if c.name == 'vkMapMemory']
    h = [HEADER % 'gen_server.py', '#ifndef TETHER_SRV_DISPATCH_H', '#define TETHER_SRV_DISPATCH_H', '',
         '#include <stdbool.h>', '#include <stdint.h>', '#include <vulkan/vulkan.h>', '', 'struct tether_srv_dispatch {']
    for c in table:
        h.append('\tPFN_%s %s;' % (c.name, c.name[2:]))
    h += ['};', '',
          'bool tether_srv_destroy_device_object(const struct tether_srv_dispatch *dt, VkDevice device, VkObjectType type,',
          '\t\t\t\t      uint64_t handle);',
          'void tether_srv_dispatch_load_global(struct tether_srv_dispatch *dt, PFN_vkGetInstanceProcAddr gipa);',
          'void tether_srv_dispatch_load_instance(struct tether_srv_dispatch *dt, PFN_vkGetInstanceProcAddr gipa, VkInstance instance);',
          'void tether_srv_dispatch_load_device(struct tether_srv_dispatch *dt, PFN_vkGetDeviceProcAddr gdpa, VkDevice device);',
          '', '#endif', '']
    write(os.path.join(outdir, 'tether_srv_dispatch.h'), '\n'.join(h))

    c = [HEADER % 'gen_server.py', '#include "server/session.h"', '#include "tether_wire.h"', '']

    def loader(fn, getter, handle, pred):
        out = ['void %s' % fn, '{']
        for cmd in table:
            if not pred(cmd):
                continue
            names = [cmd.name] + aliases_of(reg, cmd.name)
            short = cmd.name[2:]
            out.append('\tdt->%s = (PFN_%s)%s(%s, "%s");' % (short, cmd.name, getter, handle, names[0]))
            for alias in names[1:]:
                out += ['\tif (!dt->%s)' % short,
                        '\t\tdt->%s = (PFN_%s)%s(%s, "%s");' % (short, cmd.name, getter, handle, alias)]
        out += ['}', '']
        return out
    c += loader('tether_srv_dispatch_load_global(struct tether_srv_dispatch *dt, PFN_vkGetInstanceProcAddr gipa)',
                'gipa', 'NULL', lambda x: level(x) == 'global')
    c += loader('tether_srv_dispatch_load_instance(struct tether_srv_dispatch *dt, PFN_vkGetInstanceProcAddr gipa, VkInstance instance)',
                'gipa', 'instance', lambda x: level(x) in ('instance', 'device'))
    c += loader('tether_srv_dispatch_load_device(struct tether_srv_dispatch *dt, PFN_vkGetDeviceProcAddr gdpa, VkDevice device)',
                'gdpa', 'device', lambda x: level(x) == 'device')

    c += gen_destroy(reg, cmds)
    for cmd in cmds:
        if cmd.name in SERVER_HAND_WRITTEN or cmd.name in SERVER_REFUSED:
            continue
        c += gen_exec(reg, cmd)
    c += ['/**',
          ' * tether_srv_execute() - run one decoded command of a session',
          ' * Return: false when the command id is unknown or refused.',
          ' */',
          'bool tether_srv_execute(struct tether_srv_session *s, uint32_t id, struct tether_decoder *d, struct tether_encoder *r)',
          '{', '\tswitch (id) {']
    for cmd in cmds:
        if cmd.name in SERVER_REFUSED:
            continue
        fn = 'tether_srv_%s' % cmd.name if cmd.name in SERVER_HAND_WRITTEN else 'exec_%s' % cmd.name
        c += ['\tcase TETHER_CMD_%s:' % cmd.name, '\t\t%s(s, d, r);' % fn, '\t\treturn true;']
    c += ['\tdefault:', '\t\treturn tether_srv_execute_own(s, id, d, r);', '\t}', '}', '']
    hw = ['/* Hand-written in server/: */']
    for cmd in cmds:
        if cmd.name in SERVER_AFTER:
            hw.append('void tether_srv_after_%s(struct tether_srv_session *s, const struct tether_args_%s *a);'
                      % (cmd.name, cmd.name))
        if cmd.name in SERVER_HAND_WRITTEN:
            hw.append('void tether_srv_%s(struct tether_srv_session *s, struct tether_decoder *d, struct tether_encoder *r);' % cmd.name)
    write(os.path.join(outdir, 'tether_srv_exec.c'), '\n'.join(c[:4] + hw + [''] + c[4:]))


if __name__ == '__main__':
    main()
