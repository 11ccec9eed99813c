using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// ConvTranspose2d 4×4, stride 2, padding 1 (EfficientHRNet's deconv): output 2H×2W, weights [Cin, Cout, 4, 4].
/// Output pixel (2m + py, 2n + px) only receives the taps ky ≡ py + 1, kx ≡ px + 1 (mod 2), so each of the four
/// parity classes is an ordinary 2×2 stride-1 convolution over the input (padded 1 − py on top, 1 − px on the
/// left) with flipped taps, run by the same packed microkernel into every second pixel of every second row.
/// </summary>
public static class Deconv4x4Stride2
{
    public static int PackedWeightsLength(VectorWidth width, int inChannels, int outChannels) =>
        width == VectorWidth.Scalar ? inChannels * outChannels * 16 : 4 * ConvPacking.GroupLength(width, outChannels, inChannels, 4);

    /// <summary>Packs PyTorch weights [Cin, Cout, 4, 4]: one 2×2 conv panel per parity class (Scalar: unchanged).</summary>
    public static void PackWeights(VectorWidth width, ReadOnlySpan<float> weights, int inChannels, int outChannels, Span<float> packed)
    {
        if (inChannels < 1 || outChannels < 1)
            throw new ArgumentException($"channels: expected at least 1 in and out, found {inChannels} and {outChannels}.", nameof(inChannels));
        if (weights.Length != inChannels * outChannels * 16)
            throw new ArgumentException($"weights: expected {inChannels * outChannels * 16} floats, found {weights.Length}.", nameof(weights));
        int length = PackedWeightsLength(width, inChannels, outChannels);
        if (packed.Length != length)
            throw new ArgumentException($"packed: expected {length} floats, found {packed.Length}.", nameof(packed));
        if (width == VectorWidth.Scalar)
        {
            weights.CopyTo(packed);
            return;
        }
        int classLength = length / 4;
        for (int py = 0; py < 2; py++)
            for (int px = 0; px < 2; px++)
                // Tap (ty, tx) of class (py, px) is kernel element (3 − 2·ty − py, 3 − 2·tx − px).
                ConvPacking.PackGroup(weights, 16, outChannels * 16, 2, 2, (3 - py) * 4 + 3 - px, -8, -2,
                    outChannels, inChannels, width, packed.Slice((py * 2 + px) * classLength, classLength));
    }

    public static void Run(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue) =>
        RunRows(width, input, inputShape, packedWeights, output, outputShape, epilogue, 0, outputShape.Height);

    /// <summary>Computes output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of the 2H rows only.</summary>
    public static void RunRows(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        if (width == VectorWidth.Scalar)
        {
            ConvReference.ConvTranspose4x4Stride2(input, inputShape, packedWeights, output, outputShape, epilogue, rowStart, rowEnd);
            return;
        }
        ValidateShapes(input.Length, inputShape, output.Length, outputShape);
        int cin = inputShape.Channels, cout = outputShape.Channels;
        ConvArguments.Output(packedWeights.Length, PackedWeightsLength(width, cin, cout), output.Length, outputShape, epilogue, rowStart, rowEnd);

        int classLength = packedWeights.Length / 4;
        int outRowStride = outputShape.Width * outputShape.PixelStride, resRowStride = outputShape.Width * epilogue.ResidualPixelStride;
        bool hasResidual = !epilogue.Residual.IsEmpty;
        for (int py = 0; py < 2; py++)
            for (int px = 0; px < 2; px++)
            {
                var plane = new ConvPlane
                {
                    Input = ref MemoryMarshal.GetReference(input),
                    InputHeight = inputShape.Height,
                    InputWidth = inputShape.Width,
                    InputRowStride = inputShape.Width * inputShape.PixelStride,
                    InputPixelStride = inputShape.PixelStride,
                    InputChannels = cin,
                    Weights = ref Unsafe.Add(ref MemoryMarshal.GetReference(packedWeights), (nint)(py * 2 + px) * classLength),
                    KernelHeight = 2,
                    KernelWidth = 2,
                    StrideY = 1,
                    StrideX = 1,
                    PadTop = 1 - py,
                    PadLeft = 1 - px,
                    Output = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), py * outRowStride + px * outputShape.PixelStride),
                    OutputWidth = inputShape.Width,
                    OutputRowStride = 2 * outRowStride,
                    OutputPixelStride = 2 * outputShape.PixelStride,
                    OutputChannels = cout,
                    Bias = epilogue.Bias,
                    Residual = ref hasResidual
                        ? ref Unsafe.Add(ref MemoryMarshal.GetReference(epilogue.Residual), py * resRowStride + px * epilogue.ResidualPixelStride)
                        : ref Unsafe.NullRef<float>(),
                    ResidualRowStride = 2 * resRowStride,
                    ResidualPixelStride = 2 * epilogue.ResidualPixelStride,
                    Activation = epilogue.Activation,
                };
                // Class rows m with rowStart <= 2m + py < rowEnd.
                ConvCore.Run(width, ref plane, (rowStart - py + 1) / 2, (rowEnd - py + 1) / 2);
            }
    }

    internal static void ValidateShapes(int inputLength, Nhwc inputShape, int outputLength, Nhwc outputShape)
    {
        inputShape.Validate(inputLength, "input");
        outputShape.Validate(outputLength, "output");
        if (outputShape.Height != 2 * inputShape.Height || outputShape.Width != 2 * inputShape.Width)
            throw new ArgumentException(
                $"outputShape: expected {2 * inputShape.Height}×{2 * inputShape.Width} for input {inputShape.Height}×{inputShape.Width}, found {outputShape.Height}×{outputShape.Width}.",
                nameof(outputShape));
        if (inputShape.Channels < 1 || outputShape.Channels < 1)
            throw new ArgumentException("channels: a transposed convolution needs at least one input and output channel.", nameof(inputShape));
    }
}
