using NanoPose.TestSupport;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NanoPose.Cli.Tests;

/// <summary>
/// One family of hostile command lines (issue 15): seeded cases, each run with a time limit (a hang fails its case
/// instead of the test run), timed and measured. <see cref="Finish"/> reports the seed, the case count, the worst
/// time and the most memory one case allocated (process-wide, so an upper bound while other tests run) and the
/// process's peak working set, and fails naming every bad case with its seed.
/// </summary>
internal sealed class HostileFamily(string name, int seed)
{
    private readonly List<string> _failures = [];
    private readonly Stopwatch _total = new();
    private (double Milliseconds, string Label) _slowest = (0, "");
    private (long Bytes, string Label) _largest = (0, "");

    public int Cases { get; private set; }

    /// <summary>The random source of case <paramref name="caseIndex"/>: the same choices on every run.</summary>
    public Random CaseRandom(int caseIndex) => new(unchecked(seed * 1_000_003 + caseIndex));

    /// <summary>Runs one case; an assertion that fails, an exception, or more than <paramref name="limit"/> (10 s
    /// by default) fails it.</summary>
    public void Run(string label, Action check, TimeSpan? limit = null)
    {
        Cases++;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        _total.Start();
        try
        {
            var task = Task.Run(check, TestContext.Current.CancellationToken);
            var bound = TimeBounds.ForThisLeg(limit ?? TimeSpan.FromSeconds(10));
            if (!task.Wait(bound, TestContext.Current.CancellationToken))
                Fail(label, $"still running after {bound.TotalSeconds} s (a hang)");
            else task.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Fail(label, e.Message);
        }
        _total.Stop();
        double milliseconds = clock.Elapsed.TotalMilliseconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        if (milliseconds > _slowest.Milliseconds) _slowest = (milliseconds, label);
        if (allocated > _largest.Bytes) _largest = (allocated, label);
    }

    public void Finish(int minimumCases, TimeSpan timeBound)
    {
        timeBound = TimeBounds.ForThisLeg(timeBound);
        string report = $"{name}: seed {seed}, {Cases} cases in {_total.Elapsed.TotalSeconds:F2} s; worst time {_slowest.Milliseconds:F0} ms ({_slowest.Label}); " +
            $"most allocated during one case {_largest.Bytes / 1e6:F1} MB ({_largest.Label}, process-wide); process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB";
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine(report);
        foreach (string failure in _failures.Take(10)) output?.WriteLine(failure);
        Assert.True(_failures.Count == 0, $"{_failures.Count} bad cases; first: {_failures.FirstOrDefault()}\n{report}");
        Assert.True(Cases >= minimumCases, $"{Cases} cases, expected at least {minimumCases}");
        Assert.True(_total.Elapsed <= timeBound, $"{name} took {_total.Elapsed.TotalSeconds:F1} s, bound {timeBound.TotalSeconds} s\n{report}");
    }

    private void Fail(string label, string problem) => _failures.Add($"{name} case {label} (seed {seed}): {problem}");
}

/// <summary>Runs <c>nanopose</c> in process and what the families need around it.</summary>
internal static partial class Cli
{
    public static (int Code, string Output, string Error) Run(params string[] args) => Run(args, CancellationToken.None);

    public static (int Code, string Output, string Error) Run(string[] args, CancellationToken cancel)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CommandLine.Run(args, output, error, cancel: cancel);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Exit code 2, the first error line naming everything in <paramref name="mentions"/>, no stack trace
    /// and no internal error.</summary>
    public static void AssertRefused((int Code, string Output, string Error) result, params string[] mentions)
    {
        Assert.True(result.Code == 2, $"exit code {result.Code}, expected 2: {result.Error}");
        string first = result.Error.Split('\n')[0];
        Assert.StartsWith("error: ", first);
        foreach (string mention in mentions) Assert.True(first.Contains(mention, StringComparison.Ordinal), $"'{mention}' not in: {first}");
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("internal error", result.Error);
    }

    /// <summary>Every file under <paramref name="folder"/> (links not followed) with a hash of its bytes.</summary>
    public static SortedDictionary<string, string> Snapshot(string folder)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (entry.LinkTarget is not null) files[entry.FullName] = "link to " + entry.LinkTarget;
            else if (entry is FileInfo file && (file.Attributes & FileAttributes.Directory) == 0)
                files[entry.FullName] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file.FullName)));
        }
        return files;
    }

    /// <summary>Temporary files (.tmp) anywhere under <paramref name="folder"/>.</summary>
    public static string[] TemporaryFiles(string folder) =>
        [.. Directory.EnumerateFiles(folder, "*.tmp", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })];

    /// <summary>A folder where no file can be created: a read-only one, or, for root (who may write anywhere),
    /// /sys, which refuses new files to everyone. Null when neither works here.</summary>
    public static string? UnwritableFolder(string scratch)
    {
        string folder = Directory.CreateDirectory(Path.Combine(scratch, "read-only")).FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        if (!CanCreateIn(folder)) return folder;
        return OperatingSystem.IsLinux() && !CanCreateIn("/sys") ? "/sys" : null;
    }

    /// <summary>A folder that cannot be listed: mode 000, or for root a /proc folder the kernel keeps closed. Null when none.</summary>
    public static string? UnreadableFolder(string scratch)
    {
        string folder = Directory.CreateDirectory(Path.Combine(scratch, "closed")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "hidden.jpg"), []);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, UnixFileMode.None);
        if (!CanList(folder)) return folder;
        return OperatingSystem.IsLinux() && !CanList("/proc/1/map_files") ? "/proc/1/map_files" : null;
    }

    private static bool CanCreateIn(string folder)
    {
        string probe = Path.Combine(folder, $"probe-{Guid.NewGuid():N}");
        try { File.WriteAllBytes(probe, []); File.Delete(probe); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static bool CanList(string folder)
    {
        try { _ = Directory.GetFileSystemEntries(folder); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Makes a FIFO (named pipe); opening it to read blocks until a writer comes.</summary>
    public static void MakeFifo(string path)
    {
        if (MkFifo(path, 0b110_100_100) != 0) throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Lets any reader blocked on the FIFO go (an open for reading and writing never blocks and counts as
    /// a writer; closing it gives the reader end of file).</summary>
    public static void Unblock(string fifo)
    {
        try { using var _ = new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Creates a file whose name is raw bytes (not necessarily UTF-8) in <paramref name="folder"/>.</summary>
    public static void CreateWithRawName(string folder, byte[] name, byte[] content)
    {
        byte[] path = [.. System.Text.Encoding.UTF8.GetBytes(folder + "/"), .. name, 0];
        int fd = Open(path, 0x41 /* O_WRONLY | O_CREAT */, 0b110_100_100);
        if (fd < 0) throw new IOException($"open failed: errno {Marshal.GetLastPInvokeError()}");
        try { if (Write(fd, content, content.Length) != content.Length) throw new IOException("short write"); }
        finally { Close(fd); }
    }

    /// <summary>Deletes a file made by <see cref="CreateWithRawName"/> (.NET cannot name it).</summary>
    public static void DeleteWithRawName(string folder, byte[] name) =>
        Unlink([.. System.Text.Encoding.UTF8.GetBytes(folder + "/"), .. name, 0]);

    [LibraryImport("libc", EntryPoint = "unlink")]
    private static partial int Unlink(byte[] path);

    [LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkFifo(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte[] path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte[] buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
