using System.Collections.Concurrent;
using NanoPose.Kernels.Simd;
using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.Tests.Models.LiteHrnet;

/// <summary>The four golden Lite-HRNet checkpoints (../shared/golden/litehrnet/), converted once per test run.</summary>
internal static class GoldenLiteHrnet
{
    /// <summary>Architecture name → golden file stem.</summary>
    public static readonly IReadOnlyDictionary<string, string> Models = new Dictionary<string, string>
    {
        ["litehrnet-18"] = "litehrnet_18_coco",
        ["litehrnet-30"] = "litehrnet_30_coco",
        ["naive-litehrnet-18"] = "naive_litehrnet_18_coco",
        ["wider-naive-litehrnet-18"] = "wider_naive_litehrnet_18_coco",
    };

    private static readonly ConcurrentDictionary<string, Lazy<NpwFile>> Converted = new();

    /// <summary>The golden checkpoint of <paramref name="variant"/> converted to a .npw file (in memory).</summary>
    public static NpwFile Npw(string variant) => Converted.GetOrAdd(variant, v => new Lazy<NpwFile>(() =>
    {
        var checkpoint = TorchCheckpoint.Load(SharedData.File($"golden/litehrnet/{Models[v]}.pth"));
        return NpwFile.Parse(ModelConversion.Convert(checkpoint, v), $"{v}.npw");
    })).Value;

    public static LiteHrnetNetwork Build(string variant, VectorWidth width, int? inputHeight = null, int? inputWidth = null)
    {
        var file = Npw(variant);
        return LiteHrnetNetwork.Build(LiteHrnetConfig.FromArchitecture(file.Architecture), new NpwWeightSource(file), width, inputHeight, inputWidth);
    }

    /// <summary>A golden array at 256×192, e.g. <c>input</c>, <c>heatmaps</c>, <c>stage1_branch2</c>.</summary>
    public static NpyArray Array(string variant, string name) =>
        Npy.Read(SharedData.File($"golden/litehrnet/{Models[variant]}_256x192_{name}.npy"));

    public static double MaxAbsDifference(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs((double)expected[i] - actual[i]));
        return max;
    }
}
