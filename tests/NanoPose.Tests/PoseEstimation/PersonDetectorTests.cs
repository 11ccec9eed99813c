using NanoPose.Pipelines.TopDown;
using NanoPose.Tests.Models.PicoDet;

namespace NanoPose.Tests.PoseEstimation;

/// <summary><see cref="PersonDetector"/> as a library user meets it: calls from several threads, and disposal.</summary>
public class PersonDetectorTests
{
    private static byte[] Photo(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    [Fact]
    public void ConcurrentCallsGiveWhatOneCallAtATimeGives()
    {
        using var detector = PersonDetector.Load(PicoDetGoldenTests.Npw(192), new PersonDetectorOptions { ScoreThreshold = 0 });
        var photos = Enumerable.Range(0, 6).Select(i => Photo(160 + 16 * i, 120, i)).ToArray();
        var alone = photos.Select((p, i) => detector.Detect(p, 160 + 16 * i, 120, (160 + 16 * i) * 3, PixelFormat.Rgb24, TestContext.Current.CancellationToken)).ToArray();
        Assert.Contains(alone, found => found.Count > 0);   // threshold 0: something to compare

        var together = new IReadOnlyList<PersonBox>[photos.Length * 4];
        Parallel.For(0, together.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            int i = k % photos.Length;
            together[k] = detector.Detect(photos[i], 160 + 16 * i, 120, (160 + 16 * i) * 3, PixelFormat.Rgb24, TestContext.Current.CancellationToken);
        });
        for (int k = 0; k < together.Length; k++) Assert.Equal(alone[k % photos.Length], together[k]);
    }

    [Fact]
    public void BgrGivesWhatTheSameImageInRgbGives()
    {
        using var detector = PersonDetector.Load(PicoDetGoldenTests.Npw(192), new PersonDetectorOptions { ScoreThreshold = 0 });
        var rgb = Photo(100, 80, 7);
        var bgr = (byte[])rgb.Clone();
        for (int p = 0; p < bgr.Length; p += 3) (bgr[p], bgr[p + 2]) = (bgr[p + 2], bgr[p]);
        Assert.Equal(detector.Detect(rgb, 100, 80, 300, PixelFormat.Rgb24, TestContext.Current.CancellationToken),
            detector.Detect(bgr, 100, 80, 300, PixelFormat.Bgr24, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void CallsAfterDisposeAreRefused()
    {
        var detector = PersonDetector.Load(PicoDetGoldenTests.Npw(192), new PersonDetectorOptions { Threads = 2 });
        detector.Dispose();
        detector.Dispose();   // twice is fine
        Assert.Throws<ObjectDisposedException>(() => detector.Detect(Photo(64, 64, 1), 64, 64, 192, PixelFormat.Rgb24, TestContext.Current.CancellationToken));
    }
}
