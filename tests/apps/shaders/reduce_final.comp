#version 450
// Pass 2 of a sum: one workgroup folds `count` 32-bit partials into a 64-bit
// total kept as (lo, hi) with explicit carries, so shaderInt64 is not needed.
layout(local_size_x = 128) in;
layout(set = 0, binding = 0, std430) readonly buffer Partials { uint partials[]; };
layout(set = 0, binding = 1, std430) writeonly buffer Result { uint result[]; };
layout(push_constant) uniform Push { uint count; } pc;

shared uvec2 acc[128];

uvec2 add64(uvec2 a, uvec2 b)
{
    uint carry;
    uint lo = uaddCarry(a.x, b.x, carry);
    return uvec2(lo, a.y + b.y + carry);
}

void main()
{
    uint lid = gl_LocalInvocationID.x;
    uvec2 s = uvec2(0u);
    for (uint i = lid; i < pc.count; i += 128u)
        s = add64(s, uvec2(partials[i], 0u));
    acc[lid] = s;
    barrier();
    for (uint off = 64u; off > 0u; off >>= 1u) {
        if (lid < off)
            acc[lid] = add64(acc[lid], acc[lid + off]);
        barrier();
    }
    if (lid == 0u) {
        result[0] = acc[0].x;
        result[1] = acc[0].y;
    }
}
