using System.Diagnostics;
using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Models.PicoDet;
using NanoPose.Tests.PoseEstimation;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.Weights.Hostile;

/// <summary>
/// Issue 15, classes 11, 13, 14 and 16: .npw files whose checksum and layout are right but whose model is not. Each
/// must be refused while loading with a <see cref="WeightFileException"/> that names the file and the field or tensor
/// at fault, printably, and quickly: descriptions with hundreds of thousands of properties (whose lookups were
/// quadratic), heads that do not make 17 heatmaps (which loaded and then failed every image), tensors the network
/// never uses (silently ignored), and architecture values that overflow or are absurd (reported as a bare
/// "Arithmetic operation resulted in an overflow").
/// </summary>
public class NpwModelHostileTests
{
    private const int Seed = 15_011;

    /// <summary>A model file with <paramref name="architecture"/> and the tensors of <paramref name="file"/>, some
    /// changed by <paramref name="change"/> (null: left out) and <paramref name="extra"/> ones added.</summary>
    private static byte[] Rewrite(NpwFile file, ModelArchitecture architecture, Func<NpwTensorInfo, (int[] Shape, float[] Values)?>? change = null,
        IEnumerable<(string Name, int[] Shape)>? extra = null)
    {
        var writer = new NpwWriter(architecture);
        foreach (var tensor in file.Tensors)
        {
            var replaced = change is null ? (tensor.Shape, file.ReadValues(tensor)) : change(tensor);
            if (replaced is var (shape, values)) writer.Add(tensor.Name, shape, values);
        }
        foreach (var (name, shape) in extra ?? [])
            writer.Add(name, shape, new float[shape.Aggregate(1, (n, d) => n * d)]);
        return writer.ToBytes();
    }

    private static ModelArchitecture With(ModelArchitecture original, string key, ArchitectureValue? value)
    {
        var changed = new ModelArchitecture(original.Family, original.Variant);
        foreach (var (k, v) in original.Properties)
            if (k != key) changed.Set(k, v);
            else if (value is not null) changed.Set(k, value);
        return changed;
    }

    private static void LoadEstimator(byte[] npw) => PoseEstimator.Load(npw, source: FuzzFamily.Source).Dispose();

    /// <summary>The family's report, then: every case refused, each message naming what <paramref name="named"/> gives.</summary>
    private static void RequireRefusals(FuzzFamily family, List<(string Label, string Message)> messages, int minimumCases, TimeSpan bound)
    {
        family.Finish(minimumCases, bound);
        Assert.Equal(family.Cases, family.Outcomes.GetValueOrDefault(nameof(WeightFileException)));
        foreach (var (label, message) in messages)
        {
            Assert.False(message.Any(char.IsControl), $"{label}: raw control character in '{message}'");
            Assert.DoesNotContain("Arithmetic operation", message);
        }
    }

    /// <summary>Runs one case whose refusal must mention <paramref name="mustName"/>; records the message.</summary>
    private static void Refused(FuzzFamily family, List<(string, string)> messages, string label, byte[] input, Action<byte[]> load, params string[] mustName)
    {
        family.Run(label, input, bytes =>
        {
            try { load(bytes); }
            catch (WeightFileException e)
            {
                messages.Add((label, e.Message));
                Assert.True(mustName.Any(e.Message.Contains), $"{label}: '{e.Message}' names none of {string.Join(", ", mustName)}");
                throw;
            }
        });
    }

    [Fact]
    public void DescriptionsWithHugePropertyCountsAreRefusedFast()
    {
        var random = new Random(Seed);
        var family = new FuzzFamily("property floods", Seed, typeof(WeightFileException));
        var messages = new List<(string, string)>();
        var baseArchitecture = SeededModelsArchitecture();
        for (int i = 0; i < 12; i++)
        {
            int extra = NpwFile.MaxProperties + 1 + random.Next(200_000);
            var architecture = new ModelArchitecture(baseArchitecture.Family, baseArchitecture.Variant);
            foreach (var (k, v) in baseArchitecture.Properties) architecture.Set(k, v);
            for (int p = 0; p < extra; p++) architecture.Set($"extra_{p}_{random.Next()}", p);
            byte[] npw = new NpwWriter(architecture).ToBytes();
            Refused(family, messages, $"{architecture.Properties.Count} properties", npw, bytes => NpwFile.Parse(bytes, FuzzFamily.Source), "properties");
        }
        RequireRefusals(family, messages, 12, TimeSpan.FromSeconds(5));

        // Within the cap, and in memory, lookups stay constant-time: 200 000 keys set and read back in well under a second.
        var time = Stopwatch.StartNew();
        var large = new ModelArchitecture("litehrnet", "large");
        for (int p = 0; p < 200_000; p++) large.Set($"key_{p}", p);
        for (int p = 0; p < 200_000; p++) Assert.True(large.TryGet($"key_{p}", out var value) && value.AsInt == p);
        Assert.True(time.Elapsed < TimeSpan.FromSeconds(2), $"200 000 properties took {time.Elapsed.TotalSeconds:F1} s");
    }

    private static ModelArchitecture SeededModelsArchitecture() => LiteHrnetConfig.Known["litehrnet-18"].ToArchitecture();

    [Fact]
    public void HeadsThatDoNotMakeSeventeenHeatmapsAreRefusedAtLoad()
    {
        var random = new Random(Seed);
        var family = new FuzzFamily("heads of the wrong width", Seed, typeof(WeightFileException)) { AllowedAllocation = _ => 256 << 20 };
        var messages = new List<(string, string)>();
        var topDown = NpwFile.Parse(SeededModels.TinyTopDown(64, 48), "tiny.npw");
        int[] widths = [.. Enumerable.Range(1, 40).Where(k => k != CocoKeypoints.Count).OrderBy(_ => random.Next()).Take(16)];
        foreach (int heatmaps in widths)
        {
            // A self-consistent file: the description and the final layer's tensors both say `heatmaps`.
            byte[] npw = Rewrite(topDown, With(topDown.Architecture, "head_out_channels", ArchitectureValue.Of(heatmaps)), tensor =>
                tensor.Name.StartsWith("keypoint_head.final_layer.", StringComparison.Ordinal)
                    ? ([heatmaps, .. tensor.Shape[1..]], new float[tensor.Shape[1..].Aggregate(heatmaps, (n, d) => n * d)])
                    : (tensor.Shape, topDown.ReadValues(tensor)));
            Refused(family, messages, $"top-down, {heatmaps} heatmaps", npw, LoadEstimator, "head_out_channels");
        }
        var bottomUp = NpwFile.Parse(SeededModels.BottomUp(), "bottom-up.npw");
        foreach (int heatmaps in new[] { 1, 16, 18, 33, 35 })
        {
            byte[] npw = Rewrite(bottomUp, With(bottomUp.Architecture, "final_channels", ArchitectureValue.Of(heatmaps)), tensor =>
                tensor.Name.StartsWith("final_layers.1.", StringComparison.Ordinal)
                    ? ([heatmaps, .. tensor.Shape[1..]], new float[tensor.Shape[1..].Aggregate(heatmaps, (n, d) => n * d)])
                    : (tensor.Shape, bottomUp.ReadValues(tensor)));
            Refused(family, messages, $"bottom-up, {heatmaps} heatmaps", npw, LoadEstimator, "final_channels");
        }
        RequireRefusals(family, messages, 21, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void TensorsTheNetworkDoesNotUseAreRefusedByName()
    {
        var random = new Random(Seed);
        var family = new FuzzFamily("unused tensors", Seed, typeof(WeightFileException)) { AllowedAllocation = _ => 256 << 20 };
        var messages = new List<(string, string)>();
        var topDown = NpwFile.Parse(SeededModels.TinyTopDown(64, 48), "tiny.npw");
        string[] names = ["extra.weight", "keypoint_head.final_layer.scale", "backbone.stem.conv9.weight", "\u001b]0;pwned\u0007title", "stray\nline", "optimizer.state"];
        for (int i = 0; i < 24; i++)
        {
            int count = 1 + random.Next(3);
            var extra = Enumerable.Range(0, count)
                .Select(k => ($"{names[random.Next(names.Length)]}.{i}.{k}", new[] { 1 + random.Next(8), 1 + random.Next(8) })).ToList();
            byte[] npw = Rewrite(topDown, topDown.Architecture, extra: extra);
            // The message names the stray tensor as it can be printed (control characters escaped).
            string printable = NanoPose.IO.Printable.Text(extra[0].Item1);
            Refused(family, messages, $"top-down + {count} stray tensors", npw, LoadEstimator, printable);
            Refused(family, messages, $"top-down + {count} stray tensors, built directly", npw,
                bytes => PoseNetworks.Load(NpwFile.Parse(bytes, FuzzFamily.Source), Isa.Best), printable);
        }
        var bottomUp = NpwFile.Parse(SeededModels.BottomUp(), "bottom-up.npw");
        byte[] withStray = Rewrite(bottomUp, bottomUp.Architecture, extra: [("final_layers.2.weight", [17, 32, 1, 1])]);
        Refused(family, messages, "bottom-up + final_layers.2.weight", withStray, LoadEstimator, "final_layers.2.weight");
        RequireRefusals(family, messages, 49, TimeSpan.FromSeconds(30));
    }

    private static readonly ArchitectureValue[] HostileValues =
    [
        ArchitectureValue.Of(0), ArchitectureValue.Of(-1), ArchitectureValue.Of(3), ArchitectureValue.Of(1 << 16), ArchitectureValue.Of(1 << 20),
        ArchitectureValue.Of(int.MaxValue), ArchitectureValue.Of(1L << 31), ArchitectureValue.Of(long.MaxValue), ArchitectureValue.Of(long.MinValue),
        ArchitectureValue.Of(double.NaN), ArchitectureValue.Of(double.PositiveInfinity), ArchitectureValue.Of(-1.0), ArchitectureValue.Of(1e300),
        ArchitectureValue.Of(""), ArchitectureValue.Of("\u001b[31mred"),
        ArchitectureValue.Of([]), ArchitectureValue.Of([-1L, -1, -1]), ArchitectureValue.Of([long.MaxValue, 1, 1]),
        ArchitectureValue.Of([1L << 31, 2, 2, 2, 2, 2, 2]), ArchitectureValue.Of([1L << 20, 1L << 20, 1L << 20, 1L << 20, 1L << 20, 1L << 20, 1L << 20]),
        ArchitectureValue.Of([0L, 0, 0, 0, 0, 0, 0, 0, 0]),
    ];

    [Fact]
    public void HostileArchitectureValuesAreRefusedNamingTheField()
    {
        var family = new FuzzFamily("hostile values, named", Seed, typeof(WeightFileException)) { AllowedAllocation = length => 16 * length + (16 << 20) };
        var messages = new List<(string, string)>();
        ModelArchitecture[] architectures =
        [
            .. LiteHrnetConfig.Known.Values.Select(c => c.ToArchitecture()),
            EfficientHrnetConfig.FromScale(-4).ToArchitecture(),
            new PicoDetConfig().ToArchitecture(),
        ];
        foreach (var architecture in architectures)
            foreach (var (key, _) in architecture.Properties)
                foreach (var value in HostileValues.Append(null))
                {
                    byte[] npw = new NpwWriter(With(architecture, key, value)).ToBytes();
                    // The files hold no tensors: a value the network can use ends at its first (missing) weight.
                    Refused(family, messages, $"{architecture.Variant} {key} = {value?.ToString() ?? "(removed)"}", npw,
                        bytes => PoseNetworks.Load(NpwFile.Parse(bytes, FuzzFamily.Source), Isa.Best), $"'{key}'", key, "is missing");
                }
        // Names from the file itself: printed, never obeyed.
        foreach (string hostile in new[] { "\u001b[2J", "a\rb", "\u202Eevil" })
        {
            byte[] npw = new NpwWriter(new ModelArchitecture("litehrnet" + hostile, "v" + hostile)).ToBytes();
            Refused(family, messages, $"family {NanoPose.IO.Printable.Text(hostile)}", npw,
                bytes => PoseNetworks.Load(NpwFile.Parse(bytes, FuzzFamily.Source), Isa.Best), "\\u");
        }
        RequireRefusals(family, messages, 1000, TimeSpan.FromSeconds(25));
        Assert.DoesNotContain(messages, m => m.Item2.Contains('\u202E'));
    }
}
