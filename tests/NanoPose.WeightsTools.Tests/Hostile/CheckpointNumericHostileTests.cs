using System.Buffers.Binary;
using System.Text;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Tests.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Hostile;

/// <summary>
/// Issue 15 class 7 (and the shape half of 16): numeric fields a file controls, out of range. The zip headers'
/// numeric fields (local, central and zip64 sizes and offsets, counts, name lengths) of a zip64 checkpoint written
/// by hand are overwritten with boundary values (negative, above Array.MaxLength, all ones); the pickle's offset,
/// size and stride get ints beyond 64 bits and dimensions above int.MaxValue next to a zero. Every case is read or
/// refused with a <see cref="CheckpointException"/>; before the fix a negative zip64 size escaped as an
/// OverflowException and shape [0, 2^31] loaded as [0, -2147483648].
/// </summary>
public class CheckpointNumericHostileTests
{
    private const int Seed = 15_007;

    private sealed record Field(string Name, int Offset, int Size);

    /// <summary>A stored zip whose every entry has zip64 sizes and offsets (the 32-bit fields all ones), and its numeric fields.</summary>
    private static (byte[] File, List<Field> Fields) Zip64((string Name, byte[] Content)[] entries)
    {
        var file = new List<byte>();
        var central = new List<byte>();
        var fields = new List<Field>();
        void U16(List<byte> to, int v) => to.AddRange(BitConverter.GetBytes((ushort)v));
        void U32(List<byte> to, long v) => to.AddRange(BitConverter.GetBytes((uint)v));
        void U64(List<byte> to, long v) => to.AddRange(BitConverter.GetBytes(v));
        void Mark(List<byte> to, int baseOffset, string name, int size) => fields.Add(new(name, baseOffset + to.Count, size));
        var centralFields = new List<(string, int, int)>();
        foreach (var (name, content) in entries)
        {
            byte[] nameBytes = Encoding.ASCII.GetBytes(name);
            uint crc = Crc32(content);
            long localOffset = file.Count;
            U32(file, 0x04034b50); U16(file, 45); U16(file, 0); U16(file, 0); U16(file, 0); U16(file, 0x21);
            U32(file, crc);
            Mark(file, 0, $"{name} local csize32", 4); U32(file, uint.MaxValue);
            Mark(file, 0, $"{name} local usize32", 4); U32(file, uint.MaxValue);
            Mark(file, 0, $"{name} local name length", 2); U16(file, nameBytes.Length);
            Mark(file, 0, $"{name} local extra length", 2); U16(file, 20);
            file.AddRange(nameBytes);
            U16(file, 1); Mark(file, 0, $"{name} local zip64 extra size", 2); U16(file, 16);
            Mark(file, 0, $"{name} local zip64 usize", 8); U64(file, content.Length);
            Mark(file, 0, $"{name} local zip64 csize", 8); U64(file, content.Length);
            file.AddRange(content);

            U32(central, 0x02014b50); U16(central, 45); U16(central, 45); U16(central, 0); U16(central, 0); U16(central, 0); U16(central, 0x21);
            U32(central, crc);
            centralFields.Add(($"{name} central csize32", central.Count, 4)); U32(central, uint.MaxValue);
            centralFields.Add(($"{name} central usize32", central.Count, 4)); U32(central, uint.MaxValue);
            centralFields.Add(($"{name} central name length", central.Count, 2)); U16(central, nameBytes.Length);
            centralFields.Add(($"{name} central extra length", central.Count, 2)); U16(central, 28);
            U16(central, 0); U16(central, 0); U16(central, 0); U32(central, 0);
            centralFields.Add(($"{name} central local offset32", central.Count, 4)); U32(central, uint.MaxValue);
            central.AddRange(nameBytes);
            U16(central, 1); centralFields.Add(($"{name} central zip64 extra size", central.Count, 2)); U16(central, 24);
            centralFields.Add(($"{name} central zip64 usize", central.Count, 8)); U64(central, content.Length);
            centralFields.Add(($"{name} central zip64 csize", central.Count, 8)); U64(central, content.Length);
            centralFields.Add(($"{name} central zip64 local offset", central.Count, 8)); U64(central, localOffset);
        }
        int centralStart = file.Count;
        fields.AddRange(centralFields.Select(f => new Field(f.Item1, centralStart + f.Item2, f.Item3)));
        file.AddRange(central);
        U32(file, 0x06054b50); U16(file, 0); U16(file, 0);
        Mark(file, 0, "EOCD entries on this disk", 2); U16(file, entries.Length);
        Mark(file, 0, "EOCD entries", 2); U16(file, entries.Length);
        Mark(file, 0, "EOCD central size", 4); U32(file, central.Count);
        Mark(file, 0, "EOCD central offset", 4); U32(file, centralStart);
        U16(file, 0);
        return ([.. file], fields);
    }

    /// <summary>The zip CRC-32 (reflected polynomial 0xEDB88320), bit by bit: the test files are small.</summary>
    private static uint Crc32(byte[] data)
    {
        uint crc = uint.MaxValue;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    private static readonly long[] Boundaries =
    [
        0, 1, -1, 2, 7, 255, 65535, int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, Array.MaxLength, (long)Array.MaxLength + 1,
        long.MaxValue, long.MinValue, 1L << 40, -(1L << 40), 0x7FFF_FFFF_FFFF_FFF0,
    ];

    [Fact]
    public void ZipHeaderNumericFieldsOutOfRangeAreRefusedNamingTheProblem()
    {
        var storage = new float[12];
        var tensors = new List<StoredTensor> { StoredTensor.Float32("w", "0", storage, 0, [3, 4], [4, 1]) };
        var (valid, fields) = Zip64([("archive/data.pkl", SyntheticCheckpoint.Pickle(tensors, null, legacy: false)), ("archive/data/0", tensors[0].Storage)]);
        Assert.Single(HostileCheckpoints.Read(valid).Tensors);   // the hand-written zip64 archive is itself valid

        var family = new HostileFamily(".pth zip64 numeric fields", Seed, typeof(CheckpointException));
        int cases = 0;
        foreach (var field in fields)
            foreach (long value in Boundaries)
                Case($"{field.Name} = {value}", [(field, value)]);
        var random = new Random(Seed);
        for (int i = 0; i < 1500; i++)
        {
            var edits = Enumerable.Range(0, 2 + random.Next(3)).Select(_ => (fields[random.Next(fields.Count)], Boundaries[random.Next(Boundaries.Length)] + random.Next(-2, 3))).ToArray();
            Case(string.Join(", ", edits.Select(e => $"{e.Item1.Name} = {e.Item2}")), edits);
        }
        family.Finish(cases);

        void Case(string label, (Field Field, long Value)[] edits)
        {
            byte[] file = [.. valid];
            foreach (var (field, value) in edits)
            {
                var at = file.AsSpan(field.Offset, field.Size);
                if (field.Size == 2) BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)value);
                else if (field.Size == 4) BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)value);
                else BinaryPrimitives.WriteInt64LittleEndian(at, value);
            }
            cases++;
            family.Run(label, () => HostileCheckpoints.Read(file), HostileCheckpoints.Allowed(file.Length), TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>One tensor 'w' over a 12-element storage, with the offset, size and stride written by <paramref name="view"/>.</summary>
    private static byte[] WithView(Action<PickleBuilder> view)
    {
        var p = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark().Str("w");
        p.Global("torch._utils", "_rebuild_tensor_v2").Mark();
        p.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(12).Tuple().PersistentId();
        view(p);
        p.Bool(false).Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
        return HostileCheckpoints.Zip(("archive/data.pkl", p.SetItems().Stop().ToArray(), System.IO.Compression.CompressionLevel.NoCompression),
            ("archive/data/0", new byte[48], System.IO.Compression.CompressionLevel.NoCompression));
    }

    /// <summary>A LONG1 int of <paramref name="bytes"/> little-endian bytes (beyond 64 bits from 9 on).</summary>
    private static byte[] BigInt(int bytes, byte fill) => [0x8A, (byte)bytes, .. Enumerable.Repeat(fill, bytes - 1), (byte)(fill & 0x7F)];

    [Fact]
    public void PickleIntsOutOfRangeAreRefusedNamingTheField()
    {
        var family = new HostileFamily(".pth pickle ints out of range", Seed + 1, typeof(CheckpointException));
        var random = new Random(Seed + 1);
        var cases = new List<(string, byte[], string)>();
        for (int i = 0; i < 60; i++)
        {
            int width = 9 + random.Next(24);
            byte fill = (byte)random.Next(1, 256);
            byte[] big = BigInt(width, fill);
            cases.Add(($"offset of {width} bytes", WithView(p => p.Op(big).Ints(3, 4).Ints(4, 1)), "storage offset"));
            cases.Add(($"size of {width} bytes", WithView(p => p.Int(0).Mark().Int(3).Op(big).Tuple().Ints(4, 1)), "size"));
            cases.Add(($"stride of {width} bytes", WithView(p => p.Int(0).Ints(3, 4).Mark().Op(big).Int(1).Tuple()), "stride"));
            long dim = (long)int.MaxValue + 1 + random.Next(1 << 30) * (long)random.Next(1, 1 << 20);
            cases.Add(($"[0, {dim}]", WithView(p => p.Int(0).Ints(0, dim).Ints(1, 1)), $"dimension 1 is {dim}"));
            cases.Add(($"[{dim}, 0]", WithView(p => p.Int(0).Ints(dim, 0).Ints(1, 1)), $"dimension 0 is {dim}"));
        }
        foreach (var (label, file, says) in cases)
            family.Run(label, () => HostileCheckpoints.Refused(file, says), HostileCheckpoints.Allowed(file.Length), TimeSpan.FromSeconds(1));
        family.Finish(cases.Count);
        Assert.Equal(family.Cases, family.Outcomes[nameof(CheckpointException)]);
    }
}
