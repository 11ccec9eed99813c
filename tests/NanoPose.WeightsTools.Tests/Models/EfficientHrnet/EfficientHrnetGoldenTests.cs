using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models.EfficientHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.WeightsTools.Tests.Models.EfficientHrnet;

/// <summary>The official-code H−4 checkpoint converted to .npw, loaded, and run against the official outputs.</summary>
public class EfficientHrnetGoldenTests(EfficientHrnetGoldenTests.ConvertedH4 converted) : IClassFixture<EfficientHrnetGoldenTests.ConvertedH4>
{
    private const string Folder = "golden/efficienthrnet/";
    private const double ToleranceAtUnitScale = 1e-3;

    /// <summary>Converted once per run (lazily, so a missing shared folder skips the tests rather than failing the
    /// fixture): the conversion and the .npw round trip are part of what is tested.</summary>
    public sealed class ConvertedH4
    {
        private readonly Lazy<Checkpoint> _checkpoint = new(() => TorchCheckpoint.Load(SharedData.File(Folder + "efficienthrnet_H-4.pth")));
        private readonly Lazy<EfficientHrnetModel> _model;

        public ConvertedH4() => _model = new(() =>
        {
            string architecture = ModelConversion.Detect(Checkpoint)
                ?? throw new InvalidOperationException("the H-4 checkpoint was not recognised as an EfficientHRNet");
            var file = NpwFile.Parse(ModelConversion.Convert(Checkpoint, architecture), "efficienthrnet_H-4.npw");
            return EfficientHrnetModel.Load(file, Isa.Best);
        });

        public Checkpoint Checkpoint => _checkpoint.Value;
        public EfficientHrnetModel Model => _model.Value;
    }

    [Fact]
    public void CheckpointIsRecognisedAsHMinus4()
    {
        var config = converted.Model.Config;
        Assert.Equal(-4, config.ScaleFactor);
        Assert.Equal("efficienthrnet-h-4", config.Variant);
        Assert.Equal(17, config.FinalChannels);
        Assert.Equal(2_764_706, converted.Model.ParameterCount);
    }

    [Fact]
    public void CheckpointsWithMissingMisshapedOrExtraTensorsAreRefusedByName()
    {
        var original = converted.Checkpoint;
        var tensors = original.Tensors
            .Where(t => t.Name is not ("final_layers.0.weight" or "stage4.1.fuse_layers.0.3.1.running_var"))
            .Select(t => t.Name == "trans2_branch3.0.weight" ? t with { Shape = [54, 80, 9, 1] } : t)
            .Append(new CheckpointTensor("head.extra.weight", TorchDType.Float32, [1], [0f]))
            .ToList();
        var broken = new Checkpoint("broken.pth", CheckpointFormat.Zip, tensors);

        var error = Assert.Throws<CheckpointException>(() => ModelConversion.Convert(broken, "efficienthrnet-h-4"));
        Assert.Contains("missing tensors (2): stage4.1.fuse_layers.0.3.1.running_var, final_layers.0.weight", error.Message);
        Assert.Contains("trans2_branch3.0.weight is [54, 80, 9, 1], expected [54, 80, 3, 3]", error.Message);
        Assert.Contains("unexpected tensors (1): head.extra.weight", error.Message);
    }

    [Fact]
    public void OnlyRecognisableCheckpointsAreDetected()
    {
        Assert.Equal("efficienthrnet-h-4", ModelConversion.Detect(converted.Checkpoint));
        Assert.Null(ModelConversion.Detect(new Checkpoint("empty.pth", CheckpointFormat.Zip, [])));
    }

    [Fact]
    public void NamingTheWrongVariantIsRefused()
    {
        var error = Assert.Throws<CheckpointException>(() => ModelConversion.Convert(converted.Checkpoint, "efficienthrnet-h-3"));
        Assert.Contains("missing tensors", error.Message);
        Assert.Contains("features.2.conv.3.weight is [16, 96, 1, 1], expected [24, 96, 1, 1]", error.Message);
    }

    [Fact]
    public void OutputsAndTapsMatchAt384x384()
    {
        const string prefix = Folder + "efficienthrnet_H-4_384x384_";
        var taps = new Dictionary<string, FeatureMap>();
        // A tapped map is valid during the callback only (its memory is reused later in the run): keep a copy.
        var outputs = Run(prefix, (name, map) => taps[name] = Copy(map));
        string[] expectedTaps =
        [
            "backbone_tap0", "backbone_tap1", "backbone_tap2", "backbone_tap3", "stage2_branch0", "stage2_branch1",
            "stage3_branch0", "stage3_branch1", "stage3_branch2", "stage4_branch0",
        ];
        Assert.Equal(expectedTaps, taps.Keys);
        foreach (var name in expectedTaps) AssertMatches(prefix + name, taps[name]);
        AssertMatches(prefix + "output0", outputs.HeatmapsAndTags);
        AssertMatches(prefix + "output1", outputs.Heatmaps);
    }

    [Fact]
    public void OutputsMatchAtNonSquare256x320()
    {
        const string prefix = Folder + "efficienthrnet_H-4_256x320_";
        var outputs = Run(prefix);
        AssertMatches(prefix + "output0", outputs.HeatmapsAndTags);
        AssertMatches(prefix + "output1", outputs.Heatmaps);
    }

    private static FeatureMap Copy(FeatureMap map)
    {
        var copy = FeatureMap.Allocate(map.Height, map.Width, map.ChannelCount);
        copy.CopyFromNchw(map.ToNchw());
        return copy;
    }

    private EfficientHrnetOutputs Run(string prefix, Action<string, FeatureMap>? tap = null)
    {
        var input = Npy.Read(SharedData.File(prefix + "input.npy"));
        Assert.Equal([1, 3], input.Shape[..2]);
        var image = FeatureMap.Allocate(input.Shape[2], input.Shape[3], 3);
        image.CopyFromNchw(input.Data);
        return converted.Model.Run(image, tap);
    }

    /// <summary>
    /// Max abs diff ≤ 1e-3 × max(1, standard deviation of the expected array): exactly 1e-3 for the outputs (std ≤ 1),
    /// scaled for the taps, whose features reach ±2000 in this seeded-random network: there one float32 ulp is already
    /// 1.2e-4, and a different summation order moves the last digits of every 100-term sum.
    /// </summary>
    private static void AssertMatches(string expectedFile, FeatureMap actual)
    {
        var expected = Npy.Read(SharedData.File(expectedFile + ".npy"));
        Assert.Equal([1, actual.ChannelCount, actual.Height, actual.Width], expected.Shape);
        var values = actual.ToNchw();
        float maxDiff = 0;
        for (int i = 0; i < values.Length; i++) maxDiff = MathF.Max(maxDiff, MathF.Abs(values[i] - expected.Data[i]));
        double mean = expected.Data.Average(v => (double)v);
        double std = Math.Sqrt(expected.Data.Average(v => (v - mean) * (v - mean)));
        double tolerance = ToleranceAtUnitScale * Math.Max(1, std);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Path.GetFileName(expectedFile)}: max abs diff {maxDiff:E2} (std {std:F3}, max |expected| {expected.Data.Max(MathF.Abs):F1}, tolerance {tolerance:E1})");
        Assert.True(maxDiff <= tolerance, $"{expectedFile}: max abs diff {maxDiff} exceeds {tolerance}");
    }
}
