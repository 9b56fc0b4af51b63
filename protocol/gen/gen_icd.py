#!/usr/bin/env python3
"""Generates the client ICD's Vulkan entry points from the Khronos registry.

Every carried command that is not in exceptions.ICD_HAND_WRITTEN becomes a
`tether_icd_<Name>` function that encodes the call and, only when the caller
needs an answer, waits for one. Also emits the name -> function table used by
vkGetInstanceProcAddr / vkGetDeviceProcAddr. Usage: gen_icd.py vk.xml OUTDIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from registry import Registry  # noqa: E402
from exceptions import ICD_HAND_WRITTEN, CACHED_QUERIES, ICD_AFTER  # noqa: E402
from gen_protocol import HEADER, write, param_role, is_sync, params_decl  # noqa: E402

LEVEL = {'VkInstance': 'TETHER_ICD_LEVEL_INSTANCE', 'VkPhysicalDevice': 'TETHER_ICD_LEVEL_PHYSICAL_DEVICE',
         'VkDevice': 'TETHER_ICD_LEVEL_DEVICE', 'VkQueue': 'TETHER_ICD_LEVEL_DEVICE',
         'VkCommandBuffer': 'TETHER_ICD_LEVEL_DEVICE'}


def fn_name(cmd):
    return 'tether_icd_' + cmd.name[2:]


def level(cmd):
    first = cmd.params[0].type if cmd.params else None
    return LEVEL.get(first, 'TETHER_ICD_LEVEL_GLOBAL')


def fail_value(ret):
    if ret == 'void':
        return None
    if ret == 'VkResult':
        return 'VK_ERROR_DEVICE_LOST'
    return '0'


def gen_entry(reg, cmd):
    name = fn_name(cmd)
    args = ', '.join(p.name for p in cmd.params)
    ret = cmd.ret
    first = cmd.params[0]
    out = ['VKAPI_ATTR %s VKAPI_CALL %s(%s)' % (ret, name, params_decl(cmd)), '{']
    body = []
    # Handles the call creates get client-allocated ids: no round trip needed.
    # They count against the server's object limit first.
    creates = [p for p in cmd.params if param_role(reg, cmd, p) == 'out_handles']
    if creates:
        if first.type == 'VkCommandBuffer' or ret != 'VkResult':
            raise SystemExit('%s creates objects without a VkResult: list it in ICD_HAND_WRITTEN' % cmd.name)
        counts = ' + '.join('(uint64_t)(%s)' % p.len if p.len else '1' for p in creates)
        body += ['struct tether_icd_conn *c_ = tether_icd_conn_of(%s);' % first.name,
                 'struct tether_encoder *e_ = tether_icd_conn_lock(c_);',
                 'VkResult n_ = tether_icd_conn_reserve_locked(c_, %s, "%s");' % (counts, cmd.name),
                 'if (n_ != VK_SUCCESS) {',
                 '\ttether_icd_conn_unlock(c_);',
                 '\treturn n_;',
                 '}']
    for p in creates:
        if reg.handles[reg.resolve(p.type)]:
            raise SystemExit('%s creates dispatchable objects: list it in ICD_HAND_WRITTEN' % cmd.name)
        if p.len:
            body += ['for (uint32_t i_ = 0; i_ < %s; i_++)' % p.len,
                     '\t%s[i_] = (%s)(uintptr_t)tether_icd_new_id();' % (p.name, p.type)]
        else:
            body.append('*%s = (%s)(uintptr_t)tether_icd_new_id();' % (p.name, p.type))
    if first.type == 'VkCommandBuffer':
        body += ['tether_encode_cmd_%s(tether_icd_cmd_encoder(%s), %s);' % (cmd.name, first.name, args)]
        if ret == 'VkResult':
            body.append('return VK_SUCCESS;')
        out += ['\t' + l for l in body] + ['}', '']
        return out
    if not creates:
        body.append('struct tether_icd_conn *c_ = tether_icd_conn_of(%s);' % first.name)
        body.append('struct tether_encoder *e_ = tether_icd_conn_lock(c_);')
    cached = cmd.name in CACHED_QUERIES
    if cached:
        body.append('const size_t at_ = e_->size;')
    body.append('tether_encode_cmd_%s(e_, %s);' % (cmd.name, args))
    if not is_sync(reg, cmd):
        body.append('tether_icd_conn_unlock_async(c_);')
        if ret == 'VkResult':
            body.append('return VK_SUCCESS;')
        out += ['\t' + l for l in body] + ['}', '']
        return out
    fv = fail_value(ret)
    if ret != 'void':
        body.append('%s r_ = %s;' % (ret, fv))
    call = 'tether_icd_conn_call_cached(c_, at_, &d_)' if cached else 'tether_icd_conn_call(c_, &d_)'
    body += ['struct tether_decoder *d_;',
             'if (%s == VK_SUCCESS) {' % call,
             '\t%stether_decode_reply_%s(d_, %s);' % ('r_ = ' if ret != 'void' else '', cmd.name, args)]
    body += ['\tif (d_->fatal) {', '\t\ttether_icd_conn_fail(c_, d_->error);']
    if ret != 'void':
        body.append('\t\tr_ = %s;' % fv)
    body += ['\t}', '}',
             'tether_icd_conn_unlock(c_);']
    if cmd.name in ICD_AFTER:
        body.append('tether_icd_after_%s(%s);' % (cmd.name[2:], args))
    if ret != 'void':
        body.append('return r_;')
    out += ['\t' + l for l in body] + ['}', '']
    return out


def guarded(protect, lines):
    return ['#ifdef ' + protect] + lines + ['#endif'] if protect else lines


def wsi_commands(reg):
    """name (aliases included) -> (command, platform guard) for the WSI
    extensions the ICD implements by hand."""
    out = {}
    for ext in reg.wsi_extensions:
        for name in ext['all_commands']:
            if name in reg.commands and name not in out:
                out[name] = (reg.commands[name], ext['protect'])
    for alias, real in reg.command_aliases.items():
        real = reg.resolve_cmd(real)
        if real in out and alias not in out:
            out[alias] = out[real]
    return out


def main():
    reg = Registry(sys.argv[1])
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    cmds = reg.carried_commands + reg.client_only_commands
    h = [HEADER % 'gen_icd.py', '#ifndef TETHER_ICD_ENTRYPOINTS_H', '#define TETHER_ICD_ENTRYPOINTS_H', '',
         '#include <stdbool.h>', '#include <vulkan/vulkan.h>', '',
         'enum tether_icd_level {', '\tTETHER_ICD_LEVEL_GLOBAL,', '\tTETHER_ICD_LEVEL_INSTANCE,',
         '\tTETHER_ICD_LEVEL_PHYSICAL_DEVICE,', '\tTETHER_ICD_LEVEL_DEVICE,', '};', '',
         'struct tether_icd_entrypoint {', '\tconst char *name;', '\tPFN_vkVoidFunction fn;',
         '\tenum tether_icd_level level;', '};', '',
         '/* Sorted by name, aliases included. */',
         'extern const struct tether_icd_entrypoint tether_icd_entrypoints[];',
         'extern const unsigned tether_icd_entrypoint_count;', '']
    for c in cmds + [reg.commands['vkGetInstanceProcAddr'], reg.commands['vkGetDeviceProcAddr']]:
        h.append('VKAPI_ATTR %s VKAPI_CALL %s(%s);' % (c.ret, fn_name(c), params_decl(c)))
    for name in sorted(ICD_AFTER):
        c_ = reg.commands[name]
        h.append('void tether_icd_after_%s(%s);' % (name[2:], params_decl(c_)))
    # Window-system commands: written by hand in icd/wsi_*.c, declared here.
    wsi = wsi_commands(reg)
    h += ['', '/* Window-system integration, implemented in icd/wsi_*.c. */']
    for name, (cmd, protect) in sorted(wsi.items()):
        if name != cmd.name:
            continue
        h += guarded(protect, ['VKAPI_ATTR %s VKAPI_CALL %s(%s);' % (cmd.ret, fn_name(cmd), params_decl(cmd))])
    h += ['', 'struct tether_icd_wsi_extension {', '\tVkExtensionProperties props;', '\tbool device;', '};',
          '/* The window-system extensions this build implements. */',
          'extern const struct tether_icd_wsi_extension tether_icd_wsi_extensions[];',
          'extern const unsigned tether_icd_wsi_extension_count;', '', '#endif', '']
    write(os.path.join(outdir, 'tether_icd_entrypoints.h'), '\n'.join(h))

    c = [HEADER % 'gen_icd.py', '#include "icd/icd.h"', '#include "tether_wire.h"',
         '#include "tether_icd_entrypoints.h"', '']
    for cmd in reg.carried_commands:
        if cmd.name not in ICD_HAND_WRITTEN:
            c += gen_entry(reg, cmd)
    entries = {}
    for cmd in cmds:
        entries[cmd.name] = cmd
    for alias, real in reg.command_aliases.items():
        real = reg.resolve_cmd(real)
        if real in entries and alias not in entries:
            entries[alias] = entries[real]
    for extra in ('vkGetInstanceProcAddr', 'vkGetDeviceProcAddr'):
        entries[extra] = reg.commands[extra]
    protects = {}
    for name, (cmd, protect) in wsi.items():
        entries[name] = cmd
        protects[name] = protect
    c.append('const struct tether_icd_entrypoint tether_icd_entrypoints[] = {')
    for name in sorted(entries):
        cmd = entries[name]
        c += [l if l.startswith('#') else '\t' + l for l in guarded(protects.get(name), [
            '{"%s", (PFN_vkVoidFunction)%s, %s},' % (name, fn_name(cmd), level(cmd))])]
    c += ['};', 'const unsigned tether_icd_entrypoint_count =',
          '\tsizeof(tether_icd_entrypoints) / sizeof(tether_icd_entrypoints[0]);', '']
    c.append('const struct tether_icd_wsi_extension tether_icd_wsi_extensions[] = {')
    for ext in reg.wsi_extensions:
        c += [l if l.startswith('#') else '\t' + l for l in guarded(ext['protect'], [
            '{{"%s", %s}, %s},' % (ext['name'], ext['spec_version'], 'true' if ext['type'] == 'device' else 'false')])]
    c += ['};', 'const unsigned tether_icd_wsi_extension_count =',
          '\tsizeof(tether_icd_wsi_extensions) / sizeof(tether_icd_wsi_extensions[0]);', '']
    write(os.path.join(outdir, 'tether_icd_entrypoints.c'), '\n'.join(c))


if __name__ == '__main__':
    main()
