using System.Diagnostics;
using System.Text;

namespace NanoPose.WeightsTools.Tests.Hostile;

/// <summary>
/// Runs one family of hostile inputs and reports, like the *Fuzz* families, its seed, case count and outcomes, plus
/// the worst single case by time and by bytes allocated (this thread's allocation counter) and the process's peak
/// working set so far. A case fails when it throws anything but the expected exception types (or what its own checks
/// throw), allocates more than its allowance, or takes longer than its bound.
/// </summary>
internal sealed class HostileFamily(string name, int seed, params Type[] expected)
{
    private readonly Dictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private readonly Stopwatch _total = new();
    private (TimeSpan Time, string Label) _slowest;
    private (long Bytes, string Label) _hungriest;

    private long _charged;

    public int Cases { get; private set; }
    public int Seed { get; } = seed;
    public IReadOnlyDictionary<string, int> Outcomes => _outcomes;

    /// <summary>Runs one case; <paramref name="allowedBytes"/> and <paramref name="timeBound"/> bound it.</summary>
    public void Run(string label, Action run, long allowedBytes, TimeSpan timeBound)
    {
        Cases++;
        var time = Stopwatch.StartNew();
        _total.Start();
        long before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try
        {
            run();
            outcome = "success";
        }
        catch (Exception e) when (expected.Any(t => t.IsInstanceOfType(e)))
        {
            outcome = e.GetType().Name;
        }
        catch (Exception e)
        {
            outcome = e.GetType().Name;
            Fail(label, $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before + _charged;
        _charged = 0;
        _total.Stop();
        time.Stop();
        _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
        if (time.Elapsed > _slowest.Time) _slowest = (time.Elapsed, label);
        if (allocated > _hungriest.Bytes) _hungriest = (allocated, label);
        if (allocated > allowedBytes) Fail(label, $"allocated {allocated:N0} bytes, allowed {allowedBytes:N0}");
        if (time.Elapsed > timeBound) Fail(label, $"took {time.Elapsed.TotalSeconds:F2} s, bound {timeBound.TotalSeconds} s");
    }

    /// <summary>Adds what the current case allocated on another thread (a command run with a time bound).</summary>
    public void Charge(long bytes) => _charged += bytes;

    public void Fail(string label, string problem)
    {
        if (_failures.Count < 100) _failures.Add($"{name} case '{label}' (seed {Seed}): {problem}");
    }

    /// <summary>Reports to the test output; fails on any bad case or fewer than <paramref name="minimumCases"/>.</summary>
    public void Finish(int minimumCases)
    {
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        string report = new StringBuilder()
            .Append($"{name}: seed {Seed}, {Cases} cases in {_total.Elapsed.TotalSeconds:F2} s; ")
            .Append(string.Join(", ", _outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")))
            .Append($"; worst time {_slowest.Time.TotalMilliseconds:F0} ms ('{_slowest.Label}')")
            .Append($"; worst allocation {_hungriest.Bytes / 1048576.0:F1} MiB ('{_hungriest.Label}')")
            .Append($"; process peak working set so far {peak / 1048576.0:F0} MiB").ToString();
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine(report);
        foreach (string failure in _failures.Take(10)) output?.WriteLine(failure);
        Assert.True(_failures.Count == 0, $"{_failures.Count} bad cases; first: {_failures.FirstOrDefault()}\n{report}");
        Assert.True(Cases >= minimumCases, $"{Cases} cases, expected at least {minimumCases}");
    }
}
