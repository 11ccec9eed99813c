using NanoPose.Threading;

namespace NanoPose.Tests.Threading;

public class WorkerPoolTests
{
    /// <summary>Records which thread ran each part, and fails on request.</summary>
    private sealed class Recorder(int parts, int failingPart = -1) : IParallelWork
    {
        public int[] ThreadOfPart { get; } = new int[parts];

        public void Run(int part, int parts)
        {
            ThreadOfPart[part] = Environment.CurrentManagedThreadId;
            if (part == failingPart) throw new InvalidOperationException($"part {part} failed");
        }
    }

    [Fact]
    public void EveryPartRunsOnceOnItsOwnThreadWithTheCallerTakingPartZero()
    {
        using var pool = new WorkerPool(3);
        for (int round = 0; round < 50; round++)
        {
            var work = new Recorder(3);
            pool.Run(work, 3);
            Assert.Equal(Environment.CurrentManagedThreadId, work.ThreadOfPart[0]);
            Assert.Equal(3, work.ThreadOfPart.Distinct().Count());
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void AFailingPartIsRethrownAndThePoolKeepsWorking(int failingPart)
    {
        using var pool = new WorkerPool(3);
        var error = Assert.Throws<InvalidOperationException>(() => pool.Run(new Recorder(3, failingPart), 3));
        Assert.Equal($"part {failingPart} failed", error.Message);
        // No deadlock and no stale failure afterwards.
        var work = new Recorder(3);
        pool.Run(work, 3);
        Assert.Equal(3, work.ThreadOfPart.Distinct().Count());
    }

    [Fact]
    public void ANestedDispatchRunsInlineOnTheCallingThread()
    {
        using var pool = new WorkerPool(2);
        var inner = new Recorder[2];
        var outer = new Nested(pool, inner);
        pool.Run(outer, 2);
        Assert.All(inner, r => Assert.Single(r.ThreadOfPart.Distinct()));
    }

    private sealed class Nested(WorkerPool pool, Recorder[] inner) : IParallelWork
    {
        public void Run(int part, int parts)
        {
            inner[part] = new Recorder(2);
            pool.Run(inner[part], 2);
        }
    }

    [Fact]
    public void DisposeStopsTheWorkers()
    {
        var pool = new WorkerPool(4);
        Assert.Equal(3, pool.LiveWorkers);
        pool.Dispose();
        Assert.Equal(0, pool.LiveWorkers);
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new Recorder(1), 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void ThreadCountsOutsideOneToSixtyFourAreRefused(int threads)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(threads));
        Assert.Contains("between 1 and 64", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PoseEstimatorOptions { Threads = threads });
    }

    [Fact]
    public void MorePartsThanThreadsAreRefused()
    {
        using var pool = new WorkerPool(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(new Recorder(3), 3));
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(2, 8)]
    [InlineData(48, 2)]
    public void RangesCoverEveryRowOnceInEqualContiguousPieces(int count, int parts)
    {
        var ranges = Enumerable.Range(0, parts).Select(p => WorkerPool.Range(count, p, parts)).ToArray();
        Assert.Equal(0, ranges[0].Start);
        Assert.Equal(count, ranges[^1].End);
        for (int p = 1; p < parts; p++) Assert.Equal(ranges[p - 1].End, ranges[p].Start);
        Assert.True(ranges.Max(r => r.End - r.Start) - ranges.Min(r => r.End - r.Start) <= 1);
    }
}
