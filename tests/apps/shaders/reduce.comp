#version 450
// Pass 1 of a sum: each workgroup adds its contiguous chunk of `chunk` uints
// and writes one partial sum (values are small, so 32 bits suffice).
layout(local_size_x = 128) in;
layout(set = 0, binding = 0, std430) readonly buffer Data { uint data[]; };
layout(set = 0, binding = 1, std430) writeonly buffer Partials { uint partials[]; };
layout(push_constant) uniform Push { uint n; uint chunk; } pc;

shared uint acc[128];

void main()
{
    uint lid = gl_LocalInvocationID.x;
    uint start = gl_WorkGroupID.x * pc.chunk;
    uint end = min(start + pc.chunk, pc.n);
    uint s = 0u;
    for (uint i = start + lid; i < end; i += 128u)
        s += data[i];
    acc[lid] = s;
    barrier();
    for (uint off = 64u; off > 0u; off >>= 1u) {
        if (lid < off)
            acc[lid] += acc[lid + off];
        barrier();
    }
    if (lid == 0u)
        partials[gl_WorkGroupID.x] = acc[0];
}
