using System.Diagnostics;
using NanoPose.TestSupport;

namespace NanoPose.ImageSharp.Tests.Hostile;

/// <summary>
/// Image bombs (issue 15, class 9): small files that make a decoder spend gigabytes or minutes. PNGs whose zTXt and
/// iTXt chunks inflate to tens of megabytes of text must decode their pixels with the text never inflated (bounded
/// allocation and time); progressive JPEGs with more scans than <see cref="ImageFileDecoder.MaxJpegScans"/> must be
/// refused before decoding; a slow decode must stop soon after its cancellation token fires.
/// </summary>
public class ImageBombHostileTests
{
    private const int Seed = 15_009;
    private static readonly ImageFileDecoder Decoder = new();

    /// <summary>Pixels at most 64×64 here: what decoding them justifies, plus ImageSharp's per-call setup.</summary>
    private static long AllowedAllocation(long length) => 16 * length + (8 << 20);

    [Fact]
    public void PngTextBombsDecodeWithTheTextNeverInflated()
    {
        var random = new Random(Seed);
        int[] inflatedMegabytes = [8, 32, 64];
        var family = new FuzzFamily("PNG zTXt/iTXt bombs", Seed, typeof(ImageFileException)) { AllowedAllocation = AllowedAllocation };
        for (int i = 0; i < 30; i++)
        {
            int width = 8 + random.Next(57), height = 8 + random.Next(57), chunks = 1 + random.Next(3);
            var extras = new List<(string, byte[])>();
            for (int c = 0; c < chunks; c++)
            {
                int size = inflatedMegabytes[random.Next(inflatedMegabytes.Length)] << 20;
                extras.Add(random.Next(2) == 0 ? ("zTXt", HostileImages.CompressedText(size)) : ("iTXt", HostileImages.InternationalText(size)));
            }
            bool after = random.Next(2) == 0;
            byte[] png = HostileImages.Png(width, height, extras, after);
            family.Run($"{i}: {width}×{height}, {string.Join(" + ", extras.Select(e => e.Item1))} {(after ? "after" : "before")} IDAT", png, bytes =>
            {
                var image = Decoder.Decode(new MemoryStream(bytes, writable: false), FuzzFamily.Source);
                Assert.Equal((width, height), (image.Width, image.Height));
                for (int y = 0; y < height; y += 7)
                    for (int x = 0; x < width; x += 5)
                        for (int c = 0; c < 3; c++)
                            Assert.Equal(HostileImages.Pattern(x, y, c), image.Pixels[y * image.Stride + x * 3 + c]);
            });
        }
        family.Finish(30, TimeSpan.FromSeconds(10));
        Assert.Equal(family.Cases, family.Outcomes.GetValueOrDefault("success"));
    }

    [Fact]
    public void JpegsWithTooManyScansAreRefusedBeforeDecoding()
    {
        var random = new Random(Seed);
        var family = new FuzzFamily("progressive JPEG scan bombs", Seed, typeof(ImageFileException)) { AllowedAllocation = AllowedAllocation };
        int refused = 0;
        for (int i = 0; i < 40; i++)
        {
            bool overTheCap = i % 4 != 0;
            // Within the cap: small images that decode (the files are valid); over it: up to 4096×4096 and 3000 scans.
            int side = overTheCap ? 256 << random.Next(5) : 16 + random.Next(48);
            int scans = overTheCap ? ImageFileDecoder.MaxJpegScans + random.Next(3000) : random.Next(ImageFileDecoder.MaxJpegScans);
            byte[] jpeg = HostileImages.ProgressiveJpeg(side, side, scans);
            family.Run($"{i}: {side}×{side}, 1 + {scans} scans", jpeg, bytes =>
            {
                try
                {
                    var image = Decoder.Decode(new MemoryStream(bytes, writable: false), FuzzFamily.Source);
                    Assert.False(overTheCap, $"{1 + scans} scans were decoded, the cap is {ImageFileDecoder.MaxJpegScans}");
                    Assert.Equal((side, side), (image.Width, image.Height));
                    Assert.All(image.Pixels, p => Assert.Equal(128, p));   // all coefficients zero: mid-grey
                }
                catch (ImageFileException e) when (overTheCap)
                {
                    Assert.Contains("scans", e.Message);
                    refused++;
                    throw;
                }
            });
        }
        family.Finish(40, TimeSpan.FromSeconds(5));
        Assert.Equal(30, refused);
    }

    [Fact]
    public void CancellationStopsASlowDecode()
    {
        // Within every limit, but slow: 7040×7040 (49.6 megapixels), as many scans as allowed (each visits all 774 400 blocks).
        byte[] jpeg = HostileImages.ProgressiveJpeg(7040, 7040, ImageFileDecoder.MaxJpegScans - 1);
        Decoder.Decode(new MemoryStream(jpeg, writable: false), "slow.jpg", TestContext.Current.CancellationToken);   // warm-up
        var whole = Stopwatch.StartNew();
        Decoder.Decode(new MemoryStream(jpeg, writable: false), "slow.jpg", TestContext.Current.CancellationToken);
        whole.Stop();

        using var cancellation = new CancellationTokenSource();
        var decode = Task.Run(() => Decoder.Decode(new MemoryStream(jpeg, writable: false), "slow.jpg", cancellation.Token), TestContext.Current.CancellationToken);
        // Early in the decode (it takes a quarter of a second or more even on a fast, idle machine), so that a decoder
        // that ignored the token could not have finished by then.
        Thread.Sleep(TimeSpan.FromMilliseconds(20));
        var cancelled = Stopwatch.StartNew();
        TestContext.Current.TestOutputHelper?.WriteLine($"whole {whole.ElapsedMilliseconds} ms; cancelling with the decode {(decode.IsCompleted ? "finished" : "running")}");
        cancellation.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            try { decode.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken); }
            catch (AggregateException e) { throw e.InnerException!; }
        });
        cancelled.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"whole decode {whole.ElapsedMilliseconds} ms; stopped {cancelled.ElapsedMilliseconds} ms after cancellation");
        Assert.True(cancelled.Elapsed < whole.Elapsed / 2, $"stopped {cancelled.ElapsedMilliseconds} ms after cancellation; the whole decode takes {whole.ElapsedMilliseconds} ms");
    }
}
