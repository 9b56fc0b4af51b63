#version 450
// tether_bench_streaming: vertices and a uniform block the CPU rewrites every
// frame in persistently mapped memory. The uniform block is 256 bytes; only
// its first part is used for drawing, the rest changes with the frame too.
layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec4 in_color;
layout(set = 0, binding = 0) uniform Frame {
    mat4 transform;
    vec4 tint;
    vec4 params[11];
} frame;
layout(location = 0) out vec4 v_color;
void main()
{
    gl_Position = frame.transform * vec4(in_pos, 1.0);
    v_color = in_color * frame.tint;
}
