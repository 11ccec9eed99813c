using System.Text;
using NanoPose.Video;

namespace NanoPose.Tests.Video;

/// <summary>Y4M reading and writing: the colour conversion against BT.601's published values, round trips through
/// the writer, ffmpeg's header, and streams that end partway.</summary>
public sealed class Y4mFrameSourceTests
{
    /// <summary>A stream of one frame of the given planes under the given header.</summary>
    internal static byte[] Stream(string header, params byte[][] frames)
    {
        var bytes = new MemoryStream();
        bytes.Write(Encoding.ASCII.GetBytes(header + "\n"));
        foreach (var frame in frames)
        {
            bytes.Write("FRAME\n"u8);
            bytes.Write(frame);
        }
        return bytes.ToArray();
    }

    private static byte[] Planes444(int pixels, byte y, byte cb, byte cr) =>
        [.. Enumerable.Repeat(y, pixels), .. Enumerable.Repeat(cb, pixels), .. Enumerable.Repeat(cr, pixels)];

    /// <summary>BT.601's studio-range codes of black, white and the primaries (Rec. 601 / ITU-R BT.601-7 table values,
    /// Y′CbCr of 75 %-free 100 % bars) read back as their RGB within one code.</summary>
    [Theory]
    [InlineData(16, 128, 128, 0, 0, 0)]
    [InlineData(235, 128, 128, 255, 255, 255)]
    [InlineData(81, 90, 240, 255, 0, 0)]
    [InlineData(145, 54, 34, 0, 255, 0)]
    [InlineData(41, 240, 110, 0, 0, 255)]
    public void LimitedRangeBt601CodesReadAsTheirColours(byte y, byte cb, byte cr, int r, int g, int b)
    {
        using var source = new Y4mFrameSource(new MemoryStream(Stream("YUV4MPEG2 W2 H2 F25:1 Ip A1:1 C444 XYSCSS=444", Planes444(4, y, cb, cr))), "test.y4m");
        var frame = source.ReadFrame(TestContext.Current.CancellationToken)!;
        for (int p = 0; p < 4; p++)
        {
            Assert.InRange(frame.Pixels[3 * p], r - 1, r + 1);
            Assert.InRange(frame.Pixels[3 * p + 1], g - 1, g + 1);
            Assert.InRange(frame.Pixels[3 * p + 2], b - 1, b + 1);
        }
        Assert.Null(source.ReadFrame(TestContext.Current.CancellationToken));
    }

    /// <summary>Full range (<c>XCOLORRANGE=FULL</c>, JFIF's equations): Y 0 and 255 are black and white, and red is
    /// (76, 85, 255).</summary>
    [Fact]
    public void FullRangeIsReadAsDeclared()
    {
        using var source = new Y4mFrameSource(new MemoryStream(Stream("YUV4MPEG2 W1 H1 C444 XCOLORRANGE=FULL",
            Planes444(1, 255, 128, 128), Planes444(1, 0, 128, 128), Planes444(1, 76, 85, 255))), "full.y4m");
        Assert.Equal(YuvRange.Full, source.Range);
        Assert.Equal([255, 255, 255], source.ReadFrame(TestContext.Current.CancellationToken)!.Pixels.Take(3).Select(v => (int)v));
        Assert.Equal([0, 0, 0], source.ReadFrame(TestContext.Current.CancellationToken)!.Pixels.Take(3).Select(v => (int)v));
        var red = source.ReadFrame(TestContext.Current.CancellationToken)!.Pixels;
        Assert.InRange(red[0], 254, 255);
        Assert.InRange(red[1], 0, 1);
        Assert.InRange(red[2], 0, 1);
    }

    /// <summary>ffmpeg's yuv4mpegpipe header (limited-range 4:2:0 with its X extensions, an NTSC rate): size, rate,
    /// chroma and range as declared, and each 4:2:0 chroma sample covering its 2×2 block (odd sizes round up).</summary>
    [Fact]
    public void FfmpegHeaderAnd420ChromaBlocks()
    {
        const int width = 5, height = 3;   // chroma 3 × 2
        byte[] luma = [.. Enumerable.Repeat((byte)126, width * height)];
        byte[] cb = [128, 128, 128, 128, 128, 128];
        byte[] cr = [240, 128, 128, 128, 128, 16];   // red-ish top-left block, cyan-ish bottom-right
        using var source = new Y4mFrameSource(new MemoryStream(Stream(
            "YUV4MPEG2 W5 H3 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED", [.. luma, .. cb, .. cr])), "ffmpeg.y4m");
        Assert.Equal((5, 3, Y4mChroma.Yuv420, YuvRange.Limited), (source.Width, source.Height, source.Chroma, source.Range));
        Assert.Equal(30000.0 / 1001, source.Rate.FramesPerSecond, 9);
        var frame = source.ReadFrame(TestContext.Current.CancellationToken)!;
        byte Red(int x, int y) => frame.Pixels[3 * (y * width + x)];
        Assert.All(new[] { (0, 0), (1, 0), (0, 1), (1, 1) }, p => Assert.True(Red(p.Item1, p.Item2) > 200, $"pixel {p} is in the red block"));
        Assert.True(Red(2, 0) is > 100 and < 160, "pixel (2, 0) has neutral chroma");
        Assert.True(Red(4, 2) < 60, "pixel (4, 2) is in the cyan block of the rounded-up last chroma column and row");
        Assert.Equal(0.0, frame.Time);
    }

    /// <summary>The writer's 4:4:4 full-range stream reads back within one code per channel; its 4:2:0 limited-range
    /// stream within a few codes on smooth content (chroma is shared by 2×2 blocks); timestamps follow the rate.</summary>
    [Theory]
    [InlineData(Y4mChroma.Yuv444, YuvRange.Full, 1)]
    [InlineData(Y4mChroma.Yuv420, YuvRange.Limited, 6)]
    public void WriterRoundTrips(Y4mChroma chroma, YuvRange range, int tolerance)
    {
        const int width = 18, height = 11;
        var rgb = new byte[3 * width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                (rgb[3 * (y * width + x)], rgb[3 * (y * width + x) + 1], rgb[3 * (y * width + x) + 2]) = ((byte)(4 * x + 20), (byte)(6 * y + 5), (byte)(200 - 3 * x - 2 * y));
        var stream = new MemoryStream();
        using (var writer = new Y4mWriter(stream, width, height, new FrameRate(25, 1), chroma, range, ownsStream: false))
        {
            writer.Write(rgb, width, height, 3 * width);
            writer.Write(rgb, width, height, 3 * width);
        }
        using var source = new Y4mFrameSource(new MemoryStream(stream.ToArray()), "written.y4m");
        Assert.Equal((chroma, range), (source.Chroma, source.Range));
        for (int i = 0; i < 2; i++)
        {
            var frame = source.ReadFrame(TestContext.Current.CancellationToken)!;
            Assert.Equal(i / 25.0, frame.Time, 12);
            int worst = rgb.Select((v, k) => Math.Abs(v - frame.Pixels[k])).Max();
            Assert.True(worst <= tolerance, $"frame {i}: a channel is off by {worst}, allowed {tolerance}");
        }
        Assert.Null(source.ReadFrame(TestContext.Current.CancellationToken));
    }

    /// <summary>A stream cut inside its last frame: the whole frames before it are read, then an error names the
    /// frame and how many of its bytes came.</summary>
    [Fact]
    public void TruncatedLastFrameIsReportedAfterTheWholeFrames()
    {
        byte[] whole = Stream("YUV4MPEG2 W4 H2 C444", Planes444(8, 100, 128, 128), Planes444(8, 100, 128, 128));
        using var source = new Y4mFrameSource(new MemoryStream(whole[..^5]), "cut.y4m");
        Assert.NotNull(source.ReadFrame(TestContext.Current.CancellationToken));
        var e = Assert.Throws<VideoFormatException>(() => source.ReadFrame(TestContext.Current.CancellationToken));
        Assert.Equal("cut.y4m: frame 1 is truncated: the stream ended after 19 of its 24 bytes", e.Message);
    }

    [Fact]
    public void RawFramesAndTheirTruncation()
    {
        byte[] frames = [.. Enumerable.Range(0, 2 * 12 + 7).Select(i => (byte)i)];
        using var source = new RawFrameSource(new MemoryStream(frames), "stdin", 2, 2, PixelFormat.Bgr24, new FrameRate(10, 1));
        var first = source.ReadFrame(TestContext.Current.CancellationToken)!;
        Assert.Equal((PixelFormat.Bgr24, 0.0), (first.Format, first.Time));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (byte)i), first.Pixels.Take(12));
        Assert.Equal(0.1, source.ReadFrame(TestContext.Current.CancellationToken)!.Time, 12);
        Assert.Equal("stdin: frame 2 is truncated: the stream ended after 7 of its 12 bytes", Assert.Throws<VideoFormatException>(() => source.ReadFrame(TestContext.Current.CancellationToken)).Message);
    }

    [Fact]
    public void NaturalOrderCountsDigitRuns()
    {
        string[] names = ["f10.png", "f2.png", "f1.png", "a/f9.png", "f01.png", "g.png", "f100.png"];
        Assert.Equal(["a/f9.png", "f01.png", "f1.png", "f2.png", "f10.png", "f100.png", "g.png"], names.Order(NaturalOrder.Comparer));
    }
}
