using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Pooling;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;

namespace NanoPose.Layers;

/// <summary>The parameter-free kernels over <see cref="FeatureMap"/>s (each passes the maps' spans and views through),
/// so model code reads as the network does.</summary>
public static class FeatureMapOps
{
    /// <summary>output = a + b; output may be a or b itself.</summary>
    public static void Add(FeatureMap a, FeatureMap b, FeatureMap output, VectorWidth width) =>
        Arithmetic.Add(a.Span, a.Shape, b.Span, b.Shape, output.Span, output.Shape, width);

    public static void Relu(FeatureMap map, VectorWidth width) =>
        InPlaceActivation.Apply(map.Span, map.Shape, Activation.ReLU, width);

    /// <summary><c>F.adaptive_avg_pool2d(input, output size)</c>; output may be a channel slice of a wider map.</summary>
    public static void AdaptiveAveragePool(FeatureMap input, FeatureMap output, VectorWidth width) =>
        AveragePooling.Adaptive(input.Span, input.Shape, output.Span, output.Shape, width);

    /// <summary>output (1×1×C) = the mean of every channel.</summary>
    public static void GlobalAveragePool(FeatureMap input, FeatureMap output, VectorWidth width) =>
        AveragePooling.Global(input.Span, input.Shape, output.Span, width);

    /// <summary>output = input · scale, one factor per channel from the 1×1 map <paramref name="scale"/>.</summary>
    public static void ScaleChannels(FeatureMap input, FeatureMap scale, FeatureMap output, VectorWidth width) =>
        Arithmetic.ScaleChannels(input.Span, input.Shape, scale.Span, output.Span, output.Shape, width);

    /// <summary>output = input · F.interpolate(weights, size=input size, mode='nearest').</summary>
    public static void MultiplyByNearestUpsampled(FeatureMap input, FeatureMap weights, FeatureMap output, VectorWidth width) =>
        Arithmetic.MultiplyByNearestUpsampled(input.Span, input.Shape, weights.Span, weights.Shape, output.Span, output.Shape, width);

    /// <summary><c>nn.Upsample(scale_factor=factor, mode='nearest')</c>.</summary>
    public static void UpsampleNearest(FeatureMap input, FeatureMap output, int factor, VectorWidth width) =>
        NearestResize.UpsampleByFactor(input.Span, input.Shape, output.Span, output.Shape, factor, factor, width);

    /// <summary><c>F.interpolate(input, size=output size, mode='bilinear', align_corners=…)</c>.</summary>
    public static void ResizeBilinear(FeatureMap input, FeatureMap output, bool alignCorners, VectorWidth width) =>
        BilinearResize.Resize(input.Span, input.Shape, output.Span, output.Shape, alignCorners, width);

    /// <summary><c>channel_shuffle(torch.cat([first, second], dim=1), 2)</c>.</summary>
    public static void ConcatShuffle(FeatureMap first, FeatureMap second, FeatureMap output, VectorWidth width) =>
        ChannelShuffle.ConcatShuffle2(first.Span, first.Shape, second.Span, second.Shape, output.Span, output.Shape, width);
}
