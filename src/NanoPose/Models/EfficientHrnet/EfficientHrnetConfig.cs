using NanoPose.Weights;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// Everything that shapes one EfficientHRNet (MODELS.md B.2–B.6): the scaled EfficientNet backbone (stem width,
/// width and repeats of its seven MBConv stages), the HRNet branch widths, the module counts of stages 2–4 and the
/// heatmap network. <see cref="FromScale"/> derives all of it from the scaling coefficient φ exactly as the
/// official code does; a .npw file stores the derived numbers too, so a file describes its own network.
/// </summary>
public sealed record EfficientHrnetConfig(
    int ScaleFactor,
    double WidthMultiplier,
    double DepthMultiplier,
    int StemChannels,
    int[] StageChannels,
    int[] StageRepeats,
    int[] BranchChannels,
    int[] StageModules,
    int DeconvChannels,
    int FinalChannels)
{
    public const string Family = "efficienthrnet";

    /// <summary>EfficientNet-B0's MBConv stages: expand ratio, output width, repeats, first stride, kernel.</summary>
    public static IReadOnlyList<(int Expand, int Channels, int Repeats, int Stride, int Kernel)> B0Stages { get; } =
    [
        (1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3), (6, 112, 3, 1, 5), (6, 192, 4, 2, 5), (6, 320, 1, 1, 3),
    ];

    public const int B0StemChannels = 32;

    /// <summary>The backbone stages whose last block feeds HRNet branches 1–4 (strides 4, 8, 16, 32).</summary>
    public static IReadOnlyList<int> TapStages { get; } = [1, 2, 4, 6];

    /// <summary>17 heatmaps + 17 associative-embedding tags at R/4 (final_layers.0).</summary>
    public const int HeatmapAndTagChannels = 34;

    /// <summary>The scaling coefficients of the published models, H0 … H−4.</summary>
    public static IReadOnlyList<int> Scales { get; } = [0, -1, -2, -3, -4];

    // The configs' 3-decimal literals (≈ 1.1^φ and 1.2^φ, not exact roundings), index −φ.
    private static readonly double[] WidthMultipliers = [1.0, 0.909, 0.826, 0.751, 0.684];
    private static readonly double[] DepthMultipliers = [1.0, 0.833, 0.694, 0.578, 0.483];
    private static readonly int[] Stage3Modules = [4, 3, 2, 1, 1];
    private static readonly int[] Stage4Modules = [3, 3, 3, 3, 2];
    private static readonly int[] HrnetBaseWidths = [32, 64, 128, 256];

    /// <summary>The side of the input the model was trained at: 512 + 32φ.</summary>
    public int NativeInputSize => 512 + 32 * ScaleFactor;

    public string Variant => VariantName(ScaleFactor);

    /// <summary><c>efficienthrnet-h0</c>, <c>efficienthrnet-h-1</c>, …</summary>
    public static string VariantName(int scale) => $"{Family}-h{scale}";

    /// <summary>The configuration of the published model with scaling coefficient φ (0 … −4), with
    /// <paramref name="finalChannels"/> heatmaps at R/2 (17 in the Example Configs, 34 when trained with AE loss there).</summary>
    public static EfficientHrnetConfig FromScale(int scale, int finalChannels = 17)
    {
        if (scale is > 0 or < -4) throw new ArgumentOutOfRangeException(nameof(scale), scale, "EfficientHRNet is defined for φ = 0 … −4");
        if (finalChannels is not (17 or 34)) throw new ArgumentOutOfRangeException(nameof(finalChannels), finalChannels, "expected 17 or 34");
        double wm = WidthMultipliers[-scale], dm = DepthMultipliers[-scale];
        // The HRNet part scales by 1.2455^φ, rounded up (H−1: 25.69 → 26).
        int[] branches = [.. HrnetBaseWidths.Select(c => (int)Math.Ceiling(c * Math.Pow(1.2455, scale)))];
        return new EfficientHrnetConfig(scale, wm, dm,
            RoundChannels(B0StemChannels, wm),
            [.. B0Stages.Select(s => RoundChannels(s.Channels, wm))],
            [.. B0Stages.Select(s => RoundRepeats(s.Repeats, dm))],
            branches,
            [1, Stage3Modules[-scale], Stage4Modules[-scale]],
            branches[0],
            finalChannels);
    }

    /// <summary>EfficientNet's <c>_round_filters</c> with divisor 8, except that a multiplier of exactly 1 keeps the width.</summary>
    public static int RoundChannels(int channels, double widthMultiplier)
    {
        if (widthMultiplier == 1.0) return channels;
        double scaled = channels * widthMultiplier;
        int rounded = Math.Max(8, (int)(scaled + 4) / 8 * 8);
        return rounded < 0.9 * scaled ? rounded + 8 : rounded;
    }

    /// <summary>EfficientNet's <c>_round_repeats</c>: ceil(n·d), a multiplier of exactly 1 keeping n.</summary>
    public static int RoundRepeats(int repeats, double depthMultiplier) =>
        depthMultiplier == 1.0 ? repeats : (int)Math.Ceiling(depthMultiplier * repeats);

    /// <summary>The published configuration named <c>efficienthrnet-h0</c> … <c>efficienthrnet-h-4</c>.</summary>
    public static EfficientHrnetConfig FromVariant(string variant, int finalChannels = 17)
    {
        foreach (int scale in Scales)
            if (string.Equals(variant, VariantName(scale), StringComparison.OrdinalIgnoreCase)) return FromScale(scale, finalChannels);
        throw new ArgumentException($"unknown EfficientHRNet variant '{variant}'; expected one of {string.Join(", ", Scales.Select(VariantName))}", nameof(variant));
    }

    /// <summary>
    /// Recognises the variant from a checkpoint's tensor shapes (<paramref name="shapeOf"/> returns null for an absent
    /// tensor): the first HRNet branch's width is different for every φ, and final_layers.1 says 17 or 34 heatmaps.
    /// Null when the tensors are not those of an EfficientHRNet.
    /// </summary>
    public static EfficientHrnetConfig? Detect(Func<string, int[]?> shapeOf)
    {
        if (shapeOf("trans1_branch1.0.weight") is not [int branch0, _, 3, 3]) return null;
        if (shapeOf("final_layers.1.weight") is not [int finalChannels and (17 or 34), _, 1, 1]) return null;
        foreach (int scale in Scales)
        {
            var config = FromScale(scale, finalChannels);
            if (config.BranchChannels[0] == branch0) return config;
        }
        return null;
    }

    /// <summary>The description stored in a .npw file.</summary>
    public ModelArchitecture ToArchitecture() => new ModelArchitecture(Family, Variant)
        .Set("scale_factor", ScaleFactor)
        .Set("width_mult", WidthMultiplier)
        .Set("depth_mult", DepthMultiplier)
        .Set("stem_channels", StemChannels)
        .Set("stage_channels", Longs(StageChannels))
        .Set("stage_repeats", Longs(StageRepeats))
        .Set("branch_channels", Longs(BranchChannels))
        .Set("stage_modules", Longs(StageModules))
        .Set("deconv_channels", DeconvChannels)
        .Set("final_channels", FinalChannels);

    /// <summary>Rebuilds the configuration a .npw file describes, checking the lengths the builder relies on.</summary>
    public static EfficientHrnetConfig FromArchitecture(ModelArchitecture architecture)
    {
        if (architecture.Family != Family)
            throw new ArgumentException($"architecture family is '{architecture.Family}', expected '{Family}'", nameof(architecture));
        int scale = architecture.GetInt("scale_factor", Scales.Min(), Scales.Max());
        int finalChannels = architecture.GetInt("final_channels", 1, MaxChannels);
        if (finalChannels is not (CocoKeypoints.Count or 2 * CocoKeypoints.Count))
            throw new ArgumentException($"architecture {architecture.Variant}: 'final_channels' is {finalChannels}: the half-resolution "
                + $"layer makes one heatmap per COCO keypoint, {CocoKeypoints.Count} (or {2 * CocoKeypoints.Count} with tags)");
        return new EfficientHrnetConfig(
            scale,
            architecture.GetFloat("width_mult", 0.1, 4),
            architecture.GetFloat("depth_mult", 0.1, 4),
            architecture.GetInt("stem_channels", 1, MaxChannels),
            architecture.GetInts("stage_channels", B0Stages.Count, 1, MaxChannels),
            architecture.GetInts("stage_repeats", B0Stages.Count, 1, MaxRepeats),
            architecture.GetInts("branch_channels", 4, 1, MaxChannels),
            architecture.GetInts("stage_modules", 3, 1, MaxRepeats),
            architecture.GetInt("deconv_channels", 1, MaxChannels),
            finalChannels);
    }

    /// <summary>The widest layer a description may ask for: weights grow with its square. H0's widest, the 6× expansion
    /// of its last backbone stage's 320 channels, has 1920.</summary>
    public const int MaxChannels = 2048;

    /// <summary>The most blocks per backbone stage and modules per HRNet stage (H0: 4 of each).</summary>
    public const int MaxRepeats = 64;

    private static long[] Longs(int[] values) => [.. values.Select(v => (long)v)];
}
