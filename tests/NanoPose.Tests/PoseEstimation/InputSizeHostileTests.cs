using System.Diagnostics;
using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Models.LiteHrnet;
using NanoPose.Pipelines.BottomUp;
using NanoPose.Pipelines.TopDown;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.PoseEstimation;

/// <summary>
/// Issue 15, class 10: sizes a valid file can ask for. A bottom-up model's input follows the image's aspect ratio
/// (a 20000×500 panorama asked for 1.9 GB, 60000×200 ran out of memory): every image either runs within
/// <see cref="InputAlignment.MaxInputPixels"/> or is refused at once with its numbers. A .npw asking for a top-down
/// input over <see cref="LiteHrnetConfig.MaxInputSide"/> (4096×4096 took 1.46 GB and 15 s an image) is refused at
/// load, naming the keys; one at the limit runs, and its cost is reported.
/// </summary>
public class InputSizeHostileTests
{
    private const int Seed = 15_010;

    /// <summary>What one bottom-up call may allocate: the network at the largest allowed input (about 320 bytes an
    /// input pixel with its outputs and the parser's maps, measured) plus the image's own size.</summary>
    private static long BottomUpAllowance(long imageBytes) => 400L * InputAlignment.MaxInputPixels + 4 * imageBytes;

    [Fact]
    public void BottomUpPanoramasRunWithinTheInputLimitOrAreRefusedWithTheNumbers()
    {
        var random = new Random(Seed);
        using var estimator = PoseEstimator.Load(SeededModels.BottomUp(), source: "bottom-up.npw");
        List<(int Width, int Height)> sizes = [(20_000, 500), (60_000, 200), (200, 60_000), (100_000, 1), (640, 480)];
        for (int i = 0; i < 4; i++)
        {
            int shortSide = 1 + random.Next(600), ratio = 2 + random.Next(400);
            int longSide = Math.Min(shortSide * ratio, 100_000);
            sizes.Add(random.Next(2) == 0 ? (longSide, shortSide) : (shortSide, longSide));
        }
        var output = TestContext.Current.TestOutputHelper;
        var failures = new List<string>();
        (double Seconds, string Label) slowest = (0, "");
        (long Bytes, string Label) most = (0, "");
        int refused = 0;
        foreach (var (width, height) in sizes)
        {
            byte[] image = SeededModels.Image(width, height, seed: width ^ height);
            string label = $"{width}×{height}";
            var time = Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var people = estimator.Estimate(image, width, height, width * 3, PixelFormat.Rgb24, cancellationToken: TestContext.Current.CancellationToken);
                Assert.All(people, p => Assert.All(p.Keypoints, k => Assert.True(float.IsFinite(k.X) && float.IsFinite(k.Y))));
            }
            catch (ArgumentException e)
            {
                refused++;
                if (!e.Message.Contains($"{width}×{height}") || !e.Message.Contains(InputAlignment.MaxInputPixels.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))
                    failures.Add($"{label}: the refusal does not give the image size and the limit: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            time.Stop();
            if (time.Elapsed.TotalSeconds > slowest.Seconds) slowest = (time.Elapsed.TotalSeconds, label);
            if (allocated > most.Bytes) most = (allocated, label);
            if (allocated > BottomUpAllowance(image.Length)) failures.Add($"{label}: allocated {allocated:N0} bytes, allowed {BottomUpAllowance(image.Length):N0}");
            if (time.Elapsed > TimeBounds.ForThisLeg(TimeSpan.FromSeconds(30))) failures.Add($"{label}: took {time.Elapsed.TotalSeconds:F1} s");
        }
        output?.WriteLine($"bottom-up panoramas: seed {Seed}, {sizes.Count} cases, {refused} refused; slowest {slowest.Seconds:F2} s ({slowest.Label}); "
            + $"most allocated by one call {most.Bytes:N0} bytes ({most.Label})");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.InRange(refused, 1, sizes.Count - 2);   // the extreme ones are refused, the others run
    }

    [Fact]
    public void TopDownInputsOverTheLimitAreRefusedAtLoad()
    {
        var random = new Random(Seed);
        var family = new FuzzFamily("top-down input sizes", Seed, typeof(WeightFileException));
        int over = 0;
        for (int i = 0; i < 40; i++)
        {
            int height = 32 * (1 + random.Next(4096 / 32)), width = 32 * (1 + random.Next(4096 / 32));
            if (height <= LiteHrnetConfig.MaxInputSide && width <= LiteHrnetConfig.MaxInputSide) continue;
            over++;
            var architecture = (LiteHrnetConfig.Known["wider-naive-litehrnet-18"] with { InputHeight = height, InputWidth = width }).ToArchitecture();
            family.Run($"{height}×{width}", new NpwWriter(architecture).ToBytes(), bytes =>
            {
                try { PoseNetworks.Load(NpwFile.Parse(bytes, FuzzFamily.Source), Isa.Best); }
                catch (WeightFileException e)
                {
                    Assert.Matches("input_(height|width)", e.Message);
                    Assert.Contains(LiteHrnetConfig.MaxInputSide.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
                    throw;
                }
            });
        }
        family.Finish(over, TimeSpan.FromSeconds(2));
        Assert.Equal(family.Cases, family.Outcomes.GetValueOrDefault(nameof(WeightFileException)));

        // At the limit, PP-TinyPose's architecture runs: what the limit costs.
        int side = LiteHrnetConfig.MaxInputSide;
        byte[] largest = SeededModels.TopDown(side, side);
        long beforeLoad = GC.GetAllocatedBytesForCurrentThread();
        using var estimator = PoseEstimator.Load(largest, source: "largest.npw");
        long loadAllocated = GC.GetAllocatedBytesForCurrentThread() - beforeLoad;
        byte[] image = SeededModels.Image(640, 480, seed: 3);
        var time = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        estimator.Estimate(image, 640, 480, 640 * 3, PixelFormat.Rgb24, [new PersonBox(100, 50, 300, 400)], TestContext.Current.CancellationToken);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"wider-naive Lite-HRNet-18 at {side}×{side}: loading allocated {loadAllocated:N0} bytes; one person in {time.Elapsed.TotalSeconds:F2} s, {allocated:N0} bytes allocated by the call");
        Assert.True(time.Elapsed < TimeBounds.ForThisLeg(TimeSpan.FromSeconds(30)), $"one person at the largest input took {time.Elapsed.TotalSeconds:F1} s");
        Assert.True(loadAllocated < 256L << 20, $"loading the largest input allocated {loadAllocated:N0} bytes");
    }
}
