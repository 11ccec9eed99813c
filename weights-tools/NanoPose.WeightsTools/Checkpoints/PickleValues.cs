namespace NanoPose.WeightsTools.Checkpoints;

// The only values the restricted unpickler ever builds. Plain Python values map to C# ones:
// str → string, int → long (or BigInteger beyond 64 bits), float → double, bool → bool, None → null,
// bytes → byte[], list → List<object?>.

/// <summary>A Python tuple.</summary>
internal sealed record PickleTuple(object?[] Items)
{
    public int Count => Items.Length;
    public object? this[int index] => Items[index];
}

/// <summary>A dict or collections.OrderedDict; keeps insertion order (both do in Python 3.7+). Its storage is made
/// on the first item, so a pickle of empty-dict opcodes costs one small object per byte.</summary>
internal sealed class PickleDict(bool isOrderedDict)
{
    private List<KeyValuePair<object, object?>>? _items;
    private Dictionary<object, int>? _index;

    public bool IsOrderedDict { get; } = isOrderedDict;
    public int Count => _items?.Count ?? 0;
    /// <summary>Items the dict holds before its storage grows.</summary>
    public int Capacity => _items?.Capacity ?? 0;
    /// <summary>Storage per item: a list slot (key and value) and an index entry with its bucket.</summary>
    public const int BytesPerItem = 56;
    public IReadOnlyList<KeyValuePair<object, object?>> Items => (IReadOnlyList<KeyValuePair<object, object?>>?)_items ?? [];

    public void Set(object key, object? value)
    {
        _items ??= [];
        _index ??= new(PickleKeyComparer.Instance);
        if (_index.TryGetValue(key, out int at)) _items[at] = new(key, value);
        else
        {
            _index[key] = _items.Count;
            _items.Add(new(key, value));
        }
    }

    public bool TryGet(string key, out object? value)
    {
        int at = 0;
        bool found = _index?.TryGetValue(key, out at) == true;
        value = found ? _items![at].Value : null;
        return found;
    }
}

/// <summary>A global the allow-list accepted (e.g. <c>torch._utils._rebuild_tensor_v2</c>).</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A tensor storage named by a persistent id: <see cref="ElementCount"/> elements of <see cref="DType"/>
/// starting <see cref="ElementOffset"/> elements into the stored block <see cref="Key"/> (non-zero only for legacy views).</summary>
internal sealed record TorchStorage(TorchDType DType, string Key, long ElementOffset, long ElementCount);

/// <summary>What torch._utils._rebuild_tensor_v2 describes: a strided view of a storage.</summary>
internal sealed record TorchTensorView(TorchStorage Storage, long StorageOffset, long[] Shape, long[] Strides);

/// <summary>
/// Equality for dict keys and memo indices with hashes an input cannot aim: .NET hashes a long by folding its two
/// halves (so 100 000 keys of the form i·(2^32 + 1) all hash to 0) and a double by its bits, and a Dictionary
/// with such keys degrades to a list scan per insert. Here both halves go through <see cref="HashCode"/>, which
/// mixes in a random per-process seed (hashing the folded hash would keep the collisions); strings already hash with
/// a randomized seed, tuples by reference (as their record equality compares arrays).
/// </summary>
internal sealed class PickleKeyComparer : IEqualityComparer<object>
{
    public static readonly PickleKeyComparer Instance = new();
    public static readonly IEqualityComparer<long> Int64 = new Int64Comparer();

    public new bool Equals(object? x, object? y) => object.Equals(x, y);

    public int GetHashCode(object key) => key switch
    {
        long n => Mix(n),
        // Equal doubles must hash alike: 0.0 and -0.0, and every NaN (double.Equals treats NaNs as equal).
        double d => Mix(d == 0 ? 0 : double.IsNaN(d) ? -1 : BitConverter.DoubleToInt64Bits(d)),
        _ => key.GetHashCode(),
    };

    private static int Mix(long value) => HashCode.Combine((int)value, (int)(value >> 32));

    private sealed class Int64Comparer : IEqualityComparer<long>
    {
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long value) => Mix(value);
    }
}
