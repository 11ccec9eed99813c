using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// Dense (and grouped) 2-D convolution, NHWC, PyTorch semantics, with the fused <see cref="Epilogue"/>.
/// Weights are packed once at load with <see cref="PackWeights"/> for the width that will run them;
/// 1×1 stride-1 unpadded convolutions run as the <see cref="Pointwise"/> GEMM.
/// </summary>
public static class Conv2d
{
    /// <summary>Floats <see cref="PackWeights"/> writes, so the caller allocates once.</summary>
    public static int PackedWeightsLength(VectorWidth width, int outChannels, int inChannels, ConvGeometry geometry)
    {
        int taps = geometry.KernelHeight * geometry.KernelWidth;
        int groups = Math.Max(1, geometry.Groups), coutG = outChannels / groups, cinG = inChannels / groups;
        return width == VectorWidth.Scalar || SingleOutputConv.Applies(width, geometry, outChannels)
            ? outChannels * cinG * taps
            : groups * ConvPacking.GroupLength(width, geometry, coutG, cinG);
    }

    /// <summary>
    /// Packs PyTorch weights [Cout, Cin/groups, kh, kw] for <paramref name="width"/>; for
    /// <see cref="VectorWidth.Scalar"/> the packed layout is the PyTorch one.
    /// </summary>
    public static void PackWeights(
        VectorWidth width, ReadOnlySpan<float> weights, int outChannels, int inChannels, ConvGeometry geometry, Span<float> packed)
    {
        geometry.Validate(new Nhwc(int.MaxValue / 2, int.MaxValue / 2, inChannels), outChannels, nameof(geometry));
        int kh = geometry.KernelHeight, kw = geometry.KernelWidth, groups = geometry.Groups;
        int coutG = outChannels / groups, cinG = inChannels / groups;
        if (weights.Length != outChannels * cinG * kh * kw)
            throw new ArgumentException($"weights: expected {outChannels * cinG * kh * kw} floats, found {weights.Length}.", nameof(weights));
        int length = PackedWeightsLength(width, outChannels, inChannels, geometry);
        if (packed.Length != length)
            throw new ArgumentException($"packed: expected {length} floats, found {packed.Length}.", nameof(packed));
        if (width == VectorWidth.Scalar)
        {
            weights.CopyTo(packed);
            return;
        }
        if (SingleOutputConv.Applies(width, geometry, outChannels))
        {
            SingleOutputConv.Pack(weights, inChannels, kh * kw, packed);
            return;
        }
        int groupLength = length / groups, groupWeights = coutG * cinG * kh * kw;
        bool panel = ConvPacking.UsesPointwisePanel(width, geometry, coutG);
        for (int g = 0; g < groups; g++)
            if (panel)
                ConvPacking.PackPointwisePanel(weights.Slice(g * groupWeights, groupWeights), coutG, cinG, packed.Slice(g * groupLength, groupLength));
            else
                ConvPacking.PackGroup(weights.Slice(g * groupWeights, groupWeights), cinG * kh * kw, kh * kw, kh, kw, 0, kw, 1,
                    coutG, cinG, width, packed.Slice(g * groupLength, groupLength));
    }

    public static void Run(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue) =>
        RunRows(width, input, inputShape, packedWeights, geometry, output, outputShape, epilogue, 0, outputShape.Height);

    /// <summary>Computes output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) only (a thread's share).</summary>
    public static void RunRows(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        if (width == VectorWidth.Scalar)
        {
            ConvReference.Conv2d(input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd);
            return;
        }
        ConvArguments.Convolution(input.Length, inputShape, packedWeights.Length,
            PackedWeightsLength(width, outputShape.Channels, inputShape.Channels, geometry), geometry,
            output.Length, outputShape, epilogue, rowStart, rowEnd);
        if (geometry.IsPointwise)
        {
            // Pixels are equally spaced across rows too, so the rows are one long row: full tiles even at 8×6.
            Pointwise.RunFlat(width, input, inputShape, packedWeights, geometry.Groups, output, outputShape, epilogue,
                rowStart * outputShape.Width, rowEnd * outputShape.Width);
            return;
        }
        if (SingleOutputConv.Applies(width, geometry, outputShape.Channels))
        {
            SingleOutputConv.RunRows(width, input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd);
            return;
        }
        RunGroups(width, input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd);
    }

    /// <summary>The vector body on validated arguments: one <see cref="ConvPlane"/> per group.</summary>
    internal static void RunGroups(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        int groups = geometry.Groups, cinG = inputShape.Channels / groups, coutG = outputShape.Channels / groups;
        int groupLength = ConvPacking.GroupLength(width, geometry, coutG, cinG);
        bool panel = ConvPacking.UsesPointwisePanel(width, geometry, coutG), hasResidual = !epilogue.Residual.IsEmpty;
        for (int g = 0; g < groups; g++)
        {
            var plane = new ConvPlane
            {
                Input = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), g * cinG),
                InputHeight = inputShape.Height,
                InputWidth = inputShape.Width,
                InputRowStride = inputShape.Width * inputShape.PixelStride,
                InputPixelStride = inputShape.PixelStride,
                InputChannels = cinG,
                Weights = ref Unsafe.Add(ref MemoryMarshal.GetReference(packedWeights), (nint)g * groupLength),
                KernelHeight = geometry.KernelHeight,
                KernelWidth = geometry.KernelWidth,
                StrideY = geometry.StrideY,
                StrideX = geometry.StrideX,
                PadTop = geometry.Padding.Top,
                PadLeft = geometry.Padding.Left,
                Output = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), g * coutG),
                OutputWidth = outputShape.Width,
                OutputRowStride = outputShape.Width * outputShape.PixelStride,
                OutputPixelStride = outputShape.PixelStride,
                OutputChannels = coutG,
                Bias = epilogue.Bias.IsEmpty ? default : epilogue.Bias.Slice(g * coutG, coutG),
                Residual = ref hasResidual ? ref Unsafe.Add(ref MemoryMarshal.GetReference(epilogue.Residual), g * coutG) : ref Unsafe.NullRef<float>(),
                ResidualRowStride = outputShape.Width * epilogue.ResidualPixelStride,
                ResidualPixelStride = epilogue.ResidualPixelStride,
                Activation = epilogue.Activation,
            };
            if (panel)
                PointwiseCore.Run(width, ref plane); // a pointwise call is one flat row (Pointwise.RunFlat)
            else
                ConvCore.Run(width, ref plane, rowStart, rowEnd);
        }
    }
}
