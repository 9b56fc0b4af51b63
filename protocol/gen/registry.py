"""Reads the Khronos registry (vk.xml) into the model the tether generators use.

It decides which commands, structs and extensions tether carries over the wire
(Vulkan 1.0-1.3 core plus every non-platform extension whose types can cross a
link), and classifies every parameter and member by how it is encoded.
"""

import re
import xml.etree.ElementTree as ET

from exceptions import (CLIENT_ONLY, DENIED_EXTENSIONS, DENIED_EXTENSION_PATTERNS, CORE_VERSIONS,
                        RESERVED_ID_LIMIT, ICD_WSI_EXTENSIONS, NULLABLE_PARAMS)

SCALARS = {
    'uint8_t': 1, 'int8_t': 1, 'char': 1,
    'uint16_t': 2, 'int16_t': 2,
    'uint32_t': 4, 'int32_t': 4, 'float': 4, 'int': 4,
    'uint64_t': 8, 'int64_t': 8, 'double': 8, 'size_t': 8,
}


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode():
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def api_ok(elem):
    api = elem.get('api')
    return api is None or 'vulkan' in api.split(',')


class Member:
    """One struct member or command parameter."""

    def __init__(self, elem, owner):
        self.owner = owner
        self.name = elem.find('name').text
        self.type = elem.find('type').text
        text = ''.join(elem.itertext())
        decl = text[:text.index(self.name)]
        tail = text[text.index(self.name) + len(self.name):]
        comment = elem.find('comment')
        if comment is not None and comment.text:
            tail = tail.replace(comment.text, '')
        self.const = 'const' in decl.split(self.type)[0]
        self.ptr = decl.count('*')
        self.array = []  # static dimensions, as C expressions
        for dim in re.findall(r'\[([^\]]+)\]', tail):
            self.array.append(dim.strip())
        self.bitfield = ':' in tail
        self.len = elem.get('altlen') or elem.get('len')
        self.optional = [o == 'true' for o in elem.get('optional', 'false').split(',')]
        self.noautovalidity = elem.get('noautovalidity') == 'true'
        self.values = elem.get('values')
        self.objecttype = elem.get('objecttype')
        self.decl_text = ' '.join(text.replace(comment.text if comment is not None and comment.text else '', '').split())

    @property
    def is_optional(self):
        if self.optional[0]:
            return True
        if not self.noautovalidity:
            return False
        # On a struct member noautovalidity marks one that another member
        # chooses (VkWriteDescriptorSet::pImageInfo is unused, and may be
        # NULL, for buffer descriptors); on a command parameter the pointer
        # is required unless named in NULLABLE_PARAMS.
        if isinstance(self.owner, Command):
            return (self.owner.name, self.name) in NULLABLE_PARAMS
        return True

    def len_parts(self):
        if not self.len:
            return []
        return [p for p in self.len.split(',')]

    def c_decl(self, name=None, strip_const=False):
        """C declaration of this member as a struct field or parameter."""
        name = name or self.name
        t = self.decl_text
        if strip_const:
            t = re.sub(r'\bconst\b\s*', '', t)
        return t.replace(self.name, name, 1) if name != self.name else t


class Struct:
    def __init__(self, elem, reg):
        self.name = elem.get('name')
        self.union = elem.get('category') == 'union'
        self.returnedonly = elem.get('returnedonly') == 'true'
        self.extends = [s for s in (elem.get('structextends') or '').split(',') if s]
        self.members = [Member(m, self) for m in elem.findall('member') if api_ok(m)]
        self.stype = None
        for m in self.members:
            if m.name == 'sType' and m.values:
                self.stype = m.values
        self.has_pnext = any(m.name == 'pNext' for m in self.members)
        self.reg = reg


class Command:
    def __init__(self, elem):
        proto = elem.find('proto')
        self.name = proto.find('name').text
        self.ret = proto.find('type').text
        self.params = [Member(p, self) for p in elem.findall('param') if api_ok(p)]
        self.id = fnv1a32(self.name)
        self.successcodes = (elem.get('successcodes') or '').split(',')


class Registry:
    def __init__(self, path):
        self.root = ET.parse(path).getroot()
        self.types = {}       # name -> category
        self.structs = {}     # name -> Struct (structs and unions)
        self.handles = {}     # name -> dispatchable?
        self.handle_objtype = {}
        self.aliases = {}     # alias name -> real name
        self.bitmask_base = {}
        self.enums = set()
        self.enum64 = set()
        self.basetypes = {}
        self.commands = {}
        self.command_aliases = {}
        self.constants = {}
        self.platform_types = set()
        self.header_version = int(next(
            t.find('name').tail.split()[-1] for t in self.root.find('types')
            if t.get('category') == 'define' and t.find('name') is not None
            and t.find('name').text == 'VK_HEADER_VERSION'))
        self._parse_types()
        self._parse_commands()
        self._parse_features()
        self._transportable_cache = {}
        self._select()

    # ---- parsing -------------------------------------------------------
    def _parse_types(self):
        for t in self.root.find('types'):
            if t.tag != 'type' or not api_ok(t):
                continue
            cat = t.get('category')
            name = t.get('name') or (t.find('name').text if t.find('name') is not None else None)
            if name is None:
                continue
            if t.get('alias'):
                self.aliases[name] = t.get('alias')
                self.types[name] = cat
                continue
            self.types[name] = cat
            if cat in ('struct', 'union'):
                self.structs[name] = Struct(t, self)
            elif cat == 'handle':
                self.handles[name] = t.find('type').text == 'VK_DEFINE_HANDLE'
                self.handle_objtype[name] = t.get('objtypeenum')
            elif cat == 'bitmask':
                self.bitmask_base[name] = t.find('type').text
            elif cat == 'enum':
                self.enums.add(name)
            elif cat == 'basetype':
                ty = t.find('type')
                self.basetypes[name] = ty.text if ty is not None else None
            elif cat is None and t.get('requires') and t.get('requires') != 'vk_platform':
                self.platform_types.add(name)
        for e in self.root.findall('enums'):
            if e.get('bitwidth') == '64':
                self.enum64.add(e.get('name'))
            if e.get('name') == 'API Constants':
                for c in e.findall('enum'):
                    self.constants[c.get('name')] = c.get('value') or c.get('alias')

    def enum_values(self, enum_type):
        """Numeric values of an enum type's names, extension values included."""
        vals, aliases = {}, {}
        for e in self.root.findall('enums'):
            if e.get('name') == enum_type:
                for c in e.findall('enum'):
                    if c.get('value') is not None:
                        vals[c.get('name')] = int(c.get('value'), 0)
                    elif c.get('alias'):
                        aliases[c.get('name')] = c.get('alias')
        for parent in list(self.root.iter('feature')) + list(self.root.find('extensions')):
            for c in parent.iter('enum'):
                if c.get('extends') != enum_type:
                    continue
                name = c.get('name')
                if c.get('alias'):
                    aliases[name] = c.get('alias')
                elif c.get('offset') is not None:
                    ext = int(c.get('extnumber') or parent.get('number'))
                    v = 1000000000 + (ext - 1) * 1000 + int(c.get('offset'))
                    vals[name] = -v if c.get('dir') == '-' else v
                elif c.get('value') is not None:
                    vals[name] = int(c.get('value'), 0)
        for a, r in aliases.items():
            while r in aliases:
                r = aliases[r]
            if r in vals:
                vals[a] = vals[r]
        return vals

    def _parse_commands(self):
        for c in self.root.find('commands'):
            if not api_ok(c):
                continue
            if c.get('alias'):
                self.command_aliases[c.get('name')] = c.get('alias')
                continue
            cmd = Command(c)
            self.commands[cmd.name] = cmd

    def _parse_features(self):
        self.core_commands = []
        self.core_types = set()
        for f in self.root.findall('feature'):
            if not api_ok(f) or f.get('name') not in CORE_VERSIONS:
                continue
            for req in f.findall('require'):
                for c in req.findall('command'):
                    self.core_commands.append(c.get('name'))
                for t in req.findall('type'):
                    self.core_types.add(t.get('name'))
        self.platform_protect = {p.get('name'): p.get('protect')
                                 for p in self.root.iter('platform')}
        self.extensions = []
        for ext in self.root.find('extensions'):
            sup = ext.get('supported', '').split(',')
            if 'vulkan' not in sup:
                continue
            cmds, tys, optional_cmds = [], [], []
            spec = '1'
            for en in ext.iter('enum'):
                if en.get('name', '').endswith('_SPEC_VERSION') and en.get('value'):
                    spec = en.get('value')
            for req in ext.findall('require'):
                if not api_ok(req):
                    continue
                # Blocks that depend on another extension are carried only if they can be.
                conditional = req.get('depends') or req.get('extension') or req.get('feature')
                (optional_cmds if conditional else cmds).extend(c.get('name') for c in req.findall('command'))
                if not conditional:
                    tys += [t.get('name') for t in req.findall('type')]
            self.extensions.append({
                'name': ext.get('name'), 'type': ext.get('type'),
                'platform': ext.get('platform'), 'provisional': ext.get('provisional') == 'true',
                'commands': cmds, 'optional_commands': optional_cmds, 'types': tys,
                'spec_version': spec,
            })

    # ---- classification ------------------------------------------------
    def resolve(self, name):
        while name in self.aliases:
            name = self.aliases[name]
        return name

    def scalar_size(self, tname):
        """Wire size of a scalar-like type, or None if it is not one."""
        tname = self.resolve(tname)
        if tname in SCALARS:
            return SCALARS[tname]
        if tname in self.enums:
            return 8 if tname in self.enum64 else 4
        if tname in self.bitmask_base:
            return 8 if self.bitmask_base[tname] == 'VkFlags64' else 4
        if tname in ('VkFlags', 'VkBool32', 'VkSampleMask'):
            return 4
        if tname in ('VkFlags64', 'VkDeviceSize', 'VkDeviceAddress'):
            return 8
        if tname in self.basetypes and self.basetypes[tname] in SCALARS:
            return SCALARS[self.basetypes[tname]]
        return None

    def is_handle(self, tname):
        return self.resolve(tname) in self.handles

    def objtype(self, tname):
        return self.handle_objtype[self.resolve(tname)]

    def is_struct(self, tname):
        return self.resolve(tname) in self.structs

    def struct(self, tname):
        return self.structs[self.resolve(tname)]

    def is_plain(self, tname):
        """A type without pointers or handles: safe to copy as raw bytes."""
        tname = self.resolve(tname)
        if self.scalar_size(tname):
            return True
        if tname in self.structs:
            s = self.structs[tname]
            return all(m.ptr == 0 and not m.bitfield and self.is_plain(m.type) for m in s.members)
        return False

    def member_ok(self, m, stack):
        if m.bitfield:
            return False
        t = self.resolve(m.type)
        if m.name == 'pNext':
            return True
        if t == 'VkAllocationCallbacks' and m.ptr == 1:
            return True  # never sent: the server uses its own allocator
        if t == 'void':
            if m.ptr == 1 and m.len:
                return True
            return False
        if t in self.platform_types or t.startswith('PFN_'):
            return False
        if t == 'char':
            if m.ptr == 0 and m.array:
                return True
            if m.ptr == 1 and m.len and 'null-terminated' in m.len:
                return True
            if m.ptr == 2 and m.len and m.len.endswith('null-terminated'):
                return True
            return False
        if m.ptr >= 2:
            return False
        if self.scalar_size(t) or self.is_handle(t):
            return True
        if t in self.structs:
            return self.struct_ok(t, stack)
        return False

    def struct_ok(self, name, stack=()):
        name = self.resolve(name)
        if name in self._transportable_cache:
            return self._transportable_cache[name]
        if name in stack:
            return True
        s = self.structs[name]
        if any(m.name == 'sType' for m in s.members) and not s.stype:
            ok = False  # VkBaseInStructure and friends: never sent as such
        elif s.union:
            ok = self.is_plain(name)
        else:
            ok = all(self.member_ok(m, stack + (name,)) for m in s.members)
        if not stack:
            self._transportable_cache[name] = ok
        return ok

    def command_ok(self, cmd):
        if cmd.name in CLIENT_ONLY:
            return True
        if cmd.ret not in ('void', 'VkResult', 'VkBool32', 'uint32_t', 'uint64_t', 'VkDeviceAddress', 'VkDeviceSize'):
            return False
        return all(self.member_ok(p, ()) for p in cmd.params)

    def _ext_denied(self, ext):
        if ext['platform'] or ext['provisional'] or ext['name'] in DENIED_EXTENSIONS:
            return True
        return any(re.search(p, ext['name']) for p in DENIED_EXTENSION_PATTERNS)

    def _select(self):
        """Choose what tether carries: core 1.0-1.3 and carriable extensions."""
        self.carried_extensions = []
        ext_cmds = []
        ext_types = set()
        for ext in self.extensions:
            if self._ext_denied(ext):
                continue
            types_ok = all(self.struct_ok(t) for t in ext['types'] if self.is_struct(t))
            cmds = [self.resolve_cmd(c) for c in ext['commands']]
            cmds_ok = all(c in self.commands and self.command_ok(self.commands[c]) for c in cmds)
            if not (types_ok and cmds_ok):
                continue
            cmds += [c for c in map(self.resolve_cmd, ext['optional_commands'])
                     if c in self.commands and self.command_ok(self.commands[c])]
            self.carried_extensions.append(ext)
            ext_cmds += cmds
            ext_types.update(self.resolve(t) for t in ext['types'])
        names = []
        self.client_only_commands = []
        for c in self.core_commands + ext_cmds:
            c = self.resolve_cmd(c)
            if c in CLIENT_ONLY:
                self.client_only_commands.append(self.commands[c])
                continue
            if not self.command_ok(self.commands[c]):
                continue  # vkGetInstanceProcAddr and friends: never on the wire
            if c not in names:
                names.append(c)
        self.carried_commands = [self.commands[c] for c in names]
        roots = set(self.resolve(t) for t in self.core_types) | ext_types
        for c in self.carried_commands:
            for p in c.params:
                roots.add(self.resolve(p.type))
        structs = set()

        def visit(t):
            t = self.resolve(t)
            if t not in self.structs or t in structs:
                return
            structs.add(t)
            for m in self.structs[t].members:
                visit(m.type)
        for t in roots:
            visit(t)
        # pNext extension structs of carried extensions and core
        self.carried_structs = [s for n, s in self.structs.items()
                                if n in structs and self.struct_ok(n)]
        self.carried_struct_names = set(s.name for s in self.carried_structs)
        # ids must not collide with each other or with tether's reserved range
        seen = {}
        for c in self.commands.values():
            if c.id < RESERVED_ID_LIMIT or c.id in seen:
                raise SystemExit('command id collision: %s / %s' % (c.name, seen.get(c.id)))
            seen[c.id] = c.name

    @property
    def wsi_extensions(self):
        """The window-system extensions the ICD implements, each with the
        macro that guards its platform's declarations (or None)."""
        out = []
        for ext in self.extensions:
            if ext['name'] in ICD_WSI_EXTENSIONS:
                e = dict(ext)
                e['protect'] = self.platform_protect.get(ext['platform']) if ext['platform'] else None
                e['all_commands'] = [self.resolve_cmd(c) for c in ext['commands'] + ext['optional_commands']]
                out.append(e)
        return out

    def resolve_cmd(self, name):
        while name in self.command_aliases:
            name = self.command_aliases[name]
        return name

    def extension_structs(self):
        """Carried structs that may appear in a pNext chain."""
        return [s for s in self.carried_structs if s.extends and s.stype]
