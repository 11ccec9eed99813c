using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Models.LiteHrnet;
using NanoPose.Pipelines.TopDown;
using NanoPose.Tests.Models;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Tests.PoseEstimation;

/// <summary>
/// A <see cref="CancellationToken"/> stops a multi-box estimate before its remaining network runs: exactly, in
/// <see cref="TopDownPipeline"/> with a network that cancels the token from inside a run; and from another thread in
/// <see cref="PoseEstimator"/>. Either stays usable and gives the people it gave before.
/// </summary>
public class CancellationTests
{
    private const int ImageWidth = 96, ImageHeight = 80;
    private static readonly bool Hardware = Vector128.IsHardwareAccelerated;

    /// <summary>A network that counts its runs (its replicas' too) and cancels <paramref name="cancel"/> at the end of
    /// run number <paramref name="cancelAtRun"/>.</summary>
    private sealed class CancelingNetwork(IPoseNetwork inner, CancellationTokenSource cancel, int cancelAtRun, StrongBox<int> runs) : IPoseNetwork
    {
        public ModelArchitecture Architecture => inner.Architecture;
        public int InputChannels => inner.InputChannels;
        public int InputHeight => inner.InputHeight;
        public int InputWidth => inner.InputWidth;
        public long ParameterCount => inner.ParameterCount;
        public long MultiplyAccumulates => inner.MultiplyAccumulates;
        public long BufferFloats => inner.BufferFloats;
        public OperationProfile? Profile { get => inner.Profile; set => inner.Profile = value; }
        public IReadOnlyList<(string Label, string Value)> Figures => inner.Figures;
        public IPoseNetwork Replicate() => new CancelingNetwork(inner.Replicate(), cancel, cancelAtRun, runs);

        public IReadOnlyList<FeatureMap> Forward(ReadOnlySpan<float> imageNchw)
        {
            var outputs = inner.Forward(imageNchw);
            if (Interlocked.Increment(ref runs.Value) == cancelAtRun) cancel.Cancel();
            return outputs;
        }
    }

    private static PersonBox[] Boxes(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new PersonBox(i * 7 % 50, i * 5 % 30, 40 + i % 7, 45 + i % 5, 0.5f + i % 5 * 0.1f))];

    private static IPoseNetwork TinyNetwork(WorkerPool? pool) =>
        PoseNetworks.Load(NpwFile.Parse(SeededModels.TinyTopDown(32, 32), "tiny.npw"), Isa.Best, pool: pool);

    public static TheoryData<bool, int, int, int> PipelineCases => new()
    {
        // flip test, pool threads, run that cancels, most runs allowed
        { false, 1, 3, 3 },      // crops one after another: the fourth is not started
        { true, 1, 1, 1 },       // the mirrored pass of the first crop is not run
        { true, 1, 4, 4 },       // two crops with their mirrors, then nothing
        { false, 2, 1, 2 },      // a wave of two crops finishes its runs, no further wave starts
    };

    [Theory]
    [MemberData(nameof(PipelineCases))]
    public void APipelineStopsBeforeTheNextNetworkRun(bool flipTest, int poolThreads, int cancelAtRun, int mostRuns)
    {
        const int BoxCount = 12;
        var image = SeededModels.Image(ImageWidth, ImageHeight, 11);
        var boxes = Boxes(BoxCount);
        using var pool = poolThreads > 1 ? new WorkerPool(poolThreads) : null;
        var options = new TopDownOptions { FlipTest = flipTest, OksNmsThreshold = null };
        var expected = new TopDownPipeline(TinyNetwork(pool), options, pool)
            .Estimate(new RgbImage(image, ImageWidth, ImageHeight), boxes, TestContext.Current.CancellationToken);

        using var cancel = new CancellationTokenSource();
        var runs = new StrongBox<int>();
        var pipeline = new TopDownPipeline(new CancelingNetwork(TinyNetwork(pool), cancel, cancelAtRun, runs), options, pool);
        var error = Assert.ThrowsAny<OperationCanceledException>(() =>
            pipeline.Estimate(new RgbImage(image, ImageWidth, ImageHeight), boxes, cancel.Token));
        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.InRange(runs.Value, cancelAtRun, mostRuns);   // of the BoxCount × (flip ? 2 : 1) a whole estimate makes

        // Usable afterwards, with the same people as a pipeline that was never canceled.
        var again = pipeline.Estimate(new RgbImage(image, ImageWidth, ImageHeight), boxes, TestContext.Current.CancellationToken);
        Assert.Equal(expected.Count, again.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Keypoints, again[i].Keypoints);
    }

    [Fact]
    public void AnEstimateWithACanceledTokenDoesNoWork()
    {
        using var estimator = PoseEstimator.Load(SeededModels.TinyTopDown(32, 32));
        var image = SeededModels.Image(ImageWidth, ImageHeight, 12);
        var error = Assert.ThrowsAny<OperationCanceledException>(() =>
            estimator.Estimate(image, ImageWidth, ImageHeight, 3 * ImageWidth, PixelFormat.Rgb24, Boxes(4), new CancellationToken(canceled: true)));
        Assert.True(error.CancellationToken.IsCancellationRequested);
        Assert.Equal(0, estimator.CallsRunning);
    }

    [Fact]
    public void CancelingFromAnotherThreadStopsAManyBoxEstimatePromptlyAndTheEstimatorWorksAfterwards()
    {
        // PP-TinyPose-like at 64×64 (32×32 under software vectors); 400 boxes take hundreds of runs.
        using var estimator = PoseEstimator.Load(Hardware ? SeededModels.TopDown(64, 64) : SeededModels.TopDown(32, 32));
        var image = SeededModels.Image(ImageWidth, ImageHeight, 13);
        var few = Boxes(3);
        var before = estimator.Estimate(image, ImageWidth, ImageHeight, 3 * ImageWidth, PixelFormat.Rgb24, few, TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();
        estimator.Estimate(image, ImageWidth, ImageHeight, 3 * ImageWidth, PixelFormat.Rgb24, few, TestContext.Current.CancellationToken);
        double perBox = clock.Elapsed.TotalMilliseconds / few.Length;

        const int ManyBoxes = 400;
        using var cancel = new CancellationTokenSource();
        var estimate = Task.Run(() => estimator.Estimate(image, ImageWidth, ImageHeight, 3 * ImageWidth, PixelFormat.Rgb24, Boxes(ManyBoxes), cancel.Token),
            TestContext.Current.CancellationToken);
        while (estimator.CallsRunning == 0 && !estimate.IsCompleted) Thread.Yield();
        Thread.Sleep(TimeSpan.FromMilliseconds(2 * perBox));
        clock.Restart();
        cancel.Cancel();
        var error = Assert.ThrowsAny<OperationCanceledException>(() => estimate.GetAwaiter().GetResult());
        double stopMilliseconds = clock.Elapsed.TotalMilliseconds;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{ManyBoxes} boxes at {perBox:F2} ms a box: stopped {stopMilliseconds:F1} ms after the token was canceled");
        Assert.Equal(cancel.Token, error.CancellationToken);
        // The whole estimate would take ManyBoxes × perBox; stopping takes about one box (bound loose for busy machines).
        Assert.True(stopMilliseconds < ManyBoxes * perBox / 4, $"took {stopMilliseconds:F1} ms to stop; one box takes {perBox:F2} ms");

        var after = estimator.Estimate(image, ImageWidth, ImageHeight, 3 * ImageWidth, PixelFormat.Rgb24, few, TestContext.Current.CancellationToken);
        Assert.True(SeededModels.SamePeople(before, after), "the people after a canceled estimate differ from those before");
        Assert.Equal(1, estimator.Instances);
    }
}
