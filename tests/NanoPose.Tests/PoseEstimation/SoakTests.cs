using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using NanoPose.TestSupport;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.PoseEstimation;

/// <summary>Runs alone: the memory figures are the process's, and other tests running beside it would move them.</summary>
[CollectionDefinition(nameof(SoakTests), DisableParallelization = true)]
public sealed class SoakCollection;

/// <summary>
/// The engine alone, at a small scale (the product soak, the built-in pipeline and a bottom-up model on the coco-mini
/// photos, is NanoPose.Cli.Tests' PipelineSoakTests): 10,000 inferences in a row on one estimator (a small seeded top-down Lite-HRNet, one box per image, a different
/// box and red-blue order each time), reporting managed memory (after a full collection), bytes allocated, working set
/// and VmRSS at the start, after warm-up and every 1,000 inferences after it: after warm-up neither the managed heap nor
/// the process may grow beyond a small bound, the last three snapshots may hold no more than the first three (medians),
/// and an inference allocates only its result. Warm-up lasts until the JIT has
/// compiled nothing for a second (<see cref="JitQuietWarmUp"/>), so the 10,000 measured inferences see the engine's
/// memory, not the JIT's.
/// </summary>
[Collection(nameof(SoakTests))]
public class SoakTests
{
    /// <summary>Measured inferences after warm-up, and the memory snapshots among them (one every tenth).</summary>
    private const int Inferences = 10_000, Snapshots = 10, WarmUpAtLeast = 500;
    private static readonly TimeSpan JitQuietFor = TimeSpan.FromSeconds(1), WarmUpAtMost = TimeSpan.FromSeconds(30);
    private const int ImageWidth = 64, ImageHeight = 48;

    /// <summary>Managed heap growth allowed after warm-up: the runner's own bookkeeping, not one more buffer per call
    /// (an inference's result is ~1 KB, so a leak of results alone would grow the heap by megabytes).</summary>
    private const long ManagedGrowthBound = 256 * 1024;

    /// <summary>Resident memory growth allowed after warm-up: JIT tiering of late methods and allocator slack (the
    /// network's activations alone are ~100 KB, so a native leak per call would pass this within a few hundred calls).</summary>
    private const long ResidentGrowthBound = 16 * 1024 * 1024;

    [Fact]
    public void TenThousandInferencesDoNotGrowManagedOrProcessMemory()
    {
        // Software vectors (DOTNET_EnableHWIntrinsic=0) are ~20× slower: a 32×32 input there keeps this under a minute.
        int input = Vector128.IsHardwareAccelerated ? 64 : 32;
        using var estimator = PoseEstimator.Load(SeededModels.TinyTopDown(input, input));
        var rgb = SeededModels.Image(ImageWidth, ImageHeight, 21);
        var bgr = SeededModels.SwapRedAndBlue(rgb);
        var token = TestContext.Current.CancellationToken;
        var boxes = new PersonBox[1];
        int people = 0;
        void Infer(int i)
        {
            boxes[0] = new PersonBox(i % 17, i % 11, 30 + i % 13, 30 + i % 7, 0.9f);
            bool isBgr = i % 2 == 1;
            people += estimator.Estimate(isBgr ? bgr : rgb, ImageWidth, ImageHeight, 3 * ImageWidth, isBgr ? PixelFormat.Bgr24 : PixelFormat.Rgb24, boxes, token).Count;
        }

        var snapshots = new List<MemorySnapshot> { MemorySnapshot.Take("start", 0) };
        var clock = Stopwatch.StartNew();
        var (warmUp, jitQuiet) = JitQuietWarmUp.Run(Infer, WarmUpAtLeast, JitQuietFor, WarmUpAtMost);
        snapshots.Add(MemorySnapshot.Take("warm", warmUp));
        for (int i = warmUp; i < warmUp + Inferences; i++)
        {
            Infer(i);
            int done = i + 1 - warmUp;
            if (done % (Inferences / Snapshots) == 0) snapshots.Add(MemorySnapshot.Take(done == Inferences ? "end" : "", i + 1));
        }
        clock.Stop();

        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{warmUp + Inferences:N0} inferences ({people:N0} people) on a {input}×{input} input in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"warm-up {warmUp:N0} of them, " + (jitQuiet ? $"until the JIT had compiled nothing for {JitQuietFor.TotalSeconds:F0} s" : $"stopped at {WarmUpAtMost.TotalSeconds:F0} s with the JIT still compiling"));
        foreach (var snapshot in snapshots) output?.WriteLine(snapshot.ToString());
        var warm = snapshots[1];
        var later = snapshots.Skip(2).ToList();
        var end = later[^1];
        double allocatedPerInference = (double)(end.AllocatedBytes - warm.AllocatedBytes) / Inferences;
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after warm-up: managed {end.ManagedBytes - warm.ManagedBytes:+#,0;-#,0;0} bytes, " +
            $"resident {(end.Resident - warm.Resident) / 1024:+#,0;-#,0;0} KiB (most {(later.Max(s => s.Resident) - warm.Resident) / 1024:+#,0;-#,0;0}), " +
            $"{allocatedPerInference:F0} bytes allocated per inference"));

        Assert.Equal(warmUp + Inferences, people);   // one person per box: every inference ran
        foreach (var snapshot in later)
        {
            Assert.True(snapshot.ManagedBytes - warm.ManagedBytes < ManagedGrowthBound, $"managed memory grew: {warm} → {snapshot}");
            Assert.True(snapshot.Resident - warm.Resident < ResidentGrowthBound, $"resident memory grew: {warm} → {snapshot}");
        }
        // A leak grows with the calls, so the last snapshots hold more than the first ones after warm-up. Medians of
        // three: the runtime's own work can still lift one snapshot by several megabytes (a late tier-1 compile, memory
        // it gives back by the next one), and one snapshot must not decide.
        var (first, last) = (later.Take(3).ToList(), later.TakeLast(3).ToList());
        Assert.True(Median(last, s => s.ManagedBytes) - Median(first, s => s.ManagedBytes) < ManagedGrowthBound / 4,
            $"managed memory grew from the first snapshots after warm-up to the last: {string.Join(", ", first)} → {string.Join(", ", last)}");
        Assert.True(Median(last, s => s.Resident) - Median(first, s => s.Resident) < ResidentGrowthBound / 2,
            $"resident memory grew from the first snapshots after warm-up to the last: {string.Join(", ", first)} → {string.Join(", ", last)}");
        Assert.True(allocatedPerInference < 4096, $"an inference allocated {allocatedPerInference:F0} bytes");
    }

    private static long Median(List<MemorySnapshot> three, Func<MemorySnapshot, long> value) => three.Select(value).Order().ElementAt(1);
}
