#!/usr/bin/env python3
"""Generates the wire-format tests' inputs from the Khronos registry.

For every carried struct and command it emits a filler that builds a valid
random instance (counts written before their arrays, sTypes set, pNext chains
drawn from the structs that may extend the root), plus a table that
tests/protocol/test_wire.c walks to round-trip, truncate and corrupt each one.
Usage: gen_wire_tests.py vk.xml OUTDIR
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from registry import Registry  # noqa: E402
import codegen as cg  # noqa: E402
from gen_protocol import HEADER, write, param_role  # noqa: E402

# Nested structs deeper than this leave optional pointers NULL: the struct
# graph has no cycles today, this only keeps a future one finite.
MAX_DEPTH = 6

H_TEXT = r'''
#ifndef TETHER_WIRE_TESTS_H
#define TETHER_WIRE_TESTS_H

#include "tether_wire.h"

/* xorshift64*: deterministic per seed, so a failure names its seed. */
struct tether_wire_rng {
	uint64_t s;
};

static inline uint64_t tether_wire_rng_next(struct tether_wire_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t tether_wire_rng_below(struct tether_wire_rng *r, uint32_t n)
{
	return (uint32_t)(tether_wire_rng_next(r) % n);
}

/* One struct (or a struct's output skeleton, or a command's request). */
struct tether_wire_case {
	const char *name;
	size_t size;  /* sizeof the C object the case fills and decodes into */
	void (*fill)(struct tether_wire_rng *r, struct tether_arena *a, void *v);
	size_t (*wire_size)(const void *v); /* NULL where no size function exists */
	void (*encode)(struct tether_encoder *e, const void *v);
	void (*decode)(struct tether_decoder *d, void *v);
	size_t header; /* commands: the 8-byte header encode writes and decode skips */
};

extern const struct tether_wire_case tether_wire_struct_cases[];
extern const size_t tether_wire_struct_case_count;
extern const struct tether_wire_case tether_wire_partial_cases[];
extern const size_t tether_wire_partial_case_count;
extern const struct tether_wire_case tether_wire_command_cases[];
extern const size_t tether_wire_command_case_count;

#endif
'''

C_PRELUDE = r'''
#include "tether_wire_tests.h"

#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wtype-limits"

typedef void (*fill_fn)(struct tether_wire_rng *r, struct tether_arena *a, void *v, int depth);

struct chain_link {
	size_t size;
	fill_fn fill;
};

static void rng_fill(struct tether_wire_rng *r, void *p, size_t n)
{
	unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)tether_wire_rng_next(r);
}

static uint64_t rng_handle(struct tether_wire_rng *r)
{
	return tether_wire_rng_next(r) | 1;
}

static void *alloc(struct tether_arena *a, size_t count, size_t size)
{
	return tether_arena_alloc(a, count * size);
}

/* Printable text, NUL-terminated and NUL-padded (the decoder forces the last byte to 0). */
static void rng_chars(struct tether_wire_rng *r, char *s, size_t n)
{
	size_t len = tether_wire_rng_below(r, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		s[i] = i < len ? (char)(' ' + 1 + tether_wire_rng_below(r, 94)) : 0;
}

static char *rng_string(struct tether_wire_rng *r, struct tether_arena *a)
{
	size_t len = tether_wire_rng_below(r, 12);
	char *s = alloc(a, len + 1, 1);
	rng_chars(r, s, len + 1);
	s[len] = 0;
	for (size_t i = 0; i < len; i++)
		if (!s[i])
			s[i] = 'x';
	return s;
}

/* 0-2 distinct structs that may extend the root, each with an empty chain. */
static void *fill_chain(struct tether_wire_rng *r, struct tether_arena *a, const struct chain_link *links,
			size_t count)
{
	void *head = NULL;
	VkBaseOutStructure *tail = NULL;
	size_t want = count ? tether_wire_rng_below(r, 3) : 0;
	size_t first = count ? tether_wire_rng_below(r, (uint32_t)count) : 0;
	for (size_t k = 0; k < want && k < count; k++) {
		const struct chain_link *l = &links[(first + k * 7) % count];
		if (k == 1 && l == &links[first])
			break;
		VkBaseOutStructure *node = alloc(a, 1, l->size);
		l->fill(r, a, node, 1);
		node->pNext = NULL;
		if (tail)
			tail->pNext = node;
		else
			head = node;
		tail = node;
	}
	return head;
}
'''


def c_ident(expr):
    return [n for n in re.findall(r'(?<![>.\w])([A-Za-z_]\w*)', expr)]


class Filler:
    """C statements filling values of one struct or one command's arguments."""

    def __init__(self, reg, ctx, owner_members, top_ref):
        self.reg = reg
        self.ctx = ctx
        self.members = owner_members
        self.ref = top_ref

    def counts(self):
        """Members written before everything else: counts and what len expressions read."""
        simple, exprs = [], []
        sib = self.ctx.siblings
        for m in self.members:
            if not (m.ptr and m.len) or cg.is_allocator(self.reg, m):
                continue
            p0 = m.len_parts()[0]
            if p0 == 'null-terminated':
                continue
            if p0 in sib:
                if p0 not in simple:
                    simple.append(p0)
            else:
                for n in c_ident(p0):
                    q = sib.get(n)
                    if q and q.ptr == 0 and self.reg.scalar_size(q.type) and n not in exprs + simple:
                        exprs.append(n)
        return simple, exprs

    def count_lines(self):
        simple, exprs = self.counts()
        out = []
        for n in simple:
            m = self.ctx.siblings[n]
            if m.ptr == 1:  # a command's in/out count: *pCount
                out += ['{', '\t%s *c_ = alloc(a, 1, sizeof(%s));' % (m.type, m.type),
                        '\t*c_ = (%s)tether_wire_rng_below(r, 4);' % m.type,
                        '\t%s = c_;' % self.ref(n), '}']
            else:
                out.append('%s = (%s)tether_wire_rng_below(r, 4);' % (self.ref(n), m.type))
        for n in exprs:
            # Small multiples of 4 keep `codeSize / 4` exact and
            # `(rasterizationSamples + 31) / 32` at 0..2.
            m = self.ctx.siblings[n]
            out.append('%s = (%s)(4 * tether_wire_rng_below(r, 17));' % (self.ref(n), m.type))
        return out, set(simple) | set(exprs)

    def elem(self, m, x):
        reg = self.reg
        t = reg.resolve(m.type)
        if m.objecttype:
            return ['%s = rng_handle(r);' % x]
        if reg.is_handle(t):
            return ['%s = (%s)(uintptr_t)rng_handle(r);' % (x, m.type)]
        if t == 'void' or reg.scalar_size(t) or reg.struct(t).union:
            return ['rng_fill(r, &%s, sizeof(%s));' % (x, x)]
        return ['fill_%s(r, a, &%s, depth + 1);' % (t, x)]

    def value(self, m, x):
        reg = self.reg
        t = reg.resolve(m.type)
        if cg.is_allocator(reg, m) or m.name in ('sType', 'pNext'):
            return []
        if m.array:
            cnt = cg.static_count(m)
            if t == 'char':
                return ['rng_chars(r, (char *)%s, %s);' % (x, cnt)]
            if cg.raw_copyable(reg, m):
                return ['rng_fill(r, %s, sizeof(%s));' % (x, x)]
            return ['for (size_t i_ = 0; i_ < %s; i_++) {' % cnt] + \
                cg.indent(self.elem(m, '((%s *)%s)[i_]' % (m.type, x))) + ['}']
        if m.ptr == 0:
            return self.elem(m, x)
        opt = m.is_optional
        if cg.is_string(m):
            if opt:
                return ['%s = tether_wire_rng_below(r, 4) ? rng_string(r, a) : NULL;' % x]
            return ['%s = rng_string(r, a);' % x]
        if cg.is_string_array(m):
            cnt = cg.len_expr(self.ctx, m)
            return ['{', '\tconst size_t n_ = (size_t)(%s);' % cnt,
                    '\tconst char **s_ = alloc(a, n_ ? n_ : 1, sizeof(char *));',
                    '\tfor (size_t i_ = 0; i_ < n_; i_++)', '\t\ts_[i_] = rng_string(r, a);',
                    '\t%s = s_;' % x, '}']
        esize = cg.elem_size(reg, m)
        ctype = 'uint8_t' if t == 'void' else m.type
        cnt = cg.len_expr(self.ctx, m) if m.len else '1'
        # An optional pointer is sometimes NULL, even with a nonzero count
        # (the decoder accepts that for optional arrays).
        null_ok = 'depth > %d || tether_wire_rng_below(r, 5) == 0' % MAX_DEPTH if opt else '0'
        lines = ['{', '\tconst size_t n_ = (size_t)(%s);' % cnt,
                 '\t%s *p_ = NULL;' % ctype,
                 '\tif (!(%s)) {' % null_ok,
                 '\t\tp_ = alloc(a, n_ ? n_ : 1, %s);' % esize]
        if t == 'void':
            lines.append('\t\trng_fill(r, p_, n_);')
        else:
            lines += ['\t\tfor (size_t i_ = 0; i_ < n_; i_++) {'] + \
                cg.indent(self.elem(m, 'p_[i_]'), 3) + ['\t\t}']
        lines += ['\t}', '\t%s = p_;' % x, '}']
        return lines


def chain_parents(reg):
    """Root struct name -> carried extension structs that may extend it."""
    out = {}
    for e in sorted(reg.extension_structs(), key=lambda s: s.name):
        for p in e.extends:
            if reg.is_struct(p) and reg.struct(p).stype and reg.resolve(p) in reg.carried_struct_names:
                lst = out.setdefault(reg.resolve(p), [])
                if e.name not in lst:
                    lst.append(e.name)
    return out


def gen_fill_struct(reg, s, parents):
    t = s.name
    out = ['static void fill_%s(struct tether_wire_rng *r, struct tether_arena *a, void *vp, int depth)' % t, '{',
           '\t%s *v = vp;' % t]
    if s.union:
        return out + ['\trng_fill(r, v, sizeof(*v));', '}', '']
    ctx = cg.Ctx(reg, lambda n: 'v->' + n, {m.name: m for m in s.members})
    f = Filler(reg, ctx, s.members, ctx.ref)
    body = []
    if s.stype:
        body.append('v->sType = %s;' % s.stype)
    if s.has_pnext:
        if parents.get(t):
            body.append('v->pNext = depth <= 1 ? fill_chain(r, a, chain_%s, %d) : NULL;' % (t, len(parents[t])))
        else:
            body.append('v->pNext = NULL;')
    counts, skip = f.count_lines()
    body += counts
    for m in s.members:
        if m.name in skip:
            continue
        body += f.value(m, 'v->' + m.name)
    return out + cg.indent(body) + ['}', '']


def gen_command(reg, cmd):
    n = cmd.name
    sib = {p.name: p for p in cmd.params}
    ctx = cg.Ctx(reg, lambda x: 'v->' + x, sib)
    f = Filler(reg, ctx, cmd.params, ctx.ref)
    body = ['struct tether_args_%s *v = vp;' % n, 'const int depth = -1;']
    counts, skip = f.count_lines()
    body += counts
    for p in cmd.params:
        if p.name in skip:
            continue
        role = param_role(reg, cmd, p)
        x = 'v->' + p.name
        # A count read from another parameter's struct (pAllocateInfo->
        # commandBufferCount) was filled at random: bring it down first.
        for owner, field in re.findall(r'(\w+)->(\w+)', p.len or ''):
            o = sib[owner]
            body.append('((%s *)v->%s)->%s %%= 4;' % (o.type, owner, field))
        if role in ('in', 'out_handles'):
            body += f.value(p, x)
        elif role == 'out':
            cnt = cg.len_expr(ctx, p) if p.len else '1'
            t = reg.resolve(p.type)
            ctype = 'uint8_t' if t == 'void' else p.type
            body += ['{', '\tconst size_t n_ = (size_t)(%s);' % cnt,
                     '\t%s *p_ = alloc(a, n_ ? n_ : 1, %s);' % (ctype, cg.elem_size(reg, p))]
            if reg.is_struct(t) and cg.struct_needs_partial(reg, t):
                # Output structs travel as skeletons: fill them whole, the
                # encoder sends only sType, chain and capacities.
                body += ['\tfor (size_t i_ = 0; i_ < n_; i_++)',
                         '\t\tfill_%s(r, a, &p_[i_], 0);' % t]
            body += ['\t%s = p_;' % x, '}']
    args = ', '.join('v->' + p.name for p in cmd.params)
    out = ['static void fill_cmd_%s(struct tether_wire_rng *r, struct tether_arena *a, void *vp)' % n, '{']
    out += cg.indent(body) + ['}', '']
    out += ['static void encode_cmd_%s(struct tether_encoder *e, const void *vp)' % n, '{',
            '\tconst struct tether_args_%s *v = vp;' % n,
            '\ttether_encode_cmd_%s(e%s);' % (n, ', ' + args if args else ''), '}', '']
    # The server keeps the ids of objects the call creates beside the (still
    # empty) handle array: put them back so the request re-encodes as sent.
    dec = ['struct tether_args_%s *v = vp;' % n,
           'if (tether_dec_u32(d) != TETHER_CMD_%s)' % n,
           '\ttether_decoder_fail(d, "wrong command id");',
           'tether_dec_u32(d);',
           'tether_decode_cmd_%s(d, v);' % n]
    for p in cmd.params:
        if param_role(reg, cmd, p) == 'out_handles':
            cnt = cg.len_expr(ctx, p) if p.len else '1'
            dec += ['if (!d->fatal && v->%s && v->%s_ids)' % (p.name, p.name),
                    '\tfor (size_t i_ = 0; i_ < (size_t)(%s); i_++)' % cnt,
                    '\t\tv->%s[i_] = (%s)(uintptr_t)v->%s_ids[i_];' % (p.name, p.type, p.name)]
    out += ['static void decode_cmd_%s(struct tether_decoder *d, void *vp)' % n, '{'] + cg.indent(dec) + ['}', '']
    return out


def main():
    reg = Registry(sys.argv[1])
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    structs = sorted(reg.carried_structs, key=lambda s: s.name)
    parents = chain_parents(reg)

    write(os.path.join(outdir, 'tether_wire_tests.h'), HEADER % 'gen_wire_tests.py' + H_TEXT)

    c = [HEADER % 'gen_wire_tests.py' + C_PRELUDE]
    for s in structs:
        c.append('static void fill_%s(struct tether_wire_rng *r, struct tether_arena *a, void *vp, int depth);' % s.name)
    c.append('')
    for root in sorted(parents):
        c.append('static const struct chain_link chain_%s[] = {' % root)
        c += ['\t{sizeof(%s), fill_%s},' % (e, e) for e in parents[root]]
        c += ['};', '']
    for s in structs:
        c += gen_fill_struct(reg, s, parents)

    # Uniform entry points for the table.
    partial = [s for s in structs if cg.struct_needs_partial(reg, s.name)]
    for s in structs:
        t = s.name
        c += ['static void case_fill_%s(struct tether_wire_rng *r, struct tether_arena *a, void *v) '
              '{ fill_%s(r, a, v, 0); }' % (t, t),
              'static size_t case_size_%s(const void *v) { return tether_size_%s(v); }' % (t, t),
              'static void case_encode_%s(struct tether_encoder *e, const void *v) { tether_encode_%s(e, v); }' % (t, t),
              'static void case_decode_%s(struct tether_decoder *d, void *v) { tether_decode_%s(d, v); }' % (t, t)]
    for s in partial:
        t = s.name
        c += ['static void case_encode_partial_%s(struct tether_encoder *e, const void *v) '
              '{ tether_encode_%s_partial(e, v); }' % (t, t),
              'static void case_decode_partial_%s(struct tether_decoder *d, void *v) '
              '{ tether_decode_%s_partial(d, v); }' % (t, t)]
    c.append('')
    c.append('const struct tether_wire_case tether_wire_struct_cases[] = {')
    for s in structs:
        t = s.name
        c.append('\t{"%s", sizeof(%s), case_fill_%s, case_size_%s, case_encode_%s, case_decode_%s, 0},' % (
            t, t, t, t, t, t))
    c += ['};', 'const size_t tether_wire_struct_case_count = %d;' % len(structs), '']
    c.append('const struct tether_wire_case tether_wire_partial_cases[] = {')
    for s in partial:
        t = s.name
        c.append('\t{"%s (partial)", sizeof(%s), case_fill_%s, NULL, case_encode_partial_%s, case_decode_partial_%s, 0},' % (
            t, t, t, t, t))
    c += ['};', 'const size_t tether_wire_partial_case_count = %d;' % len(partial), '']

    cmds = sorted(reg.carried_commands, key=lambda x: x.name)
    for cmd in cmds:
        c += gen_command(reg, cmd)
    c.append('const struct tether_wire_case tether_wire_command_cases[] = {')
    for cmd in cmds:
        n = cmd.name
        c.append('\t{"%s", sizeof(struct tether_args_%s), fill_cmd_%s, NULL, encode_cmd_%s, decode_cmd_%s, 8},' % (
            n, n, n, n, n))
    c += ['};', 'const size_t tether_wire_command_case_count = %d;' % len(cmds), '']
    write(os.path.join(outdir, 'tether_wire_tests.c'), '\n'.join(c))


if __name__ == '__main__':
    main()
