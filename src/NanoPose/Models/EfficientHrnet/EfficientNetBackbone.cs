using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// The scaled EfficientNet feature extractor (<c>features.*</c>, MODELS.md B.3): the stem (<c>features.0</c>, 3×3
/// stride 2 with (0, 1) padding + BN + SiLU), then the seven MBConv stages of B0 at the configured widths and
/// repeats. Returns the four taps that feed the HRNet branches: the ends of stages 2, 3, 5 and 7 (strides 4–32).
/// </summary>
internal sealed class EfficientNetBackbone
{
    private readonly ConvLayer _stem;
    private readonly MBConvBlock[] _blocks;
    private readonly int[] _tapAfterBlock;

    public EfficientNetBackbone(LayerFactory layers, EfficientHrnetConfig config)
    {
        _stem = layers.Conv("features.0.1", 3, config.StemChannels, ConvGeometry.Square(3, 2, Padding2d.Same(3, 2)), false,
            "features.0.2", Activation.SiLU);
        var blocks = new List<MBConvBlock>();
        var taps = new List<int>();
        int channels = config.StemChannels;
        for (int stage = 0; stage < EfficientHrnetConfig.B0Stages.Count; stage++)
        {
            var (expand, _, _, firstStride, kernel) = EfficientHrnetConfig.B0Stages[stage];
            int outChannels = config.StageChannels[stage];
            for (int repeat = 0; repeat < config.StageRepeats[stage]; repeat++)
            {
                blocks.Add(new MBConvBlock(layers, $"features.{blocks.Count + 1}", channels, outChannels, expand, kernel,
                    repeat == 0 ? firstStride : 1));
                channels = outChannels;
            }
            if (EfficientHrnetConfig.TapStages.Contains(stage)) taps.Add(blocks.Count - 1);
        }
        // B0's first block has no expansion (and, the stem being wider, no residual): the stem streams into its
        // depthwise layer instead of writing a map of 3.5 MB (H−4) to 8 MB (H0) that the block would read back.
        if (!blocks[0].TakesProducer) throw new InvalidOperationException("features.1 must be an MBConv block without expansion or residual");
        (_blocks, _tapAfterBlock) = ([.. blocks], [.. taps]);
        TapChannels = [.. EfficientHrnetConfig.TapStages.Select(s => config.StageChannels[s])];
    }

    /// <summary>Widths of the four taps.</summary>
    public int[] TapChannels { get; }

    /// <summary>Shapes of the four taps for an input of this shape.</summary>
    public Nhwc[] TapShapes(Nhwc input)
    {
        var taps = new List<Nhwc>();
        var shape = _stem.OutputShape(input);
        for (int i = 0; i < _blocks.Length; i++)
        {
            shape = _blocks[i].OutputShape(shape);
            if (_tapAfterBlock.Contains(i)) taps.Add(shape);
        }
        return [.. taps];
    }

    public long MultiplyAccumulates(Nhwc input)
    {
        long macs = _stem.MultiplyAccumulates(input);
        var shape = _stem.OutputShape(input);
        foreach (var block in _blocks)
        {
            macs += block.MultiplyAccumulates(shape);
            shape = block.OutputShape(shape);
        }
        return macs;
    }

    public FeatureMap[] Run(FeatureMap input, Executor ops)
    {
        var x = input;
        var taps = ops.Arena.MapList(_tapAfterBlock.Length);
        for (int i = 0, t = 0; i < _blocks.Length; i++)
        {
            x = i == 0 ? _blocks[0].Run(input, ops, producer: _stem) : _blocks[i].Run(x, ops);
            if (t < taps.Length && _tapAfterBlock[t] == i) taps[t++] = x;
        }
        return taps;
    }
}
