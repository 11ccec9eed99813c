using System.Buffers.Binary;
using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.Weights.Fuzz;

/// <summary>
/// Hostile and corrupt .npw files through <see cref="NpwFile.Parse"/> (and, for files it accepts, reading every
/// tensor): each ends in success or a <see cref="WeightFileException"/> naming the file, allocates at most 16× the
/// file plus a constant, and each family finishes in seconds. Seeds are fixed; the report prints seed and counts.
/// </summary>
public class NpwFuzzTests
{
    private const int Seed = 20_240_801;
    private const int RandomCases = 10_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A small valid file: the Lite-HRNet-18 architecture, fp32 and fp16 tensors, a scalar and an empty tensor.</summary>
    internal static byte[] SampleFile()
    {
        var writer = new NpwWriter(LiteHrnetConfig.Known["litehrnet-18"].ToArchitecture());
        writer.Add("conv.weight", [2, 3, 3, 3], [.. Enumerable.Range(0, 54).Select(i => i * 0.25f - 3)]);
        writer.Add("conv.bias", [2], [1.5f, -2.25f], WeightDType.Float16);
        writer.Add("half.weight", [3, 5], [.. Enumerable.Range(0, 15).Select(i => (float)i)], WeightDType.Float16);
        writer.Add("scale", [], [0.5f]);
        writer.Add("empty", [0, 4], []);
        return writer.ToBytes();
    }

    /// <summary>Parses, then reads every tensor and touches the architecture, as a loader would.</summary>
    private static void ReadAll(byte[] bytes)
    {
        var file = NpwFile.Parse(bytes, FuzzFamily.Source);
        foreach (var tensor in file.Tensors)
        {
            var values = file.ReadValues(tensor);
            Assert.Equal(tensor.Shape.Aggregate(1L, (n, d) => n * d), values.Length);
            Assert.Equal(values, file.GetTensor(tensor.Name, tensor.Shape));
        }
        _ = file.Architecture.Properties.Count;
    }

    /// <summary>Rewrites the length field and the checksum, so a deliberately inconsistent file reaches the layout checks.</summary>
    internal static byte[] Reseal(byte[] bytes)
    {
        if (bytes.Length < 68) return bytes;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), (ulong)bytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;
    }

    private static FuzzFamily Family(string name) => new(name, Seed, typeof(WeightFileException));

    [Fact]
    public void RandomMutationsAreCaughtByTheChecksumOrTheFieldChecks()
    {
        byte[] sample = SampleFile();
        var family = Family("npw random mutations");
        // Without a fixed-up checksum nothing may get through except an edit that changed nothing.
        for (int i = 0; i < RandomCases; i++)
            family.Run($"{i}", Mutations.Mutate(sample, Mutations.CaseRandom(Seed, i)), bytes =>
            {
                ReadAll(bytes);
                Assert.True(bytes.AsSpan().SequenceEqual(sample), "a changed file passed the checksum");
            });
        family.Finish(RandomCases, Bound);
    }

    [Fact]
    public void ResealedMutationsOfHeaderAndMetadataReachTheLayoutChecks()
    {
        byte[] sample = SampleFile();
        int metadataEnd = 64 + (int)BinaryPrimitives.ReadUInt64LittleEndian(sample.AsSpan(32));
        var family = Family("npw resealed header/metadata mutations");
        for (int i = 0; i < RandomCases; i++)
        {
            var random = Mutations.CaseRandom(Seed + 1, i);
            // Mutate the header and metadata only (the data section is opaque floats), keep the rest.
            byte[] head = Mutations.Mutate(sample[..metadataEnd], random);
            byte[] file = Reseal([.. head, .. sample.AsSpan(metadataEnd)]);
            family.Run($"{i}", file, ReadAll);
        }
        family.Finish(RandomCases, Bound);
        Assert.True(family.Outcomes.GetValueOrDefault(nameof(WeightFileException)) > RandomCases / 2, "most resealed mutations must still be refused");
    }

    [Fact]
    public void TruncationAtEveryByteWithAndWithoutAResealedHeader()
    {
        byte[] sample = SampleFile();
        var family = Family("npw truncations");
        foreach (byte[] prefix in Mutations.Truncations(sample))
        {
            family.Run($"cut at {prefix.Length}", prefix, ReadAll);
            family.Run($"cut at {prefix.Length}, resealed", Reseal((byte[])prefix.Clone()), ReadAll);
        }
        family.Finish(2 * sample.Length, Bound);
        Assert.Equal(2 * sample.Length, family.Outcomes[nameof(WeightFileException)]);
    }

    [Fact]
    public void EveryIntegerFieldSetToHostileValues()
    {
        // Every 1-, 4- and 8-byte position of header and metadata set to values that overflow, point out of range,
        // break alignment or overlap, with the checksum fixed up each time.
        byte[] sample = SampleFile();
        int metadataEnd = 64 + (int)BinaryPrimitives.ReadUInt64LittleEndian(sample.AsSpan(32));
        long[] values = [0, 1, 2, 3, 63, 64, 65, 128, 255, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1L << 32, long.MaxValue, -1, -64];
        var family = Family("npw hostile field values");
        for (int at = 0; at < metadataEnd; at++)
            foreach (long value in values)
                foreach (int size in (int[])[1, 4, 8])
                {
                    if (at + size > metadataEnd) continue;
                    byte[] file = (byte[])sample.Clone();
                    var encoded = new byte[8];
                    BinaryPrimitives.WriteInt64LittleEndian(encoded, value);
                    encoded.AsSpan(0, size).CopyTo(file.AsSpan(at));
                    family.Run($"{size} bytes = {value} at {at}", Reseal(file), ReadAll);
                }
        family.Finish(10_000, Bound);
    }

    [Fact]
    public void Fp16TensorsWidenExactlyWhereHalfConversionIsSoftware()
    {
        // .NET converts Half in software on every platform (no F16C dependency): the values must be exact.
        Half[] halves = [(Half)0, (Half)(-0.0), Half.Epsilon, Half.MaxValue, Half.MinValue, (Half)1.5, Half.PositiveInfinity, Half.NegativeInfinity,
                         BitConverter.UInt16BitsToHalf(0x03FF), BitConverter.UInt16BitsToHalf(0x7E00)];
        var writer = new NpwWriter(new ModelArchitecture("test", "fp16"));
        writer.Add("h", [halves.Length], [.. halves.Select(h => (float)h)], WeightDType.Float16);
        var read = NpwFile.Parse(writer.ToBytes(), "half.npw").GetTensor("h", halves.Length);
        for (int i = 0; i < halves.Length; i++)
        {
            // The reference: IEEE binary16 decoded by hand from its bits.
            ushort bits = BitConverter.HalfToUInt16Bits(halves[i]);
            int sign = bits >> 15, exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF;
            double expected = exponent switch
            {
                0 => mantissa * Math.Pow(2, -24),
                31 => mantissa == 0 ? double.PositiveInfinity : double.NaN,
                _ => (1 + mantissa / 1024.0) * Math.Pow(2, exponent - 15),
            } * (sign == 1 ? -1 : 1);
            Assert.Equal((float)expected, read[i]);
            Assert.Equal(sign == 1, float.IsNegative(read[i]));
        }
    }
}
