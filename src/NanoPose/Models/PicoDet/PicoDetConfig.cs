using NanoPose.Weights;

namespace NanoPose.Models.PicoDet;

/// <summary>One depthwise-separable block of PP-LCNet (MODELS.md G.3): depthwise k×k at a stride, optional
/// squeeze-excite, then a 1×1 convolution.</summary>
public sealed record LcnetBlock(string Name, int InChannels, int OutChannels, int Kernel, int Stride, bool SqueezeExcite);

/// <summary>
/// PicoDet-S with a PP-LCNet backbone, the LCPAN neck and PicoHeadV2 (MODELS.md G): the person detector of
/// PaddleDetection's PP-TinyPose pipeline. The channel widths follow from the backbone scale by PP-LCNet's rounding
/// rule; the input size is the one the weights were trained at, and any other with sides that are multiples of 32
/// runs too (G.7: the ×2 upsampled maps must meet the next finer map exactly).
/// </summary>
public sealed record PicoDetConfig
{
    public const string Family = "picodet";
    public const string DefaultVariant = "picodet-s-lcnet";

    /// <summary>Each input side is a multiple of this (the backbone halves five times).</summary>
    public const int SizeMultiple = 32;

    /// <summary>A bound on each input side, so a hostile size cannot ask for gigabytes of activations.</summary>
    public const int MaxInputSide = 2048;

    public string Variant { get; init; } = DefaultVariant;
    public double BackboneScale { get; init; } = 0.75;
    public int NeckChannels { get; init; } = 96;

    /// <summary>Output levels: strides 8, 16, 32 from the backbone and one more at 64 made by the neck.</summary>
    public int Levels { get; init; } = 4;

    /// <summary>Bins of the box-side distributions (reg_max + 1).</summary>
    public int RegressionBins { get; init; } = 8;
    public int Classes { get; init; } = 1;
    public int InputHeight { get; init; } = 320;
    public int InputWidth { get; init; } = 320;

    /// <summary>PP-LCNet's base widths and kernels (×1.0) per stage, as its NET_CONFIG gives them: (kernel, in, out, stride, SE).</summary>
    private static readonly (string Stage, (int K, int In, int Out, int S, bool Se)[] Blocks)[] LcnetBase =
    [
        ("blocks2", [(3, 16, 32, 1, false)]),
        ("blocks3", [(3, 32, 64, 2, false), (3, 64, 64, 1, false)]),
        ("blocks4", [(3, 64, 128, 2, false), (3, 128, 128, 1, false)]),
        ("blocks5", [(3, 128, 256, 2, false), (5, 256, 256, 1, false), (5, 256, 256, 1, false), (5, 256, 256, 1, false), (5, 256, 256, 1, false), (5, 256, 256, 1, false)]),
        ("blocks6", [(5, 256, 512, 2, true), (5, 512, 512, 1, true)]),
    ];

    /// <summary>The stem's width: a full 3×3 stride-2 convolution 3 → this.</summary>
    public int StemChannels => MakeDivisible(16 * BackboneScale);

    /// <summary>The backbone's blocks in order, named by stage and index (<c>backbone.blocks5.2</c>).</summary>
    public IReadOnlyList<LcnetBlock> BackboneBlocks =>
    [
        .. LcnetBase.SelectMany(stage => stage.Blocks.Select((b, i) => new LcnetBlock($"backbone.{stage.Stage}.{i}",
            MakeDivisible(b.In * BackboneScale), MakeDivisible(b.Out * BackboneScale), b.K, b.S, b.Se)))
    ];

    /// <summary>Blocks whose outputs feed the neck: the last of blocks4, blocks5 and blocks6 (strides 8, 16, 32).</summary>
    public static IReadOnlyList<string> FeatureBlocks { get; } = ["backbone.blocks4.1", "backbone.blocks5.5", "backbone.blocks6.1"];

    /// <summary>PP-LCNet's rounding: to the nearest multiple of 8, at least 8, and never more than 10 % below the value.</summary>
    public static int MakeDivisible(double value, int divisor = 8)
    {
        int rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
    }

    public void Validate()
    {
        if (BackboneScale <= 0 || BackboneScale > 4) throw new ArgumentException($"{Variant}: backbone_scale {BackboneScale} is outside (0, 4]");
        if (NeckChannels is <= 0 or > 1024) throw new ArgumentException($"{Variant}: neck_channels {NeckChannels} outside 1…1024");
        if (Levels != 4) throw new ArgumentException($"{Variant}: levels is {Levels}; the LCPAN neck here makes 4");
        if (RegressionBins is <= 1 or > 64) throw new ArgumentException($"{Variant}: regression_bins {RegressionBins} outside 2…64");
        if (Classes != 1) throw new ArgumentException($"{Variant}: classes is {Classes}; NanoPose's detector finds people only (1 class)");
        RequireInputSize(InputHeight, InputWidth, "input_height × input_width: input");
    }

    /// <param name="what">How the message names the size (the file's keys, or the caller's input).</param>
    public void RequireInputSize(int height, int width, string what = "input")
    {
        if (height <= 0 || width <= 0 || height % SizeMultiple != 0 || width % SizeMultiple != 0)
            throw new ArgumentException($"PicoDet {Variant}: {what} {height}×{width} must have sides that are positive multiples of {SizeMultiple}");
        if (height > MaxInputSide || width > MaxInputSide)
            throw new ArgumentException($"PicoDet {Variant}: {what} {height}×{width} has a side over {MaxInputSide}");
    }

    public ModelArchitecture ToArchitecture() => new ModelArchitecture(Family, Variant)
        .Set("backbone_scale", BackboneScale)
        .Set("neck_channels", NeckChannels)
        .Set("levels", Levels)
        .Set("regression_bins", RegressionBins)
        .Set("classes", Classes)
        .Set("input_height", InputHeight)
        .Set("input_width", InputWidth);

    public static PicoDetConfig FromArchitecture(ModelArchitecture architecture)
    {
        if (architecture.Family != Family)
            throw new ArgumentException($"architecture family '{architecture.Family}' is not {Family}");
        var config = new PicoDetConfig
        {
            Variant = architecture.Variant,
            BackboneScale = architecture.GetFloat("backbone_scale", double.Epsilon, 4),
            NeckChannels = architecture.GetInt("neck_channels", 0, int.MaxValue),
            Levels = architecture.GetInt("levels", 0, int.MaxValue),
            RegressionBins = architecture.GetInt("regression_bins", 0, int.MaxValue),
            Classes = architecture.GetInt("classes", 0, int.MaxValue),
            InputHeight = architecture.GetInt("input_height", 0, int.MaxValue),
            InputWidth = architecture.GetInt("input_width", 0, int.MaxValue),
        };
        config.Validate();
        return config;
    }
}
