using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;

namespace NanoPose.Bench;

/// <summary>A whole network at its standard input size, single image, one thread, with seeded random weights
/// (speed does not depend on the values; they are scaled by fan-in so activations stay finite and normal).</summary>
public sealed record ModelCase(string Name, int Height, int Width) : IWorkload
{
    public IPoseNetwork Build()
    {
        var weights = new RandomWeights(seed: 1);
        var width = Isa.Best;
        return Name.StartsWith(EfficientHrnetConfig.Family, StringComparison.Ordinal)
            ? new EfficientHrnetNetwork(new EfficientHrnetModel(EfficientHrnetConfig.FromVariant(Name), weights, width), Height, Width)
            : LiteHrnetNetwork.Build(LiteHrnetConfig.Known[Name], weights, width, Height, Width);
    }

    private long _multiplyAccumulates;

    /// <summary>2 × the network's multiply-accumulates (convolutions), counted once from a built network.</summary>
    public double Flops => 2.0 * (_multiplyAccumulates = _multiplyAccumulates != 0 ? _multiplyAccumulates : Build().MultiplyAccumulates);
    public double Bytes => 0;
    public override string ToString() => $"{Name} {Height}x{Width}";
}

sealed class RandomWeights(int seed) : IWeightSource
{
    private readonly Random _random = new(seed);

    public ConvWeights Conv(ConvRequest request)
    {
        float scale = 1f / MathF.Sqrt(request.InChannelsPerGroup * request.KernelHeight * request.KernelWidth);
        var weight = new float[request.WeightLength];
        for (int i = 0; i < weight.Length; i++) weight[i] = (_random.NextSingle() * 2 - 1) * scale;
        var bias = new float[request.OutChannels];
        for (int i = 0; i < bias.Length; i++) bias[i] = _random.NextSingle() * 0.1f;
        return new ConvWeights(weight, bias);
    }
}

public class ModelBenchmarks
{
    public static IEnumerable<ModelCase> Cases =>
    [
        new("litehrnet-18", 256, 192), new("litehrnet-30", 256, 192), new("wider-naive-litehrnet-18", 256, 192),
        new("efficienthrnet-h-4", 384, 384), new("efficienthrnet-h0", 512, 512),
    ];

    [ParamsSource(nameof(Cases))] public ModelCase Model { get; set; } = null!;

    IPoseNetwork network = null!;
    float[] image = [];

    [GlobalSetup]
    public void Setup()
    {
        network = Model.Build();
        image = new float[3 * Model.Height * Model.Width];
        var random = new Random(2);
        for (int i = 0; i < image.Length; i++) image[i] = random.NextSingle() * 4 - 2;
    }

    [Benchmark]
    public object Forward() => network.Forward(image);
}
