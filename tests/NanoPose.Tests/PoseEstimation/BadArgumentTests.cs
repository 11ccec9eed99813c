using NanoPose.TestSupport;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Tests.Models;

namespace NanoPose.Tests.PoseEstimation;

/// <summary>
/// Bad arguments to the networks: input sides that are not multiples of 32 (refused naming the size, for every
/// family), and NaN or infinite values in the float input of <see cref="IPoseNetwork.Forward"/>, which is
/// documented here: no exception, outputs of the right size, and the next finite input gives exactly the output it
/// gives a fresh network — nothing of the bad input stays behind in the network's buffers. The outputs themselves are
/// not checked: a NaN (or the NaN of ∞ − ∞ in the first convolution) is absorbed by the first ReLU wherever the
/// kernel computes it as <c>x &gt; 0 ? x : 0</c> or as x86's max(x, 0), and carried on where a ReLU propagates NaN;
/// the test prints how many outputs were not finite (on the development machine: none with hardware vectors; with
/// DOTNET_EnableHWIntrinsic=0 one infinite input value reached 102 of the 4352 outputs of Naive Lite-HRNet-18).
/// (Person boxes with NaN or outside the image, and empty box lists, are covered in PoseEstimatorTests and
/// TopDownPipelineTests.)
/// </summary>
public class BadArgumentTests(ITestOutputHelper output)
{
    /// <summary>Fails the test if a network asks for weights before checking its input size.</summary>
    private sealed class NoWeights : IWeightSource
    {
        public ConvWeights Conv(ConvRequest request) => throw new InvalidOperationException($"asked for {request.Name} before checking the size");
    }

    public static TheoryData<int, int> BadSizes => new() { { 250, 192 }, { 256, 190 }, { 16, 192 }, { 0, 192 }, { -32, 192 }, { 257, 193 } };

    [Theory]
    [MemberData(nameof(BadSizes))]
    public void EveryLiteHrnetVariantRefusesSidesThatAreNotMultiplesOf32(int height, int width)
    {
        foreach (var (variant, config) in LiteHrnetConfig.Known)
        {
            var error = Assert.Throws<ArgumentException>(() => LiteHrnetNetwork.Build(config, new NoWeights(), Isa.Best, height, width));
            Assert.Contains($"input {height}×{width} must have sides that are positive multiples of 32", error.Message);
            Assert.Contains(variant, error.Message);
        }
    }

    [Fact]
    public void LiteHrnetRefusesSidesOverTheLimit()
    {
        var error = Assert.Throws<ArgumentException>(() => LiteHrnetNetwork.Build(LiteHrnetConfig.Known["litehrnet-18"], new NoWeights(), Isa.Best, 4128, 192));
        Assert.Contains($"input 4128×192 has a side over {LiteHrnetConfig.MaxInputSide}", error.Message);
    }

    [Theory]
    [MemberData(nameof(BadSizes))]
    public void EfficientHrnetRefusesSidesThatAreNotMultiplesOf32(int height, int width)
    {
        var model = new EfficientHrnetModel(EfficientHrnetConfig.FromScale(-4), new SeededWeights(1), Isa.Best);
        var error = Assert.Throws<ArgumentException>(() => new EfficientHrnetNetwork(model, height, width));
        Assert.Contains($"sides that are multiples of 32 (its branches halve four times), found {height}×{width}×3", error.Message);
    }

    public static TheoryData<string, float> NonFinite => new()
    {
        { "naive-litehrnet-18", float.NaN }, { "naive-litehrnet-18", float.PositiveInfinity },
        { "litehrnet-18", float.NaN }, { "litehrnet-18", float.NegativeInfinity },
        { "efficienthrnet-h-4", float.NaN }, { "efficienthrnet-h-4", float.PositiveInfinity },
    };

    private static IPoseNetwork Build(string name, int height, int width) => name.StartsWith("efficienthrnet", StringComparison.Ordinal)
        ? new EfficientHrnetNetwork(new EfficientHrnetModel(EfficientHrnetConfig.FromScale(-4), new SeededWeights(3), Isa.Best), height, width)
        : LiteHrnetNetwork.Build(LiteHrnetConfig.Known[name], new SeededWeights(3), Isa.Best, height, width);

    private static float[][] Copy(IReadOnlyList<FeatureMap> outputs) => [.. outputs.Select(o => o.ToNchw())];

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void NonFiniteInputValuesDoNotCrashAndDoNotStayBehind(string network, float bad)
    {
        const int height = 64, width = 64;
        var random = new Random(5);
        var clean = new float[3 * height * width];
        for (int i = 0; i < clean.Length; i++) clean[i] = (float)(random.NextDouble() * 4 - 2);
        var expected = Copy(Build(network, height, width).Forward(clean));
        Assert.All(expected, o => Assert.All(o, v => Assert.True(float.IsFinite(v))));

        var net = Build(network, height, width);
        foreach (int[] badPixels in new[] { new[] { 0 }, new[] { 3 * height * width / 2 + 17 }, Enumerable.Range(0, 3 * height * width).ToArray() })
        {
            var input = (float[])clean.Clone();
            foreach (int i in badPixels) input[i] = bad;
            var outputs = Copy(net.Forward(input));
            int nonFinite = outputs.Sum(o => o.Count(v => !float.IsFinite(v))), total = outputs.Sum(o => o.Length);
            output.WriteLine($"{network}, {badPixels.Length} input value(s) = {bad}: {nonFinite} of {total} output values are not finite");
            Assert.Equal(expected.Select(o => o.Length), outputs.Select(o => o.Length));

            // The next finite input gives exactly what a fresh network gives.
            var after = Copy(net.Forward(clean));
            for (int o = 0; o < expected.Length; o++) Assert.Equal(expected[o], after[o]);
        }
    }
}
