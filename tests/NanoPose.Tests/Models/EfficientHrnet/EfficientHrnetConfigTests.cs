using NanoPose.Models.EfficientHrnet;
using NanoPose.Weights;

namespace NanoPose.Tests.Models.EfficientHrnet;

/// <summary>The scaling rules of MODELS.md B.2/B.3 against the per-model tables there.</summary>
public class EfficientHrnetConfigTests
{
    public static TheoryData<int, int, int[], int[], int[], int[]> Tables => new()
    {
        // φ, stem, stage widths, repeats, HRNet branch widths, stage 2/3/4 modules
        { 0, 32, [16, 24, 40, 80, 112, 192, 320], [1, 2, 2, 3, 3, 4, 1], [32, 64, 128, 256], [1, 4, 3] },
        { -1, 32, [16, 24, 40, 72, 104, 176, 288], [1, 2, 2, 3, 3, 4, 1], [26, 52, 103, 206], [1, 3, 3] },
        { -2, 24, [16, 24, 32, 64, 96, 160, 264], [1, 2, 2, 3, 3, 3, 1], [21, 42, 83, 166], [1, 2, 3] },
        { -3, 24, [16, 24, 32, 64, 88, 144, 240], [1, 2, 2, 2, 2, 3, 1], [17, 34, 67, 133], [1, 1, 3] },
        { -4, 24, [16, 16, 32, 56, 80, 128, 216], [1, 1, 1, 2, 2, 2, 1], [14, 27, 54, 107], [1, 1, 2] },
    };

    [Theory]
    [MemberData(nameof(Tables))]
    public void ScaleGivesThePublishedWidthsRepeatsAndModules(int scale, int stem, int[] stages, int[] repeats, int[] branches, int[] modules)
    {
        var config = EfficientHrnetConfig.FromScale(scale);
        Assert.Equal(stem, config.StemChannels);
        Assert.Equal(stages, config.StageChannels);
        Assert.Equal(repeats, config.StageRepeats);
        Assert.Equal(branches, config.BranchChannels);
        Assert.Equal(modules, config.StageModules);
        Assert.Equal(branches[0], config.DeconvChannels);
        Assert.Equal(512 + 32 * scale, config.NativeInputSize);
        Assert.Equal(scale == 0 ? "efficienthrnet-h0" : $"efficienthrnet-h{scale}", config.Variant);
    }

    [Theory]
    [InlineData(16, 0.684, 16)]   // 10.9 rounds down to 8, below 90 % of 10.9: one more step of 8
    [InlineData(40, 0.684, 32)]   // 27.4 → 24 < 24.6 → 32
    [InlineData(80, 0.684, 56)]
    [InlineData(32, 0.684, 24)]
    [InlineData(3, 0.5, 8)]       // never below the divisor
    [InlineData(112, 1.0, 112)]   // a multiplier of exactly 1 keeps the width (even if not a multiple of 8)
    [InlineData(20, 1.0, 20)]
    public void ChannelRoundingFollowsEfficientNet(int channels, double multiplier, int expected) =>
        Assert.Equal(expected, EfficientHrnetConfig.RoundChannels(channels, multiplier));

    [Theory]
    [InlineData(3, 0.483, 2)]     // 1.449 → ceil
    [InlineData(4, 0.483, 2)]     // 1.932
    [InlineData(2, 0.483, 1)]
    [InlineData(4, 0.694, 3)]     // 2.776
    [InlineData(3, 1.0, 3)]
    public void RepeatRoundingIsCeil(int repeats, double multiplier, int expected) =>
        Assert.Equal(expected, EfficientHrnetConfig.RoundRepeats(repeats, multiplier));

    [Theory]
    [InlineData(0, 17)]
    [InlineData(-2, 34)]
    [InlineData(-4, 17)]
    public void ArchitectureSurvivesAWeightFile(int scale, int finalChannels)
    {
        var config = EfficientHrnetConfig.FromScale(scale, finalChannels);
        var writer = new NpwWriter(config.ToArchitecture());
        var file = NpwFile.Parse(writer.ToBytes(), "config.npw");
        Assert.Equal("efficienthrnet", file.Architecture.Family);
        Assert.Equal(config.Variant, file.Architecture.Variant);
        var read = EfficientHrnetConfig.FromArchitecture(file.Architecture);
        Assert.Equal((config.ScaleFactor, config.WidthMultiplier, config.DepthMultiplier, config.StemChannels, config.DeconvChannels, config.FinalChannels),
            (read.ScaleFactor, read.WidthMultiplier, read.DepthMultiplier, read.StemChannels, read.DeconvChannels, read.FinalChannels));
        Assert.Equal(config.StageChannels, read.StageChannels);
        Assert.Equal(config.StageRepeats, read.StageRepeats);
        Assert.Equal(config.BranchChannels, read.BranchChannels);
        Assert.Equal(config.StageModules, read.StageModules);
    }

    [Fact]
    public void ArchitectureWithAMissingOrShortPropertyIsRefused()
    {
        var architecture = EfficientHrnetConfig.FromScale(-1).ToArchitecture();
        architecture.Set("stage_repeats", [1L, 2L, 2L]);
        var error = Assert.Throws<ArgumentException>(() => EfficientHrnetConfig.FromArchitecture(architecture));
        Assert.Contains("stage_repeats", error.Message);
        error = Assert.Throws<ArgumentException>(() => EfficientHrnetConfig.FromArchitecture(new ModelArchitecture("efficienthrnet", "x")));
        Assert.Contains("has no 'scale_factor'", error.Message);
        Assert.Throws<ArgumentException>(() => EfficientHrnetConfig.FromArchitecture(new ModelArchitecture("litehrnet", "litehrnet-18")));
    }

    [Theory]
    [InlineData(0, 32, 17)]
    [InlineData(-1, 26, 34)]
    [InlineData(-3, 17, 17)]
    [InlineData(-4, 14, 34)]
    public void VariantIsRecognisedFromTensorShapes(int scale, int branch0, int finalChannels)
    {
        var shapes = new Dictionary<string, int[]>
        {
            ["trans1_branch1.0.weight"] = [branch0, 16, 3, 3],
            ["final_layers.1.weight"] = [finalChannels, branch0, 1, 1],
        };
        var config = EfficientHrnetConfig.Detect(name => shapes.GetValueOrDefault(name));
        Assert.NotNull(config);
        Assert.Equal(scale, config.ScaleFactor);
        Assert.Equal(finalChannels, config.FinalChannels);
    }

    [Fact]
    public void ShapesOfAnotherNetworkAreNotRecognised()
    {
        Assert.Null(EfficientHrnetConfig.Detect(_ => null));
        Assert.Null(EfficientHrnetConfig.Detect(name => name == "trans1_branch1.0.weight" ? [40, 16, 3, 3] : [17, 40, 1, 1]));
    }

    [Fact]
    public void VariantNamesAreTheArchitectureNames()
    {
        Assert.Equal(-4, EfficientHrnetConfig.FromVariant("efficienthrnet-h-4").ScaleFactor);
        Assert.Equal(0, EfficientHrnetConfig.FromVariant("EfficientHRNet-H0").ScaleFactor);
        Assert.Throws<ArgumentException>(() => EfficientHrnetConfig.FromVariant("efficienthrnet-h1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => EfficientHrnetConfig.FromScale(-5));
    }
}
