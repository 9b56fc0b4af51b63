#version 450
// tether_bench_present: the quads one part of the frame covers (see
// present.frag), two triangles each, placed from the push constants. Parts
// are drawn by separate pipelines (PART, a specialization constant), so that
// a pixel runs only the shader of what covers it, as in a game.
layout(constant_id = 0) const int PART = 0; // 0 sky, 1 ground, 2 spheres (instanced), 3 HUD (2 instances)
#define SPHERES 7
layout(push_constant) uniform Frame {
    vec2 resolution;
    float time;
    float pad;
    vec4 spheres[SPHERES];
} pc;
layout(location = 0) flat out int v_instance;

const float HORIZON = 0.42;

void main()
{
    int v = gl_VertexIndex; // 0..5: (0,0) (1,0) (1,1), (0,0) (1,1) (0,1)
    vec2 corner = vec2(v == 1 || v == 2 || v == 4 ? 1.0 : 0.0, v == 2 || v == 4 || v == 5 ? 1.0 : 0.0);
    float aspect = pc.resolution.x / pc.resolution.y;
    vec2 lo = vec2(0.0), hi = vec2(1.0); // in uv: 0..1, y down
    if (PART == 0) {
        hi.y = HORIZON;
    } else if (PART == 1) {
        lo.y = HORIZON;
    } else if (PART == 2) {
        vec4 s = pc.spheres[gl_InstanceIndex];
        lo = vec2((s.x - s.z) / aspect, s.y - s.z);
        hi = vec2((s.x + s.z) / aspect, s.y + s.z);
    } else if (gl_InstanceIndex == 0) {
        lo = vec2(0.03 / aspect, 0.03); // status panel
        hi = vec2(0.45 / aspect, 0.13);
    } else {
        lo = vec2(1.0 - 0.25 / aspect, 0.72); // mini-map
        hi = vec2(1.0 - 0.03 / aspect, 0.94);
    }
    v_instance = gl_InstanceIndex;
    gl_Position = vec4(mix(lo, hi, corner) * 2.0 - 1.0, 0.0, 1.0);
}
