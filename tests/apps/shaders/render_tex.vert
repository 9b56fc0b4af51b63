#version 450
// render_depth_msaa: position with depth, texture coordinate and a tint per vertex.
layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec2 in_uv;
layout(location = 2) in vec3 in_tint;
layout(location = 0) out vec2 v_uv;
layout(location = 1) out vec3 v_tint;
void main()
{
    v_uv = in_uv;
    v_tint = in_tint;
    gl_Position = vec4(in_pos, 1.0);
}
