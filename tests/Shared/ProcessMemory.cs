using System.Globalization;

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
/// so far (all threads), working set, VmRSS and VmHWM (printed without the working set, which is VmRSS on Linux).</summary>
public sealed record MemorySnapshot(string When, int Done, long ManagedBytes, long AllocatedBytes, long WorkingSet, long? VmRss, long? VmHwm)
{
    public static MemorySnapshot Take(string when, int done)
    {
        // An aggressive collection also compacts the large-object heap and gives free memory back to the system, so
        // VmRSS shows what is held, not what the GC has yet to return (which swings by ~100 MB under large allocations).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return new(when, done, GC.GetTotalMemory(forceFullCollection: true), GC.GetTotalAllocatedBytes(precise: true), Environment.WorkingSet,
            ProcessMemory.ResidentBytes(), ProcessMemory.PeakResidentBytes());
    }

    /// <summary>The process's resident memory: VmRSS where there is one, else the working set.</summary>
    public long Resident => VmRss ?? WorkingSet;

    public override string ToString()
    {
        string resident = VmRss is null ? $"working set {Mib(WorkingSet)}" : $"VmRSS {Mib(VmRss)}, VmHWM {Mib(VmHwm)}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{When,-5} {Done,6} runs: managed {ManagedBytes / 1024.0,8:F1} KiB, allocated {AllocatedBytes / 1048576.0,8:F1} MiB, {resident}");
    }

    private static string Mib(long? bytes) => bytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / 1048576.0,6:F1} MiB") : "n/a";
}
