using NanoPose.Kernels.Common;

namespace NanoPose.Layers;

/// <summary>
/// The activation memory of one network instance, planned once by tensor liveness. While recording, every
/// <see cref="Allocate"/> makes a new tensor and a traced forward pass (<see cref="Executor"/> in trace mode) notes the
/// step of each tensor's first and last use; <see cref="Plan"/> then places all tensors in one buffer so that two
/// tensors share memory only when their lifetimes do not overlap (greedy by size or by first use, whichever packs
/// tighter; best-fitting gap). Kept-alive
/// tensors (the outputs) live to the end. After planning, <see cref="Allocate"/> replays the recorded maps in order,
/// so a run that asks for its maps the same way every time allocates nothing.
/// </summary>
internal sealed class ActivationArena
{
    /// <summary>Tensors start on 64-byte boundaries, where vector loads are fastest.</summary>
    private const int Alignment = 16;

    private readonly List<FeatureMap> _maps = [];
    private readonly List<FeatureMap[]> _lists = [];
    private int _next, _nextList, _step;

    /// <summary>True once <see cref="Plan"/> has placed the tensors.</summary>
    public bool IsPlanned { get; private set; }

    /// <summary>Floats of the planned buffer (0 before planning).</summary>
    public long BufferFloats { get; private set; }

    /// <summary>The most floats alive at one step: no plan can use less (0 before planning).</summary>
    public long PeakLiveFloats { get; private set; }

    /// <summary>Floats the tensors would take with a buffer each (what planning saves).</summary>
    public long UnplannedFloats => _maps.Sum(m => (long)m.Storage.Length);

    /// <summary>Starts a run: the next <see cref="Allocate"/> replays the first planned map again.</summary>
    public void Rewind() => (_next, _nextList) = (0, 0);

    /// <summary>Forgets every tensor and the plan (for another input size).</summary>
    public void Clear()
    {
        _maps.Clear();
        _lists.Clear();
        (_next, _nextList, _step, IsPlanned, BufferFloats) = (0, 0, 0, false, 0);
    }

    /// <summary>A dense tensor of <paramref name="shape"/> (its pixel stride is ignored).</summary>
    public FeatureMap Allocate(Nhwc shape)
    {
        var dense = new Nhwc(shape.Height, shape.Width, shape.Channels);
        if (!IsPlanned)
        {
            var map = new FeatureMap(new TensorStorage(this, dense.Pixels * dense.Channels), 0, dense);
            _maps.Add(map);
            return map;
        }
        if (_next == _maps.Count || _maps[_next].Shape != dense)
            throw new InvalidOperationException(
                $"activation plan: request {_next} asks for {dense}, the plan holds {(_next < _maps.Count ? _maps[_next].Shape.ToString() : "no more maps")}");
        return _maps[_next++];
    }

    /// <summary>An array for <paramref name="count"/> maps (a run's list of branches), replayed like the maps.</summary>
    public FeatureMap[] MapList(int count)
    {
        if (!IsPlanned)
        {
            _lists.Add(new FeatureMap[count]);
            return _lists[^1];
        }
        if (_nextList == _lists.Count || _lists[_nextList].Length != count)
            throw new InvalidOperationException($"activation plan: list request {_nextList} asks for {count} maps, the plan differs");
        return _lists[_nextList++];
    }

    /// <summary>Notes a use of <paramref name="map"/> at the current step (maps of other arenas are ignored).</summary>
    public void Use(FeatureMap map)
    {
        var storage = map.Storage;
        if (IsPlanned || storage.Owner != this) return;
        if (storage.FirstUse < 0) storage.FirstUse = _step;
        storage.LastUse = Math.Max(storage.LastUse, _step);
    }

    /// <summary>Ends the current step: the uses noted so far happen before every later one.</summary>
    public void EndStep() => _step++;

    /// <summary>Keeps <paramref name="map"/> alive to the end of the run (an output the caller reads afterwards).</summary>
    public void KeepAlive(FeatureMap map)
    {
        Use(map);
        if (map.Storage.Owner == this) map.Storage.LastUse = int.MaxValue;
    }

    /// <summary>Places every recorded tensor and allocates the one buffer.</summary>
    public void Plan()
    {
        if (IsPlanned) throw new InvalidOperationException("the arena is already planned");
        // A tensor no operation uses gets no memory (reading it would throw rather than see another tensor's values).
        var used = _maps.Select(m => m.Storage).Distinct().Where(t => t.FirstUse >= 0).ToArray();
        // Greedy by size usually packs tightest; where a few large tensors leave gaps (EfficientHRNet's streamed
        // expansion bands), placing in order of first use can do better. The smaller plan wins.
        var (offsets, total) = Place(used.OrderByDescending(t => t.Length).ThenBy(t => t.FirstUse));
        var (byTime, byTimeTotal) = Place(used.OrderBy(t => t.FirstUse).ThenByDescending(t => t.Length));
        if (byTimeTotal < total) (offsets, total) = (byTime, byTimeTotal);
        if (total > Array.MaxLength) throw new InvalidOperationException($"activation plan needs {total} floats, more than one array holds");
        PeakLiveFloats = PeakLive(used);
        var buffer = GC.AllocateUninitializedArray<float>((int)total);
        foreach (var (tensor, offset) in offsets) (tensor.Buffer, tensor.Offset) = (buffer, (int)offset);
        (IsPlanned, BufferFloats, _next, _nextList) = (true, total, 0, 0);
    }

    /// <summary>Places the tensors in the given order, each in the smallest gap that fits between the placed tensors
    /// whose lifetimes overlap its own (or past them all); returns the offsets and the buffer length.
    /// Plain loops: planning runs at every network load, and LINQ here cost NativeAOT start-up about 3 ms.</summary>
    private static (Dictionary<TensorStorage, long> Offsets, long Total) Place(IEnumerable<TensorStorage> order)
    {
        var placed = new List<(long Start, long End, TensorStorage Tensor)>();
        var overlapping = new List<(long Start, long End, int Placed)>();
        var offsets = new Dictionary<TensorStorage, long>();
        long total = 0;
        foreach (var tensor in order)
        {
            long size = (tensor.Length + Alignment - 1) / Alignment * Alignment;
            long previousEnd = 0, best = -1, bestGap = long.MaxValue;
            overlapping.Clear();
            for (int i = 0; i < placed.Count; i++)
                if (Overlap(placed[i].Tensor, tensor)) overlapping.Add((placed[i].Start, placed[i].End, i));
            // By start, then in placing order (as a stable sort would leave them).
            overlapping.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Placed.CompareTo(b.Placed));
            foreach (var (start, end, _) in overlapping)
            {
                long gap = start - previousEnd;
                if (gap >= size && gap < bestGap) (best, bestGap) = (previousEnd, gap);
                previousEnd = Math.Max(previousEnd, end);
            }
            long offset = best >= 0 ? best : previousEnd;
            placed.Add((offset, offset + size, tensor));
            offsets[tensor] = offset;
            total = Math.Max(total, offset + size);
        }
        return (offsets, total);
    }

    /// <summary>The most floats alive at one step (alive at step s: FirstUse ≤ s ≤ LastUse), in one sweep over the
    /// lifetimes sorted by start and by end; the peak is at some tensor's first step.</summary>
    private static long PeakLive(TensorStorage[] tensors)
    {
        var byStart = tensors.OrderBy(t => t.FirstUse).ToArray();
        var byEnd = tensors.OrderBy(t => t.LastUse).ToArray();
        long live = 0, peak = 0;
        for (int s = 0, e = 0; s < byStart.Length; s++)
        {
            int step = byStart[s].FirstUse;
            live += byStart[s].Length;
            if (s + 1 < byStart.Length && byStart[s + 1].FirstUse == step) continue;   // every tensor starting here first
            while (byEnd[e].LastUse < step) live -= byEnd[e++].Length;   // ended before this step (and started before it)
            peak = Math.Max(peak, live);
        }
        return peak;
    }

    /// <summary>Lifetimes [first, last] that share a step.</summary>
    private static bool Overlap(TensorStorage a, TensorStorage b) => a.FirstUse <= b.LastUse && b.FirstUse <= a.LastUse;
}
