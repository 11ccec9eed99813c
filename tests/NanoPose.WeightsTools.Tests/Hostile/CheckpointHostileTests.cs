using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Tests.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Hostile;

/// <summary>Checkpoints built by hand for the hostile families: zips and pickles, nothing ever executed.</summary>
internal static class HostileCheckpoints
{
    public const string Source = "hostile.pth";

    /// <summary>The memory a checkpoint of <paramref name="fileBytes"/> may cost: the loader's stated budget
    /// (64 MiB + 8 × the file) plus 8 MiB for what it allocates before the budget is checked (the archive's
    /// directory, one opcode's objects).</summary>
    public static long Allowed(long fileBytes) => (64L << 20) + 8 * fileBytes + (8L << 20);

    public static byte[] Zip(params (string Name, byte[] Content, CompressionLevel Level)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, content, level) in entries) SyntheticCheckpoint.Add(zip, name, content, level);
        return buffer.ToArray();
    }

    public static byte[] Archive(byte[] pickle, CompressionLevel level = CompressionLevel.NoCompression) =>
        Zip(("archive/data.pkl", pickle, level));

    /// <summary>Parses and checks what a successful parse hands out: shapes non-negative and matching the data.</summary>
    public static Checkpoint Read(byte[] bytes)
    {
        var checkpoint = TorchCheckpoint.Parse(bytes, Source);
        foreach (var tensor in checkpoint.Tensors)
        {
            Assert.All(tensor.Shape, d => Assert.True(d >= 0, $"{tensor.Name} has shape [{string.Join(", ", tensor.Shape)}]"));
            Assert.Equal(tensor.Shape.Aggregate(1L, (n, d) => n * d), tensor.Data.Length);
        }
        return checkpoint;
    }

    /// <summary>Reads, expecting a refusal whose message names the file and says <paramref name="says"/>, in under <paramref name="maxLength"/> characters.</summary>
    public static void Refused(byte[] bytes, string says, int maxLength = 4096)
    {
        var error = Assert.Throws<CheckpointException>(() => Read(bytes));
        Assert.StartsWith(Source, error.Message);
        Assert.Contains(says, error.Message);
        Assert.True(error.Message.Length <= maxLength, $"a message of {error.Message.Length} characters");
        throw error;
    }
}

/// <summary>
/// Issue 15 class 4: values nested tens of thousands deep (about 50 KB of pickle) where messages show them — a state
/// dict key, a persistent id, a legacy storage view, the top-level key list — and tuples that double at every level
/// through DUP (2^depth leaves). Before the fix, formatting the message recursed without a limit and overflowed the
/// stack (the test host dies: checked by hand with <c>nanopose-weights inspect</c>, exit 134).
/// </summary>
public class CheckpointDepthHostileTests
{
    private const int Seed = 15_004;

    /// <summary>A value nested <paramref name="depth"/> deep, each level a tuple built one of four ways.</summary>
    private static void Nested(PickleBuilder p, int depth, Random random)
    {
        p.EmptyTuple();
        for (int level = 0; level < depth; level++)
        {
            switch (random.Next(4))
            {
                case 0: p.Op(0x85); break;                                  // TUPLE1
                case 1: p.None().Op(0x86); break;                           // TUPLE2 (v, None)
                case 2: p.Str("x").Op(0x87 - 1).None().Op(0x86); break;     // ((v, 'x'), None)
                default: p.Op(0x32).Op(0x86); break;                        // DUP, TUPLE2: (v, v), so the tree doubles
            }
        }
    }

    private static byte[] OrderedDictWith(Action<PickleBuilder> key, Action<PickleBuilder> value) =>
        new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark()
            .Also(key).Also(value).SetItems().Stop().ToArray();

    [Fact]
    public void DeeplyNestedValuesGiveAShortError()
    {
        var family = new HostileFamily(".pth nested 50 KB deep", Seed, typeof(CheckpointException));
        for (int i = 0; i < 40; i++)
        {
            var random = new Random(Seed + i);
            int depth = 10_000 + random.Next(15_000);
            byte[] file;
            string says;
            switch (i % 4)
            {
                case 0:   // a tuple as a state-dict key
                    file = HostileCheckpoints.Archive(OrderedDictWith(k => Nested(k, depth, random), v => v.None()));
                    says = "is not a string";
                    break;
                case 1:   // a persistent id
                    file = HostileCheckpoints.Archive(OrderedDictWith(k => k.Str("w"), v => { Nested(v, depth, random); v.PersistentId(); }));
                    says = "unexpected persistent id";
                    break;
                case 2:   // in the top-level keys listed when a value is not a tensor
                    file = HostileCheckpoints.Archive(new PickleBuilder().Proto().EmptyDict().Mark().Str("a").Int(1)
                        .Also(k => Nested(k, depth, random)).None().SetItems().Stop().ToArray());
                    says = "not a tensor (top-level keys:";
                    break;
                default:  // a legacy storage view
                {
                    var p = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark().Str("w");
                    p.Tensor(id => { id.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(4); Nested(id, depth, random); id.Tuple(); }, 0, [4], [1]);
                    byte[] valid = SyntheticCheckpoint.Legacy([]);
                    byte[] main = SyntheticCheckpoint.Pickle([], "state_dict", legacy: true);
                    int at = valid.AsSpan().IndexOf(main);
                    file = [.. valid.AsSpan(0, at), .. p.SetItems().Stop().ToArray(), .. valid.AsSpan(at + main.Length)];
                    says = "bad storage view";
                    break;
                }
            }
            family.Run($"{i}: kind {i % 4}, depth {depth}, {file.Length} bytes", () => HostileCheckpoints.Refused(file, says),
                HostileCheckpoints.Allowed(file.Length), TimeSpan.FromSeconds(2));
        }
        family.Finish(40);
        Assert.Equal(family.Cases, family.Outcomes[nameof(CheckpointException)]);
    }
}

internal static class PickleBuilderExtensions
{
    public static PickleBuilder Also(this PickleBuilder p, Action<PickleBuilder> more)
    {
        more(p);
        return p;
    }
}

/// <summary>
/// Issue 15 class 5: small files that ask for far more memory than their size — a data.pkl deflated 100× whose
/// opcodes each build objects (dicts, lists, tuples, memo entries, strings), and one storage viewed by hundreds of
/// tensors, zip and legacy. Each must be refused, naming what passed the budget, within the stated allowance
/// (64 MiB + 8 × the file, plus 8 MiB); a valid 8 MB checkpoint must still load within it. Before the fix the
/// 133 KB file of dicts allocated about a gigabyte.
/// </summary>
public class CheckpointMemoryHostileTests
{
    private const int Seed = 15_005;

    /// <summary>data.pkl: MARK, <paramref name="pattern"/> repeated to about 13 MB, TUPLE, STOP; deflated, beside 120 KB of
    /// random stored bytes so the archive is about 133 KB and the entries stay under the 100× ratio the reader allows.</summary>
    private static byte[] Spam(byte[] pattern, Random random)
    {
        int repeats = 13_000_000 / pattern.Length;
        var pickle = new byte[3 + repeats * pattern.Length + 2];
        pickle[0] = 0x80; pickle[1] = 2; pickle[2] = (byte)'(';
        for (int i = 0; i < repeats; i++) pattern.CopyTo(pickle, 3 + i * pattern.Length);
        pickle[^2] = (byte)'t'; pickle[^1] = (byte)'.';
        var padding = new byte[120_000];
        random.NextBytes(padding);
        return HostileCheckpoints.Zip(("archive/data.pkl", pickle, CompressionLevel.Optimal), ("archive/padding", padding, CompressionLevel.NoCompression));
    }

    private static byte[] SharedStorage(int views, int elements, bool legacy)
    {
        var first = StoredTensor.Float32("view0", "0", new float[elements], 0, [elements - 7], [1]);
        var tensors = Enumerable.Range(0, views).Select(v => first with { Name = $"view{v}", Offset = v % 7 }).ToList();
        if (legacy) return SyntheticCheckpoint.Legacy(tensors);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", SyntheticCheckpoint.Pickle(tensors, "state_dict", legacy: false));
            SyntheticCheckpoint.Add(zip, "archive/data/0", tensors[0].Storage, CompressionLevel.SmallestSize);
        }
        return buffer.ToArray();
    }

    [Fact]
    public void AmplifyingCheckpointsAreRefusedWithinTheBudget()
    {
        var family = new HostileFamily(".pth memory amplification", Seed, typeof(CheckpointException));
        var random = new Random(Seed);
        (string Name, byte[] Pattern)[] patterns =
        [
            ("empty dicts", "}"u8.ToArray()), ("empty lists", "]"u8.ToArray()), ("empty tuples", ")"u8.ToArray()),
            ("MARK TUPLE", "(t"u8.ToArray()), ("MARK LIST", "(l"u8.ToArray()), ("MARK DICT", "(d"u8.ToArray()),
            ("dicts of one item", [(byte)'}', (byte)'(', (byte)'K', 1, (byte)'K', 2, (byte)'u']),
            ("memoized Nones", [(byte)'N', 0x94]), ("empty strings", [(byte)'X', 0, 0, 0, 0]), ("one-byte bytes", [(byte)'C', 1, 7]),
            ("LONG1 ints", [0x8A, 2, 1, 1]), ("lists of one item", [(byte)']', (byte)'N', (byte)'a']),
        ];
        foreach (var (name, pattern) in patterns)
        {
            byte[] file = Spam(pattern, random);
            family.Run($"133 KB of {name}", () => HostileCheckpoints.Refused(file, "beyond the memory budget"), HostileCheckpoints.Allowed(file.Length), TimeSpan.FromSeconds(5));
        }
        foreach (bool legacy in (bool[])[false, true])
        {
            byte[] file = SharedStorage(views: 300, elements: 1 << 20, legacy);
            family.Run($"{(legacy ? "legacy" : "zip")}: 300 views of one 4 MB storage, {file.Length} bytes",
                () => HostileCheckpoints.Refused(file, "beyond the memory budget"), HostileCheckpoints.Allowed(file.Length), TimeSpan.FromSeconds(5));
        }
        // Within the budget: a plain 8 MB checkpoint of float32 tensors, and a storage shared by a few views.
        var big = Enumerable.Range(0, 8).Select(t => StoredTensor.Float32($"t{t}", $"{t}", new float[1 << 18], 0, [1 << 18], [1])).ToList();
        byte[] valid = SyntheticCheckpoint.Zip(big);
        family.Run("valid 8 MB checkpoint", () => Assert.Equal(8, HostileCheckpoints.Read(valid).Tensors.Count), HostileCheckpoints.Allowed(valid.Length), TimeSpan.FromSeconds(5));
        byte[] fewViews = SharedStorage(views: 4, elements: 1 << 18, legacy: true);
        family.Run("4 views of one storage", () => Assert.Equal(4, HostileCheckpoints.Read(fewViews).Tensors.Count), HostileCheckpoints.Allowed(fewViews.Length), TimeSpan.FromSeconds(5));
        family.Finish(patterns.Length + 4);
        Assert.Equal(patterns.Length + 2, family.Outcomes[nameof(CheckpointException)]);
    }
}

/// <summary>
/// Issue 15 class 6: keys chosen to collide in .NET's default hashes — 100 000 dict keys that are longs i·(2^32+1) or
/// doubles with those bits (both hash to 0), and 50 000 memo indices that are multiples of the bucket count a
/// Dictionary reaches at that size. Before the fix each insert scanned the chain: tens of seconds.
/// </summary>
public class PickleHashFloodingHostileTests
{
    private const int Seed = 15_006;

    private static byte[] DictOfKeys(int count, Func<int, byte[]> key)
    {
        var p = new PickleBuilder().Proto().EmptyDict().Mark();
        for (int i = 0; i < count; i++) p.Op(key(i)).None();
        return p.SetItems().Stop().ToArray();
    }

    private static byte[] LongKey(long value) { var b = new byte[10]; b[0] = 0x8A; b[1] = 8; BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(2), value); return b; }
    private static byte[] DoubleKey(long bits) { var b = new byte[9]; b[0] = (byte)'G'; BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(1), bits); return b; }

    [Fact]
    public void CollidingKeysStayLinear()
    {
        var family = new HostileFamily(".pth colliding keys", Seed, typeof(CheckpointException));
        var random = new Random(Seed);
        for (int round = 0; round < 3; round++)
        {
            long salt = random.Next(1, 1 << 20);   // a different colliding family each round: (i ^ salt)·(2^32 + 1) still folds to 0
            byte[] longs = HostileCheckpoints.Archive(DictOfKeys(100_000, i => LongKey(((long)(i ^ salt) << 32) | (uint)(i ^ salt))));
            family.Run($"100 000 int keys, salt {salt}", () => HostileCheckpoints.Refused(longs, "is not a string"), HostileCheckpoints.Allowed(longs.Length), TimeSpan.FromSeconds(2));
            byte[] doubles = HostileCheckpoints.Archive(DictOfKeys(100_000, i => DoubleKey(((long)(i ^ salt) << 32) | (uint)(i ^ salt))));
            family.Run($"100 000 float keys, salt {salt}", () => HostileCheckpoints.Refused(doubles, "is not a string"), HostileCheckpoints.Allowed(doubles.Length), TimeSpan.FromSeconds(2));
            // LONG_BINPUT of multiples of 75431, the bucket count a Dictionary<long, _> grows to between 36 353 and 75 431 entries.
            var memo = new PickleBuilder().Proto().None();
            int offset = random.Next(1000);
            for (int i = 0; i < 50_000; i++) memo.Op((byte)'r').Op(BitConverter.GetBytes((uint)((i + offset) * 75431L)));
            byte[] memoFile = HostileCheckpoints.Archive(memo.Stop().ToArray());
            family.Run($"50 000 colliding memo indices, offset {offset}", () => HostileCheckpoints.Refused(memoFile, "not a dict"), HostileCheckpoints.Allowed(memoFile.Length), TimeSpan.FromSeconds(2));
        }
        family.Finish(9);
    }
}
