using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// The stem (MODELS.md A.3, keys <c>backbone.stem.</c>): a 3×3 stride-2 conv, then a ShuffleNet-style stride-2
/// unit — the first half of the channels through a depthwise stride-2 conv and a 1×1, the second half through
/// expand 1×1, depthwise stride-2 and linear 1×1 — concatenated and channel-shuffled. Output: H/4 × W/4.
/// </summary>
internal sealed class Stem
{
    private readonly LayerFactory _f;
    private readonly ConvLayer _conv1, _branchDepthwise, _branchPointwise, _expand, _depthwise, _linear;
    private readonly FeatureMap _conv1Out, _firstHalf, _secondHalf, _branchDown, _branchOut, _expanded, _expandedDown, _linearOut;

    public Stem(LayerFactory f, LiteHrnetConfig config, Nhwc image)
    {
        const string p = "backbone.stem.";
        _f = f;
        int channels = config.StemChannels, half = channels / 2, mid = (int)Math.Round(channels * config.StemExpandRatio);

        // Requested in module order (conv1, branch1, expand, depthwise, linear), which is also ncnn's layer order.
        _conv1 = f.ConvModule(p + "conv1", image, channels, kernel: 3, stride: 2, activation: Activation.ReLU);
        var full = _conv1.OutputShape(image);
        var halfShape = full with { Channels = half, PixelStride = half };
        _branchDepthwise = f.ConvModule(p + "branch1.0", halfShape, half, kernel: 3, stride: 2, depthwise: true);
        var quarter = _branchDepthwise.OutputShape(halfShape);
        _branchPointwise = f.ConvModule(p + "branch1.1", quarter, half, activation: Activation.ReLU);
        _expand = f.ConvModule(p + "expand_conv", halfShape, mid, activation: Activation.ReLU);
        _depthwise = f.ConvModule(p + "depthwise_conv", full with { Channels = mid, PixelStride = mid }, mid, kernel: 3, stride: 2, depthwise: true);
        _linear = f.ConvModule(p + "linear_conv", quarter with { Channels = mid, PixelStride = mid }, half, activation: Activation.ReLU);

        _conv1Out = f.Map(full);
        (_firstHalf, _secondHalf) = (_conv1Out.Channels(0, half), _conv1Out.Channels(half, half));
        _branchDown = f.Map(quarter);
        _branchOut = f.Map(quarter);
        _expanded = f.Map(full with { Channels = mid, PixelStride = mid });
        _expandedDown = f.Map(quarter with { Channels = mid, PixelStride = mid });
        _linearOut = f.Map(quarter);
        Output = f.Map(quarter with { Channels = channels, PixelStride = channels });
    }

    public FeatureMap Output { get; }

    public FeatureMap Run(FeatureMap image)
    {
        var ops = _f.Ops;
        ops.Conv(_conv1, image, _conv1Out);
        ops.Conv(_branchDepthwise, _firstHalf, _branchDown);
        ops.Conv(_branchPointwise, _branchDown, _branchOut);
        ops.Conv(_expand, _secondHalf, _expanded);
        ops.Conv(_depthwise, _expanded, _expandedDown);
        ops.Conv(_linear, _expandedDown, _linearOut);
        _f.Ops.ConcatShuffle(_branchOut, _linearOut, Output);
        return Output;
    }
}
