#version 450
// Second half of a prefix-sum level: add the scanned total of all earlier
// 512-element blocks to every element of block b (b > 0).
layout(local_size_x = 128) in;
layout(set = 0, binding = 0, std430) buffer Data { uint data[]; };
layout(set = 0, binding = 1, std430) readonly buffer Sums { uint sums[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main()
{
    uint b = gl_WorkGroupID.x;
    if (b == 0u)
        return;
    uint add = sums[b - 1u];
    for (uint k = 0u; k < 4u; k++) {
        uint i = b * 512u + k * 128u + gl_LocalInvocationID.x;
        if (i < pc.n)
            data[i] += add;
    }
}
