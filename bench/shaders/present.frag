#version 450
// tether_bench_present: a game-like frame, so that frame compression sees
// what a game gives it rather than a clear: smooth areas (sky, fog,
// vignette), detailed ones (a textured ground that scrolls towards the
// camera, with texel-level grain), moving lit spheres and a flat HUD. The
// image is a function of the push constants alone: the same frame number
// gives the same image on any driver. Each part is its own pipeline (PART, a
// specialization constant the compiler folds): lavapipe runs both sides of a
// branch, so one shader for everything would cost every part at every pixel.
layout(constant_id = 0) const int PART = 0; // 0 sky, 1 ground, 2 spheres, 3 HUD
#define SPHERES 7
layout(push_constant) uniform Frame {
    vec2 resolution;       // pixels
    float time;            // animation time: frame number / 60
    float pad;
    vec4 spheres[SPHERES]; // centre x, y (units of the image height), radius, hue
} pc;
layout(location = 0) flat in int v_instance;
layout(location = 0) out vec4 out_color;

const float HORIZON = 0.42; // in uv.y, from the top of the image

// An integer hash of a 2-D cell: cheap, and no sin() whose precision differs
// between drivers.
float cell_rand(vec2 cell)
{
    uvec2 v = uvec2(ivec2(cell)) * uvec2(1664525u, 22695477u) + uvec2(1013904223u, 2891336453u);
    v.x += v.y * 747796405u;
    v.y ^= v.x >> 13u;
    v.y *= 2654435769u;
    v.x ^= v.y >> 16u;
    v.x *= 2246822519u;
    return float(v.x >> 8u) * (1.0 / 16777216.0);
}

float value_noise(vec2 p)
{
    vec2 i = floor(p), f = fract(p);
    f = f * f * (3.0 - 2.0 * f);
    float a = cell_rand(i), b = cell_rand(i + vec2(1.0, 0.0));
    float c = cell_rand(i + vec2(0.0, 1.0)), d = cell_rand(i + vec2(1.0, 1.0));
    return mix(mix(a, b, f.x), mix(c, d, f.x), f.y);
}

vec3 sky(vec2 uv, float aspect)
{
    float h = uv.y / HORIZON; // 0 at the top, 1 at the horizon
    vec3 c = mix(vec3(0.10, 0.24, 0.58), vec3(0.93, 0.66, 0.42), h * h);
    float d = length((uv - vec2(0.72, 0.22)) * vec2(aspect, 1.0));
    c += vec3(1.0, 0.85, 0.55) * (smoothstep(0.045, 0.04, d) + 0.3 * exp(-d * 9.0));
    float cloud = value_noise(vec2(uv.x * 5.0 * aspect + pc.time * 0.15, uv.y * 16.0));
    cloud = 0.7 * cloud + 0.3 * value_noise(vec2(uv.x * 13.0 * aspect - pc.time * 0.1, uv.y * 40.0));
    return mix(c, vec3(0.97), smoothstep(0.5, 0.75, cloud) * 0.7 * (1.0 - h));
}

vec3 ground(vec2 uv, float aspect)
{
    float depth = 0.3 / max(uv.y - HORIZON, 1e-4);
    vec2 w = vec2((uv.x - 0.5) * aspect * depth * 2.0, depth + pc.time * 3.0);
    vec2 tile = floor(w);
    vec3 c = mix(vec3(0.26, 0.44, 0.17), vec3(0.37, 0.31, 0.20), mod(tile.x + tile.y, 2.0));
    c *= 0.8 + 0.4 * cell_rand(tile);
    c *= 0.7 + 0.6 * value_noise(w * 5.0);
    // Texel-level grain, filtered like a magnified texture: near the camera
    // neighbouring pixels differ a little rather than repeat.
    float grain = value_noise(w * 48.0) - 0.5;
    c += grain * 0.08;
    float road = smoothstep(1.3, 1.2, abs(w.x));
    c = mix(c, vec3(0.22, 0.22, 0.24) + grain * 0.06, road);
    if (abs(w.x) < 0.06 && fract(w.y * 0.5) < 0.5)
        c = vec3(0.92, 0.9, 0.8);
    float fog = 1.0 - exp(-depth * 0.05);
    return mix(c, vec3(0.86, 0.68, 0.5), fog);
}

// Sphere v_instance, lit; @p in units of the image height. Outside: discarded.
vec3 sphere(vec2 p)
{
    vec4 s = pc.spheres[v_instance];
    vec2 d = (p - s.xy) / s.z;
    float d2 = dot(d, d);
    if (d2 >= 1.0)
        discard;
    vec3 n = vec3(d, sqrt(1.0 - d2));
    vec3 albedo = 0.5 + 0.5 * cos(s.w + vec3(0.0, 2.1, 4.2));
    float lambert = max(dot(n, vec3(0.48, -0.58, 0.66)), 0.0);
    float spec = pow(max(n.z * 0.9 + n.x * 0.3 - n.y * 0.3, 0.0), 24.0);
    return albedo * (0.15 + 0.85 * lambert) + vec3(spec);
}

// Flat HUD: a panel with a health bar and "text", and a mini-map.
vec3 hud(vec2 uv, float aspect)
{
    vec2 q = vec2(uv.x * aspect, uv.y);
    if (v_instance == 0) {
        vec3 c = vec3(0.06, 0.07, 0.09);
        float health = 0.6 + 0.35 * sin(pc.time * 0.7);
        if (q.y > 0.045 && q.y < 0.065 && q.x > 0.05 && q.x < 0.43)
            c = (q.x - 0.05) / 0.38 < health ? vec3(0.2, 0.8, 0.25) : vec3(0.35, 0.1, 0.1);
        vec2 glyph = floor((q - vec2(0.05, 0.08)) / vec2(0.006, 0.006));
        if (glyph.y >= 0.0 && glyph.y < 6.0 && glyph.x >= 0.0 && glyph.x < 60.0 && mod(glyph.x, 5.0) < 4.0 &&
            cell_rand(vec2(floor(glyph.x / 5.0) + floor(pc.time), glyph.y + 7.0 * mod(glyph.x, 5.0))) > 0.45)
            c = vec3(0.95);
        return c;
    }
    vec2 m = q - vec2(aspect - 0.25, 0.72);
    vec2 dot_at = vec2(0.11 + 0.08 * sin(pc.time * 0.5), 0.11 + 0.08 * cos(pc.time * 0.4));
    return length(m - dot_at) < 0.008 ? vec3(1.0, 0.9, 0.2) : vec3(0.12, 0.2, 0.12);
}

void main()
{
    vec2 uv = gl_FragCoord.xy / pc.resolution;
    float aspect = pc.resolution.x / pc.resolution.y;
    vec3 c;
    if (PART == 0)
        c = sky(uv, aspect);
    else if (PART == 1)
        c = ground(uv, aspect);
    else if (PART == 2)
        c = sphere(vec2(uv.x * aspect, uv.y));
    else
        c = hud(uv, aspect);
    if (PART != 3) {
        vec2 v = uv - 0.5;
        c *= 1.0 - 0.35 * dot(v, v); // vignette; the HUD sits on top of it
    }
    out_color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
