namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// The definitions, as plain loops over planar NCHW data (one image): the oracle every layout candidate is
/// checked against in the benchmarks' setup. Weights are PyTorch's: [Cout][Cin][kh][kw], depthwise [C][3][3].
/// The convolutions apply bias then ReLU; the depthwise one applies bias only (Lite-HRNet: depthwise conv + BN).
/// </summary>
public static class LayoutReference
{
    public static void Conv1x1Nchw(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, int inChannels, int outChannels, int pixels)
    {
        for (int co = 0; co < outChannels; co++)
            for (int p = 0; p < pixels; p++)
            {
                float sum = bias[co];
                for (int ci = 0; ci < inChannels; ci++)
                    sum += weights[co * inChannels + ci] * input[ci * pixels + p];
                output[co * pixels + p] = MathF.Max(sum, 0f);
            }
    }

    public static void Conv3x3Nchw(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, int inChannels, int outChannels, int height, int width)
    {
        for (int co = 0; co < outChannels; co++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float sum = bias[co];
                    for (int ci = 0; ci < inChannels; ci++)
                        sum += Window3x3(input.Slice(ci * height * width, height * width),
                            weights.Slice((co * inChannels + ci) * 9, 9), height, width, y, x);
                    output[(co * height + y) * width + x] = MathF.Max(sum, 0f);
                }
    }

    public static void Depthwise3x3Nchw(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, int channels, int height, int width)
    {
        int plane = height * width;
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    output[c * plane + y * width + x] = bias[c] +
                        Window3x3(input.Slice(c * plane, plane), weights.Slice(c * 9, 9), height, width, y, x);
    }

    /// <summary>Σ kernel[ky,kx]·plane[y+ky-1, x+kx-1] with zeros outside the plane (stride 1, padding 1).</summary>
    static float Window3x3(ReadOnlySpan<float> plane, ReadOnlySpan<float> kernel, int height, int width, int y, int x)
    {
        float sum = 0f;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
            {
                int iy = y + ky - 1, ix = x + kx - 1;
                if (iy >= 0 && iy < height && ix >= 0 && ix < width)
                    sum += kernel[ky * 3 + kx] * plane[iy * width + ix];
            }
        return sum;
    }
}
