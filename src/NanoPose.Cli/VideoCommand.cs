using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NanoPose.Drawing;
using NanoPose.ImageSharp;
using NanoPose.IO;
using NanoPose.Models.LiteHrnet;
using NanoPose.Threading;
using NanoPose.Tracking;
using NanoPose.Video;

namespace NanoPose.Cli;

/// <summary>
/// <c>video</c>: people tracked through a video — a Y4M file or standard input (<c>-</c>, what
/// <c>ffmpeg … -f yuv4mpegpipe -</c> writes), raw RGB24/BGR24 frames on standard input (<c>--raw WxH</c>), or a folder
/// or glob of images in natural order. One JSON line per frame goes to standard output (or <c>--jsonl</c>) before the
/// next frame is read; <c>--openpose-json</c> writes OpenPose's per-frame files and <c>--draw</c> an annotated Y4M file
/// or one PNG per frame, each track in its own colour with its ID. A stream that breaks partway (a truncated last
/// frame) keeps what was written, is reported, and exits with 2.
/// </summary>
internal static class VideoCommand
{
    /// <summary>A video file may be long: the byte cap only bounds a file whose length is misreported (1 TiB).</summary>
    public const long MaxVideoFileBytes = 1L << 40;

    /// <summary>Standard input, replaceable by tests.</summary>
    internal static Func<Stream> StandardInput { get; set; } = Console.OpenStandardInput;

    /// <summary>Standard output as bytes, for <c>--draw -</c> (the annotated Y4M stream); replaceable by tests.</summary>
    internal static Func<Stream> StandardOutput { get; set; } = Console.OpenStandardOutput;

    /// <summary>Colours of the tracks, by ID (cycled): distinct on most footage.</summary>
    private static readonly RgbColor[] TrackColors =
    [
        new(230, 25, 75), new(60, 180, 75), new(255, 225, 25), new(0, 130, 200), new(245, 130, 48), new(145, 30, 180),
        new(70, 240, 240), new(240, 50, 230), new(210, 245, 60), new(250, 190, 212), new(0, 128, 128), new(170, 110, 40),
    ];

    public static int Run(Options options, TextWriter output, TextWriter error, bool showProgress, CancellationToken cancel)
    {
        if (options.Positionals.Count != 1) throw new UsageException("video takes one input: a folder, a glob, a .y4m file, or - for standard input");
        string input = options.Positionals[0];
        int threads = options.IntInRange("--threads", 1, 1, WorkerPool.MaxThreads);
        float minScore = options.FloatInRange("--min-score", PredictCommand.DefaultMinScore, 0, 1);
        var trackerOptions = new PoseTrackerOptions
        {
            DetectEvery = options.IntInRange("--det-every", new PoseTrackerOptions().DetectEvery, 1, 10_000),
            MaxMissedFrames = options.IntInRange("--max-missed", new PoseTrackerOptions().MaxMissedFrames, 0, 10_000),
            Smooth = options.Flag("--smooth"),
        };
        FrameRate? rate = options.Optional("--fps") is { } fps ? ParseRate(fps) : null;
        RefuseOverwrites(input, options);

        var model = BuiltInModel.LoadOr(options.Optional("--model"));
        using var source = OpenSource(input, options, rate);
        using var detector = model.Architecture.Family == LiteHrnetConfig.Family ? BuiltInDetector.FromOptions(options, threads) : null;
        using var estimator = PoseEstimator.Load(model, PoseCommand.From(options) with { Threads = threads });
        var tracker = new PoseTracker(estimator, detector, trackerOptions);

        string stem = input == "-" ? "stdin" : Path.GetFileNameWithoutExtension(input.TrimEnd('/', '\\')) is { Length: > 0 } s ? s : "video";
        string? openPoseFolder = options.Optional("--openpose-json");
        if (openPoseFolder is not null) Directory.CreateDirectory(openPoseFolder);
        using var drawing = options.Optional("--draw") is { } drawTarget
            ? new FrameDrawing(drawTarget, source.Rate, new SkeletonStyle { MinScore = minScore, DrawBoxes = !options.Flag("--no-boxes") }) : null;
        using var lines = options.Optional("--jsonl") is { } linesPath ? new StreamWriter(linesPath) : null;
        // With --draw - standard output carries the annotated video, so the JSON lines go only to --jsonl.
        var sink = lines ?? (drawing?.ToStandardOutput == true ? TextWriter.Null : output);

        long frames = 0, detections = 0;
        int maxId = 0;
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        string? streamError = null;
        bool canceled = false;
        try
        {
            while (source.ReadFrame(cancel) is { } frame)
            {
                var tracked = tracker.Track(frame, cancel);
                sink.WriteLine(FrameLine(tracked, (source as ImageSequenceSource)?.CurrentPath));
                sink.Flush();   // a consumer of the stream sees each frame before the next is read
                if (openPoseFolder is not null)
                    File.WriteAllText(Path.Combine(openPoseFolder, $"{stem}_{frame.Index:D12}_keypoints.json"), OpenPoseJson(tracked));
                drawing?.Write(tracked);
                frames++;
                if (tracked.Detected) detections++;
                foreach (var person in tracked.People) maxId = Math.Max(maxId, person.TrackId);
                if (showProgress && clock.Elapsed - lastProgress > TimeSpan.FromSeconds(0.5))
                {
                    lastProgress = clock.Elapsed;
                    error.Write(string.Create(CultureInfo.InvariantCulture, $"\rframe {frames}, {frames / clock.Elapsed.TotalSeconds:F1} frames/s, {tracked.People.Count} people   "));
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested) { canceled = true; }
        catch (VideoFormatException e) { streamError = e.Message; }
        catch (ImageFileException e) { streamError = e.Message; }
        clock.Stop();
        if (showProgress && frames > 0) error.Write('\r');
        if (streamError is not null) error.WriteLine($"error: {streamError}");
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(canceled ? "canceled after " : "")}{frames} frame{(frames == 1 ? "" : "s")}, {maxId} track{(maxId == 1 ? "" : "s")}, detector on {detections}; " +
            $"{clock.Elapsed.TotalSeconds:F2} s, {(frames == 0 ? 0 : frames / clock.Elapsed.TotalSeconds):F1} frames/s"));
        if (drawing is not null && frames > 0) error.WriteLine($"drawn: {(drawing.ToStandardOutput ? "standard output" : drawing.Target)}");
        return canceled ? CommandLine.CanceledExitCode : streamError is not null ? CommandLine.InputProblemExitCode : 0;
    }

    private static FrameRate ParseRate(string text)
    {
        string[] parts = text.Split(':');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is >= 1 and <= 100_000))
            return new FrameRate(int.Parse(parts[0], CultureInfo.InvariantCulture), parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 1);
        throw new UsageException($"--fps must be a rate like 30 or 30000:1001 (whole numbers from 1 to 100000), not '{text}'");
    }

    /// <summary>
    /// As for predict, no output may replace an input: --jsonl and a drawn .y4m are compared with the video, the frames,
    /// the model and the detector, and the --draw and --openpose-json folders (whose files are numbered like frames
    /// often are) may not be a folder holding an input.
    /// </summary>
    private static void RefuseOverwrites(string input, Options options)
    {
        var inputs = new List<string>();
        if (input != "-")
            inputs.AddRange(IsVideoFile(input) ? [input] : ImageInputs.Expand([input])[0].Files);
        if (options.Optional("--model") is { } model) inputs.Add(model);
        if (options.Optional("--detector") is { } detector && detector != "none") inputs.Add(detector);
        var files = new List<(string Option, string Path)>();
        if (options.Optional("--jsonl") is { } lines) files.Add(("--jsonl", lines));
        var folders = new List<(string Option, string Path)>();
        if (options.Optional("--draw") is { } draw && draw != "-") (IsVideoFile(draw) ? files : folders).Add(("--draw", draw));
        if (options.Optional("--openpose-json") is { } openPose) folders.Add(("--openpose-json", openPose));
        OutputFiles.RefuseOverwrites(inputs, files);
        var inputFolders = inputs.Select(path => FilePaths.Resolve(Path.GetDirectoryName(Path.GetFullPath(path))!)).ToHashSet(FilePaths.Comparer);
        foreach (var (option, folder) in folders)
            if (inputFolders.Contains(FilePaths.Resolve(folder)))
                throw new OutputException($"{option} {Printable.Text(folder)} is a folder holding the inputs; its numbered files could replace them; nothing was run: choose another folder");
    }

    private static bool IsVideoFile(string path) => path.EndsWith(".y4m", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(path);

    private static IFrameSource OpenSource(string input, Options options, FrameRate? rate)
    {
        if (options.Optional("--raw") is { } size)
        {
            if (input != "-") throw new UsageException("--raw reads frames from standard input: give - as the input");
            string[] parts = size.Split('x', 'X');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height) || width < 1 || height < 1)
                throw new UsageException($"--raw must be <width>x<height> in pixels (e.g. 640x480), not '{size}'");
            return new RawFrameSource(new BufferedStream(StandardInput(), 1 << 16), "stdin", width, height,
                options.Flag("--bgr") ? PixelFormat.Bgr24 : PixelFormat.Rgb24, rate);
        }
        if (options.Flag("--bgr")) throw new UsageException("--bgr goes with --raw (Y4M and image files say their own colours)");
        if (input == "-") return WithRate(new Y4mFrameSource(new BufferedStream(StandardInput(), 1 << 16), "stdin"), rate);
        if (input.EndsWith(".y4m", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(input))
            return WithRate(new Y4mFrameSource(InputFile.OpenRead(input, MaxVideoFileBytes, "video"), input), rate);

        var expansion = ImageInputs.Expand([input])[0];
        if (expansion.Error is not null) throw new InvalidDataException(expansion.Error);
        if (!Directory.Exists(input) && expansion.Files is [var single] && single == input)
            throw new UsageException($"'{input}' is not a .y4m file, a folder of frames or a glob (use predict for one image)");
        var decoder = new ImageFileDecoder();
        return new ImageSequenceSource(expansion.Files, path =>
        {
            var image = decoder.Decode(path);
            return new DecodedPixels(image.Pixels, image.Width, image.Height, image.Stride, PixelFormat.Rgb24);
        }, rate, input);
    }

    /// <summary>A Y4M stream keeps its declared rate unless <c>--fps</c> overrides it.</summary>
    private static IFrameSource WithRate(Y4mFrameSource source, FrameRate? rate)
    {
        if (rate is null) return source;
        source.Dispose();
        throw new UsageException("--fps is for raw frames and image folders: a Y4M stream declares its own rate");
    }

    /// <summary>One frame as a JSON line: frame index, time in seconds, whether the detector ran, and each person's
    /// track ID, score, box (x, y, width, height, with the detector's score) and 17 COCO keypoints as x, y, score; the
    /// image file for frames read from a folder.</summary>
    internal static string FrameLine(TrackedFrame tracked, string? file = null)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("frame", tracked.Frame.Index);
            json.WriteNumber("time", Math.Round(tracked.Frame.Time, 6));
            json.WriteBoolean("detected", tracked.Detected);
            if (file is not null) json.WriteString("file", file);
            json.WriteStartArray("people");
            foreach (var (id, person) in tracked.People)
            {
                json.WriteStartObject();
                json.WriteNumber("track_id", id);
                json.WriteNumber("score", person.Score);
                if (person.Box is { } box)
                {
                    json.WriteStartArray("box");
                    json.WriteNumberValue(box.X);
                    json.WriteNumberValue(box.Y);
                    json.WriteNumberValue(box.Width);
                    json.WriteNumberValue(box.Height);
                    json.WriteEndArray();
                    json.WriteNumber("box_score", box.Score);
                }
                WriteKeypoints(json, "keypoints", person.Keypoints);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Keypoints as one flat array x, y, score, x, y, score, … (the layout of both JSON outputs).</summary>
    private static void WriteKeypoints(Utf8JsonWriter json, string name, IEnumerable<Keypoint> keypoints)
    {
        json.WriteStartArray(name);
        foreach (var k in keypoints)
        {
            json.WriteNumberValue(k.X);
            json.WriteNumberValue(k.Y);
            json.WriteNumberValue(k.Score);
        }
        json.WriteEndArray();
    }

    /// <summary>OpenPose's per-frame file (version 1.3): each person's track ID as <c>person_id</c> and the 17 COCO
    /// keypoints in COCO order (not OpenPose's BODY_25) as x, y, confidence in <c>pose_keypoints_2d</c>.</summary>
    internal static string OpenPoseJson(TrackedFrame tracked)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("version", 1.3);
            json.WriteStartArray("people");
            foreach (var (id, person) in tracked.People)
            {
                json.WriteStartObject();
                json.WriteStartArray("person_id");
                json.WriteNumberValue(id);
                json.WriteEndArray();
                WriteKeypoints(json, "pose_keypoints_2d", person.Keypoints);
                foreach (string empty in new[] { "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
                             "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d" })
                {
                    json.WriteStartArray(empty);
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary><c>--draw</c>: each frame with its people drawn in their track's colour and ID, to a Y4M file (a target
    /// ending .y4m), a Y4M stream on standard output (<c>-</c>), or as <c>frame_000000.png</c>, … in a folder.</summary>
    private sealed class FrameDrawing(string target, FrameRate rate, SkeletonStyle style) : IDisposable
    {
        private Y4mWriter? _y4m;
        private byte[] _rgb = [];
        private readonly bool _toY4m = target == "-" || target.EndsWith(".y4m", StringComparison.OrdinalIgnoreCase);

        /// <summary><c>--draw -</c>: the annotated video goes to standard output.</summary>
        public bool ToStandardOutput => Target == "-";
        private bool _folderMade;

        public string Target { get; } = target;

        public void Write(TrackedFrame tracked)
        {
            var frame = tracked.Frame;
            int rowBytes = 3 * frame.Width;
            if (_rgb.Length != rowBytes * frame.Height) _rgb = new byte[rowBytes * frame.Height];
            for (int y = 0; y < frame.Height; y++)
            {
                var from = frame.Pixels.AsSpan(y * frame.Stride, rowBytes);
                var to = _rgb.AsSpan(y * rowBytes, rowBytes);
                from.CopyTo(to);
                if (frame.Format == PixelFormat.Bgr24)
                    for (int x = 0; x < rowBytes; x += 3) (to[x], to[x + 2]) = (to[x + 2], to[x]);
            }
            int labelScale = Math.Max(1, Math.Min(frame.Width, frame.Height) / 150);
            foreach (var (id, person) in tracked.People)
            {
                var color = TrackColors[(id - 1) % TrackColors.Length];
                var personStyle = style with { LeftColor = color, RightColor = Shade(color, 0.55), CentreColor = Shade(color, 0.8), BoxColor = color };
                SkeletonPainter.Draw(_rgb, frame.Width, frame.Height, rowBytes, [person], personStyle);
                var box = person.Box ?? new Pipelines.TopDown.PersonBox(person.Keypoints.Min(k => k.X), person.Keypoints.Min(k => k.Y), 1, 1);
                if (double.IsFinite(box.X) && double.IsFinite(box.Y))
                    SkeletonPainter.DrawLabel(_rgb, frame.Width, frame.Height, rowBytes, (int)Math.Clamp(box.X, 0, frame.Width),
                        (int)Math.Clamp(box.Y - 8 * labelScale, 0, frame.Height), id.ToString(CultureInfo.InvariantCulture), color, labelScale);
            }
            if (_toY4m)
            {
                _y4m ??= new Y4mWriter(ToStandardOutput ? StandardOutput() : File.Create(Target), frame.Width, frame.Height, rate);
                _y4m.Write(_rgb, frame.Width, frame.Height, rowBytes);
                if (ToStandardOutput) _y4m.Flush();   // a player reading the pipe shows each frame as it is made
            }
            else
            {
                if (!_folderMade) Directory.CreateDirectory(Target);
                _folderMade = true;
                ImageFileEncoder.Save(Path.Combine(Target, $"frame_{frame.Index:D6}.png"), _rgb, frame.Width, frame.Height, rowBytes);
            }
        }

        private static RgbColor Shade(RgbColor c, double f) => new((byte)(c.R * f), (byte)(c.G * f), (byte)(c.B * f));

        public void Dispose() => _y4m?.Dispose();
    }
}
