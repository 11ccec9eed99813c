using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// EfficientHRNet's MBConv (<c>features.{i}.conv</c>, MODELS.md B.3): [1×1 expand + BN + SiLU if t ≠ 1] → k×k
/// depthwise with the static asymmetric "same" padding + BN + SiLU → squeeze-excite → 1×1 projection + BN, plus the
/// input when the block keeps width and resolution (added in the projection's store).
/// </summary>
internal sealed class MBConvBlock
{
    private readonly ConvLayer? _expand;
    private readonly ConvLayer _depthwise;
    private readonly SqueezeExcite _squeezeExcite;
    private readonly ConvLayer _project;
    private readonly bool _residual;

    public MBConvBlock(LayerFactory layers, string prefix, int inChannels, int outChannels, int expand, int kernel, int stride)
    {
        int hidden = inChannels * expand;
        int index = 0;
        // Children of `.conv`: [expand unit,] depthwise unit, SE, projection conv, BN; a unit is (pad, conv, BN, SiLU).
        if (expand != 1)
        {
            string unit = $"{prefix}.conv.{index++}";
            _expand = layers.Conv(unit + ".1", inChannels, hidden, ConvGeometry.Pointwise(), false, unit + ".2", Activation.SiLU);
        }
        string dw = $"{prefix}.conv.{index++}";
        _depthwise = layers.Conv(dw + ".1", hidden, hidden, ConvGeometry.Square(kernel, stride, Padding2d.Same(kernel, stride), groups: hidden),
            false, dw + ".2", Activation.SiLU);
        _squeezeExcite = new SqueezeExcite(layers, $"{prefix}.conv.{index++}.se", hidden, Math.Max(1, inChannels / 4));
        string project = $"{prefix}.conv.{index++}";
        _project = layers.Conv(project, hidden, outChannels, ConvGeometry.Pointwise(), false, $"{prefix}.conv.{index}", Activation.None);
        _residual = inChannels == outChannels && stride == 1;
    }

    public Nhwc OutputShape(Nhwc input) => _project.OutputShape(_depthwise.OutputShape(input));

    public long MultiplyAccumulates(Nhwc input)
    {
        long macs = _expand?.MultiplyAccumulates(input) ?? 0;
        var hidden = _expand?.OutputShape(input) ?? input;
        macs += _depthwise.MultiplyAccumulates(hidden);
        var reduced = _depthwise.OutputShape(hidden);
        return macs + _squeezeExcite.MultiplyAccumulates() + _project.MultiplyAccumulates(reduced);
    }

    /// <summary>Expanded maps above 2 MB are streamed (H−4's first two expansions, 14 and 3.5 MB; H0's up to 25 MB):
    /// smaller ones mostly stay in cache anyway.</summary>
    private static bool StreamsExpansion(Nhwc expanded) => (long)expanded.Height * expanded.Width * expanded.Channels > 512 * 1024;

    /// <summary>Whether <see cref="Run"/> can take the layer before the block as <c>producer</c>: a block without an
    /// expansion or a residual never needs its input map except through its depthwise layer.</summary>
    public bool TakesProducer => _expand is null && !_residual;

    /// <summary>The block on <paramref name="input"/>, or, with <paramref name="producer"/> (only when
    /// <see cref="TakesProducer"/>), on producer(input) without that map: the producer then streams into the depthwise
    /// layer as an expansion does (EfficientNet's stem before <c>features.1</c>, 3.5 MB for H−4 and 8 MB for H0).</summary>
    public FeatureMap Run(FeatureMap input, Executor ops, ConvLayer? producer = null)
    {
        if (producer is not null && !TakesProducer)
            throw new InvalidOperationException("an MBConv block with an expansion or a residual needs its input map");
        var first = producer ?? _expand;   // the layer whose output the depthwise layer reads, if not the input
        FeatureMap depthwise;
        if (first is null)
        {
            depthwise = ops.Arena.Allocate(_depthwise.OutputShape(input.Shape));
            ops.Conv(_depthwise, input, depthwise);
        }
        else if (StreamsExpansion(first.OutputShape(input.Shape)))
        {
            // An expanded map past L2 would go out to memory and back: expand and filter it band by band instead.
            var expanded = first.OutputShape(input.Shape);
            depthwise = ops.Arena.Allocate(_depthwise.OutputShape(expanded));
            int bandRows = Executor.BandRows(_depthwise, expanded.Width, expanded.Channels);
            var bands = ops.Arena.Allocate(expanded with { Height = ops.Threads * bandRows });
            ops.ExpandThenDepthwise(first, _depthwise, input, bands, depthwise);
        }
        else
        {
            var hidden = ops.Arena.Allocate(first.OutputShape(input.Shape));
            ops.Conv(first, input, hidden);
            depthwise = ops.Arena.Allocate(_depthwise.OutputShape(hidden.Shape));
            ops.Conv(_depthwise, hidden, depthwise);
        }
        _squeezeExcite.Run(depthwise, ops);
        var output = ops.Arena.Allocate(_project.OutputShape(depthwise.Shape));
        ops.Conv(_project, depthwise, output, _residual ? input : null);
        return output;
    }
}
