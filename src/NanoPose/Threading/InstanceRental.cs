namespace NanoPose.Threading;

/// <summary>
/// How a thread-safe front (<see cref="PoseEstimator"/>, <see cref="PersonDetector"/>) lets any number of calls run at
/// once without a lock around its networks: each call rents an instance of its own. The first instance (built with the
/// front, the one with worker threads) is rented first; a call that finds every instance busy takes an idle one, else
/// has a new one made (sharing packed weights, its own activation memory), which is kept for later calls. So there are
/// at most as many instances as calls ever ran at once.
/// <para>Disposal may happen while calls run: they finish normally, <see cref="IsDisposed"/> tells later ones to refuse,
/// and the release (instances dropped, <c>release</c> run once) happens when the last running call leaves, or at
/// <see cref="Dispose"/> itself when none is running.</para>
/// <para>A call is <see cref="Enter"/> … <see cref="Exit"/> (in a finally), with <see cref="Rent"/> … <see cref="Return"/>
/// inside.</para>
/// </summary>
internal sealed class InstanceRental<T>(T first, Func<T> create, Action release) where T : class
{
    private T? _original = first;   // null once released
    private T? _first = first;   // null while it is rented, and once released
    private Func<T>? _create = create;   // null once released
    private readonly Stack<T> _idle = new();   // the other instances not rented; locked while used
    private int _instances = 1, _callsRunning, _disposed, _released;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Instances made so far.</summary>
    public int Instances => Volatile.Read(ref _instances);

    /// <summary>Calls between <see cref="Enter"/> and <see cref="Exit"/> now.</summary>
    public int CallsRunning => Volatile.Read(ref _callsRunning);

    /// <summary>Counts a call in. Counted before the caller looks at <see cref="IsDisposed"/>: Dispose sets the flag
    /// before counting, so either it sees this call running and leaves the release to it, or the call sees the flag.</summary>
    public void Enter() => Interlocked.Increment(ref _callsRunning);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _callsRunning) == 0 && IsDisposed) Release();
    }

    /// <summary>The first instance if it is free, else an idle one, else a new one. Only between Enter and Exit.</summary>
    public T Rent()
    {
        if (Interlocked.Exchange(ref _first, null) is { } free) return free;
        lock (_idle)
            if (_idle.TryPop(out var idle)) return idle;
        Interlocked.Increment(ref _instances);
        return _create!();   // not yet released: the caller is counted as running
    }

    public void Return(T instance)
    {
        if (ReferenceEquals(instance, _original)) Volatile.Write(ref _first, instance);
        else lock (_idle) _idle.Push(instance);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (CallsRunning == 0) Release();
    }

    /// <summary>Once, after disposal, when no call is running (both Dispose and the last call may get here).</summary>
    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        (_first, _original, _create) = (null, null, null);
        lock (_idle) _idle.Clear();
        release();
    }
}
