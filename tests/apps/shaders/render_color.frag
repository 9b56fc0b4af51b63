#version 450
// Writes the interpolated vertex colour (shared by several render_* programs).
layout(location = 0) in vec4 v_color;
layout(location = 0) out vec4 out_color;
void main()
{
    out_color = v_color;
}
