using System.Diagnostics;
using System.Runtime.InteropServices;
using NanoPose.Evaluation;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Cli.Tests;

/// <summary>
/// Issue 15, class 2: result files (<c>predict --json/--jsonl</c>, <c>eval --json</c>, <c>forward --out-dir</c>)
/// and <c>--draw</c> folders are checked before any work: a missing folder is created, a folder that cannot be
/// made or written to, or a target that is a folder, is refused up front (exit 2, no image run); an interrupted run
/// (Ctrl+C in process; one and two SIGINTs to a real process) leaves an earlier result file byte for byte as it was
/// and no temporary file behind.
/// </summary>
public sealed partial class ResultFileHostileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-results-").FullName;

    public void Dispose()
    {
        foreach (string folder in Directory.EnumerateDirectories(_folder, "*", SearchOption.AllDirectories))
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, (UnixFileMode)0b111_000_000);
        Directory.Delete(_folder, recursive: true);
    }

    private static string Image => SharedData.File("data/coco-mini/000000000785.jpg");

    private enum Target { Json, Jsonl, EvalJson, ForwardOutDir, Draw }

    private enum Place { MissingFolders, Unwritable, FileInTheWay, IsFolder, EarlierFileCanceled }

    [Fact]
    public void OutputsAreCheckedFirstAndWrittenWhole()
    {
        string model = TinyPoseModel.NpwPath;
        string annotations = SharedData.File("data/coco-mini/test_coco.json");
        string boxes = Path.Combine(_folder, "boxes.json");
        File.WriteAllText(boxes, """[{"image_id": 785, "category_id": 1, "bbox": [280.79, 44.73, 218.7, 346.68], "score": 1}]""");
        string array = Path.Combine(_folder, "input.npy");
        Npy.Write(array, [1, 3, 64, 64], new float[3 * 64 * 64]);
        string? unwritable = Cli.UnwritableFolder(_folder);

        var family = new HostileFamily(nameof(ResultFileHostileTests), seed: 1502);
        var targets = Enum.GetValues<Target>();
        var places = Enum.GetValues<Place>();
        for (int i = 0; i < targets.Length * places.Length; i++)
        {
            var (target, place) = (targets[i % targets.Length], places[i / targets.Length]);
            if (place == Place.Unwritable && unwritable is null) continue;   // no folder refuses this user (reported below)
            var random = family.CaseRandom(i);
            string root = Directory.CreateDirectory(Path.Combine(_folder, $"case{i}")).FullName;
            family.Run($"{i} {target} {place}", () =>
            {
                string path = place switch
                {
                    Place.MissingFolders => Path.Combine([root, .. Enumerable.Range(0, 1 + random.Next(3)).Select(k => $"new{k}"), "out"]),
                    Place.Unwritable => Path.Combine(unwritable!, $"nanopose-{random.Next(1000)}", "out"),
                    Place.FileInTheWay => Path.Combine(WriteFile(Path.Combine(root, "a-file"), "x"), "out"),
                    // A folder where a file belongs, or a file where a folder belongs.
                    Place.IsFolder when target is Target.ForwardOutDir or Target.Draw => WriteFile(Path.Combine(root, "out"), "a file, not a folder"),
                    Place.IsFolder => Directory.CreateDirectory(Path.Combine(root, "out")).FullName,
                    _ => Path.Combine(root, "out"),
                };
                if (target is Target.Json or Target.Jsonl or Target.EvalJson && place == Place.EarlierFileCanceled) WriteFile(path, "earlier results");
                string[] args = target switch
                {
                    Target.Json => ["predict", "--model", model, Image, "--boxes", boxes, "--json", path],
                    Target.Jsonl => ["predict", "--model", model, Image, "--boxes", boxes, "--jsonl", path],
                    Target.EvalJson => ["eval", "--model", model, "--annotations", annotations, "--images", Path.GetDirectoryName(annotations)!, "--boxes", boxes, "--json", path],
                    Target.ForwardOutDir => ["forward", "--model", model, "--input", array, "--out-dir", path],
                    _ => ["predict", "--model", model, Image, "--boxes", boxes, "--draw", path],
                };
                var before = Cli.Snapshot(root);
                bool cancel = place == Place.EarlierFileCanceled && target != Target.ForwardOutDir && target != Target.EvalJson;
                var result = Cli.Run(args, new CancellationToken(canceled: cancel));
                if (place == Place.MissingFolders || (place == Place.EarlierFileCanceled && !cancel))
                {
                    Assert.True(result.Code == 0, $"exit code {result.Code}: {result.Error}");
                    CheckWritten(target, path);
                }
                else if (cancel)
                {
                    Assert.Equal(CommandLine.CanceledExitCode, result.Code);
                    Assert.Equal(before, Cli.Snapshot(root));   // the earlier file as it was
                }
                else
                {
                    Cli.AssertRefused(result, "out");
                    Assert.DoesNotContain(" image", result.Error);   // refused before the batch: no summary
                    Assert.Equal(before, Cli.Snapshot(root));
                }
                Assert.Empty(Cli.TemporaryFiles(root));
            });
        }
        if (unwritable is null) TestContext.Current.TestOutputHelper?.WriteLine("no unwritable folder found for this user: those cases did not run");
        family.Finish(minimumCases: targets.Length * (places.Length - 1), timeBound: TimeSpan.FromSeconds(30));
    }

    /// <summary>One and two SIGINTs to a real <c>nanopose predict</c> writing <c>--json</c> and <c>--draw</c>: the
    /// earlier JSON file stays as it was and no temporary file is left in either folder.</summary>
    [Fact]
    public void CtrlCLeavesTheEarlierFileAndNoTemporaryFiles()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("sends SIGINT");
        string photos = Directory.CreateDirectory(Path.Combine(_folder, "photos")).FullName;
        byte[] jpeg = File.ReadAllBytes(Image);
        for (int i = 0; i < 40; i++) File.WriteAllBytes(Path.Combine(photos, $"{i:D3}.jpg"), jpeg);
        var family = new HostileFamily(nameof(ResultFileHostileTests) + ".CtrlC", seed: 1503);
        for (int i = 0; i < 2; i++)
        {
            int signals = 1 + i;
            bool lines = i == 1;
            string root = Directory.CreateDirectory(Path.Combine(_folder, $"signal{i}")).FullName;
            family.Run($"{i} {signals} SIGINT {(lines ? "--jsonl" : "--json")}", () =>
            {
                string results = WriteFile(Path.Combine(root, "results.json"), "earlier results");
                string pictures = Path.Combine(root, "pictures");
                using var process = StartCli(["predict", "--model", TinyPoseModel.NpwPath, photos, "--detector", "none", lines ? "--jsonl" : "--json", results, "--draw", pictures]);
                var clock = Stopwatch.StartNew();
                while (!(Directory.Exists(pictures) && Directory.EnumerateFiles(pictures, "*.png").Any()) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(20))
                    Thread.Sleep(5);
                Assert.False(process.HasExited, $"finished before the signal: {Errors}");
                for (int s = 0; s < signals; s++) Assert.True(Kill(process.Id, 2) == 0, $"kill {s}: errno {Marshal.GetLastPInvokeError()}");
                Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "still running 10 s after SIGINT");
                Assert.True(130 == process.ExitCode, $"exit {process.ExitCode}: {Errors}");
                Assert.Equal("earlier results", File.ReadAllText(results));
                Assert.Empty(Cli.TemporaryFiles(root));
            }, TimeSpan.FromSeconds(30));
        }
        family.Finish(minimumCases: 2, timeBound: TimeSpan.FromSeconds(60));
    }

    private static readonly System.Text.StringBuilder Errors = new();

    /// <summary>
    /// Starts nanopose as a shell starts a foreground command: with SIGINT's default disposition. A process inherits an
    /// ignored SIGINT (a non-interactive shell ignores it in its background jobs, as CI's runner may be), and .NET then
    /// rightly installs no Ctrl+C handler, so without the reset the signal would be ignored and the test would fail for
    /// a reason that is not the CLI's. GNU env execs the command in its own process, so the pid is nanopose's.
    /// </summary>
    private static Process StartCli(string[] args)
    {
        string host = Path.Combine(AppContext.BaseDirectory, "nanopose");
        var start = new ProcessStartInfo("env") { ArgumentList = { "--default-signal=INT" } };
        if (File.Exists(host)) start.ArgumentList.Add(host);
        else { start.ArgumentList.Add("dotnet"); start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nanopose.dll")); }
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { lock (Errors) Errors.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void CheckWritten(Target target, string path)
    {
        switch (target)
        {
            case Target.Json: Assert.Single(CocoJson.ReadDetections(path)); break;
            case Target.Jsonl: Assert.Single(CocoJson.ReadDetections(path)); break;
            case Target.EvalJson: CocoKeypointStats.FromJson(File.ReadAllText(path), path); break;
            case Target.ForwardOutDir: Assert.NotEmpty(Directory.GetFiles(path, "output*.npy")); break;
            default: Assert.Single(Directory.GetFiles(path, "*.png")); break;
        }
    }

    private static string WriteFile(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
