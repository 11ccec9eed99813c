using NanoPose.TestSupport;
using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Models.PicoDet;
using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;

namespace NanoPose.Bench;

/// <summary>A whole network at its standard input size, single image, with seeded random weights (speed does not
/// depend on the values; they are scaled by fan-in so activations stay finite and normal). <paramref name="Gain"/>
/// scales the seeded weights: PicoDet, with no residuals, needs 2.7 to keep its outputs' spread O(1) (the export
/// test's finding), where the others take 1.</summary>
public sealed record ModelCase(string Name, int Height, int Width, float Gain = 1) : IWorkload
{
    /// <summary>With a <paramref name="pool"/>, the network splits its large operations over the pool's threads.</summary>
    public IPoseNetwork Build(WorkerPool? pool = null) => Build(Weights(), pool);

    /// <summary>The seeded weights of this case (seed 1).</summary>
    public IWeightSource Weights() => new SeededWeights(seed: 1, Gain);

    /// <summary>The network with weights from <paramref name="weights"/> (e.g. the seeded ones, recorded to write a .npw).</summary>
    public IPoseNetwork Build(IWeightSource weights, WorkerPool? pool)
    {
        var width = Isa.Best;
        if (Name == PicoDetConfig.DefaultVariant)
            return PicoDetNetwork.Build(new PicoDetConfig { InputHeight = Height, InputWidth = Width }, weights, width, pool: pool);
        return Name.StartsWith(EfficientHrnetConfig.Family, StringComparison.Ordinal)
            ? new EfficientHrnetNetwork(new EfficientHrnetModel(EfficientHrnetConfig.FromVariant(Name), weights, width), Height, Width, pool)
            : LiteHrnetNetwork.Build(LiteHrnetConfig.Known[Name], weights, width, Height, Width, pool);
    }

    /// <summary>A seeded C × H × W input in about the range of a normalised image.</summary>
    public float[] RandomImage()
    {
        var image = new float[3 * Height * Width];
        var random = new Random(2);
        for (int i = 0; i < image.Length; i++) image[i] = random.NextSingle() * 4 - 2;
        return image;
    }

    private long _multiplyAccumulates;

    /// <summary>2 × the network's multiply-accumulates (convolutions), counted once from a built network.</summary>
    public double Flops => 2.0 * (_multiplyAccumulates = _multiplyAccumulates != 0 ? _multiplyAccumulates : Build().MultiplyAccumulates);
    public double Bytes => 0;
    public override string ToString() => $"{Name} {Height}x{Width}";
}

/// <summary>Each network at its standard input on 1 and 2 threads (intra-op splits over a <see cref="WorkerPool"/>).</summary>
[MedianColumn]
public class ModelBenchmarks
{
    public static IEnumerable<ModelCase> Cases =>
    [
        new("litehrnet-18", 256, 192), new("litehrnet-30", 256, 192), new("wider-naive-litehrnet-18", 256, 192),
        new("naive-litehrnet-18", 256, 192),
        new("efficienthrnet-h-4", 384, 384), new("efficienthrnet-h0", 512, 512),
        // The person detector (raw logits; decoding and NMS are not timed), at its two built-in sizes.
        new(PicoDetConfig.DefaultVariant, 192, 192, Gain: 2.7f), new(PicoDetConfig.DefaultVariant, 320, 320, Gain: 2.7f),
    ];

    [ParamsSource(nameof(Cases))] public ModelCase Model { get; set; } = null!;

    [Params(1, 2)] public int Threads { get; set; }

    IPoseNetwork network = null!;
    WorkerPool? pool;
    float[] image = [];

    [GlobalSetup]
    public void Setup()
    {
        pool = Threads > 1 ? new WorkerPool(Threads) : null;
        network = Model.Build(pool);
        image = Model.RandomImage();
    }

    [GlobalCleanup]
    public void Cleanup() => pool?.Dispose();

    [Benchmark]
    public object Forward() => network.Forward(image);
}

/// <summary>Top-down estimation of 8 people (Lite-HRNet-18, 256×192 crops) on 1 and 2 threads: with 2, the crops run
/// two at a time on two instances of the network.</summary>
[MedianColumn]
public class TopDownBenchmarks
{
    [Params(1, 2)] public int Threads { get; set; }

    const int ImageWidth = 640, ImageHeight = 480;
    TopDownPipeline pipeline = null!;
    WorkerPool? pool;
    byte[] pixels = [];
    PersonBox[] boxes = [];

    [GlobalSetup]
    public void Setup()
    {
        pool = Threads > 1 ? new WorkerPool(Threads) : null;
        pipeline = new TopDownPipeline(new ModelCase("litehrnet-18", 256, 192).Build(pool), new TopDownOptions(), pool);
        pixels = new byte[ImageWidth * ImageHeight * 3];
        new Random(3).NextBytes(pixels);
        boxes = [.. Enumerable.Range(0, 8).Select(i => new PersonBox(20 + 70 * i, 40 + 10 * i, 90, 200, 0.9f))];
    }

    [GlobalCleanup]
    public void Cleanup() => pool?.Dispose();

    [Benchmark]
    public int EightPeople() => pipeline.Estimate(new RgbImage(pixels, ImageWidth, ImageHeight), boxes).Count;
}
