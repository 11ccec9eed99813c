using NanoPose.Weights;

namespace NanoPose.Models.LiteHrnet;

/// <summary>LITE modules weight channels conditionally (cross-resolution and spatial weighting); NAIVE modules are
/// plain ShuffleNet v2 units (MODELS.md A.5, A.6).</summary>
public enum LiteHrnetModuleType { Lite, Naive }

/// <summary>One stage: <see cref="Modules"/> modules, each with <see cref="Blocks"/> blocks per branch, one branch per
/// entry of <see cref="Channels"/> (highest resolution first). <see cref="ReduceRatio"/> is the cross-resolution
/// weighting's channel reduction (LITE only).</summary>
public sealed record LiteHrnetStage(int Modules, int Blocks, int ReduceRatio, int[] Channels)
{
    public int Branches => Channels.Length;
}

/// <summary>
/// Everything needed to rebuild a Lite-HRNet graph (MODELS.md A.1): the stem, the stages, the module type, the
/// keypoint head and the input size the model was converted for. Stored in the .npw architecture description
/// (family <c>litehrnet</c>) by <see cref="ToArchitecture"/> and read back by <see cref="FromArchitecture"/>.
/// </summary>
public sealed record LiteHrnetConfig
{
    public const string Family = "litehrnet";

    public required string Variant { get; init; }
    public int StemChannels { get; init; } = 32;
    public int StemOutChannels { get; init; } = 32;
    public double StemExpandRatio { get; init; } = 1;
    public required LiteHrnetModuleType ModuleType { get; init; }
    public required IReadOnlyList<LiteHrnetStage> Stages { get; init; }
    /// <summary>Input channels of the keypoint head's 1×1 final layer (the backbone's highest-resolution width).</summary>
    public required int HeadInChannels { get; init; }
    /// <summary>Heatmaps the final layer makes: 17 COCO keypoints.</summary>
    public int HeadOutChannels { get; init; } = 17;
    public int InputHeight { get; init; } = 256;
    public int InputWidth { get; init; } = 192;

    /// <summary>
    /// The largest input side a network is built for, so that a .npw file cannot ask for more memory and time than a
    /// photo's worth. Activation memory grows with the input's area, about 87 bytes per input pixel for Lite-HRNet-18
    /// (measured: 4096×4096 took 1.46 GB and 15 s per image): 1024×1024 bounds it near 90 MB and 1 s per person,
    /// 20× the 256×192 input of the published models.
    /// </summary>
    public const int MaxInputSide = 1024;

    /// <summary>The most stages a description may have (the published ones have 3).</summary>
    public const int MaxStages = 8;

    /// <summary>The widest layer a description may ask for (the published ones reach 320): weights grow with its square.</summary>
    public const int MaxChannels = 2048;

    /// <summary>The most modules per stage and blocks per module (the published ones: 8 and 2).</summary>
    public const int MaxRepeats = 64;

    /// <summary>Input sides must be multiples of this: the stem halves twice, then each further branch once more.</summary>
    public int SizeMultiple => 4 << (Stages.Max(s => s.Branches) - 1);

    /// <summary>The published configurations (LH configs/top_down/{lite_hrnet,naive_litehrnet}/coco/*.py).</summary>
    public static IReadOnlyDictionary<string, LiteHrnetConfig> Known { get; } = new Dictionary<string, LiteHrnetConfig>
    {
        ["litehrnet-18"] = Lite("litehrnet-18", modules: [2, 4, 2]),
        ["litehrnet-30"] = Lite("litehrnet-30", modules: [3, 8, 3]),
        ["naive-litehrnet-18"] = Naive("naive-litehrnet-18", width: 30),
        ["wider-naive-litehrnet-18"] = Naive("wider-naive-litehrnet-18", width: 40),
    };

    static LiteHrnetConfig Lite(string variant, int[] modules) => new()
    {
        Variant = variant,
        ModuleType = LiteHrnetModuleType.Lite,
        Stages = StagesOf(modules, width: 40),
        HeadInChannels = 40,
    };

    static LiteHrnetConfig Naive(string variant, int width) => new()
    {
        Variant = variant,
        ModuleType = LiteHrnetModuleType.Naive,
        Stages = StagesOf([2, 4, 2], width),
        HeadInChannels = width,
    };

    /// <summary>Stage s has s + 2 branches of width, 2·width, 4·width, …; 2 blocks per module; reduce ratio 8.</summary>
    static LiteHrnetStage[] StagesOf(int[] modules, int width) =>
        [.. modules.Select((m, s) => new LiteHrnetStage(m, Blocks: 2, ReduceRatio: 8, [.. Enumerable.Range(0, s + 2).Select(b => width << b)]))];

    /// <summary>Throws naming the first inconsistency: the builder relies on every one of these.</summary>
    public void Validate()
    {
        void Require(bool condition, string problem)
        {
            if (!condition) throw new ArgumentException($"Lite-HRNet {Variant}: {problem}");
        }
        Require(StemChannels > 0 && StemChannels % 2 == 0 && StemOutChannels == StemChannels,
            $"stem_channels {StemChannels} and stem_out_channels {StemOutChannels}: the stem must keep an even width");
        Require(StemExpandRatio > 0, $"stem_expand_ratio {StemExpandRatio} must be positive");
        Require(Stages.Count > 0, "num_stages: no stages");
        for (int s = 0; s < Stages.Count; s++)
        {
            var stage = Stages[s];
            int previous = s == 0 ? 1 : Stages[s - 1].Branches;
            Require(stage.Modules > 0 && stage.Blocks > 0, $"num_modules[{s}] {stage.Modules}, num_blocks[{s}] {stage.Blocks}: stage {s} needs at least one module and one block");
            Require(stage.Branches >= previous, $"num_branches[{s}]: stage {s} has {stage.Branches} branches, fewer than the {previous} before it");
            Require(stage.Channels.All(c => c > 0 && c % 2 == 0), $"stage{s}_channels: stage {s} branch widths [{string.Join(", ", stage.Channels)}] must be even");
            Require(ModuleType == LiteHrnetModuleType.Naive || stage.ReduceRatio > 0, $"reduce_ratios[{s}]: stage {s} reduce ratio {stage.ReduceRatio} must be positive");
            for (int b = 0; b < previous && s > 0; b++)
                Require(stage.Channels[b] == Stages[s - 1].Channels[b], $"stage{s}_channels[{b}]: stage {s} branch {b} changes width; only the stem's transition may");
        }
        Require(HeadInChannels == Stages[^1].Channels[0],
            $"head_in_channels: the final layer takes {HeadInChannels} channels, the backbone's highest-resolution branch gives {Stages[^1].Channels[0]}");
        Require(HeadOutChannels == CocoKeypoints.Count,
            $"head_out_channels is {HeadOutChannels}: the final layer must make one heatmap per COCO keypoint, {CocoKeypoints.Count}");
        Require(InputHeight > 0 && InputWidth > 0 && InputHeight % SizeMultiple == 0 && InputWidth % SizeMultiple == 0,
            $"input_height × input_width: input {InputHeight}×{InputWidth} must have sides that are positive multiples of {SizeMultiple}");
        Require(InputHeight <= MaxInputSide && InputWidth <= MaxInputSide, $"input_height × input_width: input {InputHeight}×{InputWidth} has a side over {MaxInputSide}");
    }

    public ModelArchitecture ToArchitecture()
    {
        var architecture = new ModelArchitecture(Family, Variant)
            .Set("stem_channels", StemChannels)
            .Set("stem_out_channels", StemOutChannels)
            .Set("stem_expand_ratio", StemExpandRatio)
            .Set("module_type", ModuleType == LiteHrnetModuleType.Lite ? "LITE" : "NAIVE")
            .Set("num_stages", Stages.Count)
            .Set("num_modules", [.. Stages.Select(s => (long)s.Modules)])
            .Set("num_branches", [.. Stages.Select(s => (long)s.Branches)])
            .Set("num_blocks", [.. Stages.Select(s => (long)s.Blocks)])
            .Set("reduce_ratios", [.. Stages.Select(s => (long)s.ReduceRatio)]);
        for (int s = 0; s < Stages.Count; s++)
            architecture.Set($"stage{s}_channels", [.. Stages[s].Channels.Select(c => (long)c)]);
        return architecture
            .Set("head_in_channels", HeadInChannels)
            .Set("head_out_channels", HeadOutChannels)
            .Set("input_height", InputHeight)
            .Set("input_width", InputWidth);
    }

    /// <summary>Reads and validates a description written by <see cref="ToArchitecture"/>; names the key that is
    /// missing or wrong.</summary>
    public static LiteHrnetConfig FromArchitecture(ModelArchitecture architecture)
    {
        if (architecture.Family != Family)
            throw new ArgumentException($"architecture family is '{architecture.Family}', expected '{Family}'");
        int stages = architecture.GetInt("num_stages", 1, MaxStages);
        int[] modules = architecture.GetInts("num_modules", stages, 1, MaxRepeats), branches = architecture.GetInts("num_branches", stages, 1, MaxStages + 1);
        int[] blocks = architecture.GetInts("num_blocks", stages, 1, MaxRepeats), ratios = architecture.GetInts("reduce_ratios", stages, 0, MaxChannels);
        string moduleType = architecture.GetString("module_type");
        var config = new LiteHrnetConfig
        {
            Variant = architecture.Variant,
            StemChannels = architecture.GetInt("stem_channels", 1, MaxChannels),
            StemOutChannels = architecture.GetInt("stem_out_channels", 1, MaxChannels),
            StemExpandRatio = architecture.GetFloat("stem_expand_ratio", 1.0 / MaxChannels, 16),
            ModuleType = moduleType switch
            {
                "LITE" => LiteHrnetModuleType.Lite,
                "NAIVE" => LiteHrnetModuleType.Naive,
                _ => throw new ArgumentException($"Lite-HRNet {architecture.Variant}: module_type is '{moduleType}', expected LITE or NAIVE"),
            },
            Stages = [.. Enumerable.Range(0, stages).Select(s =>
                new LiteHrnetStage(modules[s], blocks[s], ratios[s], architecture.GetInts($"stage{s}_channels", branches[s], 1, MaxChannels)))],
            HeadInChannels = architecture.GetInt("head_in_channels", 1, MaxChannels),
            HeadOutChannels = architecture.GetInt("head_out_channels", 1, MaxChannels),
            InputHeight = architecture.GetInt("input_height", 1, MaxInputSide),
            InputWidth = architecture.GetInt("input_width", 1, MaxInputSide),
        };
        config.Validate();
        return config;
    }
}
