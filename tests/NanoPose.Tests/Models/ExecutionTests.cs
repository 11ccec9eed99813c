using NanoPose.TestSupport;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Threading;

namespace NanoPose.Tests.Models;

/// <summary>
/// How the networks run rather than what they compute (the golden tests check that): activation memory planned by
/// liveness, no allocation in a steady-state forward pass, and results that are bit-identical for every thread count.
/// </summary>
public class ExecutionTests
{
    /// <summary>Small inputs keep the suite fast; they still reach every layer kind and split most convolutions.</summary>
    public static TheoryData<string> Networks => ["litehrnet-18", "wider-naive-litehrnet-18", "efficienthrnet-h-4"];

    private static IPoseNetwork Build(string name, WorkerPool? pool) => name.StartsWith(EfficientHrnetConfig.Family, StringComparison.Ordinal)
        ? new EfficientHrnetNetwork(new EfficientHrnetModel(EfficientHrnetConfig.FromVariant(name), new SeededWeights(1), Isa.Best), 128, 96, pool)
        : LiteHrnetNetwork.Build(LiteHrnetConfig.Known[name], new SeededWeights(1), Isa.Best, 128, 96, pool);

    private static float[] Image(IPoseNetwork network)
    {
        var random = new Random(3);
        var image = new float[network.InputChannels * network.InputHeight * network.InputWidth];
        for (int i = 0; i < image.Length; i++) image[i] = random.NextSingle() * 4 - 2;
        return image;
    }

    private static float[][] Outputs(IPoseNetwork network, float[] image) => [.. network.Forward(image).Select(m => m.ToNchw())];

    [Theory]
    [MemberData(nameof(Networks))]
    public void ResultsAreBitIdenticalForEveryThreadCount(string name)
    {
        var reference = Build(name, pool: null);
        var image = Image(reference);
        var expected = Outputs(reference, image);
        Assert.All(expected, o => Assert.Contains(o, v => v != 0));
        foreach (int threads in new[] { 2, 3, 8 })
        {
            using var pool = new WorkerPool(threads);
            var network = Build(name, pool);
            for (int run = 0; run < 2; run++)
            {
                var actual = Outputs(network, image);
                for (int o = 0; o < expected.Length; o++)
                    Assert.True(expected[o].AsSpan().SequenceEqual(actual[o]), $"{name}, {threads} threads, run {run}: output {o} differs from one thread's");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void AReplicaGivesTheSameResultsWithItsOwnMemory(string name)
    {
        var network = Build(name, pool: null);
        var image = Image(network);
        var expected = Outputs(network, image);
        var replica = network.Replicate();
        Assert.NotSame(network.Forward(image)[0].Buffer, replica.Forward(image)[0].Buffer);
        var actual = Outputs(replica, image);
        for (int o = 0; o < expected.Length; o++) Assert.True(expected[o].AsSpan().SequenceEqual(actual[o]), $"{name}: replica output {o} differs");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void ASteadyStateForwardPassAllocatesNothing(string name)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = threads > 1 ? new WorkerPool(threads) : null;
            var network = Build(name, pool);
            var image = Image(network);
            network.Forward(image);
            long allocated = SteadyStateAllocation.MinimumBytes(() => network.Forward(image), calls: 3);
            Assert.True(allocated == 0, $"{name}, {threads} threads: three forward passes allocated {allocated} bytes in every attempt");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void AProfileTimesEveryConvolutionOncePerRunAndChangesNoResult(string name)
    {
        var network = Build(name, pool: null);
        var image = Image(network);
        var expected = Outputs(network, image);
        var profile = new OperationProfile();
        network.Profile = profile;
        var profiled = Outputs(network, image);
        Outputs(network, image);
        network.Profile = null;

        for (int o = 0; o < expected.Length; o++) Assert.True(expected[o].AsSpan().SequenceEqual(profiled[o]), $"{name}: output {o} differs when profiled");
        // Every convolution's multiply-accumulates, counted per call: the network's total, twice.
        Assert.Equal(2 * network.MultiplyAccumulates, profile.Entries.Sum(e => e.MultiplyAccumulates * e.Calls));
        // Elementwise operations of one kind at one shape share an entry, so an entry counts a multiple of the runs.
        Assert.All(profile.Entries, e => Assert.True(e.Calls % 2 == 0, $"{e.Description}: {e.Calls} calls in 2 runs"));
        Assert.Contains(profile.Entries, e => e.Kind == "conv 1×1");
        var report = new StringWriter();
        profile.Write(report, runs: 2);
        Assert.Contains("conv 1×1", report.ToString());
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
    }

    [Fact]
    public void PlannedMemoryIsFarBelowABufferPerTensor()
    {
        var output = TestContext.Current.TestOutputHelper;
        foreach (var (name, height, width) in new[] { ("litehrnet-18", 256, 192), ("litehrnet-30", 256, 192), ("efficienthrnet-h-4", 384, 384), ("efficienthrnet-h0", 512, 512) })
        {
            long planned, unplanned, peak;
            if (name.StartsWith(EfficientHrnetConfig.Family, StringComparison.Ordinal))
            {
                var network = new EfficientHrnetNetwork(new EfficientHrnetModel(EfficientHrnetConfig.FromVariant(name), new ZeroWeights(), VectorWidth.Scalar), height, width);
                (planned, unplanned, peak) = (network.BufferFloats, network.UnplannedBufferFloats, network.PeakLiveFloats);
            }
            else
            {
                var network = LiteHrnetNetwork.Build(LiteHrnetConfig.Known[name], new ZeroWeights(), VectorWidth.Scalar, height, width);
                (planned, unplanned, peak) = (network.BufferFloats, network.UnplannedBufferFloats, network.PeakLiveFloats);
            }
            output?.WriteLine($"{name} {height}×{width}: {planned:N0} floats planned ({planned * 4 / 1e6:F1} MB), peak live {peak:N0}, {unplanned:N0} with a buffer per tensor ({unplanned * 4 / 1e6:F1} MB)");
            Assert.True(planned * 4 < unplanned, $"{name}: planned {planned} floats, a buffer per tensor {unplanned}");
            // Peak live floats bound every plan from below; greedy by size should stay close to it.
            Assert.InRange(planned, peak, peak + peak / 10);
        }
    }

    private sealed class ZeroWeights : IWeightSource
    {
        public ConvWeights Conv(ConvRequest request) => new(new float[request.WeightLength], new float[request.OutChannels]);
    }

    [Fact]
    public void ThePlanNeverPlacesTwoLiveTensorsInTheSameMemory()
    {
        var random = new Random(5);
        for (int round = 0; round < 20; round++)
        {
            var arena = new ActivationArena();
            var maps = Enumerable.Range(0, 40).Select(_ => arena.Allocate(new Nhwc(random.Next(1, 9), random.Next(1, 9), random.Next(1, 40)))).ToArray();
            // Each map is used at a few random steps; its lifetime spans its first to its last use.
            var uses = maps.Select(_ => Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(0, 30)).ToArray()).ToArray();
            for (int step = 0; step < 30; step++)
            {
                for (int m = 0; m < maps.Length; m++)
                    if (uses[m].Contains(step)) arena.Use(maps[m]);
                arena.EndStep();
            }
            arena.KeepAlive(maps[0]);
            arena.Plan();

            (int First, int Last) Life(int m) => (uses[m].Min(), m == 0 ? int.MaxValue : uses[m].Max());
            long peakLive = 0;
            for (int step = 0; step < 30; step++)
                peakLive = Math.Max(peakLive, Enumerable.Range(0, maps.Length).Where(m => Life(m).First <= step && step <= Life(m).Last).Sum(m => (long)maps[m].Span.Length));
            Assert.InRange(arena.BufferFloats, peakLive, maps.Sum(m => (long)m.Span.Length + 16));
            for (int a = 0; a < maps.Length; a++)
                for (int b = a + 1; b < maps.Length; b++)
                {
                    bool live = Life(a).First <= Life(b).Last && Life(b).First <= Life(a).Last;
                    bool shared = maps[a].Offset < maps[b].Offset + maps[b].Span.Length && maps[b].Offset < maps[a].Offset + maps[a].Span.Length;
                    Assert.False(live && shared, $"round {round}: maps {a} and {b} are alive together and overlap in memory");
                }
        }
    }
}
