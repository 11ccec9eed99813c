using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// <c>backbone.head_layer</c> (MODELS.md A.8): from the smallest branch to the largest, add the previous result
/// resized bilinearly (align_corners=True) to the branch, then a depthwise-separable conv (dw 3×3 + BN, 1×1 + BN + ReLU)
/// that narrows it to the next branch's width (the last keeps its width). Returns the highest-resolution result.
/// </summary>
internal sealed class IterativeHead
{
    private sealed record Project(FeatureMap Branch, FeatureMap? Upsampled, FeatureMap? Sum,
        ConvLayer Depthwise, FeatureMap DepthwiseOut, ConvLayer Pointwise, FeatureMap Output);

    private readonly LayerFactory _f;
    private readonly Project[] _projects;

    public IterativeHead(LayerFactory f, IReadOnlyList<FeatureMap> branches)
    {
        _f = f;
        int n = branches.Count;
        _projects = new Project[n];
        for (int p = 0; p < n; p++)
        {
            var x = branches[n - 1 - p];
            var shape = new Nhwc(x.Height, x.Width, x.ChannelCount);
            int outChannels = p < n - 1 ? branches[n - 2 - p].ChannelCount : x.ChannelCount;
            string prefix = $"backbone.head_layer.projects.{p}";
            var depthwise = f.ConvModule(prefix + ".depthwise_conv", shape, shape.Channels, kernel: 3, depthwise: true);
            var pointwise = f.ConvModule(prefix + ".pointwise_conv", shape, outChannels, activation: Activation.ReLU);
            _projects[p] = new Project(x,
                Upsampled: p == 0 ? null : f.Map(shape),
                Sum: p == 0 ? null : f.Map(shape),
                depthwise, f.Map(shape), pointwise, f.Map(shape with { Channels = outChannels, PixelStride = outChannels }));
        }
    }

    public FeatureMap Output => _projects[^1].Output;

    public FeatureMap Run()
    {
        var ops = _f.Ops;
        FeatureMap? previous = null;
        foreach (var p in _projects)
        {
            var s = p.Branch;
            if (previous is not null)
            {
                ops.ResizeBilinear(previous, p.Upsampled!, alignCorners: true);
                ops.Add(p.Branch, p.Upsampled!, p.Sum!);
                s = p.Sum!;
            }
            ops.Conv(p.Depthwise, s, p.DepthwiseOut);
            ops.Conv(p.Pointwise, p.DepthwiseOut, p.Output);
            previous = p.Output;
        }
        return Output;
    }
}
