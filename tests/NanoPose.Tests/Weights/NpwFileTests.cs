using System.Buffers.Binary;
using NanoPose.Weights;

namespace NanoPose.Tests.Weights;

public class NpwFileTests
{
    private static readonly float[] ConvWeight = [.. Enumerable.Range(0, 2 * 3 * 3 * 3).Select(i => i * 0.25f - 3)];
    private static readonly float[] Bias = [1.5f, -2.25f];

    private static ModelArchitecture Architecture() => new ModelArchitecture("litehrnet", "litehrnet-18")
        .Set("stem_channels", 32L)
        .Set("bn_eps", 1e-5)
        .Set("module_type", "LITE")
        .Set("stage_modules", [2L, 4L, 2L]);

    /// <summary>A small valid file: a 4-d fp32 tensor, an fp16 tensor, a scalar.</summary>
    private static byte[] SampleFile()
    {
        var writer = new NpwWriter(Architecture());
        writer.Add("conv.weight", [2, 3, 3, 3], ConvWeight);
        writer.Add("conv.bias", [2], Bias, WeightDType.Float16);
        writer.Add("scale", [], [0.5f]);
        return writer.ToBytes();
    }

    [Fact]
    public void RoundTripKeepsArchitectureTablesAndValues()
    {
        var file = NpwFile.Parse(SampleFile(), "sample.npw");
        Assert.Equal("litehrnet", file.Architecture.Family);
        Assert.Equal("litehrnet-18", file.Architecture.Variant);
        Assert.Equal(["stem_channels", "bn_eps", "module_type", "stage_modules"], file.Architecture.Properties.Select(p => p.Key));
        Assert.Equal(32, file.Architecture["stem_channels"].AsInt);
        Assert.Equal(1e-5, file.Architecture["bn_eps"].AsFloat);
        Assert.Equal("LITE", file.Architecture["module_type"].AsString);
        Assert.Equal([2L, 4L, 2L], file.Architecture["stage_modules"].AsIntList);

        Assert.Equal(["conv.weight", "conv.bias", "scale"], file.Tensors.Select(t => t.Name));
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 64));
        Assert.Equal(ConvWeight, file.GetTensor("conv.weight", 2, 3, 3, 3));
        Assert.Equal(WeightDType.Float16, file.Tensors[1].DType);
        Assert.Equal(Bias, file.GetTensor("conv.bias", 2));   // exactly representable in fp16
        Assert.Equal([0.5f], file.GetTensor("scale"));
    }

    [Fact]
    public void DataSectionIsAlignedForMemoryMapping()
    {
        byte[] bytes = SampleFile();
        long dataOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        Assert.Equal(0, dataOffset % 64);
        Assert.Equal(bytes.Length, (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));
    }

    [Fact]
    public void Fp16StorageRoundsToHalfPrecision()
    {
        var writer = new NpwWriter(Architecture());
        float[] values = [0.1f, 1000.3f, -1e-3f, 65504f];
        writer.Add("t", [4], values, WeightDType.Float16);
        var read = NpwFile.Parse(writer.ToBytes(), "half.npw").GetTensor("t", 4);
        for (int i = 0; i < values.Length; i++) Assert.Equal((float)(Half)values[i], read[i]);
    }

    [Fact]
    public void SaveAndLoadThroughTheFileSystem()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nanopose-{Guid.NewGuid():N}.npw");
        try
        {
            var writer = new NpwWriter(Architecture());
            writer.Add("w", [2], Bias);
            writer.Save(path);
            Assert.Equal(Bias, NpwFile.Load(path).GetTensor("w", 2));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MissingTensorAndWrongShapeAreNamed()
    {
        var file = NpwFile.Parse(SampleFile(), "sample.npw");
        var missing = Assert.Throws<WeightFileException>(() => file.GetTensor("conv2.weight", 2));
        Assert.Equal("sample.npw: tensor 'conv2.weight' is missing", missing.Message);
        var shape = Assert.Throws<WeightFileException>(() => file.GetTensor("conv.weight", 2, 3, 1, 1));
        Assert.Equal("sample.npw: tensor 'conv.weight' has shape [2, 3, 3, 3], expected [2, 3, 1, 1]", shape.Message);
    }

    [Fact]
    public void TruncatedFileReportsExpectedAndFoundLength()
    {
        byte[] bytes = SampleFile();
        AssertRejected(bytes[..(bytes.Length - 100)], $"truncated: the header says {bytes.Length} bytes, found {bytes.Length - 100}");
        AssertRejected(bytes[..20], "truncated: 20 bytes, a weight file has at least 68");
        AssertRejected([.. bytes, 0], "1 unexpected bytes after the end");
    }

    [Fact]
    public void BadMagicAndUnsupportedVersion()
    {
        byte[] bytes = SampleFile();
        bytes[1] = (byte)'X';
        AssertRejected(bytes, "bad magic");
        bytes = SampleFile();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 2);
        AssertRejected(bytes, "unsupported format version 2");
    }

    [Fact]
    public void AnyFlippedBitIsACheckumMismatch()
    {
        byte[] original = SampleFile();
        // Every byte after the version field, data and padding included (flipping the length field reads as truncation).
        for (int i = 24; i < original.Length; i += 7)
        {
            byte[] bytes = (byte[])original.Clone();
            bytes[i] ^= 0x10;
            AssertRejected(bytes, "checksum mismatch");
        }
    }

    [Fact]
    public void TensorOutOfRangeIsRejectedEvenWithAValidChecksum()
    {
        byte[] bytes = SampleFile();
        int entry = FindEntry(bytes, "scale");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(entry), 1 << 20);   // offset
        AssertRejected(Reseal(bytes), "tensor 'scale' [1048576, +4) is out of range");
    }

    [Fact]
    public void OverlappingTensorsAreRejected()
    {
        byte[] bytes = SampleFile();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(FindEntry(bytes, "scale")), 64);   // inside conv.weight's 216 bytes
        AssertRejected(Reseal(bytes), "tensors 'conv.weight' [0, +216) and 'scale' [64, +4) overlap");
    }

    [Fact]
    public void MisalignedTensorIsRejected()
    {
        byte[] bytes = SampleFile();
        int entry = FindEntry(bytes, "scale");
        long offset = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(entry));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(entry), offset + 4);
        AssertRejected(Reseal(bytes), $"tensor 'scale' offset {offset + 4} is not 64-byte aligned");
    }

    [Fact]
    public void DimsThatOverflowAreRejectedBeforeAnyAllocation()
    {
        byte[] bytes = SampleFile();
        int dims = FindEntry(bytes, "conv.weight") - 4 * 4;   // the four u32 dims sit before offset and length
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(dims + 4 * i), int.MaxValue);
        AssertRejected(Reseal(bytes), "dims of tensor 'conv.weight' overflow");
    }

    [Fact]
    public void ByteLengthMustMatchShape()
    {
        byte[] bytes = SampleFile();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(FindEntry(bytes, "conv.weight") + 8), 212);
        AssertRejected(Reseal(bytes), "tensor 'conv.weight' has 212 bytes, its shape and dtype need 216");
    }

    [Fact]
    public void TruncatedMetadataIsReported()
    {
        byte[] bytes = SampleFile();
        // Claim one more tensor than the table holds: the reader runs out of metadata bytes.
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(56), 4);
        AssertRejected(Reseal(bytes), "metadata truncated: tensor name needs 4 bytes, 0 left");
    }

    [Fact]
    public void WriterRejectsValuesThatDoNotFitTheShape()
    {
        var writer = new NpwWriter(Architecture());
        Assert.Throws<ArgumentException>(() => writer.Add("w", [2, 2], [1f, 2f, 3f]));
        writer.Add("w", [1], [1f]);
        Assert.Throws<ArgumentException>(() => writer.Add("w", [1], [1f]));
    }

    private static void AssertRejected(byte[] bytes, string expectedProblem)
    {
        var e = Assert.Throws<WeightFileException>(() => NpwFile.Parse(bytes, "broken.npw"));
        Assert.StartsWith("broken.npw: ", e.Message);
        Assert.Contains(expectedProblem, e.Message);
    }

    /// <summary>Byte position of the u64 offset in the table entry of <paramref name="name"/>.</summary>
    private static int FindEntry(byte[] bytes, string name)
    {
        byte[] encoded = [.. BitConverter.GetBytes(name.Length), .. System.Text.Encoding.UTF8.GetBytes(name)];
        int at = bytes.AsSpan().IndexOf(encoded);
        Assert.True(at > 0, $"entry {name} not found");
        int rank = bytes[at + encoded.Length + 1];
        return at + encoded.Length + 2 + 4 * rank;
    }

    /// <summary>Recomputes the checksum so that a deliberately inconsistent file reaches the layout checks.</summary>
    private static byte[] Reseal(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;
    }
}
