using NanoPose.Kernels.Common;

namespace NanoPose.Kernels.Depthwise;

/// <summary>
/// The definition of a depthwise convolution, PyTorch semantics (<c>Conv2d(groups = C)</c> after zero padding,
/// cross-correlation): <c>out[y, x, c] = act(Σ_{ky,kx} w[c, 0, ky, kx] · in[y·s + ky − top, x·s + kx − left, c]
/// + bias[c] + residual[y, x, c])</c>, taps outside the input reading zero. Plain loops; the oracle of the tests.
/// </summary>
public static class DepthwiseConv2dReference
{
    /// <summary>Every output row, weights in PyTorch layout <c>[C, 1, k, k]</c>; with <paramref name="rowSums"/>, the
    /// per-row channel sums of the output as <see cref="DepthwiseConv2d.RunRows"/> leaves them.</summary>
    public static void Run(ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> torchWeights,
        ConvGeometry window, Span<float> output, Nhwc outputShape, in Epilogue epilogue, Span<float> rowSums = default)
    {
        int k = window.KernelHeight;
        DepthwiseConv2d.Validate(input, inputShape, window, torchWeights.Length, inputShape.Channels * k * k,
            nameof(torchWeights), epilogue, output, outputShape, 0, outputShape.Height, rowSums);
        Compute(input, inputShape, window, torchWeights, channelStride: k * k, tapStride: 1,
            epilogue, output, outputShape, 0, outputShape.Height, rowSums);
    }

    /// <summary>
    /// Output rows [rowStart, rowEnd); weight (c, ky, kx) at <c>c·channelStride + (ky·k + kx)·tapStride</c>,
    /// so the same loops read the PyTorch layout and the packed one. Arguments already validated.
    /// </summary>
    internal static void Compute(ReadOnlySpan<float> input, Nhwc inputShape, ConvGeometry window,
        ReadOnlySpan<float> weights, int channelStride, int tapStride, Epilogue epilogue,
        Span<float> output, Nhwc outputShape, int rowStart, int rowEnd, Span<float> rowSums = default)
    {
        int k = window.KernelHeight, stride = window.StrideY;
        for (int y = rowStart; y < rowEnd; y++)
            for (int x = 0; x < outputShape.Width; x++)
                for (int c = 0; c < inputShape.Channels; c++)
                {
                    float sum = 0f;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                        {
                            int iy = y * stride + ky - window.Padding.Top, ix = x * stride + kx - window.Padding.Left;
                            if (iy < 0 || iy >= inputShape.Height || ix < 0 || ix >= inputShape.Width) continue;
                            sum += weights[c * channelStride + (ky * k + kx) * tapStride] * input[inputShape.Offset(iy, ix) + c];
                        }
                    if (!epilogue.Bias.IsEmpty) sum += epilogue.Bias[c];
                    if (!epilogue.Residual.IsEmpty) sum += epilogue.Residual[(y * outputShape.Width + x) * epilogue.ResidualPixelStride + c];
                    output[outputShape.Offset(y, x) + c] = Activations.Apply(sum, epilogue.Activation);
                }
        if (rowSums.IsEmpty) return;
        for (int y = rowStart; y < rowEnd; y++)
            for (int c = 0; c < inputShape.Channels; c++)
            {
                float sum = 0f;
                for (int x = 0; x < outputShape.Width; x++) sum += output[outputShape.Offset(y, x) + c];
                rowSums[y * inputShape.Channels + c] = sum;
            }
    }
}
