#version 450
// y = a*x + y over n floats; grid-stride loop so any dispatch size covers n
// (maxComputeWorkGroupCount[0] is only guaranteed to be 65535).
layout(local_size_x = 128) in;
layout(set = 0, binding = 0, std430) readonly buffer X { float x[]; };
layout(set = 0, binding = 1, std430) buffer Y { float y[]; };
layout(push_constant) uniform Push { float a; uint n; } pc;

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride)
        y[i] = pc.a * x[i] + y[i];
}
