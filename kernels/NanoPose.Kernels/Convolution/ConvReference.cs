using NanoPose.Kernels.Common;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// The definitions, as plain loops over PyTorch weight layouts: the oracle the fast kernels are tested against,
/// and the <see cref="Simd.VectorWidth.Scalar"/> body.
/// </summary>
public static class ConvReference
{
    /// <summary>
    /// Conv2d, cross-correlation, weights [Cout, Cin/groups, kh, kw]; output rows [rowStart, rowEnd) only.
    /// y = act(Σ w·x + bias + residual).
    /// </summary>
    public static void Conv2d(
        ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> weights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        int cinG = inputShape.Channels / Math.Max(1, geometry.Groups);
        int coutG = outputShape.Channels / Math.Max(1, geometry.Groups);
        int kh = geometry.KernelHeight, kw = geometry.KernelWidth;
        ConvArguments.Convolution(input.Length, inputShape, weights.Length, outputShape.Channels * cinG * kh * kw, geometry,
            output.Length, outputShape, epilogue, rowStart, rowEnd);

        for (int oy = rowStart; oy < rowEnd; oy++)
            for (int ox = 0; ox < outputShape.Width; ox++)
                for (int o = 0; o < outputShape.Channels; o++)
                {
                    int firstInput = o / coutG * cinG;
                    float sum = 0f;
                    for (int i = 0; i < cinG; i++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * geometry.StrideY - geometry.Padding.Top + ky;
                                int ix = ox * geometry.StrideX - geometry.Padding.Left + kx;
                                if (iy < 0 || iy >= inputShape.Height || ix < 0 || ix >= inputShape.Width) continue;
                                sum += input[inputShape.Offset(iy, ix) + firstInput + i] * weights[((o * cinG + i) * kh + ky) * kw + kx];
                            }
                    Store(sum, output, outputShape, oy, ox, o, epilogue);
                }
    }

    /// <summary>
    /// ConvTranspose2d with a 4×4 kernel, stride 2, padding 1, no output padding: output 2H×2W, weights
    /// [Cin, Cout, 4, 4]. Written as the gather over the input pixels each output receives
    /// (oy = 2·iy − 1 + ky); output rows [rowStart, rowEnd) only.
    /// </summary>
    public static void ConvTranspose4x4Stride2(
        ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> weights,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        Deconv4x4Stride2.ValidateShapes(input.Length, inputShape, output.Length, outputShape);
        int cin = inputShape.Channels, cout = outputShape.Channels;
        ConvArguments.Output(weights.Length, cin * cout * 16, output.Length, outputShape, epilogue, rowStart, rowEnd);

        for (int oy = rowStart; oy < rowEnd; oy++)
            for (int ox = 0; ox < outputShape.Width; ox++)
                for (int o = 0; o < cout; o++)
                {
                    float sum = 0f;
                    for (int i = 0; i < cin; i++)
                        for (int ky = 0; ky < 4; ky++)
                            for (int kx = 0; kx < 4; kx++)
                            {
                                int ty = oy + 1 - ky, tx = ox + 1 - kx;
                                if (ty < 0 || tx < 0 || ty % 2 != 0 || tx % 2 != 0) continue;
                                int iy = ty / 2, ix = tx / 2;
                                if (iy >= inputShape.Height || ix >= inputShape.Width) continue;
                                sum += input[inputShape.Offset(iy, ix) + i] * weights[((i * cout + o) * 4 + ky) * 4 + kx];
                            }
                    Store(sum, output, outputShape, oy, ox, o, epilogue);
                }
    }

    internal static void Store(float sum, Span<float> output, Nhwc outputShape, int oy, int ox, int o, in Epilogue epilogue)
    {
        if (!epilogue.Bias.IsEmpty) sum += epilogue.Bias[o];
        if (!epilogue.Residual.IsEmpty) sum += epilogue.Residual[(oy * outputShape.Width + ox) * epilogue.ResidualPixelStride + o];
        output[outputShape.Offset(oy, ox) + o] = Activations.Apply(sum, epilogue.Activation);
    }
}
