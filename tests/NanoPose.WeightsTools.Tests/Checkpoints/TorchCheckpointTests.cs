using System.IO.Compression;
using NanoPose.WeightsTools.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Checkpoints;

/// <summary>Small checkpoints built by the tests themselves, in both formats.</summary>
public class TorchCheckpointTests
{
    private static readonly float[] Storage = [.. Enumerable.Range(0, 12).Select(i => (float)i)];

    /// <summary>A contiguous 2x3 tensor at offset 2, its transposed (non-contiguous) 3x2 view of the same storage,
    /// a scalar, and an fp16 tensor.</summary>
    private static List<StoredTensor> Tensors() =>
    [
        StoredTensor.Float32("module.conv.weight", "0", Storage, 2, [2, 3], [3, 1]),
        StoredTensor.Float32("module.conv.weight_t", "0", Storage, 2, [3, 2], [1, 3]),
        StoredTensor.Float32("module.bn.num", "1", [7f], 0, [], []),
        new("module.half", "HalfStorage", "2", [.. new[] { (Half)1.5, (Half)(-2) }.SelectMany(h => BitConverter.GetBytes(h))], 2, 0, [2], [1]),
    ];

    public static TheoryData<string, string?> FormatsAndWrappers()
    {
        var data = new TheoryData<string, string?>();
        foreach (string format in new[] { "zip", "legacy" })
            foreach (string? wrapper in new[] { "state_dict", "best_state_dict", null })
                data.Add(format, wrapper);
        return data;
    }

    private static byte[] Write(string format, IReadOnlyList<StoredTensor> tensors, string? wrapper = "state_dict")
        => format == "zip" ? SyntheticCheckpoint.Zip(tensors, wrapper) : SyntheticCheckpoint.Legacy(tensors, wrapper);

    [Theory]
    [MemberData(nameof(FormatsAndWrappers))]
    public void ReadsViewsOffsetsDtypesAndStripsModulePrefix(string format, string? wrapper)
    {
        var checkpoint = TorchCheckpoint.Parse(Write(format, Tensors(), wrapper), "synthetic.pth");
        Assert.Equal(format == "zip" ? CheckpointFormat.Zip : CheckpointFormat.Legacy, checkpoint.Format);
        Assert.Equal(["conv.weight", "conv.weight_t", "bn.num", "half"], checkpoint.Tensors.Select(t => t.Name));
        Assert.Equal([2f, 3, 4, 5, 6, 7], checkpoint["conv.weight"].Data);
        Assert.Equal([2, 3], checkpoint["conv.weight"].Shape);
        Assert.Equal([2f, 5, 3, 6, 4, 7], checkpoint["conv.weight_t"].Data);   // the transpose, made C-contiguous
        Assert.Equal([3, 2], checkpoint["conv.weight_t"].Shape);
        Assert.Equal([7f], checkpoint["bn.num"].Data);
        Assert.Empty(checkpoint["bn.num"].Shape);
        Assert.Equal(TorchDType.Float16, checkpoint["half"].DType);
        Assert.Equal([1.5f, -2f], checkpoint["half"].Data);
    }

    [Fact]
    public void TopFolderOfTheArchiveMayHaveAnyName()
    {
        var checkpoint = TorchCheckpoint.Parse(SyntheticCheckpoint.Zip(Tensors(), folder: "my_model_epoch_210"), "named.pth");
        Assert.Equal(4, checkpoint.Tensors.Count);
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void ViewsReachingPastTheirStorageAreRejected(string format)
    {
        List<StoredTensor> tensors = [StoredTensor.Float32("w", "0", Storage, 8, [2, 3], [3, 1])];
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(Write(format, tensors), "bad.pth"));
        Assert.Contains("tensor 'w': view (offset 8, size [2, 3], stride [3, 1]) reaches element 13 of a 12-element storage", e.Message);
    }

    [Fact]
    public void ExpandedTensorsLargerThanTheirStorageAreRejected()
    {
        List<StoredTensor> tensors = [StoredTensor.Float32("w", "0", Storage, 0, [1000, 1000], [0, 0])];
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(SyntheticCheckpoint.Zip(tensors), "bad.pth"));
        Assert.Contains("has more elements than its 12-element storage", e.Message);
    }

    [Theory]
    [InlineData("zip", 1, 9223372036854775807L, 1)]         // offset + stride wrapped to long.MinValue: element 0 was read silently
    [InlineData("legacy", 1, 9223372036854775807L, 1)]
    [InlineData("zip", 0, 4611686018427387904L, 3)]         // 3 × 2^62 wrapped negative: an out-of-range read
    public void StridesAndOffsetsThatWouldOverflowAreRejected(string format, long offset, long stride, int rank)
    {
        List<StoredTensor> tensors = [StoredTensor.Float32("w", "0", Storage, offset, [.. Enumerable.Repeat(2L, rank)], [.. Enumerable.Repeat(stride, rank)])];
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(Write(format, tensors), "wrap.pth"));
        Assert.Contains("tensor 'w': view (offset", e.Message);
        Assert.Contains("of a 12-element storage", e.Message);
    }

    [Fact]
    public void AnElementCountWhoseByteSizeWrapsAroundIsRejected()
    {
        // 2^62 + 12 float32 elements: 4× that wraps to 48 bytes, exactly the entry's length.
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var pickle = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark().Str("w")
                .Tensor(id => id.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int((1L << 62) + 12).Tuple(), 0, [13], [1])
                .SetItems().Stop().ToArray();
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", pickle);
            SyntheticCheckpoint.Add(zip, "archive/data/0", new byte[48]);
        }
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(buffer.ToArray(), "wrap.pth"));
        Assert.Equal("wrap.pth: archive/data/0 has 48 bytes, its 4611686018427387916 Float32 elements need 18446744073709551664", e.Message);
    }

    [Fact]
    public void ManyEntriesThatTogetherInflateFarBeyondTheArchiveAreRejected()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", new PickleBuilder().Proto().EmptyDict().Stop().ToArray());
            for (int i = 0; i < 40; i++) SyntheticCheckpoint.Add(zip, $"archive/data/{i}", new byte[400_000], CompressionLevel.SmallestSize);
        }
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(buffer.ToArray(), "bombs.pth"));
        Assert.Contains("claim", e.Message);
        Assert.Contains("bytes together, unreasonable for a", e.Message);
    }

    [Fact]
    public void HostileGlobalInsideAZipCheckpointIsRefused()
    {
        var pickle = new PickleBuilder().Proto().Global("os", "system").Str("touch /tmp/pwned").Op(0x85).Reduce().Stop().ToArray();
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true)) SyntheticCheckpoint.Add(zip, "archive/data.pkl", pickle);
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(buffer.ToArray(), "evil.pth"));
        Assert.Equal("evil.pth (archive/data.pkl): refusing pickle global 'os.system' (only state-dict globals are allowed) at byte 2", e.Message);
    }

    [Fact]
    public void HostileGlobalInsideALegacyCheckpointIsRefused()
    {
        byte[] legacy = SyntheticCheckpoint.Legacy(Tensors());
        // Replace the main pickle's OrderedDict global by a foreign one of the same length.
        byte[] marker = "collections\nOrderedDict\n"u8.ToArray();
        int at = legacy.AsSpan().IndexOf(marker);
        "subprocess\nPopen\n\n\n\n\n\n\n"u8.ToArray().CopyTo(legacy, at);
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(legacy, "evil_legacy.pth"));
        Assert.Contains("refusing pickle global 'subprocess.Popen'", e.Message);
    }

    [Fact]
    public void UnsafeZipPathsAreRejected()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", new PickleBuilder().Proto().EmptyDict().Stop().ToArray());
            SyntheticCheckpoint.Add(zip, "archive/../../etc/passwd", [1]);
        }
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(buffer.ToArray(), "slip.pth"));
        Assert.Contains("zip entry 'archive/../../etc/passwd' has an unsafe path", e.Message);
    }

    [Fact]
    public void ZipBombEntriesAreRejected()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", new PickleBuilder().Proto().EmptyDict().Stop().ToArray());
            SyntheticCheckpoint.Add(zip, "archive/data/0", new byte[20_000_000], CompressionLevel.SmallestSize);
        }
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(buffer.ToArray(), "bomb.pth"));
        Assert.Contains("zip entry 'archive/data/0' claims 20000000 bytes, unreasonable", e.Message);
    }

    [Fact]
    public void MissingStorageEntryIsNamed()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", SyntheticCheckpoint.Pickle(Tensors(), "state_dict", legacy: false));
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(buffer.ToArray(), "partial.pth"));
        Assert.Contains("storage '0' is referenced but archive/data/0 is missing", e.Message);
    }

    [Fact]
    public void NotACheckpointAndNotAStateDict()
    {
        Assert.Contains("not a PyTorch checkpoint", Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse("hello"u8.ToArray(), "x.pth")).Message);
        var list = SyntheticCheckpoint.Legacy([]);
        Assert.Empty(TorchCheckpoint.Parse(list, "empty.pth").Tensors);

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", new PickleBuilder().Proto().EmptyDict().Mark().Str("epoch").Int(3).SetItems().Stop().ToArray());
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(buffer.ToArray(), "meta_only.pth"));
        Assert.Contains("'epoch' is an int, not a tensor (top-level keys: 'epoch')", e.Message);
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void EveryTruncationIsAClearError(string format)
    {
        byte[] file = Write(format, Tensors());
        for (int length = 0; length < file.Length; length += 1 + length / 16)
        {
            var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(file[..length], "cut.pth"));
            Assert.StartsWith("cut.pth", e.Message);
        }
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void CorruptedBytesGiveCheckpointErrorsNotCrashes(string format)
    {
        byte[] original = Write(format, Tensors());
        foreach (byte pattern in new byte[] { 0xFF, 0x01, 0x80 })
            for (int i = 0; i < original.Length; i++)
            {
                byte[] file = (byte[])original.Clone();
                file[i] ^= pattern;
                try { TorchCheckpoint.Parse(file, "corrupt.pth"); }   // a flipped value byte may still read
                catch (CheckpointException e) { Assert.StartsWith("corrupt.pth", e.Message); }
            }
    }
}
