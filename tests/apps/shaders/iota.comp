#version 450
// out[i] = i * mul + add for i < n: a small deterministic dispatch whose
// invocation count the timestamp/statistics test can predict.
layout(local_size_x = 64) in;
layout(set = 0, binding = 0, std430) writeonly buffer Out { uint outv[]; };
layout(push_constant) uniform Push { uint n; uint mul; uint add; } pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i < pc.n)
        outv[i] = i * pc.mul + pc.add;
}
