using NanoPose.TestSupport;
using NanoPose.Tracking;
using NanoPose.Video;

namespace NanoPose.Tests.Tracking;

/// <summary>The tracker's asynchronous stream over a frame source, with the models the CLI ships.</summary>
public sealed class PoseTrackerTests
{
    private static string ShippedModel(string name) => Path.Combine(SharedData.RepositoryRoot, "src", "NanoPose.Cli", "Models", name);

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
}
