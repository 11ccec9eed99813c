using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace NanoPose.TestSupport;

/// <summary>A process's resident memory from /proc/&lt;pid&gt;/status (Linux); null elsewhere or once the process is gone.</summary>
public static class ProcessMemory
{
    /// <summary>VmRSS: resident now, in bytes (this process when <paramref name="pid"/> is null).</summary>
    public static long? ResidentBytes(int? pid = null) => StatusField(pid, "VmRSS:");

    /// <summary>VmHWM: the most the process has ever had resident, in bytes.</summary>
    public static long? PeakResidentBytes(int? pid = null) => StatusField(pid, "VmHWM:");

    private static long? StatusField(int? pid, string field)
    {
        string path = pid is { } id ? $"/proc/{id}/status" : "/proc/self/status";
        try
        {
            foreach (string line in File.ReadLines(path))
                if (line.StartsWith(field, StringComparison.Ordinal))   // "VmRSS:  123456 kB"
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // not Linux, or the process exited
        return null;   // also a zombie: its memory is already released and the Vm lines are gone
    }
}

/// <summary>Memory of this process at one point of a soak: managed heap after a full collection, bytes allocated
/// so far (all threads), working set, VmRSS and VmHWM (printed without the working set, which is VmRSS on Linux), and
/// how many methods the JIT has compiled so far (a rise beside a resident step says the JIT, not the code, took it).</summary>
public sealed record MemorySnapshot(string When, int Done, long ManagedBytes, long AllocatedBytes, long WorkingSet, long? VmRss, long? VmHwm,
    long JitMethods)
{
    public static MemorySnapshot Take(string when, int done)
    {
        // An aggressive collection also compacts the large-object heap and gives free memory back to the system, so
        // VmRSS shows what is held, not what the GC has yet to return (which swings by ~100 MB under large allocations).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
        return new(when, done, GC.GetTotalMemory(forceFullCollection: true), GC.GetTotalAllocatedBytes(precise: true), Environment.WorkingSet,
            ProcessMemory.ResidentBytes(), ProcessMemory.PeakResidentBytes(), JitInfo.GetCompiledMethodCount());
    }

    /// <summary>The process's resident memory: VmRSS where there is one, else the working set.</summary>
    public long Resident => VmRss ?? WorkingSet;

    public override string ToString()
    {
        string resident = VmRss is null ? $"working set {Mib(WorkingSet)}" : $"VmRSS {Mib(VmRss)}, VmHWM {Mib(VmHwm)}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{When,-5} {Done,6} runs: managed {ManagedBytes / 1024.0,8:F1} KiB, allocated {AllocatedBytes / 1048576.0,8:F1} MiB, {resident}, JIT {JitMethods} methods");
    }

    private static string Mib(long? bytes) => bytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / 1048576.0,6:F1} MiB") : "n/a";
}

/// <summary>
/// A soak's warm-up that ends when the JIT has gone quiet, not after a fixed count. Tiered compilation keeps
/// recompiling hot methods in the background for thousands of calls (in the engine soak, methods were still being
/// compiled at call 9,000), and its working memory shows in VmRSS: a step of 7–8 MB that the runtime gives back
/// seconds later, absent with DOTNET_TieredCompilation=0. Measured from a fixed 500 calls, such a step passed for a
/// leak once (CI's scalar leg).
/// </summary>
public static class JitQuietWarmUp
{
    /// <summary>Calls <paramref name="run"/>(0, 1, …) at least <paramref name="minimum"/> times, then until no method
    /// has been compiled for <paramref name="quietFor"/>, or until <paramref name="atMost"/> has passed. Returns the
    /// calls made and whether the JIT went quiet.</summary>
    public static (int Calls, bool Quiet) Run(Action<int> run, int minimum, TimeSpan quietFor, TimeSpan atMost)
    {
        var total = Stopwatch.StartNew();
        var sinceCompile = Stopwatch.StartNew();
        long compiled = JitInfo.GetCompiledMethodCount();
        for (int calls = 0; ; )
        {
            run(calls++);
            long now = JitInfo.GetCompiledMethodCount();
            if (now != compiled) { compiled = now; sinceCompile.Restart(); }
            if (calls < minimum) continue;
            if (sinceCompile.Elapsed >= quietFor) return (calls, true);
            if (total.Elapsed >= atMost) return (calls, false);
        }
    }
}

/// <summary>Gives the C allocator's free memory back to the system (glibc's malloc_trim), as the aggressive collection
/// does for the managed heap. The runtime's own native work leaves megabytes free but resident in a thread's malloc
/// arena, which glibc returns only later: in the engine soak, /proc/self/smaps showed one 64 MB-aligned anonymous
/// mapping (an arena) grow from 1.1 to 9.2 MB between two snapshots, beside the JIT compiling, and a soak reading VmRSS
/// then takes it for a leak. Memory still held stays resident, so a native leak still shows. A no-op without glibc.</summary>
internal static class NativeHeap
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    public static void Trim()
    {
        if (_unavailable) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _unavailable = true; }   // musl, for one
    }

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]   // glibc's soname; elsewhere the import fails and Trim does nothing
    private static extern int MallocTrim(nuint pad);
}
