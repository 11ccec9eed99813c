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
    public IReadOnlyList<KeyValuePair<object, object?>> Items => (IReadOnlyList<KeyValuePair<object, object?>>?)_items ?? [];

    public void Set(object key, object? value)
    {
        _items ??= [];
        _index ??= [];
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
