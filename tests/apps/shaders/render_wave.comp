#version 450
// render_compute_then_graphics: writes two triangles per grid cell (a quad
// whose size follows a wave) into a storage buffer that the graphics pass
// then reads as its vertex buffer.
layout(local_size_x = 64) in;
struct Vertex {
    vec4 pos;
    vec4 color;
};
layout(std430, set = 0, binding = 0) writeonly buffer Vertices { Vertex v[]; };
layout(push_constant) uniform Push {
    float phase;
    uint grid;
} pc;
void main()
{
    uint cell = gl_GlobalInvocationID.x;
    if (cell >= pc.grid * pc.grid)
        return;
    uint cx = cell % pc.grid, cy = cell / pc.grid;
    float size = 2.0 / float(pc.grid);
    vec2 center = vec2(-1.0) + size * (vec2(cx, cy) + 0.5);
    float half_extent = 0.5 * size * (0.6 + 0.3 * sin(pc.phase + float(cell) * 0.37));
    vec4 color = vec4((float(cx) + 0.5) / float(pc.grid), (float(cy) + 0.5) / float(pc.grid),
                      0.5 + 0.5 * cos(pc.phase * 2.0 + float(cell)), 1.0);
    const vec2 corner[6] = vec2[](vec2(-1, -1), vec2(1, -1), vec2(1, 1),
                                  vec2(1, 1), vec2(-1, 1), vec2(-1, -1));
    for (uint k = 0u; k < 6u; k++) {
        v[cell * 6u + k].pos = vec4(center + half_extent * corner[k], 0.0, 1.0);
        v[cell * 6u + k].color = color;
    }
}
