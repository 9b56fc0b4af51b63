#version 450
// dst[dst_offset + t] = FNV-1a over src[src_offset + t + k*256] for t < 256:
// one 256-word fingerprint of a slice that changes if any word of it is stale.
layout(local_size_x = 256) in;
layout(set = 0, binding = 0, std430) readonly buffer Src { uint src[]; };
layout(set = 0, binding = 1, std430) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform Push { uint src_offset; uint dst_offset; uint words; } pc;

void main()
{
    uint t = gl_LocalInvocationID.x;
    uint h = 2166136261u ^ t;
    for (uint i = t; i < pc.words; i += 256u)
        h = (h ^ src[pc.src_offset + i]) * 16777619u;
    dst[pc.dst_offset + t] = h;
}
