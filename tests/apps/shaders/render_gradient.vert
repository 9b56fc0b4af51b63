#version 450
// render_formats: one triangle over the upper-left half of the target with a
// colour per corner; one corner leaves [0, 1] so that clamping (UNORM, SNORM)
// and unclamped storage (float formats) both show.
layout(location = 0) out vec4 v_color;
const vec2 pos[3] = vec2[](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0));
const vec4 col[3] = vec4[](vec4(1.0, 0.0, 0.0, 1.0), vec4(0.0, 1.0, 0.0, 0.5),
                           vec4(2.0, -0.5, 1.0, 0.0));
void main()
{
    v_color = col[gl_VertexIndex];
    gl_Position = vec4(pos[gl_VertexIndex], 0.0, 1.0);
}
