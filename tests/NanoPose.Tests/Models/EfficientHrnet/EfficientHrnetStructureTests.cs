using System.Text.Json;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models.EfficientHrnet;
using NanoPose.TestSupport;

namespace NanoPose.Tests.Models.EfficientHrnet;

/// <summary>
/// The network built from φ alone asks for exactly the tensors of the published checkpoints (the key lists of
/// ../shared/golden/efficienthrnet, H0 … H−4) and reproduces the complexity figures of MODELS.md B.8. No weights
/// needed: the source hands out zeros.
/// </summary>
public class EfficientHrnetStructureTests
{
    private sealed class ZeroWeights : IWeightSource
    {
        public ConvWeights Conv(ConvRequest request) => new(new float[request.WeightLength], new float[request.OutChannels]);
    }

    private static EfficientHrnetModel Build(int scale) => new(EfficientHrnetConfig.FromScale(scale), new ZeroWeights(), VectorWidth.Scalar);

    /// <summary>The state-dict entries a request stands for: weight, bias if any, and the BatchNorm's five.</summary>
    private static IEnumerable<(string Name, int[] Shape)> StateDictEntries(ConvRequest request)
    {
        yield return (request.Name + ".weight", request.WeightShape);
        if (request.HasBias) yield return (request.Name + ".bias", [request.OutChannels]);
        if (request.BatchNorm is not string bn) yield break;
        foreach (var buffer in new[] { "weight", "bias", "running_mean", "running_var" })
            yield return ($"{bn}.{buffer}", [request.OutChannels]);
        yield return ($"{bn}.num_batches_tracked", []);
    }

    [Theory]
    [InlineData(0, "H0")]
    [InlineData(-1, "H-1")]
    [InlineData(-2, "H-2")]
    [InlineData(-3, "H-3")]
    [InlineData(-4, "H-4")]
    public void RequestsExactlyThePublishedTensorsAndParameters(int scale, string model)
    {
        using var keys = JsonDocument.Parse(File.ReadAllText(SharedData.File($"golden/efficienthrnet/efficienthrnet_{model}_keys.json")));
        var expected = keys.RootElement.GetProperty("tensors").EnumerateArray()
            .Select(e => $"{e[0].GetString()} [{string.Join(", ", e[1].EnumerateArray().Select(d => d.GetInt32()))}]")
            .Order(StringComparer.Ordinal).ToList();

        var network = Build(scale);
        var actual = network.Requests.SelectMany(StateDictEntries)
            .Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]").Order(StringComparer.Ordinal).ToList();

        Assert.Empty(expected.Except(actual));   // names what is missing
        Assert.Empty(actual.Except(expected));
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(keys.RootElement.GetProperty("params").GetInt64(), network.ParameterCount);
        Assert.Equal(keys.RootElement.GetProperty("input_size").GetInt32(), network.Config.NativeInputSize);
    }

    [Theory]
    // φ, true params, true GMACs, README-style params (M) and mult-adds (G), all at the native input size (B.8).
    [InlineData(0, 19_725_359, 23.96, 23.32, 25.62)]
    [InlineData(-1, 13_004_446, 13.13, 16.05, 14.21)]
    [InlineData(-2, 8_263_495, 7.03, 10.39, 7.73)]
    [InlineData(-3, 5_360_390, 3.76, 6.96, 4.21)]
    [InlineData(-4, 2_764_706, 1.81, 3.76, 2.10)]
    public void ComplexityMatchesTheReconstructedReadmeTable(int scale, long parameters, double gmacs, double summaryMParams, double summaryGMacs)
    {
        var network = Build(scale);
        int side = network.Config.NativeInputSize;
        Assert.Equal(parameters, network.ParameterCount);
        Assert.Equal(gmacs, Math.Round(network.MultiplyAccumulates(side, side) / 1e9, 2));
        var (summaryParameters, summaryMultiplyAdds) = network.SummaryStyleComplexity(side, side);
        Assert.Equal(summaryMParams, Math.Round(summaryParameters / 1e6, 2));
        Assert.Equal(summaryGMacs, Math.Round(summaryMultiplyAdds / 1e9, 2));
    }

    [Fact]
    public void BackboneParametersMatchTheCompactEfficientNetCount()
    {
        // MODELS.md B.8: the EfficientNet features of H0 hold 3.595M parameters, H−4 0.993M.
        Assert.Equal(3.595, Math.Round(Build(0).BackboneParameterCount / 1e6, 3));
        Assert.Equal(0.993, Math.Round(Build(-4).BackboneParameterCount / 1e6, 3));
    }

    [Fact]
    public void InfoFiguresGiveBothConventions()
    {
        var network = new EfficientHrnetNetwork(Build(0), 512, 512);
        Assert.Equal(19_725_359, network.ParameterCount);
        Assert.Equal(23.96, Math.Round(network.MultiplyAccumulates / 1e9, 2));
        Assert.Equal("3,595,388", network.Figures[0].Value);   // 3.595M in B.8
        Assert.Equal("23.32M parameters, 25.62G mult-adds", network.Figures[1].Value);
    }

    [Theory]
    [InlineData(383, 384)]
    [InlineData(384, 400)]
    public void InputSidesMustBeMultiplesOf32(int height, int width)
    {
        var network = Build(-4);
        Assert.Throws<ArgumentException>(() => network.MultiplyAccumulates(height, width));
        Assert.Throws<ArgumentException>(() => network.Run(FeatureMap.Allocate(height, width, 3)));
    }
}
