#version 450
// dst[i] = src[i] * 3 + add through buffer device addresses passed as push
// constants (GL_EXT_buffer_reference, Vulkan 1.2 bufferDeviceAddress).
#extension GL_EXT_buffer_reference : require
layout(local_size_x = 64) in;
layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer Src { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) writeonly buffer Dst { uint v[]; };
layout(push_constant) uniform Push { Src src; Dst dst; uint n; uint add; } pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i < pc.n)
        pc.dst.v[i] = pc.src.v[i] * 3u + pc.add;
}
