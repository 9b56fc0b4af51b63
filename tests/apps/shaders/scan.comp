#version 450
// One level of an inclusive prefix sum: each workgroup scans a block of
// 512 uints in place (4 per invocation) and writes the block total to sums[].
layout(local_size_x = 128) in;
layout(set = 0, binding = 0, std430) buffer Data { uint data[]; };
layout(set = 0, binding = 1, std430) writeonly buffer Sums { uint sums[]; };
layout(push_constant) uniform Push { uint n; } pc;

shared uint partial[128];

void main()
{
    uint lid = gl_LocalInvocationID.x;
    uint base = gl_WorkGroupID.x * 512u + lid * 4u;
    uint v[4];
    uint run = 0u;
    for (uint k = 0u; k < 4u; k++) {
        uint i = base + k;
        run += (i < pc.n) ? data[i] : 0u;
        v[k] = run;
    }
    partial[lid] = run;
    barrier();
    // Hillis-Steele inclusive scan of the 128 per-invocation totals.
    for (uint off = 1u; off < 128u; off <<= 1u) {
        uint add = (lid >= off) ? partial[lid - off] : 0u;
        barrier();
        partial[lid] += add;
        barrier();
    }
    uint before = (lid > 0u) ? partial[lid - 1u] : 0u;
    for (uint k = 0u; k < 4u; k++) {
        uint i = base + k;
        if (i < pc.n)
            data[i] = v[k] + before;
    }
    if (lid == 127u)
        sums[gl_WorkGroupID.x] = partial[127];
}
