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
/// and VmRSS at the start, after warm-up, in the middle and at the end: after warm-up neither the managed heap nor the
/// process may grow beyond a small bound, and an inference allocates only its result.
/// </summary>
[Collection(nameof(SoakTests))]
public class SoakTests
{
    private const int Inferences = 10_000, WarmUp = 500;
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
        for (int i = 0; i < Inferences; i++)
        {
            Infer(i);
            if (i + 1 == WarmUp) snapshots.Add(MemorySnapshot.Take("warm", i + 1));
            if (i + 1 == Inferences / 2) snapshots.Add(MemorySnapshot.Take("middle", i + 1));
        }
        snapshots.Add(MemorySnapshot.Take("end", Inferences));
        clock.Stop();

        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{Inferences:N0} inferences ({people:N0} people) on a {input}×{input} input in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var snapshot in snapshots) output?.WriteLine(snapshot.ToString());
        var (warm, end) = (snapshots[1], snapshots[^1]);
        double allocatedPerInference = (double)(end.AllocatedBytes - warm.AllocatedBytes) / (Inferences - WarmUp);
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after warm-up: managed {end.ManagedBytes - warm.ManagedBytes:+#,0;-#,0;0} bytes, " +
            $"VmRSS {(end.VmRss - warm.VmRss) / 1024:+#,0;-#,0;0} KiB, working set {(end.WorkingSet - warm.WorkingSet) / 1024:+#,0;-#,0;0} KiB, " +
            $"{allocatedPerInference:F0} bytes allocated per inference"));

        Assert.Equal(Inferences, people);   // one person per box: every inference ran
        foreach (var later in snapshots.Skip(2))
        {
            Assert.True(later.ManagedBytes - warm.ManagedBytes < ManagedGrowthBound, $"managed memory grew: {warm} → {later}");
            if (later.VmRss is { } rss && warm.VmRss is { } warmRss)
                Assert.True(rss - warmRss < ResidentGrowthBound, $"resident memory grew: {warm} → {later}");
            else Assert.True(later.WorkingSet - warm.WorkingSet < ResidentGrowthBound, $"working set grew: {warm} → {later}");
        }
        // A leak grows with the calls: the second half may add next to nothing.
        var middle = snapshots[2];
        Assert.True(end.ManagedBytes - middle.ManagedBytes < ManagedGrowthBound / 4, $"managed memory grew in the second half: {middle} → {end}");
        if (end.VmRss is { } endRss && middle.VmRss is { } middleRss)
            Assert.True(endRss - middleRss < ResidentGrowthBound / 2, $"resident memory grew in the second half: {middle} → {end}");
        Assert.True(allocatedPerInference < 4096, $"an inference allocated {allocatedPerInference:F0} bytes");
    }
}
