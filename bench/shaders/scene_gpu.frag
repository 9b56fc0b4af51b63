#version 450
// tether_bench_scenes, GPU-bound scene: every pixel iterates a small
// dynamical system `iterations` times, so fragment work dominates the frame.
layout(push_constant) uniform Push { uint iterations; uint frame; } pc;
layout(location = 0) out vec4 out_color;
void main()
{
    vec2 z = gl_FragCoord.xy / 1024.0 + float(pc.frame % 64u) / 64.0;
    vec2 c = vec2(0.285, 0.01) + z * 0.001;
    float acc = 0.0;
    for (uint i = 0u; i < pc.iterations; i++) {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        z = clamp(z, -2.0, 2.0);
        acc += dot(z, z);
    }
    out_color = vec4(fract(acc * 0.013), fract(z.x), fract(z.y), 1.0);
}
