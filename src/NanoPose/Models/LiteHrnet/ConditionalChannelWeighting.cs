using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// One block of a LITE module over all branches (MODELS.md A.5, keys <c>…layers.{b}.</c>). Each branch is split in
/// halves A and B. The B halves are weighted jointly across resolutions (pooled to the smallest branch, concatenated,
/// 1×1 + ReLU, 1×1 + Sigmoid, split back and nearest-upsampled onto each B), then each B goes through a depthwise
/// 3×3 and is weighted by its own global pool (1×1 + ReLU, 1×1 + Sigmoid); the output is channel_shuffle([A, B]).
/// </summary>
internal sealed class ConditionalChannelWeighting
{
    private sealed record Branch(
        FeatureMap KeptHalf, FeatureMap WeightedHalf, FeatureMap PooledSlot, FeatureMap CrossWeights,
        FeatureMap Weighted, ConvLayer Depthwise, FeatureMap DepthwiseOut, FeatureMap DepthwiseRowSums,
        FeatureMap SpatialPooled, ConvLayer SpatialReduce, FeatureMap SpatialMid, ConvLayer SpatialExpand, FeatureMap SpatialScale,
        FeatureMap Output);

    private readonly LayerFactory _f;
    private readonly Branch[] _branches;
    private readonly ConvLayer _crossReduce, _crossExpand;
    private readonly FeatureMap _pooled, _crossMid, _crossWeights;

    public ConditionalChannelWeighting(LayerFactory f, ReadmeFlops readmeFlops, string prefix, IReadOnlyList<FeatureMap> inputs, int reduceRatio)
    {
        _f = f;
        int n = inputs.Count;
        int[] halves = [.. inputs.Select(x => x.ChannelCount / 2)];
        int total = halves.Sum();
        var smallest = inputs[^1].Shape;
        var pooledShape = new Nhwc(smallest.Height, smallest.Width, total);

        // Requested in forward order: cross-resolution weighting, the depthwise convs, the spatial weightings.
        string crw = prefix + ".cross_resolution_weighting";
        _crossReduce = f.ConvModule(crw + ".conv1", pooledShape, total / reduceRatio, activation: Activation.ReLU);
        _crossExpand = f.ConvModule(crw + ".conv2", pooledShape with { Channels = total / reduceRatio, PixelStride = total / reduceRatio },
            total, activation: Activation.Sigmoid);
        var halfShapes = inputs.Select((x, k) => new Nhwc(x.Height, x.Width, halves[k])).ToArray();
        var depthwise = halfShapes.Select((shape, k) =>
            f.ConvModule($"{prefix}.depthwise_convs.{k}", shape, halves[k], kernel: 3, depthwise: true)).ToArray();
        var spatial = halves.Select((h, k) =>
        {
            string sw = $"{prefix}.spatial_weighting.{k}";
            var reduce = f.BiasedConv(sw + ".conv1.conv", new Nhwc(1, 1, h), h / 4, Activation.ReLU);
            var expand = f.BiasedConv(sw + ".conv2.conv", new Nhwc(1, 1, h / 4), h, Activation.Sigmoid);
            // torchstat counts nn.AdaptiveAvgPool2d(1) as C·(H+1)·(W+1).
            readmeFlops.Count((long)h * (halfShapes[k].Height + 1) * (halfShapes[k].Width + 1));
            return (reduce, expand);
        }).ToArray();

        _pooled = f.Map(pooledShape);
        _crossMid = f.Map(_crossReduce.OutputShape(pooledShape));
        _crossWeights = f.Map(pooledShape);
        _branches = new Branch[n];
        for (int k = 0, offset = 0; k < n; offset += halves[k], k++)
        {
            var x = inputs[k];
            int h = halves[k];
            _branches[k] = new Branch(
                KeptHalf: x.Channels(0, h), WeightedHalf: x.Channels(h, h),
                PooledSlot: _pooled.Channels(offset, h), CrossWeights: _crossWeights.Channels(offset, h),
                Weighted: f.Map(halfShapes[k]), Depthwise: depthwise[k], DepthwiseOut: f.Map(halfShapes[k]),
                DepthwiseRowSums: f.Map(new Nhwc(x.Height, 1, h)),
                SpatialPooled: f.Map(new Nhwc(1, 1, h)), SpatialReduce: spatial[k].reduce,
                SpatialMid: f.Map(new Nhwc(1, 1, h / 4)), SpatialExpand: spatial[k].expand,
                SpatialScale: f.Map(new Nhwc(1, 1, h)),
                Output: f.Map(x.Shape));
        }
        Outputs = [.. _branches.Select(b => b.Output)];
    }

    public FeatureMap[] Outputs { get; }

    public FeatureMap[] Run()
    {
        var ops = _f.Ops;
        // Cross-resolution weighting: every B pooled to the smallest branch's size (the last one as is) into one concat.
        foreach (var b in _branches) ops.AdaptiveAveragePool(b.WeightedHalf, b.PooledSlot);
        ops.Conv(_crossReduce, _pooled, _crossMid);
        ops.Conv(_crossExpand, _crossMid, _crossWeights);
        foreach (var b in _branches) ops.MultiplyByNearestUpsampled(b.WeightedHalf, b.CrossWeights, b.Weighted);

        // The depthwise convs also sum their output rows, so the spatial weighting's global mean reads no full map.
        foreach (var b in _branches) ops.Conv(b.Depthwise, b.Weighted, b.DepthwiseOut, rowSums: b.DepthwiseRowSums);

        // Spatial weighting: a per-channel gate from the global mean, applied as the halves are shuffled together.
        foreach (var b in _branches)
        {
            ops.MeanOfRowSums(b.DepthwiseRowSums, b.DepthwiseOut.Width, b.SpatialPooled);
            ops.Conv(b.SpatialReduce, b.SpatialPooled, b.SpatialMid);
            ops.Conv(b.SpatialExpand, b.SpatialMid, b.SpatialScale);
        }

        foreach (var b in _branches) ops.ConcatShuffle(b.KeptHalf, b.DepthwiseOut, b.Output, secondScale: b.SpatialScale);
        return Outputs;
    }
}
