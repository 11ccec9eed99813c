using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;

namespace NanoPose.Weights;

/// <summary>Builds a .npw weight file (layout in NPW-FORMAT.md): add tensors in the order the model uses them, then save.</summary>
public sealed class NpwWriter(ModelArchitecture architecture)
{
    private readonly List<(string Name, WeightDType DType, int[] Shape, byte[] Bytes)> _tensors = [];
    private readonly HashSet<string> _names = [];

    /// <summary>Adds a tensor; <paramref name="storeAs"/> Float16 rounds the values to half precision in the file.</summary>
    public void Add(string name, ReadOnlySpan<int> shape, ReadOnlySpan<float> values, WeightDType storeAs = WeightDType.Float32)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (shape.Length > NpwFormat.MaxRank)
            throw new ArgumentException($"tensor '{name}' has rank {shape.Length}, at most {NpwFormat.MaxRank} is supported", nameof(shape));
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}' has a negative dimension {d}", nameof(shape));
            count *= d;
        }
        if (count != values.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape.ToArray())}] holds {count} values, found {values.Length}", nameof(values));
        if (!_names.Add(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));

        byte[] bytes;
        if (storeAs == WeightDType.Float16)
        {
            var halves = new Half[values.Length];
            TensorPrimitives.ConvertToHalf(values, halves);
            bytes = MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
        }
        else if (storeAs == WeightDType.Float32) bytes = MemoryMarshal.AsBytes(values).ToArray();
        else throw new ArgumentOutOfRangeException(nameof(storeAs), storeAs, "unknown dtype");
        _tensors.Add((name, storeAs, shape.ToArray(), bytes));
    }

    public void Save(string path) => File.WriteAllBytes(path, ToBytes());

    public byte[] ToBytes()
    {
        byte[] metadata = EncodeMetadata(out long[] offsets, out long dataLength);
        long dataOffset = NpwFormat.AlignUp(NpwFormat.HeaderSize + metadata.Length);
        long fileLength = dataOffset + dataLength + NpwFormat.TrailerSize;
        if (fileLength > Array.MaxLength) throw new InvalidOperationException($"weight file would be {fileLength} bytes, too large");

        var file = new byte[fileLength];
        var header = file.AsSpan(0, NpwFormat.HeaderSize);
        NpwFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], NpwFormat.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);                       // flags
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)fileLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], NpwFormat.HeaderSize);    // metadata offset
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], (ulong)metadata.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[40..], (ulong)dataOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[48..], (ulong)dataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[56..], (uint)_tensors.Count);
        metadata.CopyTo(file, NpwFormat.HeaderSize);
        for (int i = 0; i < _tensors.Count; i++) _tensors[i].Bytes.CopyTo(file, dataOffset + offsets[i]);

        var body = file.AsSpan(0, file.Length - NpwFormat.TrailerSize);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(body.Length), Crc32C.Compute(body));
        return file;
    }

    private byte[] EncodeMetadata(out long[] offsets, out long dataLength)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream, Encoding.UTF8);   // BinaryWriter is little-endian on every platform
        WriteString(w, architecture.Family);
        WriteString(w, architecture.Variant);
        w.Write((uint)architecture.Properties.Count);
        foreach (var (key, value) in architecture.Properties)
        {
            WriteString(w, key);
            w.Write((byte)value.Kind);
            switch (value.Kind)
            {
                case ArchitectureValueKind.Int: w.Write(value.AsInt); break;
                case ArchitectureValueKind.Float: w.Write(value.AsFloat); break;
                case ArchitectureValueKind.String: WriteString(w, value.AsString); break;
                case ArchitectureValueKind.IntList:
                    w.Write((uint)value.AsIntList.Count);
                    foreach (long v in value.AsIntList) w.Write(v);
                    break;
            }
        }

        offsets = new long[_tensors.Count];
        long offset = 0;
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, dtype, shape, bytes) = _tensors[i];
            offsets[i] = offset;
            WriteString(w, name);
            w.Write((byte)dtype);
            w.Write((byte)shape.Length);
            foreach (int d in shape) w.Write((uint)d);
            w.Write((ulong)offset);
            w.Write((ulong)bytes.Length);
            offset = NpwFormat.AlignUp(offset + bytes.Length);
        }
        dataLength = offset;
        w.Flush();
        return stream.ToArray();
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(s);
        w.Write((uint)utf8.Length);
        w.Write(utf8);
    }
}
