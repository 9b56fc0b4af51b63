"""C code snippets for one value on the wire: its size, its encoding, its decoding.

A value is a struct member or a command parameter. `ref(name)` maps a sibling's
name to the C expression that reads it (`v->count`, `a->count`, `count`), so the
same rules serve structs, server-side argument blocks and client parameters.
"""

import re

PNEXT_MAX_DEPTH = 256


class Ctx:
    def __init__(self, reg, ref, siblings):
        self.reg = reg
        self.ref = ref
        self.siblings = siblings   # name -> Member


def len_expr(ctx, m):
    """C expression for the element count of pointer member m."""
    parts = m.len_parts()
    expr = parts[0]
    if expr == 'null-terminated':
        return None
    for k, v in ctx.reg.constants.items():
        expr = re.sub(r'\b%s\b' % k, '(%s)' % v, expr)

    def sub(mo):
        name = mo.group(1)
        if name in ctx.siblings:
            sib = ctx.siblings[name]
            if sib.ptr == 1 and not sib.const and ctx.reg.scalar_size(sib.type):
                return '(%s ? (uint64_t)*%s : 0)' % (ctx.ref(name), ctx.ref(name))
            # 64-bit arithmetic: hostile values must not wrap ((samples + 31) / 32).
            return '(uint64_t)' + ctx.ref(name)
        return name
    return re.sub(r'(?<![>.\w])([A-Za-z_]\w*)', sub, expr)


def min_wire(reg, tname):
    """Smallest number of bytes one element of tname takes on the wire."""
    t = reg.resolve(tname)
    k = reg.scalar_size(t)
    if k:
        return k
    if reg.is_handle(t):
        return 8
    if t in reg.structs:
        s = reg.structs[t]
        if s.union:
            return 1
        return max(1, sum(member_min_wire(reg, m) for m in s.members))
    return 1


def member_min_wire(reg, m):
    if m.name == 'pNext' or m.ptr:
        return 4 if reg.resolve(m.type) != 'VkAllocationCallbacks' else 0
    return min_wire(reg, m.type)  # for an array, one element's worth is a safe bound


def struct_needs_partial(reg, name, seen=()):
    """Does an output struct carry anything before the call (sType, chains, capacities)?"""
    s = reg.struct(name)
    if s.union:
        return False
    if s.stype:
        return True
    for m in s.members:
        if m.ptr == 1 and m.len and m.len_parts()[0] in [x.name for x in s.members]:
            return True
        if m.ptr == 0 and not m.array and reg.is_struct(m.type) and m.type not in seen:
            if struct_needs_partial(reg, m.type, seen + (name,)):
                return True
    return False


def is_string(m):
    return m.type == 'char' and m.ptr == 1 and m.len and 'null-terminated' in m.len_parts()


def is_string_array(m):
    return m.type == 'char' and m.ptr == 2


def is_allocator(reg, m):
    return reg.resolve(m.type) == 'VkAllocationCallbacks'


def elem_size(reg, m):
    """C sizeof expression for one pointee of m."""
    return '1' if m.type == 'void' else 'sizeof(%s)' % m.type


# ---- single elements ------------------------------------------------------

def elem_size_code(ctx, m, x):
    reg = ctx.reg
    t = reg.resolve(m.type)
    k = reg.scalar_size(t)
    if m.objecttype or reg.is_handle(t):
        return '8'
    if k:
        return str(k)
    s = reg.structs[t]
    if s.union:
        return 'sizeof(%s)' % t
    return 'tether_size_%s(&%s)' % (t, x)


def elem_encode(ctx, m, x, partial=False):
    reg = ctx.reg
    t = reg.resolve(m.type)
    if m.objecttype:
        return 'tether_enc_handle(e, (VkObjectType)%s, %s);' % (ctx.ref(m.objecttype), x)
    if reg.is_handle(t):
        return 'tether_enc_handle(e, %s, (uint64_t)(uintptr_t)%s);' % (reg.objtype(t), x)
    k = reg.scalar_size(t)
    if k:
        return 'tether_enc_raw(e, &%s, %d);' % (x, k)
    s = reg.structs[t]
    if s.union:
        return 'tether_enc_raw(e, &%s, sizeof(%s));' % (x, t)
    return 'tether_encode_%s%s(e, &%s);' % (t, '_partial' if partial else '', x)


def elem_decode(ctx, m, x, partial=False, optional=False):
    reg = ctx.reg
    t = reg.resolve(m.type)
    # noautovalidity also covers the elements: vkFreeCommandBuffers ignores
    # VK_NULL_HANDLEs in its (required) array.
    opt = 'true' if (m.is_optional or m.noautovalidity or optional) else 'false'
    if m.objecttype:
        return '%s = tether_dec_handle(d, (VkObjectType)%s, %s);' % (x, ctx.ref(m.objecttype), opt)
    if reg.is_handle(t):
        return '%s = (%s)(uintptr_t)tether_dec_handle(d, %s, %s);' % (x, m.type, reg.objtype(t), opt)
    k = reg.scalar_size(t)
    if k:
        return 'tether_dec_raw(d, &%s, %d);' % (x, k)
    s = reg.structs[t]
    if s.union:
        return 'tether_dec_raw(d, &%s, sizeof(%s));' % (x, t)
    return 'tether_decode_%s%s(d, &%s);' % (t, '_partial' if partial else '', x)


def raw_copyable(reg, m):
    """Arrays of these travel as one block of bytes."""
    t = reg.resolve(m.type)
    if m.objecttype or reg.is_handle(t):
        return False
    if t == 'void':
        return True
    return bool(reg.scalar_size(t)) and not (t == 'size_t')


# ---- whole values (struct members and parameters) --------------------------

def static_count(m):
    return ' * '.join('(%s)' % d for d in m.array)


def value_size(ctx, m, x):
    """Lines adding the wire size of value m (C lvalue x) to `n`."""
    reg = ctx.reg
    if is_allocator(reg, m):
        return []
    if m.name == 'pNext':
        return ['n += tether_size_pnext(%s);' % x]
    if m.array:
        if raw_copyable(reg, m):
            return ['n += sizeof(%s) * %s;' % (m.type, static_count(m))]
        flat = '((const %s *)%s)' % (m.type, x)
        return ['for (size_t i_ = 0; i_ < %s; i_++)' % static_count(m),
                '\tn += %s;' % elem_size_code(ctx, m, flat + '[i_]')]
    if m.ptr == 0:
        return ['n += %s;' % elem_size_code(ctx, m, x)]
    if is_string(m):
        return ['n += tether_size_string(%s);' % x]
    if is_string_array(m):
        cnt = len_expr(ctx, m)
        return ['n += 4;', 'if (%s)' % x, '\tfor (size_t i_ = 0; i_ < (size_t)(%s); i_++)' % cnt,
                '\t\tn += tether_size_string(%s[i_]);' % x]
    cnt = len_expr(ctx, m) if m.len else '1'
    lines = ['n += 4;', 'if (%s) {' % x]
    if raw_copyable(reg, m):
        lines.append('\tn += (size_t)(%s) * %s;' % (cnt, elem_size(reg, m)))
    else:
        lines += ['\tfor (size_t i_ = 0; i_ < (size_t)(%s); i_++)' % cnt,
                  '\t\tn += %s;' % elem_size_code(ctx, m, '%s[i_]' % x)]
    lines.append('}')
    return lines


def value_encode(ctx, m, x):
    reg = ctx.reg
    if is_allocator(reg, m):
        return []
    if m.name == 'pNext':
        return ['tether_encode_pnext(e, %s);' % x]
    if m.array:
        if raw_copyable(reg, m):
            return ['tether_enc_raw(e, %s, sizeof(%s) * %s);' % (x, m.type, static_count(m))]
        flat = '((const %s *)%s)' % (m.type, x)
        return ['for (size_t i_ = 0; i_ < %s; i_++)' % static_count(m),
                '\t' + elem_encode(ctx, m, flat + '[i_]')]
    if m.ptr == 0:
        return [elem_encode(ctx, m, x)]
    if is_string(m):
        return ['tether_enc_string(e, %s);' % x]
    if is_string_array(m):
        cnt = len_expr(ctx, m)
        return ['tether_enc_u32(e, %s != NULL);' % x, 'if (%s)' % x,
                '\tfor (size_t i_ = 0; i_ < (size_t)(%s); i_++)' % cnt,
                '\t\ttether_enc_string(e, %s[i_]);' % x]
    cnt = len_expr(ctx, m) if m.len else '1'
    lines = ['tether_enc_u32(e, %s != NULL);' % x, 'if (%s) {' % x]
    if raw_copyable(reg, m):
        lines.append('\ttether_enc_raw(e, %s, (size_t)(%s) * %s);' % (x, cnt, elem_size(reg, m)))
    else:
        lines += ['\tfor (size_t i_ = 0; i_ < (size_t)(%s); i_++)' % cnt,
                  '\t\t' + elem_encode(ctx, m, '%s[i_]' % x)]
    lines.append('}')
    return lines


def value_decode(ctx, m, x, cap=None):
    """Decode value m into lvalue x.

    Pointers that are NULL get fresh arena memory (the server decoding a
    request); pointers the caller already set are filled in place, bounded by
    the capacity `cap` the caller had (the client decoding a reply).
    """
    reg = ctx.reg
    if is_allocator(reg, m):
        return ['%s = NULL;' % x]
    if m.name == 'pNext':
        return ['tether_decode_pnext(d, (const void **)&%s, %s);' % (x, ctx.pnext_root)]
    if m.array:
        if raw_copyable(reg, m):
            lines = ['tether_dec_raw(d, %s, sizeof(%s) * %s);' % (x, m.type, static_count(m))]
            if m.type == 'char':
                lines.append('%s[%s - 1] = 0;' % (x, static_count(m)))
            return lines
        flat = '((%s *)%s)' % (m.type, x)
        # Fixed arrays of handles hold VK_NULL_HANDLE past their count
        # (VkPhysicalDeviceGroupProperties::physicalDevices).
        return ['for (size_t i_ = 0; i_ < %s; i_++)' % static_count(m),
                '\t' + elem_decode(ctx, m, flat + '[i_]', optional=True)]
    if m.ptr == 0:
        return [elem_decode(ctx, m, x)]
    if is_string(m):
        lines = ['%s = tether_dec_string(d);' % x]
        if not m.is_optional:
            lines += ['if (!%s && !d->fatal)' % x, '\ttether_decoder_fail(d, "required string is NULL");']
        return lines
    if is_string_array(m):
        cnt = len_expr(ctx, m)
        return ['if (tether_dec_present(d)) {',
                '\tconst char **s_ = tether_dec_array(d, %s, sizeof(char *), 4);' % cnt,
                '\tfor (size_t i_ = 0; s_ && i_ < (size_t)(%s); i_++)' % cnt,
                '\t\ts_[i_] = tether_dec_string(d);',
                '\t%s = (void *)s_;' % x,
                '} else {',
                '\t%s = NULL;' % x,
                '}']
    cnt = len_expr(ctx, m) if m.len else '1'
    t = m.type
    mw = min_wire(reg, t) if t != 'void' else 1
    lines = []
    div = re.match(r'^\s*([A-Za-z_]\w*)\s*/\s*(\d+)\s*$', m.len or '')
    if div and div.group(1) in ctx.siblings:
        # A byte size for an array of words (codeSize / 4): a remainder
        # would make the driver read past the decoded array.
        lines += ['if (%s %% %s)' % (ctx.ref(div.group(1)), div.group(2)),
                  '\ttether_decoder_fail(d, "size is not a multiple of the element size");']
    lines += ['if (tether_dec_present(d)) {',
             '\tconst uint64_t n_ = (uint64_t)(%s);' % cnt]
    if cap:
        lines += ['\t%s *p_ = (%s *)%s;' % (t, t, x),
                  '\tif (p_ && n_ > (uint64_t)(%s))' % cap,
                  '\t\ttether_decoder_fail(d, "reply larger than the caller\'s array");',
                  '\tif (!p_)',
                  '\t\tp_ = tether_dec_array(d, n_, %s, %d);' % (elem_size(reg, m), mw)]
    else:
        lines += ['\t%s *p_ = (%s *)%s;' % (t, t, x),
                  '\tif (!p_)',
                  '\t\tp_ = tether_dec_array(d, n_, %s, %d);' % (elem_size(reg, m), mw)]
    if raw_copyable(reg, m):
        lines.append('\tif (p_ && !d->fatal)')
        lines.append('\t\ttether_dec_raw(d, p_, (size_t)n_ * %s);' % elem_size(reg, m))
    else:
        lines += ['\tfor (uint64_t i_ = 0; p_ && !d->fatal && i_ < n_; i_++)',
                  '\t\t' + elem_decode(ctx, m, 'p_[i_]')]
    lines.append('\t%s = p_;' % x)
    if not m.is_optional and not m.len:
        lines += ['} else {', '\ttether_decoder_fail(d, "required pointer is NULL");']
    elif not m.is_optional:
        lines += ['} else if ((uint64_t)(%s) != 0) {' % cnt,
                  '\ttether_decoder_fail(d, "NULL array with a nonzero count");']
    lines.append('}')
    return lines


def indent(lines, n=1):
    return ['\t' * n + l if l else l for l in lines]
