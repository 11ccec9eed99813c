using System.IO.Compression;
using NanoPose.TestSupport;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Tests.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Fuzz;

/// <summary>
/// Hostile and corrupt PyTorch checkpoints through <see cref="TorchCheckpoint.Parse"/>, zip and legacy: random
/// mutations of small valid files (whole files, and the pickle alone re-zipped so the zip layer passes it on),
/// truncation at every byte, and hand-made hostile files (foreign globals, calls and BUILDs outside the allow-list,
/// missing or short storages, overflowing sizes and strides, zip bombs, unsafe entry paths). Each case ends in
/// success or a <see cref="CheckpointException"/> naming the file; see <see cref="AllowedAllocation"/> for the bound.
/// </summary>
public class CheckpointFuzzTests
{
    private const int Seed = 7_341_921;
    private const int RandomCases = 10_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    /// <summary>
    /// More than the default 16×: the reader accepts deflated zip entries inflating, all together, to 100× the archive
    /// (TorchCheckpoint.MaxCompressionRatio: torch.save stores entries uncompressed, a re-zipped file may not), and the
    /// unpickler builds one small CLR object (tens of bytes) per one-byte opcode. Both stay proportional to the file,
    /// never to a size the file merely declares.
    /// </summary>
    private static long AllowedAllocation(long length) => 128 * length + (256 << 10);

    private static readonly float[] Storage = [.. Enumerable.Range(0, 12).Select(i => (float)i)];

    /// <summary>A contiguous view, a transposed view of the same storage, a scalar and an fp16 tensor.</summary>
    private static List<StoredTensor> Tensors() =>
    [
        StoredTensor.Float32("module.conv.weight", "0", Storage, 2, [2, 3], [3, 1]),
        StoredTensor.Float32("conv.weight_t", "0", Storage, 2, [3, 2], [1, 3]),
        StoredTensor.Float32("bn.num", "1", [7f], 0, [], []),
        new("half", "HalfStorage", "2", [.. new[] { (Half)1.5, (Half)(-2) }.SelectMany(h => BitConverter.GetBytes(h))], 2, 0, [2], [1]),
    ];

    private static FuzzFamily Family(string name, int seed = Seed) =>
        new(name, seed, typeof(CheckpointException)) { AllowedAllocation = AllowedAllocation };

    /// <summary>Parses and checks what a successful parse hands out is self-consistent.</summary>
    private static void Read(byte[] bytes)
    {
        var checkpoint = TorchCheckpoint.Parse(bytes, FuzzFamily.Source);
        foreach (var tensor in checkpoint.Tensors)
            Assert.Equal(tensor.Shape.Aggregate(1L, (n, d) => n * d), tensor.Data.Length);
    }

    public static TheoryData<string> Formats => ["zip", "legacy"];

    private static byte[] Write(string format) =>
        format == "zip" ? SyntheticCheckpoint.Zip(Tensors()) : SyntheticCheckpoint.Legacy(Tensors());

    [Theory]
    [MemberData(nameof(Formats))]
    public void RandomMutationsOfAValidCheckpoint(string format)
    {
        byte[] sample = Write(format);
        var family = Family($".pth {format} random mutations", Seed + format.Length);
        for (int i = 0; i < RandomCases; i++)
            family.Run($"{i}", Mutations.Mutate(sample, Mutations.CaseRandom(family.Seed, i)), Read);
        family.Finish(RandomCases, Bound);
    }

    [Fact]
    public void RandomMutationsOfThePickleInsideAValidArchive()
    {
        // The zip layer would refuse most edits of the whole file (CRC, offsets): here the archive is rebuilt around
        // the mutated pickle, so every case reaches the unpickler and the tensor checks.
        byte[] pickle = SyntheticCheckpoint.Pickle(Tensors(), "state_dict", legacy: false);
        var family = Family(".pth zip, mutated data.pkl", Seed + 1);
        for (int i = 0; i < RandomCases; i++)
            family.Run($"{i}", Archive(Mutations.Mutate(pickle, Mutations.CaseRandom(family.Seed, i))), Read);
        family.Finish(RandomCases, Bound);
        Assert.True(family.Outcomes.GetValueOrDefault("success") > 0 && family.Outcomes[nameof(CheckpointException)] > RandomCases / 2,
            "the mutations should mostly be refused, a few harmless");
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TruncationAtEveryByte(string format)
    {
        byte[] sample = Write(format);
        var family = Family($".pth {format} truncations");
        foreach (byte[] prefix in Mutations.Truncations(sample)) family.Run($"cut at {prefix.Length}", prefix, Read);
        family.Finish(sample.Length, Bound);
        Assert.Equal(sample.Length, family.Outcomes[nameof(CheckpointException)]);
    }

    /// <summary>A torch.save archive holding <paramref name="pickle"/> and the storages of <see cref="Tensors"/>, plus
    /// <paramref name="extra"/> entries.</summary>
    private static byte[] Archive(byte[] pickle, params (string Name, byte[] Content)[] extra)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", pickle);
            foreach (var t in Tensors().DistinctBy(t => t.Key)) SyntheticCheckpoint.Add(zip, $"archive/data/{t.Key}", t.Storage);
            foreach (var (name, content) in extra) SyntheticCheckpoint.Add(zip, name, content);
        }
        return buffer.ToArray();
    }

    /// <summary>A legacy file whose main pickle is <paramref name="pickle"/> and which stores no storages.</summary>
    private static byte[] Legacy(byte[] pickle)
    {
        byte[] valid = SyntheticCheckpoint.Legacy([]);
        byte[] main = SyntheticCheckpoint.Pickle([], "state_dict", legacy: true);
        int at = valid.AsSpan().IndexOf(main);
        return [.. valid.AsSpan(0, at), .. pickle, .. valid.AsSpan(at + main.Length)];
    }

    /// <summary>Calls <c>module.name("id")</c> through GLOBAL and REDUCE, the way a malicious pickle runs code.</summary>
    private static byte[] Calling(string module, string name) =>
        new PickleBuilder().Proto().Global(module, name).Str("id").Op(0x85).Reduce().Stop().ToArray();

    /// <summary>The same call with STACK_GLOBAL (protocol 4), which takes module and name from the stack.</summary>
    private static byte[] StackCalling(string module, string name) =>
        new PickleBuilder().Proto(4).Str(module).Str(name).Op(0x93).Str("id").Op(0x85).Reduce().Stop().ToArray();

    /// <summary>An OrderedDict holding one tensor 'w' over storage '0' of <paramref name="elements"/> float32 elements.</summary>
    private static byte[] PickleOf(long elements, long offset, long[] size, long[] stride, bool legacy)
    {
        var p = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark().Str("w");
        p.Tensor(id =>
        {
            id.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(elements);
            if (legacy) id.None();
            id.Tuple();
        }, offset, size, stride);
        return p.SetItems().Stop().ToArray();
    }

    /// <summary>A zip checkpoint with one tensor over an entry of <paramref name="storageBytes"/> bytes.</summary>
    private static byte[] ZipTensor(long declaredElements, int storageBytes, long offset, long[] size, long[] stride)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", PickleOf(declaredElements, offset, size, stride, legacy: false));
            SyntheticCheckpoint.Add(zip, "archive/data/0", new byte[storageBytes]);
        }
        return buffer.ToArray();
    }

    private static byte[] ZipOf(params (string Name, byte[] Content, CompressionLevel Level)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, content, level) in entries) SyntheticCheckpoint.Add(zip, name, content, level);
        return buffer.ToArray();
    }

    /// <summary>Hand-made hostile files, each with the words its refusal must contain.</summary>
    public static IEnumerable<(string Case, byte[] File, string Refusal)> HostileFiles()
    {
        (string, string)[] foreign =
        [
            ("os", "system"), ("posix", "system"), ("nt", "system"), ("builtins", "eval"), ("builtins", "exec"),
            ("builtins", "getattr"), ("__builtin__", "eval"), ("subprocess", "Popen"), ("subprocess", "check_output"),
            ("torch._utils", "_rebuild_from_type_v2"), ("torch._utils", "_rebuild_qtensor"), ("torch._utils", "system"),
            ("torch", "load"), ("torch", "_C"), ("collections", "defaultdict"), ("runpy", "_run_code"), ("pickle", "loads"),
            ("numpy.core.multiarray", "_reconstruct"), ("torch.serialization", "_load"),
        ];
        foreach (var (module, name) in foreign)
        {
            string refusal = $"refusing pickle global '{module}.{name}'";
            yield return ($"zip GLOBAL {module}.{name}", Archive(Calling(module, name)), refusal);
            yield return ($"zip STACK_GLOBAL {module}.{name}", Archive(StackCalling(module, name)), refusal);
            yield return ($"legacy GLOBAL {module}.{name}", Legacy(Calling(module, name)), refusal);
        }
        // Allowed globals used for what they may not do.
        yield return ("REDUCE on a storage class", Archive(Calling("torch", "FloatStorage")), "refusing to call 'torch.FloatStorage'");
        yield return ("REDUCE of OrderedDict with arguments", Archive(Calling("collections", "OrderedDict")), "OrderedDict called with arguments");
        yield return ("REDUCE on a string", Archive(new PickleBuilder().Proto().Str("os.system").EmptyTuple().Reduce().Stop().ToArray()), "refusing to call a str");
        yield return ("_rebuild_tensor_v2 with 2 arguments",
            Archive(new PickleBuilder().Proto().Global("torch._utils", "_rebuild_tensor_v2").Mark().None().None().Tuple().Reduce().Stop().ToArray()), "with 2 arguments");
        yield return ("BUILD on a list", Archive(new PickleBuilder().Proto().EmptyList().EmptyDict().Build().Stop().ToArray()), "refusing BUILD on a list");
        yield return ("BUILD on a global", Archive(new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyDict().Build().Stop().ToArray()), "refusing BUILD on a global");
        var tensorBuild = new PickleBuilder().Proto().Tensor(id => id.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(12).Tuple(), 0, [12], [1]);
        yield return ("BUILD on a tensor", Archive(tensorBuild.EmptyDict().Build().Stop().ToArray()), "refusing BUILD on a tensor");
        yield return ("BUILD of an OrderedDict with a list state",
            Archive(new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().EmptyList().Build().Stop().ToArray()), "BUILD state of an OrderedDict is a list");
        yield return ("NEWOBJ", Archive(new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Op(0x81).Stop().ToArray()), "refusing pickle opcode NEWOBJ");
        yield return ("INST", Archive(new PickleBuilder().Proto().Mark().Op((byte)'i').Op("os\nsystem\n"u8.ToArray()).Stop().ToArray()), "refusing pickle opcode INST");
        yield return ("OBJ", Archive(new PickleBuilder().Proto().Mark().Global("os", "system").Op((byte)'o').Stop().ToArray()), "refusing pickle global 'os.system'");
        yield return ("persistent id in the legacy header pickle",
            [.. new PickleBuilder().Proto().Str("x").PersistentId().Stop().ToArray()], "persistent id in a pickle that may not reference storages");

        // Opcode spam: one object per byte, within the allocation bound.
        foreach (byte op in "}])2"u8.ToArray())
            yield return ($"100 000 × opcode '{(char)op}'", Archive([0x80, 2, (byte)'(', (byte)'N', .. Enumerable.Repeat(op, 100_000), (byte)'t', (byte)'.']), "not a dict");

        // Storages.
        yield return ("storage missing from the archive", ZipOf(("archive/data.pkl", PickleOf(12, 0, [12], [1], legacy: false), CompressionLevel.NoCompression)),
            "storage '0' is referenced but archive/data/0 is missing");
        yield return ("storage declared larger than its entry", ZipTensor(1000, 48, 0, [12], [1]), "archive/data/0 has 48 bytes, its 1000 Float32 elements need 4000");
        byte[] bigLegacy = SyntheticCheckpoint.Legacy([StoredTensor.Float32("w", "0", new float[1000], 0, [12], [1])]);
        yield return ("storage declared larger than the legacy file", bigLegacy[..^(4000 - 48)], "truncated: storage '0' needs 4000 bytes");
        yield return ("legacy storage referenced but not stored", Legacy(PickleOf(12, 0, [12], [1], legacy: true)), "1 referenced storages are not in the file");
        yield return ("storage element count that overflows its byte size", ZipTensor((1L << 62) + 12, 48, 0, [13], [1]), "archive/data/0 has 48 bytes");
        yield return ("negative storage element count", ZipTensor(-1, 48, 0, [12], [1]), "unexpected persistent id");
        yield return ("persistent id of the wrong shape",
            Archive(new PickleBuilder().Proto().Global("torch._utils", "_rebuild_tensor_v2").Mark().Str("storage").PersistentId().Int(0).Ints(1).Ints(1).Bool(false).None().Tuple().Reduce().Stop().ToArray()),
            "unexpected persistent id 'storage'");

        // Sizes, strides and offsets.
        yield return ("huge size", ZipTensor(12, 48, 0, [1L << 40, 1L << 40], [1, 1]), "dimension 0 is 1099511627776, more than 2147483647");
        yield return ("size above int beside a small one", ZipTensor(12, 48, 0, [2, 1L << 40], [1, 1]), "dimension 1 is 1099511627776, more than 2147483647");
        yield return ("size product past the storage", ZipTensor(12, 48, 0, [1L << 20, 1L << 20], [1, 1]), "has more elements than its 12-element storage");
        yield return ("size product overflowing", ZipTensor(12, 48, 0, [long.MaxValue, long.MaxValue, long.MaxValue], [1, 1, 1]), "more than 2147483647");
        yield return ("negative size", ZipTensor(12, 48, 0, [-1, 12], [12, 1]), "negative size or stride");
        yield return ("negative stride", ZipTensor(12, 48, 0, [12], [-1]), "negative size or stride");
        yield return ("huge stride", ZipTensor(12, 48, 0, [2], [long.MaxValue]), "reaches element");
        yield return ("huge stride past an offset", ZipTensor(12, 48, 1, [2], [long.MaxValue]), "reaches element");
        yield return ("strides overflowing together", ZipTensor(12, 48, 0, [2, 2, 2], [long.MaxValue / 2, long.MaxValue / 2, long.MaxValue / 2]), "reaches element");
        yield return ("huge offset", ZipTensor(12, 48, long.MaxValue, [2], [1]), "reaches element");
        yield return ("negative offset", ZipTensor(12, 48, -4, [2], [1]), "negative storage offset");
        yield return ("sizes and strides of different lengths", ZipTensor(12, 48, 0, [3, 4], [1]), "2 sizes but 1 strides");

        // Archives.
        byte[] emptyDict = new PickleBuilder().Proto().EmptyDict().Stop().ToArray();
        yield return ("zip bomb: one entry inflating to 20 MB",
            ZipOf(("archive/data.pkl", emptyDict, CompressionLevel.NoCompression), ("archive/data/0", new byte[20_000_000], CompressionLevel.SmallestSize)), "unreasonable for a");
        yield return ("zip bomb: a pickle inflating to 20 MB",
            ZipOf(("archive/data.pkl", [0x80, 2, .. new byte[20_000_000]], CompressionLevel.SmallestSize)), "unreasonable for a");
        yield return ("zip bomb: many entries each under the limit",
            ZipOf([("archive/data.pkl", emptyDict, CompressionLevel.NoCompression),
                   .. Enumerable.Range(0, 40).Select(i => ($"archive/data/{i}", new byte[400_000], CompressionLevel.SmallestSize))]), "claim 2");
        yield return ("../ entry", ZipOf(("archive/data.pkl", emptyDict, CompressionLevel.NoCompression), ("archive/../../evil", [1], CompressionLevel.NoCompression)), "has an unsafe path");
        yield return ("..\\ entry", ZipOf(("archive/data.pkl", emptyDict, CompressionLevel.NoCompression), ("archive\\..\\evil", [1], CompressionLevel.NoCompression)), "has an unsafe path");
        yield return ("absolute entry", ZipOf(("archive/data.pkl", emptyDict, CompressionLevel.NoCompression), ("/etc/evil", [1], CompressionLevel.NoCompression)), "has an unsafe path");
        yield return ("data.pkl missing", ZipOf(("archive/version", "3\n"u8.ToArray(), CompressionLevel.NoCompression)), "expected one <folder>/data.pkl in the archive, found 0");
        yield return ("two data.pkl", ZipOf(("a/data.pkl", emptyDict, CompressionLevel.NoCompression), ("b/data.pkl", emptyDict, CompressionLevel.NoCompression)), "found 2");
        yield return ("big-endian", ZipOf(("a/data.pkl", emptyDict, CompressionLevel.NoCompression), ("a/byteorder", "big"u8.ToArray(), CompressionLevel.NoCompression)), "big-endian");
        yield return ("zip header only", "PK\x03\x04"u8.ToArray(), "corrupt or truncated zip archive");
        yield return ("legacy pickle that is not a checkpoint", new PickleBuilder().Proto().EmptyDict().Stop().ToArray(), "the legacy magic number is missing");
        yield return ("not a checkpoint", "\x7FELF\x02\x01\x01"u8.ToArray(), "not a PyTorch checkpoint");
        yield return ("empty file", [], "not a PyTorch checkpoint");
    }

    [Fact]
    public void HostileFilesAreRefusedNamingTheProblem()
    {
        var family = Family(".pth hostile files");
        var wrong = new List<string>();
        foreach (var (name, file, refusal) in HostileFiles())
            family.Run(name, file, bytes =>
            {
                var error = Assert.Throws<CheckpointException>(() => Read(bytes));
                if (!error.Message.Contains(refusal, StringComparison.Ordinal)) wrong.Add($"{name}: '{error.Message}' does not say '{refusal}'");
                throw error;
            });
        family.Finish(60, Bound);
        Assert.Empty(wrong);
        Assert.Equal(family.Cases, family.Outcomes[nameof(CheckpointException)]);
    }
}
