using NanoPose.TestSupport;
using NanoPose.Tests.PoseEstimation;
using NanoPose.Tracking;
using NanoPose.Video;

namespace NanoPose.Tests.Tracking;

/// <summary>The tracker's asynchronous stream over a frame source, with the models the CLI ships.</summary>
public sealed class PoseTrackerTests
{
    private static string ShippedModel(string name) => Path.Combine(SharedData.RepositoryRoot, "src", "NanoPose.Models", name);

    /// <summary>Three grey frames: three tracked frames in order with their timestamps; a token canceled after the first frame stops the stream with <see cref="OperationCanceledException"/>.</summary>
    [Fact]
    public async Task TrackAsyncYieldsEveryFrameAndStopsWhenCanceled()
    {
        using var detector = PersonDetector.Load(ShippedModel("picodet-s-192.npw"));
        using var estimator = PoseEstimator.Load(ShippedModel("pp-tinypose-256x192.npw"));
        var tracker = new PoseTracker(estimator, detector, new PoseTrackerOptions { DetectEvery = 4 });
        byte[] grey = [.. Enumerable.Repeat((byte)128, 64 * 48 * 3 / 2)];
        byte[] stream = [.. System.Text.Encoding.ASCII.GetBytes("YUV4MPEG2 W64 H48 F25:1 C420jpeg\n"), .. "FRAME\n"u8, .. grey, .. "FRAME\n"u8, .. grey, .. "FRAME\n"u8, .. grey];

        using (var source = new Y4mFrameSource(new MemoryStream(stream), "grey.y4m"))
        {
            var frames = new List<TrackedFrame>();
            await foreach (var frame in tracker.TrackAsync(source, TestContext.Current.CancellationToken)) frames.Add(frame);
            Assert.Equal([0L, 1, 2], frames.Select(f => f.Frame.Index));
            Assert.Equal([0.0, 0.04, 0.08], frames.Select(f => Math.Round(f.Frame.Time, 9)));
            // PicoDet takes a whole uniform grey frame for a person at times (0.64 with the 192 model): whatever it finds
            // keeps one ID, and the first frame is detected.
            Assert.True(frames[0].Detected);
            var ids = frames[0].People.Select(p => p.TrackId).ToHashSet();
            Assert.All(frames, f => Assert.Subset(ids, f.People.Select(p => p.TrackId).ToHashSet()));
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        using var again = new Y4mFrameSource(new MemoryStream(stream), "grey.y4m");
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in tracker.TrackAsync(again, cancel.Token))
            {
                seen++;
                cancel.Cancel();
            }
        });
        Assert.Equal(1, seen);
    }

    /// <summary>
    /// Bottom-up models go through the same tracker, which ignores DetectEvery for them (they find everyone in every
    /// frame). A seeded EfficientHRNet H−4 on a still sequence of a seeded image: every person keeps their ID in every
    /// frame. Its random weights give people whose joints all score under the tracker's 0.3 confidence (which once made
    /// every frame's people new): they are matched by the extent of all their joints.
    /// </summary>
    [Fact]
    public void BottomUpModelsUseTheSameTracker()
    {
        const int width = 256, height = 192;
        using var estimator = PoseEstimator.Load(SeededModels.BottomUp());
        var tracker = new PoseTracker(estimator, detector: null, new PoseTrackerOptions { DetectEvery = 5 });
        byte[] still = SeededModels.Image(width, height, seed: 3);
        var frames = Enumerable.Range(0, 4).Select(k =>
            tracker.Track(new VideoFrame(still, width, height, 3 * width, PixelFormat.Rgb24, k, k / 25.0), TestContext.Current.CancellationToken)).ToList();
        var ids = frames.Select(f => f.People.Select(p => p.TrackId).ToArray()).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"{ids[0].Length} people; IDs per frame: {string.Join(" | ", ids.Select(i => string.Join(",", i)))}");

        Assert.All(frames, f => Assert.True(f.Detected));
        Assert.NotEmpty(ids[0]);
        Assert.All(ids, frameIds => Assert.Equal(ids[0], frameIds));
        Assert.Equal(ids[0].Length, tracker.LiveTracks);
    }
}
