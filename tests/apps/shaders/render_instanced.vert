#version 450
// render_instanced_indirect: one unit quad per vertex stream, moved and
// coloured by per-instance attributes (binding 1, VK_VERTEX_INPUT_RATE_INSTANCE).
layout(location = 0) in vec2 in_pos;
layout(location = 1) in vec2 in_offset;
layout(location = 2) in vec4 in_color;
layout(location = 0) out vec4 v_color;
void main()
{
    v_color = in_color;
    gl_Position = vec4(in_pos * 0.09375 + in_offset, 0.0, 1.0);
}
