using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace NanoPose.Cli.Tests;

/// <summary>
/// The README's camera recipe end to end: ffmpeg decodes a compressed video and pipes it as Y4M into the built
/// <c>nanopose video -</c>, as separate processes joined by a shell pipe. NanoPose never needs ffmpeg; this test does
/// (Debian's <c>ffmpeg</c> package, which .ci/run installs): without it the test skips, and under CI it fails.
/// </summary>
public sealed class FfmpegPipeTests : IDisposable
{
    private const int Frames = 15, StepX = 4, Rate = 10;
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-ffmpeg-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// The sample photo becomes a 15-frame H.264 video (or MPEG-4 part 2 where ffmpeg has no H.264 encoder) of a
    /// 560×400 window sliding right by 4 pixels a frame, so the skier moves left by 4 pixels a frame. Piped through
    /// <c>ffmpeg -f yuv4mpegpipe -</c> into <c>nanopose video -</c>: every frame has a JSON line with the stream's
    /// timestamps, the one person keeps track ID 1 throughout, and their confident keypoints follow the motion of the
    /// first frame's within a few pixels (the codec is lossy).
    /// </summary>
    [Fact]
    public void AVideoFilePipedThroughFfmpegIsTracked()
    {
        string? ffmpeg = FindOnPath("ffmpeg");
        if (ffmpeg is null)
        {
            const string message = "ffmpeg is not installed (Debian package ffmpeg); it makes and decodes the test video";
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) Assert.Fail(message + "; CI is set, so this is a failure");
            Assert.Skip(message + "; skipping");
        }
        string photo = Path.Combine(TestSupport.SharedData.RepositoryRoot, "samples", "000000000785.jpg");
        string clip = Path.Combine(_folder, "clip.mkv");
        string encoder = RunShell($"{Quote(ffmpeg)} -hide_banner -encoders 2>/dev/null").Output.Contains(" libx264 ") ? "libx264 -crf 18" : "mpeg4 -q:v 2";
        var made = RunShell($"{Quote(ffmpeg)} -loglevel error -loop 1 -framerate {Rate} -i {Quote(photo)} " +
            $"-vf \"crop=560:400:{StepX}*n:8,format=yuv420p\" -frames:v {Frames} -c:v {encoder} {Quote(clip)}");
        Assert.True(made.ExitCode == 0, $"ffmpeg could not make the test video: {made.Error}");

        string nanopose = Path.Combine(AppContext.BaseDirectory, "nanopose.dll");
        string lines = Path.Combine(_folder, "clip.jsonl");
        var run = RunShell($"{Quote(ffmpeg)} -loglevel error -i {Quote(clip)} -f yuv4mpegpipe - | dotnet {Quote(nanopose)} video - > {Quote(lines)}");
        Assert.True(run.ExitCode == 0, $"the pipe failed ({run.ExitCode}): {run.Error}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{encoder.Split(' ')[0]}: {run.Error.Trim()}");

        var frames = File.ReadAllLines(lines).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Frames, frames.Count);
        var first = Keypoints(frames[0]);
        var errors = new List<double>();
        for (int k = 0; k < Frames; k++)
        {
            Assert.Equal((double)k / Rate, frames[k].GetProperty("time").GetDouble(), 6);
            var people = frames[k].GetProperty("people").EnumerateArray().ToList();
            Assert.True(people.Count == 1, $"frame {k}: {people.Count} people, expected the skier alone");
            Assert.Equal(1, people[0].GetProperty("track_id").GetInt32());
            var keypoints = Keypoints(frames[k]);
            for (int j = 0; j < CocoKeypoints.Count; j++)
                if (first[j].Score >= 0.5 && keypoints[j].Score >= 0.5)
                    errors.Add(Math.Sqrt(Math.Pow(keypoints[j].X - (first[j].X - StepX * k), 2) + Math.Pow(keypoints[j].Y - first[j].Y, 2)));
        }
        errors.Sort();
        double median = errors[errors.Count / 2], p90 = errors[errors.Count * 9 / 10];
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{errors.Count} joint positions: distance from the known motion median {median:F2} px, 90th percentile {p90:F2} px"));
        Assert.True(median <= 2, $"median distance from the known motion {median:F2} px");
        Assert.True(p90 <= 6, $"90th percentile distance from the known motion {p90:F2} px");
    }

    private static (double X, double Y, double Score)[] Keypoints(JsonElement frame)
    {
        var values = frame.GetProperty("people")[0].GetProperty("keypoints").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return [.. Enumerable.Range(0, CocoKeypoints.Count).Select(j => (values[3 * j], values[3 * j + 1], values[3 * j + 2]))];
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''") + "'";

    /// <summary>Runs a bash command line with pipefail (a failing ffmpeg fails the pipe), bounded to two minutes.</summary>
    private static (int ExitCode, string Output, string Error) RunShell(string command)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])["-o", "pipefail", "-c", command]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TestSupport.TimeBounds.ForThisLeg(TimeSpan.FromMinutes(2))))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{command}' did not finish in two minutes");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
