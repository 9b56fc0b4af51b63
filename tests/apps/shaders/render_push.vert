#version 450
// render_dynamic_rendering: a rectangle described entirely by push constants;
// the vertex order (and so the winding) depends on `mode`.
layout(push_constant) uniform Push {
    vec4 color;
    vec4 rect; // x0, y0, x1, y1 in NDC
    float depth;
    uint mode; // 0: list c0 c1 c2 c2 c3 c0, 1: list reversed, 2: strip c0 c1 c3 c2
} pc;
layout(location = 0) out vec4 v_color;
const uint list_cw[6] = uint[](0, 1, 2, 2, 3, 0);
const uint list_ccw[6] = uint[](0, 3, 2, 2, 1, 0);
const uint strip[4] = uint[](0, 1, 3, 2);
void main()
{
    uint corner;
    if (pc.mode == 0u)
        corner = list_cw[gl_VertexIndex];
    else if (pc.mode == 1u)
        corner = list_ccw[gl_VertexIndex];
    else
        corner = strip[gl_VertexIndex];
    vec2 p = vec2((corner == 1u || corner == 2u) ? pc.rect.z : pc.rect.x,
                  (corner >= 2u) ? pc.rect.w : pc.rect.y);
    v_color = pc.color;
    gl_Position = vec4(p, pc.depth, 1.0);
}
