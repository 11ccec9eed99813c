using System.Collections.Concurrent;
using System.Text.Json;
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

    /// <summary>The JSON manifest of <paramref name="variant"/>'s golden cases.</summary>
    public static JsonDocument Manifest(string variant) =>
        JsonDocument.Parse(File.ReadAllText(SharedData.File($"golden/litehrnet/{Models[variant]}.json")));

    /// <summary>A golden array by the file name its manifest gives.</summary>
    public static NpyArray Read(string fileName) => Npy.Read(SharedData.File($"golden/litehrnet/{fileName}"));
}
