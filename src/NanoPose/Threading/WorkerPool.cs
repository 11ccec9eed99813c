namespace NanoPose.Threading;

/// <summary>Work split into parts that touch disjoint outputs, so any part may run on any thread.</summary>
public interface IParallelWork
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    void Run(int part, int parts);
}

/// <summary>
/// A persistent pool of <see cref="Threads"/> − 1 long-lived worker threads plus the calling thread. <see cref="Run"/>
/// hands part 0 to the caller and part p to worker p − 1 (a static split: the same part always runs the same range, so
/// results do not depend on timing), waits for all of them and rethrows the first failure. A dispatch allocates
/// nothing. A dispatch made while another is in progress (a network run by a worker of a crop-parallel pass, or a
/// second caller thread) runs all its parts on its own thread instead of waiting for the busy workers.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    public const int MaxThreads = 64;

    private readonly Thread[] _workers;
    private readonly Signal[] _start;
    private readonly Signal _done = new();
    private IParallelWork? _work;
    private int _parts, _pending, _busy;
    private Exception? _failure;
    private volatile bool _stopping;

    /// <param name="threads">Threads that run parts, the caller's included: 1 … <see cref="MaxThreads"/>.</param>
    public WorkerPool(int threads)
    {
        ValidateThreads(threads, nameof(threads));
        Threads = threads;
        _workers = new Thread[threads - 1];
        _start = new Signal[threads - 1];
        for (int w = 0; w < _workers.Length; w++)
        {
            _start[w] = new Signal();
            int index = w;
            _workers[w] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"NanoPose worker {w + 1}" };
            _workers[w].Start();
        }
    }

    /// <summary>Threads that run parts, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 ≤ <paramref name="threads"/> ≤ <see cref="MaxThreads"/>.</summary>
    public static void ValidateThreads(int threads, string name)
    {
        if (threads is < 1 or > MaxThreads)
            throw new ArgumentOutOfRangeException(name, threads, $"threads must be between 1 and {MaxThreads}");
    }

    /// <summary>Runs parts 0 … <paramref name="parts"/> − 1 of <paramref name="work"/> (at most <see cref="Threads"/>) and
    /// returns when all are done; the first exception of any part is rethrown here after every part has finished.</summary>
    public void Run(IParallelWork work, int parts)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (parts < 1 || parts > Threads)
            throw new ArgumentOutOfRangeException(nameof(parts), parts, $"expected 1 … {Threads} parts");
        if (parts == 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) work.Run(p, parts);
            return;
        }
        try
        {
            (_work, _parts, _failure, _pending) = (work, parts, null, parts - 1);
            for (int w = 0; w < parts - 1; w++) _start[w].Set();
            try
            {
                work.Run(0, parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            _done.WaitAndReset();
            _work = null;
            if (_failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void WorkerLoop(int index)
    {
        var start = _start[index];
        while (true)
        {
            start.WaitAndReset();
            if (_stopping) return;
            try
            {
                _work!.Run(index + 1, _parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    /// <summary>Stops the workers (waiting for them to exit); the pool cannot run work afterwards.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        foreach (var start in _start) start.Set();
        foreach (var worker in _workers) worker.Join();
    }

    /// <summary>The workers still running (0 after <see cref="Dispose"/>).</summary>
    internal int LiveWorkers => _workers.Count(w => w.IsAlive);

    /// <summary>Rows [start, end) of part <paramref name="part"/> when <paramref name="count"/> rows are split into
    /// <paramref name="parts"/> equal contiguous ranges.</summary>
    public static (int Start, int End) Range(int count, int part, int parts) =>
        ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

    /// <summary>
    /// A one-waiter auto-reset event: <see cref="WaitAndReset"/> spins for up to <see cref="SpinMicroseconds"/> (while a
    /// network runs, the next dispatch follows within microseconds, and waking a sleeping thread costs more), then sleeps
    /// on a monitor. Unlike ManualResetEventSlim, whose lock object is made the first time a wait blocks, it allocates
    /// nothing after construction.
    /// </summary>
    private sealed class Signal
    {
        private const int SpinMicroseconds = 50;
        private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        private readonly object _lock = new();
        private volatile bool _set;
        private int _sleeping;

        public void Set()
        {
            _set = true;
            // Write, fence, read on both sides: either the waiter sees the flag, or this sees the waiter asleep and wakes it.
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _sleeping) == 0) return;
            lock (_lock) Monitor.Pulse(_lock);
        }

        public void WaitAndReset()
        {
            long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            while (!_set && System.Diagnostics.Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(16);
            if (!_set)
            {
                lock (_lock)
                {
                    Interlocked.Exchange(ref _sleeping, 1);
                    while (!_set) Monitor.Wait(_lock);
                    Volatile.Write(ref _sleeping, 0);
                }
            }
            _set = false;
        }
    }
}
