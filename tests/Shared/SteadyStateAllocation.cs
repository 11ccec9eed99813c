namespace NanoPose.TestSupport;

/// <summary>
/// Bytes a warm operation allocates on the calling thread. GC.GetAllocatedBytesForCurrentThread occasionally reports
/// a few KB that the measured code did not allocate while other tests run in parallel (the runtime's own test of it
/// fails the same way: dotnet/runtime#74388), so this measures several attempts and returns the smallest. A real
/// per-call allocation appears in every attempt, so the minimum still finds it.
/// </summary>
public static class SteadyStateAllocation
{
    /// <summary>The fewest bytes that <paramref name="calls"/> calls of <paramref name="operation"/> allocated in any of
    /// <paramref name="attempts"/> attempts (the operation should already be warm).</summary>
    public static long MinimumBytes(Action operation, int calls = 3, int attempts = 3)
    {
        long fewest = long.MaxValue;
        for (int attempt = 0; attempt < attempts && fewest > 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int call = 0; call < calls; call++) operation();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
