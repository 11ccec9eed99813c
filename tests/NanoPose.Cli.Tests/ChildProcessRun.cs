using System.Diagnostics;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>How one run of a built command ended: its exit code (null when it was stopped), its peak resident
/// memory, its wall time, its standard error, and why it was stopped.</summary>
internal sealed record ChildProcessRun(int? ExitCode, long PeakBytes, TimeSpan Elapsed, string Error, string? StoppedBecause)
{
    /// <summary>How often the child's VmHWM is read while it runs: for the memory cap, and as the peak where
    /// /usr/bin/time is missing (a spike in the last interval before exit is then missed).</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    private const string GnuTime = "/usr/bin/time";

    /// <summary>
    /// Runs <c>dotnet &lt;assembly&gt; args…</c> for one of the commands built beside the tests (nanopose.dll,
    /// nanopose-weights.dll), stopping it past <paramref name="timeLimit"/> or once it holds more than
    /// <paramref name="memoryCap"/> (so a memory bomb cannot take the machine down). The peak is exact where GNU time
    /// is installed (its %M, the kernel's maxrss of the child it waits for), else VmHWM polled every 5 ms.
    /// </summary>
    public static ChildProcessRun Start(string assembly, IReadOnlyList<string> args, TimeSpan timeLimit, long memoryCap)
    {
        // `dotnet x.dll` hosts the runtime in its own process: the pid measured is the command's.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        string dll = Path.Combine(AppContext.BaseDirectory, assembly);
        bool timed = File.Exists(GnuTime) && OperatingSystem.IsLinux();
        string timeReport = Path.GetTempFileName();
        var start = new ProcessStartInfo(timed ? GnuTime : dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (timed) foreach (string a in (string[])["-f", "%M", "-o", timeReport, dotnet]) start.ArgumentList.Add(a);
        start.ArgumentList.Add(dll);
        foreach (string a in args) start.ArgumentList.Add(a);

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var output = process.StandardOutput.ReadToEndAsync();   // drained so that a chatty child never blocks on a full pipe
        var error = process.StandardError.ReadToEndAsync();
        long polledPeak = 0;
        string? stopped = null;
        while (!process.WaitForExit(PollInterval))
        {
            int? pid = timed ? OnlyChild(process.Id) : process.Id;
            if (pid is { } id && ProcessMemory.PeakResidentBytes(id) is { } peak) polledPeak = Math.Max(polledPeak, peak);
            stopped ??= polledPeak > memoryCap ? $"stopped over {memoryCap / 1048576} MB"
                : clock.Elapsed > timeLimit ? $"stopped after {timeLimit.TotalSeconds:F0} s" : null;
            if (stopped is not null)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                break;
            }
        }
        clock.Stop();
        output.Wait();
        long peakBytes = polledPeak;
        if (timed && File.ReadAllText(timeReport).Split('\n', StringSplitOptions.RemoveEmptyEntries) is [.., string last]
            && long.TryParse(last.Trim(), out long kilobytes))   // "Command exited with non-zero status 2" comes first
            peakBytes = Math.Max(peakBytes, kilobytes * 1024);
        File.Delete(timeReport);
        return new ChildProcessRun(stopped is null ? process.ExitCode : null, peakBytes, clock.Elapsed, error.Result, stopped);
    }

    /// <summary>The one child of <paramref name="pid"/> (the command GNU time runs), once it has been forked.</summary>
    private static int? OnlyChild(int pid)
    {
        try
        {
            string children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Trim();
            return int.TryParse(children.Split(' ')[0], out int child) ? child : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
