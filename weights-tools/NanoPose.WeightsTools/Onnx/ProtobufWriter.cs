using System.Text;

namespace NanoPose.WeightsTools.Onnx;

/// <summary>
/// Writes one protobuf message in the wire format: each field is a key (field number · 8 + wire type) as a varint,
/// then a varint (type 0: integers and enums), a varint length and that many bytes (type 2: strings, bytes and
/// nested messages) or four little-endian bytes (type 5: floats). Repeated fields are written one entry per key, which every parser accepts.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int VarintType = 0, LengthDelimitedType = 2, Fixed32Type = 5;

    private readonly MemoryStream _bytes = new();

    public void Int64(int field, long value)
    {
        Key(field, VarintType);
        Varint((ulong)value);   // negative values take ten bytes, as int64 fields do
    }

    /// <summary>A float field: four little-endian bytes (wire type 5).</summary>
    public void Float(int field, float value)
    {
        Key(field, Fixed32Type);
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _bytes.Write(bytes);
    }

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, LengthDelimitedType);
        Varint((ulong)value.Length);
        _bytes.Write(value);
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A nested message, written by <paramref name="write"/> and then length-prefixed.</summary>
    public void Message(int field, Action<ProtobufWriter> write)
    {
        var inner = new ProtobufWriter();
        write(inner);
        Bytes(field, inner._bytes.GetBuffer().AsSpan(0, (int)inner._bytes.Length));
    }

    public byte[] ToArray() => _bytes.ToArray();

    private void Key(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    /// <summary>Seven bits at a time, least significant first; the high bit says another byte follows.</summary>
    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.WriteByte((byte)value);
    }
}
