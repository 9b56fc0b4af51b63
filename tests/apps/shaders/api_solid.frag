#version 450
// Constant colour: every covered pixel is exactly predictable.
layout(location = 0) out vec4 out_color;
void main()
{
    out_color = vec4(1.0, 0.5, 0.25, 1.0);
}
