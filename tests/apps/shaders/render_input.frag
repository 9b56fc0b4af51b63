#version 450
// render_subpass_dependencies, second subpass: reads the first subpass's
// colour at this pixel as an input attachment; swizzles the left half and
// inverts the right half.
layout(input_attachment_index = 0, set = 0, binding = 0) uniform subpassInput scene;
layout(location = 0) out vec4 out_color;
void main()
{
    vec4 c = subpassLoad(scene);
    out_color = gl_FragCoord.x < 128.0 ? vec4(c.gbr, 1.0) : vec4(1.0 - c.rgb, 1.0);
}
