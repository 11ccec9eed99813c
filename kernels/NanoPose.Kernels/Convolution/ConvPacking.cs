using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// The packed weight layout the microkernel streams through: per group, blocks of NR output channels, each
/// [kh][kw][cin][NR] with the channel tail of the last block zero-padded, so the hot loop loads whole weight
/// vectors without bounds checks. NR is one vector when a group's outputs fit in one, else two.
/// </summary>
internal static class ConvPacking
{
    public static int Lanes(VectorWidth width) => width switch
    {
        VectorWidth.V128 => Vector128<float>.Count,
        VectorWidth.V256 => Vector256<float>.Count,
        VectorWidth.V512 => Vector512<float>.Count,
        _ => throw new ArgumentException($"width: expected a vector width, found {width}.", nameof(width)),
    };

    public static int VectorsPerBlock(int lanes, int groupOutChannels) => groupOutChannels <= lanes ? 1 : 2;

    public static int BlockChannels(VectorWidth width, int groupOutChannels)
    {
        int lanes = Lanes(width);
        return VectorsPerBlock(lanes, groupOutChannels) * lanes;
    }

    /// <summary>
    /// Whether a group is packed as the <c>[Cin][Cout]</c> panel <see cref="PointwiseCore"/> runs (a 1×1 GEMM whose
    /// outputs fill at least one vector) instead of in blocks.
    /// </summary>
    public static bool UsesPointwisePanel(VectorWidth width, ConvGeometry geometry, int groupOutChannels) =>
        geometry.IsPointwise && PointwiseCore.Handles(width, groupOutChannels);

    /// <summary>Floats of one group's packed weights for <paramref name="geometry"/>.</summary>
    public static int GroupLength(VectorWidth width, ConvGeometry geometry, int groupOutChannels, int groupInChannels) =>
        UsesPointwisePanel(width, geometry, groupOutChannels)
            ? groupOutChannels * groupInChannels
            : GroupLength(width, groupOutChannels, groupInChannels, geometry.KernelHeight * geometry.KernelWidth);

    /// <summary>Floats of one group's packed weights in blocks.</summary>
    public static int GroupLength(VectorWidth width, int groupOutChannels, int groupInChannels, int taps)
    {
        int nr = BlockChannels(width, groupOutChannels);
        return ConvArguments.CeilDiv(groupOutChannels, nr) * taps * groupInChannels * nr;
    }

    /// <summary>One group of PyTorch 1×1 weights <c>[Cout][Cin]</c> transposed to the panel <c>[Cin][Cout]</c>.</summary>
    public static void PackPointwisePanel(ReadOnlySpan<float> source, int groupOutChannels, int groupInChannels, Span<float> packed)
    {
        for (int i = 0; i < groupInChannels; i++)
            for (int o = 0; o < groupOutChannels; o++)
                packed[i * groupOutChannels + o] = source[o * groupInChannels + i];
    }

    /// <summary>
    /// Packs one group in blocks. Source element (o, i, ty, tx) is at
    /// <c>o·outStride + i·inStride + tapOrigin + ty·tapRowStride + tx·tapColumnStride</c>, which covers both the
    /// Conv2d layout and the flipped taps of one transposed-conv parity class.
    /// </summary>
    public static void PackGroup(
        ReadOnlySpan<float> source, int outStride, int inStride,
        int tapsHigh, int tapsWide, int tapOrigin, int tapRowStride, int tapColumnStride,
        int groupOutChannels, int groupInChannels, VectorWidth width, Span<float> packed)
    {
        int nr = BlockChannels(width, groupOutChannels);
        int k = 0;
        for (int block = 0; block < groupOutChannels; block += nr)
            for (int ty = 0; ty < tapsHigh; ty++)
                for (int tx = 0; tx < tapsWide; tx++)
                    for (int i = 0; i < groupInChannels; i++)
                        for (int j = 0; j < nr; j++, k++)
                        {
                            int o = block + j;
                            packed[k] = o < groupOutChannels
                                ? source[o * outStride + i * inStride + tapOrigin + ty * tapRowStride + tx * tapColumnStride]
                                : 0f;
                        }
    }
}
