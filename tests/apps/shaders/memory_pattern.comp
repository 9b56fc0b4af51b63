#version 450
// dst[offset + i * stride] = (i * 2654435761) ^ seed for i < count: a GPU
// write whose every word the host can predict (stride 2 leaves gaps).
layout(local_size_x = 64) in;
layout(set = 0, binding = 0, std430) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform Push { uint offset; uint count; uint seed; uint stride; } pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i < pc.count)
        dst[pc.offset + i * pc.stride] = (i * 2654435761u) ^ pc.seed;
}
