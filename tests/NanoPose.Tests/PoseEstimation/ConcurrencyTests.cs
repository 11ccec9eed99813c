using System.Diagnostics;
using System.Runtime.Intrinsics;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.PoseEstimation;

/// <summary>
/// One <see cref="PoseEstimator"/> shared by many threads: every call gives the people a sequential run gives, bit
/// for bit, while the estimator builds no more estimation instances than calls ran at once; disposing it while calls
/// run lets them finish and refuses later ones. Seeded random models (<see cref="SeededModels"/>): a top-down
/// PP-TinyPose-like network at 64×64 (32×32 under software vectors) and a bottom-up EfficientHRNet H−4 at 384×384.
/// </summary>
public class ConcurrencyTests
{
    private const int Threads = 8;
    private const int ImageWidth = 96, ImageHeight = 80;

    /// <summary>Software vectors (CI's DOTNET_EnableHWIntrinsic=0 leg) are ~20× slower: fewer calls there.</summary>
    private static readonly bool Hardware = Vector128.IsHardwareAccelerated;

    private static readonly Lazy<byte[]> TopDownModel = new(() => Hardware ? SeededModels.TopDown(64, 64) : SeededModels.TopDown(32, 32));
    private static readonly Lazy<byte[]> BottomUpModel = new(() => SeededModels.BottomUp());

    /// <summary>One call's arguments: an image (RGB or BGR) and its boxes.</summary>
    private sealed record Job(byte[] Pixels, int Width, int Height, PixelFormat Format, PersonBox[]? Boxes)
    {
        public IReadOnlyList<EstimatedPerson> Run(PoseEstimator estimator, CancellationToken cancellationToken) =>
            estimator.Estimate(Pixels, Width, Height, 3 * Width, Format, Boxes, cancellationToken);
    }

    /// <summary>Four different images, two of them in BGR (the red-blue swap buffer is per call too), with boxes that
    /// differ from image to image (one without boxes: the two-pass whole-image search).</summary>
    private static Job[] TopDownJobs() =>
    [
        new(SeededModels.Image(ImageWidth, ImageHeight, 1), ImageWidth, ImageHeight, PixelFormat.Rgb24,
            [new(10, 5, 40, 70, 0.9f), new(50, 0, 40, 80, 0.8f), new(20, 20, 30, 30, 0.5f)]),
        new(SeededModels.SwapRedAndBlue(SeededModels.Image(ImageWidth, ImageHeight, 2)), ImageWidth, ImageHeight, PixelFormat.Bgr24,
            [new(0, 0, ImageWidth, ImageHeight, 0.7f), new(30, 10, 40, 60, 0.6f)]),
        new(SeededModels.Image(ImageWidth, ImageHeight, 3), ImageWidth, ImageHeight, PixelFormat.Rgb24, null),
        new(SeededModels.SwapRedAndBlue(SeededModels.Image(64, 96, 4)), 64, 96, PixelFormat.Bgr24,
            [new(5, 5, 50, 80, 0.95f), new(-10, 40, 40, 60, 0.4f)]),
    ];

    /// <summary>Each job once, in order, on one thread.</summary>
    private static IReadOnlyList<EstimatedPerson>[] Sequential(PoseEstimator estimator, Job[] jobs)
    {
        var expected = jobs.Select(job => job.Run(estimator, TestContext.Current.CancellationToken)).ToArray();
        Assert.All(expected, people => Assert.NotEmpty(people));
        // The check below could not fail if every job gave the same people.
        for (int j = 1; j < jobs.Length; j++)
            Assert.False(SeededModels.SamePeople(expected[0], expected[j]), $"jobs 0 and {j} give the same people");
        return expected;
    }

    /// <summary><paramref name="threads"/> threads released together, each making <paramref name="callsPerThread"/> calls
    /// over the jobs in its own order; every result is compared with the sequential one.</summary>
    private static void AssertConcurrentCallsMatchSequentialOnes(PoseEstimator estimator, Job[] jobs, int threads, int callsPerThread, string what)
    {
        var expected = Sequential(estimator, jobs);
        var testCanceled = TestContext.Current.CancellationToken;
        using var start = new Barrier(threads);
        var mismatches = new List<string>();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int call = 0; call < callsPerThread; call++)
            {
                int j = (t + call * (t % 2 == 0 ? 1 : 3)) % jobs.Length;
                if (!SeededModels.SamePeople(expected[j], jobs[j].Run(estimator, testCanceled)))
                    lock (mismatches) mismatches.Add($"thread {t}, call {call}, job {j}");
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{what}: {threads} threads × {callsPerThread} calls in {clock.Elapsed.TotalSeconds:F2} s, {estimator.Instances} estimation instances");
        Assert.True(mismatches.Count == 0, $"{what}: {mismatches.Count} calls differ from the sequential run: {string.Join("; ", mismatches.Take(5))}");
        Assert.InRange(estimator.Instances, 1, threads);
        Assert.Equal(0, estimator.CallsRunning);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TopDownCallsFromEightThreadsAreBitIdenticalToSequentialOnes(int estimatorThreads)
    {
        using var estimator = PoseEstimator.Load(TopDownModel.Value, new PoseEstimatorOptions { Threads = estimatorThreads, FlipTest = Hardware });
        AssertConcurrentCallsMatchSequentialOnes(estimator, TopDownJobs(), Threads, Hardware ? 24 : 2, $"top-down, Threads = {estimatorThreads}");
    }

    [Fact]
    public void BottomUpCallsFromEightThreadsAreBitIdenticalToSequentialOnes()
    {
        // A call costs ~0.3 s with hardware vectors (mostly grouping the random model's 30 people), 4.5 s without: the
        // instance pool does not depend on the vector width, and the top-down tests above cover it there.
        Assert.SkipUnless(Hardware, "bottom-up calls take seconds each with software vectors (DOTNET_EnableHWIntrinsic=0)");
        using var estimator = PoseEstimator.Load(BottomUpModel.Value);
        Job[] jobs =
        [
            new(SeededModels.Image(64, 64, 5), 64, 64, PixelFormat.Rgb24, null),
            new(SeededModels.SwapRedAndBlue(SeededModels.Image(64, 64, 6)), 64, 64, PixelFormat.Bgr24, null),
            new(SeededModels.Image(64, 64, 7), 64, 64, PixelFormat.Rgb24, null),
        ];
        AssertConcurrentCallsMatchSequentialOnes(estimator, jobs, Threads, 1, "bottom-up H−4");
    }

    [Fact]
    public void DisposingWhileCallsRunLetsThemFinishAndRefusesLaterCalls()
    {
        // Threads = 2: the estimator owns a worker pool, used by whichever call holds the first instance.
        var estimator = PoseEstimator.Load(TopDownModel.Value, new PoseEstimatorOptions { Threads = 2 });
        Assert.Equal(1, estimator.LiveWorkers);
        var jobs = TopDownJobs();
        var expected = Sequential(estimator, jobs);
        var testCanceled = TestContext.Current.CancellationToken;
        int disposeStarted = 0, disposeReturned = 0, spanningDispose = 0, finishedAfterDispose = 0, refused = 0;
        var problems = new List<string>();
        using var warm = new CountdownEvent(Threads);
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (int call = 0; ; call++)
            {
                int j = (t + call) % jobs.Length;
                bool startedBeforeDispose = Volatile.Read(ref disposeStarted) == 0;
                try
                {
                    var people = jobs[j].Run(estimator, testCanceled);
                    if (!SeededModels.SamePeople(expected[j], people)) lock (problems) problems.Add($"thread {t}, call {call}: other people");
                    if (Volatile.Read(ref disposeReturned) != 0)
                    {
                        Interlocked.Increment(ref finishedAfterDispose);
                        if (startedBeforeDispose) Interlocked.Increment(ref spanningDispose);
                    }
                }
                catch (ObjectDisposedException e) when (e.ObjectName == typeof(PoseEstimator).FullName)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
                catch (Exception e)
                {
                    lock (problems) problems.Add($"thread {t}, call {call}: {e.GetType().Name}: {e.Message}");
                    return;
                }
                if (call == 1) warm.Signal();
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        warm.Wait(testCanceled);   // every thread has finished two calls and is making more
        Volatile.Write(ref disposeStarted, 1);
        estimator.Dispose();
        Volatile.Write(ref disposeReturned, 1);
        int liveWorkersRightAfterDispose = estimator.LiveWorkers;
        workers.ForEach(t => t.Join());

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Threads} threads: {spanningDispose} calls ran across Dispose and finished, {finishedAfterDispose} finished after it, " +
            $"{refused} refused; {estimator.Instances} instances; worker threads right after Dispose: {liveWorkersRightAfterDispose}");
        Assert.True(problems.Count == 0, string.Join("; ", problems.Take(5)));
        Assert.Equal(Threads, refused);   // every thread's loop ended on ObjectDisposedException
        Assert.True(spanningDispose > 0, "no call was running while Dispose ran: the test saw nothing");
        Assert.Equal(0, estimator.CallsRunning);
        Assert.Equal(0, estimator.LiveWorkers);   // released by the last call out
        Assert.Throws<ObjectDisposedException>(() => jobs[0].Run(estimator, testCanceled));
        estimator.Dispose();   // twice is harmless
    }

    [Fact]
    public void DisposingAnIdleEstimatorReleasesItsWorkersAtOnce()
    {
        var estimator = PoseEstimator.Load(TopDownModel.Value, new PoseEstimatorOptions { Threads = 3 });
        Assert.Equal(2, estimator.LiveWorkers);
        estimator.Dispose();
        Assert.Equal(0, estimator.LiveWorkers);
        Assert.Throws<ObjectDisposedException>(() => TopDownJobs()[0].Run(estimator, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void OneThreadUsesOneInstance()
    {
        using var estimator = PoseEstimator.Load(TopDownModel.Value);
        foreach (var job in TopDownJobs().Concat(TopDownJobs())) job.Run(estimator, TestContext.Current.CancellationToken);
        Assert.Equal(1, estimator.Instances);
    }
}
