#version 450
// Reads one value through every descriptor type the template/push-descriptor
// test writes and stores them, in a fixed order, into the output buffer.
layout(local_size_x = 1) in;
layout(set = 0, binding = 0, std140) uniform Ubo { uvec4 v[2]; } ubo[2];
layout(set = 0, binding = 1, std430) readonly buffer Ssbo { uint v[]; } ssbo;
layout(set = 0, binding = 2) uniform usampler2D tex;
layout(set = 0, binding = 3) uniform usamplerBuffer utexel;
layout(set = 0, binding = 4, r32ui) uniform readonly uimageBuffer stexel;
layout(set = 0, binding = 5, std430) writeonly buffer Out { uint v[]; } outv;
layout(set = 1, binding = 0, std140) uniform Inline { uvec4 v[2]; } inl;

void main()
{
    uint o = 0u;
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < 2; i++)
            for (int c = 0; c < 4; c++)
                outv.v[o++] = ubo[a].v[i][c];
    for (int i = 0; i < 8; i++)
        outv.v[o++] = ssbo.v[i];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            outv.v[o++] = texelFetch(tex, ivec2(x, y), 0).r;
    for (int i = 0; i < 4; i++)
        outv.v[o++] = texelFetch(utexel, i).r;
    for (int i = 0; i < 4; i++)
        outv.v[o++] = imageLoad(stexel, i).r;
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 4; c++)
            outv.v[o++] = inl.v[i][c];
}
