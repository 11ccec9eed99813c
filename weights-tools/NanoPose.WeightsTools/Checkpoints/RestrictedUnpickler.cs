using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace NanoPose.WeightsTools.Checkpoints;

/// <summary>
/// Reads one pickle (protocols 2–5) of the shape torch.save writes for a state dict, and nothing else.
/// It builds plain values (see PickleValues.cs) and never runs code: the only globals it accepts are
/// collections.OrderedDict, the torch tensor/parameter rebuild functions and the torch storage classes as
/// type markers; REDUCE may only call the first ones, BUILD only applies to an OrderedDict, and persistent
/// ids are resolved by the caller into storages. Everything else is refused with the name and byte position.
/// Memory is bounded by the input and the <see cref="CheckpointBudget"/>: every opcode pushes at most one value,
/// lengths are checked against the bytes left, and the budget is checked at every opcode and before every string,
/// bytes or container whose size the pickle chooses. Dict keys and memo indices are hashed with a per-process random
/// seed (<see cref="PickleKeyComparer"/>), so keys chosen to collide cannot make inserting quadratic. No value is
/// walked recursively here; what formats values for messages stops at <see cref="MaxShownDepth"/>.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private readonly byte[] _data;
    private readonly string _source;
    private readonly Func<object?, TorchStorage>? _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = new(PickleKeyComparer.Int64);
    private readonly CheckpointBudget _budget;
    private int _pos;
    private int _opStart;

    private RestrictedUnpickler(byte[] data, int start, string source, CheckpointBudget budget, Func<object?, TorchStorage>? persistentLoad)
        => (_data, _pos, _source, _budget, _persistentLoad) = (data, start, source, budget, persistentLoad);

    /// <summary>Reads the pickle starting at <paramref name="position"/> and advances it past the STOP opcode; what it
    /// builds counts against <paramref name="budget"/> (by default that of a file holding just this pickle).</summary>
    public static object? Load(byte[] data, ref int position, string source, Func<object?, TorchStorage>? persistentLoad = null, CheckpointBudget? budget = null)
    {
        var reader = new RestrictedUnpickler(data, position, source, budget ?? new CheckpointBudget(data.Length, source), persistentLoad);
        object? result = reader.Run();
        position = reader._pos;
        return result;
    }

    private CheckpointException Bad(string problem) => new(_source, $"{problem} at byte {_opStart}");

    private object? Run()
    {
        while (true)
        {
            _opStart = _pos;
            Reserve(0);   // what the previous opcodes built
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    byte protocol = ReadByte();
                    if (protocol is < 2 or > 5) throw Bad($"unsupported pickle protocol {protocol}");
                    break;
                case 0x95: Take(8); break;                                   // FRAME: a length hint only
                case (byte)'.':                                              // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Bad($"pickle ends with {_stack.Count} values on the stack");
                    return _stack[0];
                case (byte)'(': _marks.Add(_stack.Count); break;             // MARK
                case (byte)'0': Pop(); break;                                // POP
                case (byte)'1': PopMark(); break;                            // POP_MARK
                case (byte)'2': Push(Peek()); break;                         // DUP

                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8A: Push(ReadLong(ReadByte())); break;                // LONG1
                case 0x8B: Push(ReadLong(ReadLength(4))); break;             // LONG4
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;

                case (byte)'X': Push(ReadUtf8(ReadLength(4))); break;        // BINUNICODE
                case 0x8C: Push(ReadUtf8(ReadByte())); break;                // SHORT_BINUNICODE
                case 0x8D: Push(ReadUtf8(ReadLength(8))); break;             // BINUNICODE8
                case (byte)'T': Push(ReadLatin1(ReadLength(4))); break;      // BINSTRING (Python 2 str)
                case (byte)'U': Push(ReadLatin1(ReadByte())); break;         // SHORT_BINSTRING
                case (byte)'B': Push(ReadBytes(ReadLength(4))); break;       // BINBYTES
                case (byte)'C': Push(ReadBytes(ReadByte())); break;          // SHORT_BINBYTES

                case (byte)')': Push(new PickleTuple([])); break;
                case 0x85: Push(new PickleTuple(PopN(1))); break;
                case 0x86: Push(new PickleTuple(PopN(2))); break;
                case 0x87: Push(new PickleTuple(PopN(3))); break;
                case (byte)'t': Push(new PickleTuple(PopMark())); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'l': Push(new List<object?>(PopMark())); break;
                case (byte)'a': { object? item = Pop(); var list = AsList(Peek()); ReserveGrowth(list.Count + 1, list.Capacity, IntPtr.Size); list.Add(item); break; }
                case (byte)'e': { object?[] items = PopMark(); var list = AsList(Peek()); ReserveGrowth(list.Count + items.Length, list.Capacity, IntPtr.Size); list.AddRange(items); break; }
                case (byte)'}': Push(new PickleDict(isOrderedDict: false)); break;
                case (byte)'d': { var dict = new PickleDict(false); SetItems(dict, PopMark()); Push(dict); break; }
                case (byte)'s': { object? value = Pop(), key = Pop(); SetItems(AsDict(Peek()), [key, value]); break; }
                case (byte)'u': { object?[] items = PopMark(); SetItems(AsDict(Peek()), items); break; }

                case (byte)'q': Memoize(ReadByte()); break;                  // BINPUT
                case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break;   // LONG_BINPUT
                case 0x94: Memoize(_memo.Count); break;                      // MEMOIZE
                case (byte)'h': Push(MemoGet(ReadByte())); break;            // BINGET
                case (byte)'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;         // LONG_BINGET

                case (byte)'c': { string module = ReadLine(), name = ReadLine(); Push(AllowGlobal(module, name)); break; }
                case 0x93:                                                   // STACK_GLOBAL
                {
                    object? name = Pop(), module = Pop();
                    if (module is not string m || name is not string n) throw Bad("STACK_GLOBAL needs two strings");
                    Push(AllowGlobal(m, n));
                    break;
                }
                case (byte)'R': { object? args = Pop(); Push(Reduce(Pop(), args)); break; }
                case (byte)'b': { object? state = Pop(); Build(Peek(), state); break; }
                case (byte)'Q':                                              // BINPERSID
                    if (_persistentLoad is null) throw Bad("persistent id in a pickle that may not reference storages");
                    Push(_persistentLoad(Pop()));
                    break;

                case 0x81 or 0x92 or (byte)'i' or (byte)'o':
                    throw Bad($"refusing pickle opcode {OpName(op)} (it instantiates classes)");
                default:
                    throw Bad($"unsupported pickle opcode 0x{op:X2}");
            }
        }
    }

    /// <summary>The allow-list. Any other global is refused here, before anything could use it.</summary>
    private PickleGlobal AllowGlobal(string module, string name)
    {
        bool allowed = (module, name) switch
        {
            ("collections", "OrderedDict") => true,
            ("torch._utils", "_rebuild_tensor" or "_rebuild_tensor_v2" or "_rebuild_parameter") => true,
            ("torch", _) => TorchDTypes.TryFromStorageClass(name, out _),
            _ => false,
        };
        if (!allowed) throw Bad($"refusing pickle global '{module}.{name}' (only state-dict globals are allowed)");
        return new PickleGlobal(module, name);
    }

    private object Reduce(object? callable, object? args)
    {
        if (callable is not PickleGlobal global) throw Bad($"refusing to call {Describe(callable)}");
        if (args is not PickleTuple a) throw Bad($"arguments of '{global}' are {Describe(args)}, not a tuple");
        switch (global.Name)
        {
            case "OrderedDict":
                if (a.Count != 0) throw Bad("collections.OrderedDict called with arguments");
                return new PickleDict(isOrderedDict: true);
            case "_rebuild_tensor_v2" when a.Count is 6 or 7:   // (storage, offset, size, stride, requires_grad, hooks[, metadata])
            case "_rebuild_tensor" when a.Count == 4:            // (storage, offset, size, stride)
                if (a[0] is not TorchStorage storage) throw Bad($"'{global}' expects a storage, got {Describe(a[0])}");
                return new TorchTensorView(storage, AsLong(a[1], "storage offset"), AsLongs(a[2], "size"), AsLongs(a[3], "stride"));
            case "_rebuild_parameter" when a.Count == 3:         // (data, requires_grad, backward_hooks)
                return a[0] as TorchTensorView ?? throw Bad($"'{global}' expects a tensor, got {Describe(a[0])}");
            default:
                throw Bad($"refusing to call '{global}' with {a.Count} arguments");
        }
    }

    /// <summary>BUILD sets an object's state; torch.save uses it only for the OrderedDict's _metadata, which is not needed.</summary>
    private void Build(object? target, object? state)
    {
        if (target is not PickleDict { IsOrderedDict: true }) throw Bad($"refusing BUILD on {Describe(target)}");
        if (state is not PickleDict) throw Bad($"BUILD state of an OrderedDict is {Describe(state)}");
    }

    private void Memoize(long key)
    {
        ReserveGrowth(_memo.Count + 1, _memo.Capacity, MemoEntryBytes);
        _memo[key] = Peek();
    }

    private void SetItems(PickleDict dict, object?[] items)
    {
        if (items.Length % 2 != 0) throw Bad("odd number of items for a dict");
        ReserveGrowth(dict.Count + items.Length / 2, dict.Capacity, PickleDict.BytesPerItem);
        for (int i = 0; i < items.Length; i += 2)
        {
            object key = items[i] is string or long or bool or double or PickleTuple ? items[i]! : throw Bad($"dict key is {Describe(items[i])}");
            dict.Set(key, items[i + 1]);
        }
    }

    private long AsLong(object? value, string what) => value switch
    {
        long number => number,
        BigInteger big => throw Bad($"{what} {Truncate(big.ToString(CultureInfo.InvariantCulture))} does not fit in 64 bits"),
        _ => throw Bad($"{what} is {Describe(value)}, not an int"),
    };

    private long[] AsLongs(object? value, string what)
    {
        if (value is not PickleTuple t) throw Bad($"{what} is {Describe(value)}, not a tuple");
        var result = new long[t.Count];
        for (int i = 0; i < result.Length; i++) result[i] = AsLong(t[i], what);
        return result;
    }

    private List<object?> AsList(object? value) => value as List<object?> ?? throw Bad($"APPEND to {Describe(value)}");
    private PickleDict AsDict(object? value) => value as PickleDict ?? throw Bad($"SETITEM on {Describe(value)}");

    /// <summary>The Python type of a value, with its article ("an int", "a tuple", "None"), for messages.</summary>
    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string => "a str",
        long or BigInteger => "an int",
        double => "a float",
        bool => "a bool",
        byte[] => "a bytes object",
        List<object?> => "a list",
        PickleTuple => "a tuple",
        PickleDict { IsOrderedDict: true } => "a collections.OrderedDict",
        PickleDict => "a dict",
        PickleGlobal g => $"a global '{g}'",
        TorchStorage => "a storage",
        TorchTensorView => "a tensor",
        _ => $"a {value.GetType().Name}",
    };

    /// <summary>How deep <see cref="Show"/> looks into nested tuples; pickles can nest (and, through the memo, loop) without end.</summary>
    internal const int MaxShownDepth = 4;
    /// <summary>How many items of one tuple <see cref="Show"/> lists.</summary>
    internal const int MaxShownItems = 8;

    /// <summary>A short rendering of a value for messages: strings quoted and cut, tuples to <see cref="MaxShownDepth"/>
    /// levels and <see cref="MaxShownItems"/> items, anything else by its type.</summary>
    internal static string Show(object? value, int depth = 0) => value switch
    {
        string s => $"'{Truncate(s)}'",
        long n => n.ToString(CultureInfo.InvariantCulture),
        PickleTuple t when depth >= MaxShownDepth => "(…)",
        PickleTuple t => $"({string.Join(", ", t.Items.Take(MaxShownItems).Select(item => Show(item, depth + 1)))}{(t.Count > MaxShownItems ? ", …" : "")})",
        _ => Describe(value),
    };

    internal static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";

    private static string OpName(byte op) => op switch { 0x81 => "NEWOBJ", 0x92 => "NEWOBJ_EX", (byte)'i' => "INST", _ => "OBJ" };

    private void Push(object? value)
    {
        ReserveGrowth(_stack.Count + 1, _stack.Capacity, IntPtr.Size);
        _stack.Add(value);
    }

    /// <summary>A Dictionary&lt;long, object&gt; entry and its bucket.</summary>
    private const int MemoEntryBytes = 32;

    /// <summary>Before a collection of <paramref name="capacity"/> grows to hold <paramref name="count"/> items: its next
    /// storage (twice the size, or the count) must fit the budget. Growth is the one large allocation of a small opcode.</summary>
    private void ReserveGrowth(long count, long capacity, int bytesPerItem)
    {
        if (count > capacity) Reserve(Math.Max(2 * capacity, count) * bytesPerItem);
    }

    private object? Peek()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count)) throw Bad("stack underflow");
        return _stack[^1];
    }

    private object? Pop()
    {
        object? value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object?[] PopN(int count)
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count - floor < count) throw Bad("stack underflow");
        object?[] items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw Bad("no MARK on the stack");
        int mark = _marks[^1];
        Reserve(3L * IntPtr.Size * (_stack.Count - mark));   // the items' array, and a list an APPENDS may copy them to
        _marks.RemoveAt(_marks.Count - 1);
        object?[] items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? MemoGet(long key) => _memo.TryGetValue(key, out object? value) ? value : throw Bad($"memo key {key} was never stored");

    private byte ReadByte() => Take(1)[0];

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count > _data.Length - _pos) throw Bad($"pickle truncated: {count} bytes needed, {_data.Length - _pos} left");
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    /// <summary>A length field of 4 or 8 bytes; it can never exceed the bytes left, so it fits an int.</summary>
    private int ReadLength(int size)
    {
        ulong length = size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        if (length > (ulong)(_data.Length - _pos)) throw Bad($"pickle truncated: length {length} exceeds the {_data.Length - _pos} bytes left");
        return (int)length;
    }

    private string ReadUtf8(int length)
    {
        Reserve(2L * length);
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length)); }
        catch (DecoderFallbackException) { throw Bad("string is not valid UTF-8"); }
    }

    private string ReadLatin1(int length)
    {
        Reserve(2L * length);
        return Encoding.Latin1.GetString(Take(length));
    }

    private byte[] ReadBytes(int length)
    {
        Reserve(length);
        return Take(length).ToArray();
    }

    /// <summary>Refuses before the pickle makes the loader allocate <paramref name="bytes"/> beyond its budget.</summary>
    private void Reserve(long bytes)
    {
        if (!_budget.Allows(bytes)) throw _budget.Refusal(bytes, $"the pickle's values (at byte {_opStart})");
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Bad("pickle truncated inside a GLOBAL name");
        string line = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return line;
    }

    /// <summary>Two's-complement little-endian integer of LONG1/LONG4 (the legacy magic number needs 80 bits).</summary>
    private object ReadLong(int length)
    {
        Reserve(length);
        var bytes = Take(length);
        if (length <= 8)
        {
            long value = 0;
            for (int i = length - 1; i >= 0; i--) value = (value << 8) | bytes[i];
            int unused = 64 - 8 * length;
            return length == 0 ? 0L : (value << unused) >> unused;   // sign-extend
        }
        return new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
    }
}
