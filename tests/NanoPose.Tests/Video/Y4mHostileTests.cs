using System.Diagnostics;
using System.Text;
using NanoPose.TestSupport;
using NanoPose.Video;

namespace NanoPose.Tests.Video;

/// <summary>
/// Hostile Y4M streams: every truncation of a valid stream, seeded mutations of it, hand-written bad headers and absurd
/// sizes, and endless inputs. Each ends in frames or in a <see cref="VideoFormatException"/> that names the stream and
/// the problem, allocates in proportion to the bytes given (a header declaring a huge frame costs nothing until the
/// bytes come), and an endless stream is either refused within a line's bound or read frame after frame in constant memory.
/// </summary>
public sealed class Y4mHostileTests
{
    private const int Seed = 1604;

    /// <summary>Three 8×6 4:2:0 frames under ffmpeg's header.</summary>
    private static readonly byte[] Valid = Y4mFrameSourceTests.Stream("YUV4MPEG2 W8 H6 F30:1 Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED",
        [.. Enumerable.Range(0, 72).Select(i => (byte)(3 * i))], [.. Enumerable.Range(0, 72).Select(i => (byte)(255 - i))], new byte[72]);

    private static readonly string[] BadHeaders =
    [
        "", "\n", "YUV4MPEG", "YUV4MPEG2", "YUV4MPEG2 W8", "YUV4MPEG2 H6", "YUV4MPEG2 W0 H6", "YUV4MPEG2 W-8 H6", "YUV4MPEG2 W8 H6x",
        "YUV4MPEG2 W99999 H99999", "YUV4MPEG2 W7681 H4321", "YUV4MPEG2 W2147483648 H1", "YUV4MPEG2 W99999999999999999999 H1",
        "YUV4MPEG2 W8 H6 F0:1", "YUV4MPEG2 W8 H6 F30:0", "YUV4MPEG2 W8 H6 F30", "YUV4MPEG2 W8 H6 F1:2:3", "YUV4MPEG2 W8 H6 F4294967296:1",
        "YUV4MPEG2 W8 H6 C420p10", "YUV4MPEG2 W8 H6 C444alpha", "YUV4MPEG2 W8 H6 Cbogus", "YUV4MPEG2 W8 H6 XCOLORRANGE=ODD",
        "yuv4mpeg2 W8 H6", "YUV4MPEG2\tW8\tH6", "\u00ffYUV4MPEG2 W8 H6", "YUV4MPEG2 W8 H6 " + new string('A', 5000),
    ];

    [Fact]
    public void HostileStreamsEndInFramesOrNamedErrors()
    {
        var family = new FuzzFamily("Y4M streams", Seed, typeof(VideoFormatException));
        double worstMilliseconds = 0;
        void Run(string label, byte[] input)
        {
            long start = Stopwatch.GetTimestamp();
            family.Run(label, input, ReadAll);
            worstMilliseconds = Math.Max(worstMilliseconds, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        Run("valid", Valid);
        int length = 0;
        foreach (var prefix in Mutations.Truncations(Valid)) Run($"truncated to {length++}", prefix);
        for (int i = 0; i < 600; i++) Run($"mutation {i}", Mutations.Mutate(Valid, Mutations.CaseRandom(Seed, i)));
        for (int i = 0; i < BadHeaders.Length; i++)
        {
            Run($"header {i}", Encoding.Latin1.GetBytes(BadHeaders[i] + "\n"));
            Run($"header {i} with a frame", [.. Encoding.Latin1.GetBytes(BadHeaders[i] + "\n"), .. "FRAME\n"u8, .. new byte[72]]);
        }
        // Absurd but allowed sizes with few bytes behind them: refused as truncated, never allocated up front.
        Run("8K header, 10 bytes", [.. "YUV4MPEG2 W7680 H4320 C444\nFRAME\n"u8, .. new byte[10]]);
        Run("bad frame line", [.. Valid[..Valid.AsSpan().IndexOf((byte)'\n')], (byte)'\n', .. "FRAMEX\n"u8, .. new byte[72]]);
        Run("frame line without end", [.. "YUV4MPEG2 W8 H6\n"u8, .. Encoding.ASCII.GetBytes("FRAME " + new string('x', 2000))]);

        TestContext.Current.TestOutputHelper?.WriteLine($"Y4mHostileTests: {family.Cases} cases, worst {worstMilliseconds:F2} ms for one case");
        Assert.True(family.Outcomes.GetValueOrDefault("success") >= 1, "not even the valid stream was read");
        family.Finish(minimumCases: 900, timeBound: TimeSpan.FromSeconds(20));
    }

    /// <summary>Endless input: a header line that never ends and a frame line that never ends are refused within
    /// their byte bounds; an endless stream of valid frames is read in constant memory (allocation per frame is the
    /// frame object, not its pixels) until the caller cancels.</summary>
    [Fact]
    public void EndlessStreamsAreBounded()
    {
        var output = TestContext.Current.TestOutputHelper;
        var clock = Stopwatch.StartNew();
        var endlessHeader = new EndlessStream([], (byte)'W');
        var e = Assert.Throws<VideoFormatException>(() => new Y4mFrameSource(endlessHeader, "endless"));
        Assert.Contains("no newline within 4096 bytes", e.Message);
        Assert.True(endlessHeader.Served <= Y4mFrameSource.MaxHeaderBytes + 1, $"read {endlessHeader.Served} bytes of an endless header");


        var endlessFrameLine = new EndlessStream("YUV4MPEG2 W8 H6\n"u8.ToArray(), (byte)'F');
        using (var source = new Y4mFrameSource(endlessFrameLine, "endless"))
            Assert.Contains("has no newline within 1024 bytes", Assert.Throws<VideoFormatException>(() => source.ReadFrame(TestContext.Current.CancellationToken)).Message);

        // 640×480 4:2:0 frames forever: 300 are read, then the token stops the reader.
        const int width = 640, height = 480;
        byte[] frame = [.. "FRAME\n"u8, .. new byte[width * height * 3 / 2]];
        var endlessFrames = new EndlessStream(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{width} H{height} F30:1 C420jpeg\n"), frame);
        using var cancel = new CancellationTokenSource();
        using (var source = new Y4mFrameSource(new BufferedStream(endlessFrames, 1 << 16), "camera"))
        {
            source.ReadFrame(TestContext.Current.CancellationToken);   // the buffers are allocated with the first frame
            long before = GC.GetAllocatedBytesForCurrentThread();
            const int frames = 300;
            for (int i = 0; i < frames; i++) Assert.NotNull(source.ReadFrame(cancel.Token));
            long perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / frames;
            cancel.Cancel();
            Assert.Throws<OperationCanceledException>(() => source.ReadFrame(cancel.Token));
            output?.WriteLine($"endless 640×480 stream: {frames} frames after the first, {perFrame} bytes allocated per frame, {clock.Elapsed.TotalSeconds:F2} s in all");
            Assert.True(perFrame < 1024, $"{perFrame} bytes allocated per frame: the frame buffers are not reused");
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the endless-input cases took {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static void ReadAll(byte[] input)
    {
        using var source = new Y4mFrameSource(new MemoryStream(input), FuzzFamily.Source);
        for (int frames = 0; frames < 1000 && source.ReadFrame(TestContext.Current.CancellationToken) is not null; frames++) { }
    }

    /// <summary>A prefix, then a pattern repeated forever (as a camera pipe that never closes).</summary>
    private sealed class EndlessStream(byte[] prefix, params byte[] pattern) : Stream
    {
        public long Served { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            // One run of the prefix or the pattern at a time.
            var from = Served < prefix.Length ? prefix.AsSpan((int)Served) : pattern.AsSpan((int)((Served - prefix.Length) % pattern.Length));
            int n = Math.Min(from.Length, buffer.Length);
            from[..n].CopyTo(buffer);
            Served += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
