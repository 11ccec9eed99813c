using System.Text;

namespace NanoPose.WeightsTools.Tests.Checkpoints;

/// <summary>Writes pickle opcodes by hand, for checkpoints the tests build themselves (hostile or synthetic).</summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public PickleBuilder Op(params byte[] bytes) { _bytes.AddRange(bytes); return this; }
    public PickleBuilder Proto(byte protocol = 2) => Op(0x80, protocol);
    public PickleBuilder Global(string module, string name) => Op((byte)'c').Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    public PickleBuilder Mark() => Op((byte)'(');
    public PickleBuilder Tuple() => Op((byte)'t');
    public PickleBuilder EmptyTuple() => Op((byte)')');
    public PickleBuilder EmptyDict() => Op((byte)'}');
    public PickleBuilder EmptyList() => Op((byte)']');
    public PickleBuilder SetItems() => Op((byte)'u');
    public PickleBuilder Appends() => Op((byte)'e');
    public PickleBuilder Reduce() => Op((byte)'R');
    public PickleBuilder Build() => Op((byte)'b');
    public PickleBuilder PersistentId() => Op((byte)'Q');
    public PickleBuilder None() => Op((byte)'N');
    public PickleBuilder Bool(bool value) => Op(value ? (byte)0x88 : (byte)0x89);
    public PickleBuilder Stop() => Op((byte)'.');
    public PickleBuilder Float(double value) => Op((byte)'G').Op(BitConverter.GetBytes(BitConverter.DoubleToInt64Bits(value)).Reverse().ToArray());

    public PickleBuilder Int(long value) => value is >= 0 and < 256 ? Op((byte)'K', (byte)value)
        : value is >= int.MinValue and <= int.MaxValue ? Op((byte)'J').Op(BitConverter.GetBytes((int)value))
        : Op(0x8A, 8).Op(BitConverter.GetBytes(value));

    public PickleBuilder Str(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        return Op((byte)'X').Op(BitConverter.GetBytes(utf8.Length)).Op(utf8);
    }

    public PickleBuilder Ints(params long[] values)
    {
        Mark();
        foreach (long v in values) Int(v);
        return Tuple();
    }

    /// <summary>torch._utils._rebuild_tensor_v2((persistent id), offset, size, stride, False, OrderedDict()).</summary>
    public PickleBuilder Tensor(Action<PickleBuilder> persistentId, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        persistentId(this);
        PersistentId().Int(offset).Ints(size).Ints(stride).Bool(false).Global("collections", "OrderedDict").EmptyTuple().Reduce();
        return Tuple().Reduce();
    }

    public byte[] ToArray() => [.. _bytes];
}
