using System.Globalization;
using System.Text.Json;
using NanoPose.ImageSharp;
using NanoPose.TestSupport;
using NanoPose.Video;

namespace NanoPose.Cli.Tests;

/// <summary><c>nanopose video</c> end to end: a video made here from a real photo, tracked; raw frames on standard
/// input; folders in natural order; and bad input.</summary>
[Collection(nameof(VideoCommandTests))]   // swaps VideoCommand.StandardInput: its tests run one at a time
public sealed class VideoCommandTests : IDisposable
{
    private const int Frames = 12;
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-video-").FullName;
    private readonly Func<Stream> _standardInput = VideoCommand.StandardInput;

    public void Dispose()
    {
        VideoCommand.StandardInput = _standardInput;
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>
    /// coco-mini's five-skier photo (640×392) moving on a grey 768×480 canvas by known affine maps: frame k is the photo
    /// zoomed by 1 + 0.012·k (13 % by the last frame) and shifted by (4 + 2k, 4 + k) pixels, resampled bilinearly and
    /// written as a 4:2:0 limited-range Y4M file by this test, then tracked by the command. All five annotated people
    /// are found in the first frame, each keeps one track ID through every frame (no other ID appears), and their
    /// confident keypoints follow the known map of their first-frame positions within a few pixels. With
    /// <c>--det-every</c> above 1 the frames in between are estimated from the previous keypoints' boxes; with
    /// <c>--smooth</c> the keypoints may trail the motion by the documented One-Euro lag as well.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(5, false)]
    [InlineData(5, true)]
    public void PannedAndZoomedPhotoKeepsEveryTrackAndFollowsTheMotion(int detectEvery, bool smooth)
    {
        var output = TestContext.Current.TestOutputHelper;
        var photo = new ImageFileDecoder().Decode(SharedData.File("data/coco-mini/000000197388.jpg"), TestContext.Current.CancellationToken);
        const int width = 768, height = 480;
        static (double Scale, double X, double Y) Motion(int k) => (1 + 0.012 * k, 4 + 2 * k, 4 + k);
        string video = Path.Combine(_folder, "pan.y4m");
        WriteMovingPhoto(video, photo, width, height, Frames, Motion);
        // Where a point at (x, y) of the photo is in frame k (pixel-centre coordinates, as keypoints are).
        static (double X, double Y) InFrame(int k, double x, double y)
        {
            var (s, tx, ty) = Motion(k);
            return (tx + s * x + (s - 1) / 2, ty + s * y + (s - 1) / 2);
        }
        static (double X, double Y) InPhoto(double x, double y)
        {
            var (s, tx, ty) = Motion(0);
            return ((x - tx - (s - 1) / 2) / s, (y - ty - (s - 1) / 2) / s);
        }

        string lines = Path.Combine(_folder, "pan.jsonl"), drawn = Path.Combine(_folder, "drawn.y4m"), openPose = Path.Combine(_folder, "openpose");
        var error = new StringWriter();
        string[] args = ["video", video, "--det-every", $"{detectEvery}", "--jsonl", lines, "--draw", drawn, "--openpose-json", openPose, .. smooth ? ["--smooth"] : Array.Empty<string>()];
        Assert.True(CommandLine.Run(args, new StringWriter(), error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
        output?.WriteLine(error.ToString().Trim());

        var frames = File.ReadAllLines(lines).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Frames, frames.Count);
        var first = People(frames[0]);
        Assert.Equal(5, first.Count);
        var errors = new List<double>();
        for (int k = 0; k < Frames; k++)
        {
            Assert.Equal(k, frames[k].GetProperty("frame").GetInt32());
            Assert.Equal(k / 30.0, frames[k].GetProperty("time").GetDouble(), 5);
            Assert.Equal(k % detectEvery == 0, frames[k].GetProperty("detected").GetBoolean());
            var people = People(frames[k]);
            Assert.True(people.Keys.Order().SequenceEqual(first.Keys.Order()),
                $"frame {k}: track IDs {string.Join(",", people.Keys.Order())}, frame 0 had {string.Join(",", first.Keys.Order())}");
            foreach (var (id, keypoints) in people)
                for (int j = 0; j < CocoKeypoints.Count; j++)
                {
                    var (x0, y0, s0) = first[id][j];
                    var (x, y, s) = keypoints[j];
                    if (s0 < 0.5 || s < 0.5) continue;
                    var (px, py) = InPhoto(x0, y0);
                    var (ex, ey) = InFrame(k, px, py);
                    errors.Add(Math.Sqrt(Math.Pow(x - ex, 2) + Math.Pow(y - ey, 2)));
                }
        }
        errors.Sort();
        double median = errors[errors.Count / 2], p90 = errors[errors.Count * 9 / 10];
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"det-every {detectEvery}, smooth {smooth}: {errors.Count} joint positions, distance from the known motion median {median:F2} px, 90th percentile {p90:F2} px, max {errors[^1]:F2} px"));
        // Smoothing may add the One-Euro filter's documented lag: at most MaxLagFraction of the person's size.
        double sizes = frames.SelectMany(f => f.GetProperty("people").EnumerateArray())
            .Select(p => Math.Max(p.GetProperty("box")[2].GetDouble(), p.GetProperty("box")[3].GetDouble())).Order().ElementAt(Frames * first.Count / 2);
        double lag = smooth ? new Tracking.OneEuroParameters().MaxLagFraction * sizes : 0;
        output?.WriteLine($"median person size {sizes:F0} px, smoothing's lag bound {lag:F2} px");
        Assert.True(median <= 2 + lag, $"median distance from the known motion {median:F2} px, allowed {2 + lag:F2}");
        Assert.True(p90 <= 6 + lag, $"90th percentile distance from the known motion {p90:F2} px, allowed {6 + lag:F2}");

        // The drawn video: every frame, the input's size, with something drawn on it.
        using var drawnSource = new Y4mFrameSource(File.OpenRead(drawn), drawn);
        using var inputSource = new Y4mFrameSource(File.OpenRead(video), video);
        Assert.Equal((width, height), (drawnSource.Width, drawnSource.Height));
        for (int k = 0; k < Frames; k++)
        {
            var painted = drawnSource.ReadFrame(TestContext.Current.CancellationToken)!;
            var plain = inputSource.ReadFrame(TestContext.Current.CancellationToken)!;
            int changed = Enumerable.Range(0, painted.Pixels.Length).Count(i => Math.Abs(painted.Pixels[i] - plain.Pixels[i]) > 40);
            Assert.True(changed > 1000, $"drawn frame {k}: only {changed} channel values differ from the input");
        }
        Assert.Null(drawnSource.ReadFrame(TestContext.Current.CancellationToken));

        // OpenPose's layout: one file per frame, each person's track ID and 17 × 3 values.
        var files = Directory.GetFiles(openPose).Order().ToArray();
        Assert.Equal(Frames, files.Length);
        Assert.EndsWith("pan_000000000000_keypoints.json", files[0]);
        var openPoseFirst = JsonDocument.Parse(File.ReadAllText(files[0])).RootElement;
        Assert.Equal(1.3, openPoseFirst.GetProperty("version").GetDouble());
        var ids = openPoseFirst.GetProperty("people").EnumerateArray().Select(p =>
        {
            Assert.Equal(CocoKeypoints.ArrayLength, p.GetProperty("pose_keypoints_2d").GetArrayLength());
            return p.GetProperty("person_id")[0].GetInt32();
        });
        Assert.Equal(first.Keys.Order(), ids.Order());
    }

    /// <summary>
    /// Frames per second of <c>nanopose video</c> on 640×480 Y4M streams of 60 frames (a coco-mini photo with one
    /// person and the five-skier photo on a 640×480 canvas, shifted right a pixel a frame (back every 20 frames) and down
    /// half a pixel a frame), with the detector on
    /// every frame and every 5th, on one and two threads, beside the per-image pipeline on the same frames in memory
    /// (detector and pose on every frame, as <c>predict</c> runs each image, without decoding or tracking). A
    /// measurement, not a check: it runs only when NANOPOSE_VIDEO_FPS is set (it takes a minute) and prints each run.
    /// </summary>
    [Theory]
    [InlineData("000000000785.jpg")]
    [InlineData("000000197388.jpg")]
    public void FramesPerSecondOn640x480(string photoName)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NANOPOSE_VIDEO_FPS"))) Assert.Skip("a measurement: set NANOPOSE_VIDEO_FPS=1 to run it");
        const int width = 640, height = 480, frames = 60;
        var cancel = TestContext.Current.CancellationToken;
        var photo = new ImageFileDecoder().Decode(SharedData.File($"data/coco-mini/{photoName}"), cancel);
        string video = Path.Combine(_folder, "fps.y4m");
        WriteMovingPhoto(video, photo, width, height, frames, k => (1, k % 20, k / 2));
        var pixels = new List<byte[]>();
        using (var source = new Y4mFrameSource(File.OpenRead(video), video))
            while (source.ReadFrame(cancel) is { } frame) pixels.Add((byte[])frame.Pixels.Clone());

        // A first run compiles the code the runs below measure (the JIT); its time is not reported.
        CommandLine.Run(["video", video], new StringWriter(), new StringWriter(), cancel: cancel);
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (int detectEvery in new[] { 1, 5 })
            {
                var error = new StringWriter();
                Assert.Equal(0, CommandLine.Run(["video", video, "--det-every", $"{detectEvery}", "--threads", $"{threads}", "--jsonl", Path.Combine(_folder, "fps.jsonl")],
                    new StringWriter(), error, cancel: cancel));
                TestContext.Current.TestOutputHelper?.WriteLine($"{photoName}, video --threads {threads} --det-every {detectEvery}: {error.ToString().Trim()}");
            }
            using var detector = PersonDetector.Load(Weights.NpwFile.Parse(BuiltInDetector.Bytes(BuiltInDetector.DefaultSize), "detector"), new PersonDetectorOptions { Threads = threads });
            using var estimator = PoseEstimator.Load(BuiltInModel.LoadOr(null), new PoseEstimatorOptions { Threads = threads }, detector);
            estimator.Estimate(pixels[0], width, height, 3 * width, PixelFormat.Rgb24, cancellationToken: cancel);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int people = 0;
            foreach (var frame in pixels) people += estimator.Estimate(frame, width, height, 3 * width, PixelFormat.Rgb24, cancellationToken: cancel).Count;
            clock.Stop();
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{photoName}, per-image pipeline, {threads} thread(s): {frames} frames, {people} people, {clock.Elapsed.TotalSeconds:F2} s, {frames / clock.Elapsed.TotalSeconds:F1} frames/s"));
        }
    }

    /// <summary>Raw RGB frames on standard input ending inside the third frame: two frame lines, then the truncation
    /// reported and exit code 2.</summary>
    [Fact]
    public void RawStandardInputWithATruncatedLastFrame()
    {
        const int width = 64, height = 48;
        VideoCommand.StandardInput = () => new MemoryStream(new byte[3 * width * height * 5 / 2]);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["video", "-", "--raw", $"{width}x{height}", "--fps", "25"], output, error, cancel: TestContext.Current.CancellationToken));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal(0.04, JsonDocument.Parse(lines[1]).RootElement.GetProperty("time").GetDouble(), 9);
        Assert.Contains($"error: stdin: frame 2 is truncated: the stream ended after {3 * width * height / 2} of its {3 * width * height} bytes", error.ToString());
    }

    /// <summary>Y4M on standard input (what an ffmpeg pipe gives): a line per frame with the stream's own rate; --fps is
    /// refused for it.</summary>
    [Fact]
    public void Y4mStandardInput()
    {
        byte[] grey = [.. Enumerable.Repeat((byte)128, 64 * 48 * 3 / 2)];
        byte[] stream = [.. "YUV4MPEG2 W64 H48 F50:1 Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED\n"u8, .. "FRAME\n"u8, .. grey, .. "FRAME\n"u8, .. grey];
        VideoCommand.StandardInput = () => new MemoryStream(stream);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["video", "-"], output, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal(0.02, JsonDocument.Parse(lines[1]).RootElement.GetProperty("time").GetDouble(), 9);
        error = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["video", "-", "--fps", "25"], new StringWriter(), error, cancel: TestContext.Current.CancellationToken));
        Assert.Contains("a Y4M stream declares its own rate", error.ToString());
    }

    /// <summary><c>--draw -</c>: the annotated video is a Y4M stream on standard output (to pipe into a player or
    /// ffmpeg), every frame at the input's size and rate; the JSON lines then go only to --jsonl.</summary>
    [Fact]
    public void DrawingToStandardOutputIsAY4mStream()
    {
        byte[] grey = [.. Enumerable.Repeat((byte)128, 64 * 48 * 3 / 2)];
        byte[] stream = [.. "YUV4MPEG2 W64 H48 F50:1 C420jpeg\n"u8, .. "FRAME\n"u8, .. grey, .. "FRAME\n"u8, .. grey, .. "FRAME\n"u8, .. grey];
        VideoCommand.StandardInput = () => new MemoryStream(stream);
        var drawn = new MemoryStream();
        var standardOutput = VideoCommand.StandardOutput;
        VideoCommand.StandardOutput = () => drawn;
        try
        {
            var text = new StringWriter();
            var error = new StringWriter();
            string lines = Path.Combine(_folder, "lines.jsonl");
            Assert.True(CommandLine.Run(["video", "-", "--draw", "-", "--jsonl", lines], text, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
            Assert.Equal("", text.ToString());
            Assert.Equal(3, File.ReadAllLines(lines).Length);
            Assert.Contains("drawn: standard output", error.ToString());
            using var source = new Y4mFrameSource(new MemoryStream(drawn.ToArray()), "drawn");
            Assert.Equal((64, 48, 50, 1), (source.Width, source.Height, source.Rate.Numerator, source.Rate.Denominator));
            int frames = 0;
            while (source.ReadFrame(TestContext.Current.CancellationToken) is not null) frames++;
            Assert.Equal(3, frames);
        }
        finally
        {
            VideoCommand.StandardOutput = standardOutput;
        }
    }

    /// <summary>A folder of frames is read in natural order (f2 before f10), each line naming its file.</summary>
    [Fact]
    public void FolderFramesAreReadInNaturalOrder()
    {
        string frames = Path.Combine(_folder, "frames");
        Directory.CreateDirectory(frames);
        var grey = Enumerable.Repeat((byte)90, 3 * 40 * 30).ToArray();
        foreach (string name in new[] { "f10.png", "f2.png", "f1.png" }) ImageFileEncoder.Save(Path.Combine(frames, name), grey, 40, 30, 120);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["video", frames], output, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
        var files = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => Path.GetFileName(JsonDocument.Parse(l).RootElement.GetProperty("file").GetString()));
        Assert.Equal(["f1.png", "f2.png", "f10.png"], files);
    }

    /// <summary>No output replaces an input: the drawing or OpenPose folder may not be the frames' folder (its
    /// frame_000000.png could be a frame), nor --jsonl or a drawn .y4m one of the frames or the video.</summary>
    [Theory]
    [InlineData("frames --draw frames", "is a folder holding the inputs")]
    [InlineData("frames --openpose-json frames/.", "is a folder holding the inputs")]
    [InlineData("frames --jsonl frames/frame_000000.png", "over the input")]
    [InlineData("clip.y4m --draw clip.y4m", "over the input")]
    [InlineData("clip.y4m --jsonl ./clip.y4m", "over the input")]
    public void OutputsThatWouldReplaceAnInputAreRefusedBeforeAnyWork(string arguments, string message)
    {
        string frames = Path.Combine(_folder, "frames");
        Directory.CreateDirectory(frames);
        var grey = Enumerable.Repeat((byte)90, 3 * 40 * 30).ToArray();
        ImageFileEncoder.Save(Path.Combine(frames, "frame_000000.png"), grey, 40, 30, 120);
        string clip = Path.Combine(_folder, "clip.y4m");
        File.WriteAllText(clip, "YUV4MPEG2 W4 H2 F25:1 C444\n");
        var before = Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        var error = new StringWriter();
        string[] args = ["video", .. arguments.Split(' ').Select(a => a.StartsWith('-') ? a : Path.Combine(_folder, a))];
        Assert.Equal(2, CommandLine.Run(args, new StringWriter(), error, cancel: TestContext.Current.CancellationToken));
        Assert.Contains(message, error.ToString());
        var after = Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, file => Assert.Equal(file.Value, after[file.Key]));
    }

    [Theory]
    [InlineData("clip.y4m --raw 640x480", "--raw reads frames from standard input")]
    [InlineData("- --raw 0x480", "--raw must be <width>x<height>")]
    [InlineData("- --det-every 0", "--det-every must be")]
    [InlineData("- --fps 0", "--fps must be a rate")]
    [InlineData("photo.jpg", "is not a .y4m file, a folder of frames or a glob")]
    [InlineData("missing.y4m", "missing.y4m: does not exist")]
    public void BadArgumentsAreNamed(string arguments, string message)
    {
        var error = new StringWriter();
        string[] args = ["video", .. arguments.Split(' ').Select(a => a is "photo.jpg" or "missing.y4m" ? Path.Combine(_folder, a) : a)];
        if (arguments.StartsWith("photo", StringComparison.Ordinal)) File.WriteAllBytes(args[1], [1, 2, 3]);
        VideoCommand.StandardInput = () => new MemoryStream();
        Assert.Equal(2, CommandLine.Run(args, new StringWriter(), error, cancel: TestContext.Current.CancellationToken));
        Assert.Contains(message, error.ToString());
    }

    /// <summary>Writes a 30 fps Y4M video of <paramref name="photo"/> on a grey canvas, frame k being the photo scaled by
    /// motion(k).Scale and shifted by (motion(k).X, motion(k).Y) pixels (corner coordinates), resampled bilinearly.</summary>
    private static void WriteMovingPhoto(string path, DecodedImage photo, int width, int height, int frames, Func<int, (double Scale, double X, double Y)> motion)
    {
        using var writer = new Y4mWriter(File.Create(path), width, height, new FrameRate(30, 1));
        var canvas = new byte[3 * width * height];
        for (int k = 0; k < frames; k++)
        {
            var (scale, shiftX, shiftY) = motion(k);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    // The photo's pixel-centre coordinates of this canvas pixel's centre.
                    double px = (x + 0.5 - shiftX) / scale - 0.5, py = (y + 0.5 - shiftY) / scale - 0.5;
                    int x0 = (int)Math.Floor(px), y0 = (int)Math.Floor(py);
                    double fx = px - x0, fy = py - y0;
                    for (int c = 0; c < 3; c++)
                    {
                        double Sample(int sx, int sy) => sx < 0 || sy < 0 || sx >= photo.Width || sy >= photo.Height ? 128 : photo.Pixels[sy * photo.Stride + 3 * sx + c];
                        double value = (1 - fy) * ((1 - fx) * Sample(x0, y0) + fx * Sample(x0 + 1, y0)) + fy * ((1 - fx) * Sample(x0, y0 + 1) + fx * Sample(x0 + 1, y0 + 1));
                        canvas[3 * (y * width + x) + c] = (byte)Math.Round(value);
                    }
                }
            writer.Write(canvas, width, height, 3 * width);
        }
    }

    /// <summary>Each person of a frame line: track ID → 17 (x, y, score).</summary>
    private static Dictionary<int, (double X, double Y, double Score)[]> People(JsonElement frame) =>
        frame.GetProperty("people").EnumerateArray().ToDictionary(p => p.GetProperty("track_id").GetInt32(), p =>
        {
            var values = p.GetProperty("keypoints").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            return Enumerable.Range(0, CocoKeypoints.Count).Select(j => (values[3 * j], values[3 * j + 1], values[3 * j + 2])).ToArray();
        });
}
