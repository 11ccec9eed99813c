using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// A stride-1 ShuffleNet v2 unit, the block of NAIVE modules (MODELS.md A.6, keys <c>…layers.{k}.{u}.branch2.{0,1,2}</c>):
/// split in halves A and B; B → 1×1 + ReLU → dw 3×3 → 1×1 + ReLU; output channel_shuffle([A, B]).
/// </summary>
internal sealed class ShuffleUnit
{
    private readonly LayerFactory _f;
    private readonly ConvLayer _expand, _depthwise, _project;
    private readonly FeatureMap _kept, _transformed, _expanded, _depthwiseOut, _projected;

    public ShuffleUnit(LayerFactory f, string prefix, FeatureMap input)
    {
        _f = f;
        int half = input.ChannelCount / 2;
        var shape = new Nhwc(input.Height, input.Width, half);
        _expand = f.ConvModule(prefix + ".branch2.0", shape, half, activation: Activation.ReLU);
        _depthwise = f.ConvModule(prefix + ".branch2.1", shape, half, kernel: 3, depthwise: true);
        _project = f.ConvModule(prefix + ".branch2.2", shape, half, activation: Activation.ReLU);
        (_kept, _transformed) = (input.Channels(0, half), input.Channels(half, half));
        _expanded = f.Map(shape);
        _depthwiseOut = f.Map(shape);
        _projected = f.Map(shape);
        Output = f.Map(input.Shape);
    }

    public FeatureMap Output { get; }

    public FeatureMap Run()
    {
        var ops = _f.Ops;
        ops.Conv(_expand, _transformed, _expanded);
        ops.Conv(_depthwise, _expanded, _depthwiseOut);
        ops.Conv(_project, _depthwiseOut, _projected);
        _f.Ops.ConcatShuffle(_kept, _projected, Output);
        return Output;
    }
}
