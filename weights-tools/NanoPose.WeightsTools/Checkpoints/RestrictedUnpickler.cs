using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace NanoPose.WeightsTools.Checkpoints;

/// <summary>
/// Reads one pickle (protocols 2–5) of the shape torch.save writes for a state dict, and nothing else.
/// It builds plain values (see PickleValues.cs) and never runs code: the only globals it accepts are
/// collections.OrderedDict, the torch tensor/parameter rebuild functions and the torch storage classes as
/// type markers; REDUCE may only call the first ones, BUILD only applies to an OrderedDict, and persistent
/// ids are resolved by the caller into storages. Everything else is refused with the name and byte position.
/// Memory is bounded by the input: every opcode pushes at most one value, and lengths are checked
/// against the bytes left before anything is allocated.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private readonly byte[] _data;
    private readonly string _source;
    private readonly Func<object?, TorchStorage>? _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;
    private int _opStart;

    private RestrictedUnpickler(byte[] data, int start, string source, Func<object?, TorchStorage>? persistentLoad)
        => (_data, _pos, _source, _persistentLoad) = (data, start, source, persistentLoad);

    /// <summary>Reads the pickle starting at <paramref name="position"/> and advances it past the STOP opcode.</summary>
    public static object? Load(byte[] data, ref int position, string source, Func<object?, TorchStorage>? persistentLoad = null)
    {
        var reader = new RestrictedUnpickler(data, position, source, persistentLoad);
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
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(ReadLength(4)))); break;   // BINSTRING (Python 2 str)
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break;      // SHORT_BINSTRING
                case (byte)'B': Push(Take(ReadLength(4)).ToArray()); break;  // BINBYTES
                case (byte)'C': Push(Take(ReadByte()).ToArray()); break;     // SHORT_BINBYTES

                case (byte)')': Push(new PickleTuple([])); break;
                case 0x85: Push(new PickleTuple(PopN(1))); break;
                case 0x86: Push(new PickleTuple(PopN(2))); break;
                case 0x87: Push(new PickleTuple(PopN(3))); break;
                case (byte)'t': Push(new PickleTuple(PopMark())); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'l': Push(new List<object?>(PopMark())); break;
                case (byte)'a': { object? item = Pop(); AsList(Peek()).Add(item); break; }
                case (byte)'e': { object?[] items = PopMark(); AsList(Peek()).AddRange(items); break; }
                case (byte)'}': Push(new PickleDict(isOrderedDict: false)); break;
                case (byte)'d': { var dict = new PickleDict(false); SetItems(dict, PopMark()); Push(dict); break; }
                case (byte)'s': { object? value = Pop(), key = Pop(); SetItems(AsDict(Peek()), [key, value]); break; }
                case (byte)'u': { object?[] items = PopMark(); SetItems(AsDict(Peek()), items); break; }

                case (byte)'q': _memo[ReadByte()] = Peek(); break;           // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break;        // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break;               // MEMOIZE
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
        if (callable is not PickleGlobal global) throw Bad($"refusing to call a {Describe(callable)}");
        if (args is not PickleTuple a) throw Bad($"arguments of '{global}' are a {Describe(args)}, not a tuple");
        switch (global.Name)
        {
            case "OrderedDict":
                if (a.Count != 0) throw Bad("collections.OrderedDict called with arguments");
                return new PickleDict(isOrderedDict: true);
            case "_rebuild_tensor_v2" when a.Count is 6 or 7:   // (storage, offset, size, stride, requires_grad, hooks[, metadata])
            case "_rebuild_tensor" when a.Count == 4:            // (storage, offset, size, stride)
                if (a[0] is not TorchStorage storage) throw Bad($"'{global}' expects a storage, got a {Describe(a[0])}");
                return new TorchTensorView(storage, AsLong(a[1], "storage offset"), AsLongs(a[2], "size"), AsLongs(a[3], "stride"));
            case "_rebuild_parameter" when a.Count == 3:         // (data, requires_grad, backward_hooks)
                return a[0] as TorchTensorView ?? throw Bad($"'{global}' expects a tensor, got a {Describe(a[0])}");
            default:
                throw Bad($"refusing to call '{global}' with {a.Count} arguments");
        }
    }

    /// <summary>BUILD sets an object's state; torch.save uses it only for the OrderedDict's _metadata, which is not needed.</summary>
    private void Build(object? target, object? state)
    {
        if (target is not PickleDict { IsOrderedDict: true }) throw Bad($"refusing BUILD on a {Describe(target)}");
        if (state is not PickleDict) throw Bad($"BUILD state of an OrderedDict is a {Describe(state)}");
    }

    private void SetItems(PickleDict dict, object?[] items)
    {
        if (items.Length % 2 != 0) throw Bad("odd number of items for a dict");
        for (int i = 0; i < items.Length; i += 2)
        {
            object key = items[i] is string or long or bool or double or PickleTuple ? items[i]! : throw Bad($"dict key is a {Describe(items[i])}");
            dict.Set(key, items[i + 1]);
        }
    }

    private long AsLong(object? value, string what) => value as long? ?? throw Bad($"{what} is a {Describe(value)}, not an int");

    private long[] AsLongs(object? value, string what)
    {
        if (value is not PickleTuple t) throw Bad($"{what} is a {Describe(value)}, not a tuple");
        var result = new long[t.Count];
        for (int i = 0; i < result.Length; i++) result[i] = AsLong(t[i], what);
        return result;
    }

    private List<object?> AsList(object? value) => value as List<object?> ?? throw Bad($"APPEND to a {Describe(value)}");
    private PickleDict AsDict(object? value) => value as PickleDict ?? throw Bad($"SETITEM on a {Describe(value)}");

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string => "str",
        long or BigInteger => "int",
        double => "float",
        bool => "bool",
        byte[] => "bytes",
        List<object?> => "list",
        PickleTuple => "tuple",
        PickleDict { IsOrderedDict: true } => "collections.OrderedDict",
        PickleDict => "dict",
        PickleGlobal g => $"global '{g}'",
        TorchStorage => "storage",
        TorchTensorView => "tensor",
        _ => value.GetType().Name,
    };

    private static string OpName(byte op) => op switch { 0x81 => "NEWOBJ", 0x92 => "NEWOBJ_EX", (byte)'i' => "INST", _ => "OBJ" };

    private void Push(object? value) => _stack.Add(value);

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
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length)); }
        catch (DecoderFallbackException) { throw Bad("string is not valid UTF-8"); }
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
