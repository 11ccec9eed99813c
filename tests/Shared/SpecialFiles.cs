using System.Diagnostics;
using System.Text;

namespace NanoPose.TestSupport;

/// <summary>
/// Files that are not regular files, or are larger than a reader allows, under seeded names (spaces, non-ASCII
/// letters, an escape character): FIFOs (which block an open forever), endless devices, links to both, folders named
/// like input files, and sparse files one byte over a reader's cap. <see cref="Check"/> runs a reader on each with a
/// time limit and requires a prompt, documented refusal that names the file printably; the report gives the case
/// count, the slowest case and the most memory one case allocated.
/// </summary>
public sealed class SpecialFiles : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-special-").FullName;
    private readonly Random _random;
    private readonly List<string> _fifos = [];
    private readonly List<string> _failures = [];
    private TimeSpan _worstTime;
    private long _worstAllocation;
    private string _worstTimeLabel = "", _worstAllocationLabel = "";

    public SpecialFiles(string name, int seed) => (Name, Seed, _random) = (name, seed, new Random(seed));

    public string Name { get; }
    public int Seed { get; }
    public int Cases { get; private set; }

    /// <summary>A seeded file name ending in <paramref name="extension"/>.</summary>
    public string NewPath(string extension)
    {
        string[] stems = ["x", "photo 1", "modèle", "données", "\u001b[2Jcleared", "a\tb", "Ω"];
        return Path.Combine(_folder, $"{stems[_random.Next(stems.Length)]}-{_random.Next(1_000_000)}{extension}");
    }

    /// <summary>Every hostile kind of file under an input name ending in <paramref name="extension"/>, for a reader
    /// whose cap is <paramref name="maxBytes"/>: (what it is, its path).</summary>
    public IEnumerable<(string Kind, string Path)> Kinds(string extension, long maxBytes)
    {
        string fifo = NewPath(extension);
        MakeFifo(fifo);
        yield return ("FIFO", fifo);
        yield return ("/dev/zero", "/dev/zero");
        yield return ("/dev/urandom", "/dev/urandom");
        yield return ("/dev/null", "/dev/null");
        string zeroLink = NewPath(extension);
        File.CreateSymbolicLink(zeroLink, "/dev/zero");
        yield return ("link to /dev/zero", zeroLink);
        string fifoLink = NewPath(extension);
        File.CreateSymbolicLink(fifoLink, fifo);
        yield return ("link to a FIFO", fifoLink);
        string folder = NewPath(extension);
        Directory.CreateDirectory(folder);
        yield return ("folder", folder);
        string sparse = NewPath(extension);
        using (var file = File.Create(sparse)) file.SetLength(maxBytes + 1);   // no blocks written: instant, no disk
        yield return ("sparse file one byte over the cap", sparse);
    }

    /// <summary>Runs <paramref name="read"/> on <paramref name="path"/>: it must throw one of <paramref name="documented"/>
    /// within <paramref name="limit"/>, naming the file with no raw control character.</summary>
    public void Check(string label, string path, Action<string> read, TimeSpan limit, params Type[] documented)
    {
        Cases++;
        long allocated = 0;
        var time = Stopwatch.StartNew();
        // The reader runs on a thread of its own (a FIFO may block it) and measures what that thread allocates.
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { read(path); }
            finally { allocated = GC.GetAllocatedBytesForCurrentThread() - before; }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        bool finished = Task.WhenAny(task, Task.Delay(limit)).GetAwaiter().GetResult() == task;
        time.Stop();
        if (time.Elapsed > _worstTime) (_worstTime, _worstTimeLabel) = (time.Elapsed, label);
        if (allocated > _worstAllocation) (_worstAllocation, _worstAllocationLabel) = (allocated, label);
        if (!finished)
        {
            Fail(label, $"still reading after {limit.TotalSeconds} s");
            ReleaseFifoReaders();
            return;
        }
        var error = task.Exception?.InnerException;
        if (error is null) Fail(label, "was read as if it were a valid file");
        else if (!documented.Any(t => t.IsInstanceOfType(error))) Fail(label, $"undocumented {error.GetType().Name}: {error.Message}");
        else if (error.Message.Any(c => char.IsControl(c))) Fail(label, $"the message holds a raw control character: {error.Message.ReplaceLineEndings(" ")}");
        else if (!error.Message.Contains(Printable(path), StringComparison.Ordinal)) Fail(label, $"the message does not name the file: {error.Message}");
    }

    /// <summary>Reports and fails on any bad case, on fewer than <paramref name="minimumCases"/>, or when one case
    /// allocated more than <paramref name="maxAllocation"/> bytes.</summary>
    public void Finish(int minimumCases, long maxAllocation)
    {
        string report = $"{Name}: seed {Seed}, {Cases} cases; slowest {_worstTime.TotalMilliseconds:F1} ms ({_worstTimeLabel}); "
            + $"most allocated by one case {_worstAllocation:N0} bytes ({_worstAllocationLabel})";
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        foreach (string failure in _failures.Take(10)) TestContext.Current.TestOutputHelper?.WriteLine(failure);
        Assert.True(_failures.Count == 0, $"{_failures.Count} bad cases; first: {_failures.FirstOrDefault()}\n{report}");
        Assert.True(Cases >= minimumCases, $"{Cases} cases, expected at least {minimumCases}");
        Assert.True(_worstAllocation <= maxAllocation, $"a case allocated {_worstAllocation:N0} bytes, allowed {maxAllocation:N0}\n{report}");
    }

    /// <summary>The path as a message shows it (NanoPose.IO.Printable's rule).</summary>
    private static string Printable(string text) => NanoPose.IO.Printable.Text(text);

    private void Fail(string label, string problem) => _failures.Add($"{Name} ({label}): {problem}");

    private void MakeFifo(string path)
    {
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path])!)) mkfifo!.WaitForExit();
        _fifos.Add(path);
    }

    /// <summary>A reader stuck opening a FIFO is let go by opening it read-write (which never blocks on Linux) and closing it: end of file.</summary>
    private void ReleaseFifoReaders()
    {
        foreach (string fifo in _fifos)
            try
            {
                using var writer = new FileStream(fifo, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.ReadWrite, Options = FileOptions.None });
            }
            catch (IOException) { }
    }

    public void Dispose()
    {
        ReleaseFifoReaders();
        Directory.Delete(_folder, recursive: true);
    }
}
