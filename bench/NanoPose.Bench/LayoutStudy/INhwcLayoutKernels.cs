using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// The channel-last (NHWC) side of the layout study: the same three operators as the NCHW and NCHWc candidates,
/// to be implemented over the engine's real NHWC kernels, so <see cref="LayoutConv1x1Benchmarks"/>,
/// <see cref="LayoutConv3x3Benchmarks"/> and <see cref="LayoutDepthwise3x3Benchmarks"/> can time them on the same
/// shapes and data. NHWC data for those benchmarks is <c>ChannelBlocks.ToBlocked(planar, C, H·W, block: C)</c>.
/// Weights arrive in PyTorch order and are packed once, untimed. Convolutions are stride 1 with padding
/// (k-1)/2; the benchmarks pass bias + ReLU for the convolutions and bias only for the depthwise.
/// </summary>
public interface INhwcLayoutKernels
{
    /// <summary>From [Cout][Cin][k][k] to whatever order <see cref="Conv1x1"/> or <see cref="Conv3x3"/> reads.</summary>
    float[] PackConvWeights(ReadOnlySpan<float> weightsOihw, int outChannels, int inChannels, int kernelSize);

    /// <summary>From [C][3][3] to whatever order <see cref="Depthwise3x3"/> reads.</summary>
    float[] PackDepthwiseWeights(ReadOnlySpan<float> weightsC33, int channels);

    void Conv1x1(VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        Span<float> output, Nhwc outputShape, Epilogue epilogue);

    void Conv3x3(VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        Span<float> output, Nhwc outputShape, Epilogue epilogue);

    void Depthwise3x3(VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        Span<float> output, Nhwc outputShape, Epilogue epilogue);
}
