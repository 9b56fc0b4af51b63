#version 450
// render_depth_msaa: checkerboard texture modulated by the vertex tint.
layout(set = 0, binding = 0) uniform sampler2D tex;
layout(location = 0) in vec2 v_uv;
layout(location = 1) in vec3 v_tint;
layout(location = 0) out vec4 out_color;
void main()
{
    out_color = texture(tex, v_uv) * vec4(v_tint, 1.0);
}
