using System.Text.Json;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.Tests.Models.LiteHrnet;

/// <summary>
/// Every array of every case of the four golden Lite-HRNet manifests (../shared/golden/litehrnet/*.json, golden version
/// 2: the official code run in float64) against NanoPose's run of the converted checkpoint on the case's input: the
/// heatmaps, the heatmaps of the horizontally flipped input, and the stem and every stage's branch outputs (taps, from
/// the plain input). Each array must match within <see cref="GoldenMath.Tolerance"/>, which scales with the
/// array's magnitude (deep taps reach hundreds); the largest difference of each is printed.
/// </summary>
public class LiteHrnetGoldenTests(ITestOutputHelper output)
{
    public static TheoryData<string> Variants => [.. GoldenLiteHrnet.Models.Keys];

    [Theory, MemberData(nameof(Variants))]
    public void EveryGoldenArrayMatchesThePlainAndFlippedRuns(string variant)
    {
        using var manifest = GoldenLiteHrnet.Manifest(variant);
        var root = manifest.RootElement;
        int version = root.GetProperty("golden_version").GetInt32();
        // Version 1 recorded its taps during the flipped run and was computed in float32; this test holds version 2 on.
        Assert.True(version >= 2, $"{variant}: golden_version {version}, expected 2 or later (taps from the plain input, float64)");

        int compared = 0;
        foreach (var testCase in root.GetProperty("cases").EnumerateArray())
        {
            var input = GoldenLiteHrnet.Read(testCase.GetProperty("input").GetString()!);
            Assert.True(input.Shape is [1, 3, _, _], $"{variant}: input of shape [{string.Join(", ", input.Shape)}], expected [1, 3, H, W]");
            int height = input.Shape[2], width = input.Shape[3];
            var outputs = Run(GoldenLiteHrnet.Build(variant, Isa.Best, height, width), input.Data, height, width);

            string prefix = $"{root.GetProperty("model").GetString()}_{height}x{width}_";
            foreach (string file in ArrayFiles(testCase).Where(f => f != testCase.GetProperty("input").GetString()))
            {
                Assert.True(file.StartsWith(prefix, StringComparison.Ordinal) && file.EndsWith(".npy", StringComparison.Ordinal),
                    $"{variant}: golden file {file} is not named {prefix}<output>.npy");
                string name = file[prefix.Length..^".npy".Length];
                Assert.True(outputs.TryGetValue(name, out var actual), $"{variant}: golden array {file} names '{name}', which NanoPose does not produce "
                    + $"(it produces {string.Join(", ", outputs.Keys)})");

                var expected = GoldenLiteHrnet.Read(file);
                Assert.Equal(expected.Shape, actual.Shape);
                double difference = GoldenMath.MaxAbsDifference(expected.Data, actual.Data);
                double magnitude = GoldenMath.MaxAbs(expected.Data), tolerance = GoldenMath.Tolerance(expected.Data);
                output.WriteLine($"{variant,-26} {height}×{width} {name,-26} max|x| {magnitude,9:F3}   max abs diff {difference:E2}   "
                    + $"tolerance {tolerance:E2}   ({difference / tolerance:P1} of it)");
                Assert.True(difference <= tolerance, $"{variant} {height}×{width} {name}: max abs diff {difference:E2} > tolerance {tolerance:E2}");
                compared++;
            }
        }
        // Heatmaps of both inputs, the stem, and 2, 3 and 4 branches per case at least.
        Assert.True(compared >= 2 + 1 + 2 + 3 + 4, $"{variant}: only {compared} golden arrays compared");
    }

    /// <summary>
    /// The tolerance is tight enough to matter: one depthwise convolution of branch 3 (the lowest resolution) in the
    /// last stage, its weights made 1 % larger, moves the heatmaps beyond it (the golden README: a 1 % change deep in
    /// branch 3 moves them by 1e-3…1e-2).
    /// </summary>
    [Theory]
    [InlineData("litehrnet-18")]
    [InlineData("litehrnet-30")]
    public void AOnePercentChangeDeepInBranch3FailsTheComparison(string variant)
    {
        var checkpoint = TorchCheckpoint.Load(SharedData.File($"golden/litehrnet/{GoldenLiteHrnet.Models[variant]}.pth"));
        var tensor = checkpoint["backbone.stage2.0.layers.0.depthwise_convs.3.conv.weight"];
        for (int i = 0; i < tensor.Data.Length; i++) tensor.Data[i] *= 1.01f;
        var file = NpwFile.Parse(ModelConversion.Convert(checkpoint, variant), $"{variant}-edited.npw");
        var network = LiteHrnetNetwork.Build(LiteHrnetConfig.FromArchitecture(file.Architecture), new NpwWeightSource(file), Isa.Best);

        var expected = GoldenLiteHrnet.Read($"{GoldenLiteHrnet.Models[variant]}_256x192_heatmaps.npy").Data;
        var input = GoldenLiteHrnet.Read($"{GoldenLiteHrnet.Models[variant]}_256x192_input.npy").Data;
        double difference = GoldenMath.MaxAbsDifference(expected, network.Run(input).ToNchw());
        double tolerance = GoldenMath.Tolerance(expected);
        output.WriteLine($"{variant}, {tensor.Name} ×1.01: heatmaps max abs diff {difference:E2}, tolerance {tolerance:E2}");
        Assert.True(difference > tolerance, $"{variant}: the edited network is within tolerance ({difference:E2} ≤ {tolerance:E2})");
    }

    /// <summary>The heatmaps and taps of the plain input and the heatmaps of the flipped one, by golden array name.</summary>
    private static Dictionary<string, (int[] Shape, float[] Data)> Run(LiteHrnetNetwork network, float[] input,
        int height, int width)
    {
        // The network reuses its buffers from run to run: each map is copied out (as NCHW) when it is produced.
        static (int[], float[]) Copy(FeatureMap map) => ([1, map.ChannelCount, map.Height, map.Width], map.ToNchw());
        var outputs = new Dictionary<string, (int[] Shape, float[] Data)>();
        outputs["heatmaps"] = Copy(network.Run(input, (name, map) => outputs[name] = Copy(map)));
        var flipped = new float[input.Length];
        NanoPose.Pipelines.TopDown.FlipTest.FlipHorizontally(input, 3, height, width, flipped);
        outputs["heatmaps_of_flipped_input"] = Copy(network.Run(flipped));
        return outputs;
    }

    /// <summary>Every file name a case lists, in single fields and in lists alike.</summary>
    private static IEnumerable<string> ArrayFiles(JsonElement testCase) =>
        testCase.EnumerateObject().SelectMany(p => p.Value.ValueKind switch
        {
            JsonValueKind.String when p.Value.GetString()!.EndsWith(".npy", StringComparison.Ordinal) => [p.Value.GetString()!],
            JsonValueKind.Array => p.Value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!),
            _ => Enumerable.Empty<string>(),
        });
}
