#version 450
// tether_bench_scenes, API-bound scene: one small triangle per draw, placed
// by its own uniform block (its own descriptor set) and push constants.
layout(set = 0, binding = 0) uniform Draw { vec4 offset_scale; vec4 color; } draw;
layout(push_constant) uniform Push { vec4 tint; } pc;
layout(location = 0) out vec4 v_color;
void main()
{
    const vec2 corner[3] = vec2[](vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0));
    vec2 p = draw.offset_scale.xy + corner[gl_VertexIndex] * draw.offset_scale.zw;
    gl_Position = vec4(p, 0.0, 1.0);
    v_color = draw.color * pc.tint;
}
