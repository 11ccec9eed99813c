using System.Runtime.Intrinsics;
using System.Text.Json;
using NanoPose.Kernels.Simd;
using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.WeightsTools.Tests.Ncnn;

/// <summary>
/// PP-TinyPose converted from ncnn and run on the coco-mini crops, against ../shared/golden/tinypose (an independent
/// ncnn interpreter, itself within 1.3e-6 of ncnn): the heatmaps and the heatmaps of the horizontally flipped input.
/// Prints the largest absolute difference per model.
/// </summary>
public class TinyPoseHeatmapTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-3;

    [Theory]
    [InlineData("256x192", 256, 192)]
    [InlineData("128x96", 128, 96)]
    public void HeatmapsMatchTheNcnnReference(string size, int height, int width)
    {
        // The ncnn weights are float16 already, so storing them as float16 loses nothing.
        byte[] npw = ModelConversion.ConvertNcnn(SharedData.File($"models/pp-tinypose/tinypose_{size}.param"), "wider-naive-litehrnet-18", WeightDType.Float16);
        var file = NpwFile.Parse(npw, $"tinypose_{size}.npw");
        var config = LiteHrnetConfig.FromArchitecture(file.Architecture);
        Assert.Equal((height, width), (config.InputHeight, config.InputWidth));
        var network = LiteHrnetNetwork.Build(config, new NpwWeightSource(file), Isa.Best);

        // All 12 crops when vectors run in hardware; without (DOTNET_EnableHWIntrinsic=0, ~20× slower) the first 2.
        var cases = Cases(size);
        if (!Vector128.IsHardwareAccelerated) cases = cases[..2];
        double worst = 0, worstFlipped = 0;
        foreach (var (name, files) in cases)
        {
            var input = Npy.Read(Golden(files, "input"));
            Assert.Equal([1, 3, height, width], input.Shape);
            worst = Math.Max(worst, MaxAbsDifference(Npy.Read(Golden(files, "heatmaps")), network.Run(input.Data).ToNchw(), name));
            float[] flipped = FlipWidth(input.Data, 3, height, width);
            worstFlipped = Math.Max(worstFlipped, MaxAbsDifference(Npy.Read(Golden(files, "heatmaps_of_flipped_input")), network.Run(flipped).ToNchw(), name));
        }
        output.WriteLine($"PP-TinyPose {size}, {cases.Length} crops: heatmaps max abs diff {worst:E2}, flipped input {worstFlipped:E2}");
        Assert.True(worst <= Tolerance, $"{size}: heatmaps max abs diff {worst:E2} > {Tolerance}");
        Assert.True(worstFlipped <= Tolerance, $"{size}: flipped-input heatmaps max abs diff {worstFlipped:E2} > {Tolerance}");
    }

    /// <summary>The cases of tinypose_cases.json: name and the files of the given model size.</summary>
    private static (string Name, JsonElement Files)[] Cases(string size)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(SharedData.File("golden/tinypose/tinypose_cases.json")));
        return [.. index.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("case").GetString()!, c.GetProperty("models").GetProperty(size).GetProperty("files").Clone()))];
    }

    /// <summary>A golden file named in the index, relative to golden/tinypose.</summary>
    private static string Golden(JsonElement files, string key) =>
        SharedData.File(Path.Combine("golden/tinypose", files.GetProperty(key).GetString()!));

    private static double MaxAbsDifference(NpyArray expected, float[] actual, string name)
    {
        Assert.True(expected.Data.Length == actual.Length, $"{name}: {actual.Length} heatmap values, expected {expected.Data.Length}");
        double max = 0;
        for (int i = 0; i < actual.Length; i++) max = Math.Max(max, Math.Abs((double)expected.Data[i] - actual[i]));
        return max;
    }

    private static float[] FlipWidth(float[] nchw, int channels, int height, int width)
    {
        var flipped = new float[nchw.Length];
        NanoPose.Pipelines.TopDown.FlipTest.FlipHorizontally(nchw, channels, height, width, flipped);
        return flipped;
    }
}
