using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.PicoDet;

/// <summary>
/// PP-LCNet's block, also the LCPAN neck's and the head tower's (MODELS.md G.2 "DS(k, s)"): depthwise k×k at a stride
/// + bias + hard-swish, optionally squeeze-excite (reduce ×4 + ReLU, expand + hard-sigmoid), then 1×1 + bias +
/// hard-swish. Convolutions <c>&lt;name&gt;.dw</c>, <c>.se.conv1</c>, <c>.se.conv2</c>, <c>.pw</c>.
/// </summary>
internal sealed class DepthwiseSeparable
{
    private readonly LayerFactory _f;
    private readonly ConvLayer _depthwise, _pointwise;
    private readonly SqueezeExcite? _squeezeExcite;
    private readonly FeatureMap _hidden;

    public DepthwiseSeparable(LayerFactory f, string name, Nhwc input, int outChannels, int kernel, int stride, bool squeezeExcite = false)
    {
        _f = f;
        _depthwise = f.Depthwise(name + ".dw", input, kernel, stride, bias: true, batchNorm: null, Activation.HardSwish);
        var hidden = _depthwise.OutputShape(input);
        _hidden = f.Map(hidden);
        if (squeezeExcite)
            _squeezeExcite = new SqueezeExcite(f, hidden,
                (name + ".se.conv1", input.Channels / 4, Activation.ReLU), (name + ".se.conv2", input.Channels, Activation.HardSigmoid));
        _pointwise = f.Conv(name + ".pw", hidden, outChannels, ConvGeometry.Pointwise(), bias: true, batchNorm: null, Activation.HardSwish);
        OutputShape = _pointwise.OutputShape(hidden);
    }

    public Nhwc OutputShape { get; }

    /// <summary>Runs the block; <paramref name="output"/> may be a channel slice of a wider map (a concatenation).</summary>
    public void Run(FeatureMap input, FeatureMap output)
    {
        var ops = _f.Ops;
        ops.Conv(_depthwise, input, _hidden);
        _squeezeExcite?.Run(_hidden, _hidden);
        ops.Conv(_pointwise, _hidden, output);
    }
}
