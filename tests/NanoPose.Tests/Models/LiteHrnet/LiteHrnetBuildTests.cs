using NanoPose.TestSupport;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models.LiteHrnet;
using NanoPose.Weights;

namespace NanoPose.Tests.Models.LiteHrnet;

/// <summary>Building and running without golden data: synthetic weights, the request order, the architecture
/// description, buffers reused across runs.</summary>
public class LiteHrnetBuildTests
{
    /// <summary>Small deterministic weights of whatever shape is asked for; remembers the names in request order.</summary>
    private sealed class SyntheticWeights : IWeightSource
    {
        private readonly Random _random = new(7);
        public List<string> Requested { get; } = [];

        public ConvWeights Conv(ConvRequest request)
        {
            Requested.Add(request.Name);
            float scale = 1f / MathF.Sqrt(request.InChannelsPerGroup * request.KernelHeight * request.KernelWidth);
            var weight = new float[request.WeightLength];
            for (int i = 0; i < weight.Length; i++) weight[i] = (float)(_random.NextDouble() * 2 - 1) * scale;
            var bias = new float[request.OutChannels];
            for (int i = 0; i < bias.Length; i++) bias[i] = (float)(_random.NextDouble() * 0.2 - 0.1);
            return new ConvWeights(weight, bias);
        }
    }

    [Fact]
    public void AsksForConvolutionsInForwardOrder()
    {
        // PP-TinyPose's ncnn file lists its convolutions in this order (MODELS.md F); a wider-naive build must ask the same.
        var weights = new SyntheticWeights();
        LiteHrnetNetwork.Build(LiteHrnetConfig.Known["wider-naive-litehrnet-18"], weights, Isa.Best, 64, 64);
        string[] expected =
        [
            "backbone.stem.conv1.conv", "backbone.stem.branch1.0.conv", "backbone.stem.branch1.1.conv",
            "backbone.stem.expand_conv.conv", "backbone.stem.depthwise_conv.conv", "backbone.stem.linear_conv.conv",
            "backbone.transition0.0.0", "backbone.transition0.0.2", "backbone.transition0.1.0.0", "backbone.transition0.1.0.2",
            "backbone.stage0.0.layers.0.0.branch2.0.conv", "backbone.stage0.0.layers.0.0.branch2.1.conv", "backbone.stage0.0.layers.0.0.branch2.2.conv",
            "backbone.stage0.0.layers.0.1.branch2.0.conv", "backbone.stage0.0.layers.0.1.branch2.1.conv", "backbone.stage0.0.layers.0.1.branch2.2.conv",
            "backbone.stage0.0.layers.1.0.branch2.0.conv", "backbone.stage0.0.layers.1.0.branch2.1.conv", "backbone.stage0.0.layers.1.0.branch2.2.conv",
            "backbone.stage0.0.layers.1.1.branch2.0.conv", "backbone.stage0.0.layers.1.1.branch2.1.conv", "backbone.stage0.0.layers.1.1.branch2.2.conv",
            "backbone.stage0.0.fuse_layers.0.1.0", "backbone.stage0.0.fuse_layers.1.0.0.0", "backbone.stage0.0.fuse_layers.1.0.0.2",
            "backbone.stage0.1.layers.0.0.branch2.0.conv",
        ];
        Assert.Equal(expected, weights.Requested.Take(expected.Length));
        Assert.Equal(
            ["backbone.head_layer.projects.3.depthwise_conv.conv", "backbone.head_layer.projects.3.pointwise_conv.conv", "keypoint_head.final_layer"],
            weights.Requested.TakeLast(3));
        // 173 convolutions and 96 depthwise ones in the ncnn file.
        Assert.Equal(173 + 96, weights.Requested.Count);
    }

    [Fact]
    public void LiteModulesAskForWeightingThenDepthwiseThenSpatial()
    {
        var weights = new SyntheticWeights();
        LiteHrnetNetwork.Build(LiteHrnetConfig.Known["litehrnet-18"], weights, Isa.Best, 64, 64);
        const string block = "backbone.stage0.0.layers.0.";
        int start = weights.Requested.IndexOf(block + "cross_resolution_weighting.conv1.conv");
        Assert.Equal(
            [
                block + "cross_resolution_weighting.conv1.conv", block + "cross_resolution_weighting.conv2.conv",
                block + "depthwise_convs.0.conv", block + "depthwise_convs.1.conv",
                block + "spatial_weighting.0.conv1.conv", block + "spatial_weighting.0.conv2.conv",
                block + "spatial_weighting.1.conv1.conv", block + "spatial_weighting.1.conv2.conv",
                "backbone.stage0.0.layers.1.cross_resolution_weighting.conv1.conv",
            ],
            weights.Requested.Skip(start).Take(9));
    }

    [Fact]
    public void RepeatedRunsReuseTheirBuffers()
    {
        var network = LiteHrnetNetwork.Build(LiteHrnetConfig.Known["litehrnet-18"], new SyntheticWeights(), Isa.Best, 64, 64);
        var input = new float[3 * 64 * 64];
        for (int i = 0; i < input.Length; i++) input[i] = MathF.Sin(i * 0.01f);
        var first = network.Run(input).ToNchw();

        var heatmaps = network.Run(input);
        long allocated = SteadyStateAllocation.MinimumBytes(() => network.Run(input), calls: 1);

        Assert.True(allocated < 4096, $"a repeated run allocated {allocated} bytes");
        Assert.Equal(first, heatmaps.ToNchw());
        Assert.All(first, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void RefusesInputSidesThatAreNotMultiplesOf32()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            LiteHrnetNetwork.Build(LiteHrnetConfig.Known["litehrnet-18"], new SyntheticWeights(), Isa.Best, 256, 200));
        Assert.Contains("multiples of 32", error.Message);
    }

    [Theory]
    [InlineData("litehrnet-18")]
    [InlineData("litehrnet-30")]
    [InlineData("naive-litehrnet-18")]
    [InlineData("wider-naive-litehrnet-18")]
    public void ArchitectureRoundTripsThroughAWeightFile(string variant)
    {
        var config = LiteHrnetConfig.Known[variant] with { InputHeight = 384, InputWidth = 288 };
        var writer = new NpwWriter(config.ToArchitecture());
        var file = NpwFile.Parse(writer.ToBytes(), "arch.npw");
        var read = LiteHrnetConfig.FromArchitecture(file.Architecture);

        Assert.Equal(config.ToArchitecture().Properties.Select(p => $"{p.Key}={p.Value}"), read.ToArchitecture().Properties.Select(p => $"{p.Key}={p.Value}"));
        Assert.Equal((variant, 17, 384, 288), (read.Variant, read.HeadOutChannels, read.InputHeight, read.InputWidth));
        Assert.Equal(config.Stages.Select(s => string.Join(",", s.Channels)), read.Stages.Select(s => string.Join(",", s.Channels)));
    }

    [Fact]
    public void ArchitectureErrorsNameTheKey()
    {
        var architecture = LiteHrnetConfig.Known["litehrnet-18"].ToArchitecture();
        var incomplete = new ModelArchitecture(architecture.Family, architecture.Variant);
        foreach (var (key, value) in architecture.Properties.Where(p => p.Key != "stage1_channels")) incomplete.Set(key, value);
        Assert.Contains("'stage1_channels'", Assert.Throws<ArgumentException>(() => LiteHrnetConfig.FromArchitecture(incomplete)).Message);

        architecture.Set("module_type", "FANCY");
        Assert.Contains("module_type", Assert.Throws<ArgumentException>(() => LiteHrnetConfig.FromArchitecture(architecture)).Message);

        architecture.Set("module_type", "LITE").Set("head_in_channels", 30L);
        Assert.Contains("final layer takes 30 channels", Assert.Throws<ArgumentException>(() => LiteHrnetConfig.FromArchitecture(architecture)).Message);
    }
}
