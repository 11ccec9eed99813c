using System.Numerics;
using NanoPose.WeightsTools.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Checkpoints;

public class RestrictedUnpicklerTests
{
    private static object? Load(byte[] pickle)
    {
        int position = 0;
        object? value = RestrictedUnpickler.Load(pickle, ref position, "test.pkl");
        Assert.Equal(pickle.Length, position);
        return value;
    }

    private static CheckpointException Refused(byte[] pickle)
    {
        int position = 0;
        return Assert.Throws<CheckpointException>(() => RestrictedUnpickler.Load(pickle, ref position, "test.pkl"));
    }

    [Fact]
    public void ReadsThePlainValuesOfCheckpointMetadata()
    {
        var pickle = new PickleBuilder().Proto().EmptyDict().Mark()
            .Str("epoch").Int(210)
            .Str("big").Int(-5_000_000_000)
            .Str("neg").Int(-3)
            .Str("lr").Float(0.25)
            .Str("flags").Mark().Bool(true).Bool(false).None().Tuple()
            .Str("names").EmptyList().Mark().Str("a").Str("é").Appends()
            .SetItems().Stop().ToArray();
        var dict = Assert.IsType<PickleDict>(Load(pickle));
        Assert.Equal(["epoch", "big", "neg", "lr", "flags", "names"], dict.Items.Select(i => i.Key));
        Assert.Equal(210L, dict.Items[0].Value);
        Assert.Equal(-5_000_000_000L, dict.Items[1].Value);
        Assert.Equal(-3L, dict.Items[2].Value);
        Assert.Equal(0.25, dict.Items[3].Value);
        Assert.Equal([true, false, null], Assert.IsType<PickleTuple>(dict.Items[4].Value).Items);
        Assert.Equal(["a", "é"], Assert.IsType<List<object?>>(dict.Items[5].Value));
    }

    [Fact]
    public void MemoAndProtocol4Opcodes()
    {
        // SHORT_BINUNICODE 'x', MEMOIZE, POP, BINGET 0, TUPLE1; FRAME before it.
        byte[] pickle = [0x80, 4, 0x95, 8, 0, 0, 0, 0, 0, 0, 0, 0x8C, 1, (byte)'x', 0x94, (byte)'0', (byte)'h', 0, 0x85, (byte)'.'];
        Assert.Equal(["x"], Assert.IsType<PickleTuple>(Load(pickle)).Items);
    }

    [Fact]
    public void LongIntegersBeyond64Bits()
    {
        byte[] pickle = [0x80, 2, 0x8A, 10, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, (byte)'.'];
        Assert.Equal(BigInteger.Parse("119547037146038801333356"), Load(pickle));
        Assert.Equal(-1L, Load([0x80, 2, 0x8A, 1, 0xFF, (byte)'.']));
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("collections", "defaultdict")]
    public void ForeignGlobalIsRefusedByName(string module, string name)
    {
        var pickle = new PickleBuilder().Proto().Global(module, name).Str("echo pwned").Op(0x85).Reduce().Stop().ToArray();
        var e = Refused(pickle);
        Assert.Equal($"test.pkl: refusing pickle global '{module}.{name}' (only state-dict globals are allowed) at byte 2", e.Message);
    }

    [Fact]
    public void ForeignStackGlobalIsRefusedByName()
    {
        byte[] pickle = [0x80, 4, 0x8C, 5, .. "posix"u8, 0x8C, 6, .. "system"u8, 0x93, 0x8C, 2, .. "id"u8, 0x85, (byte)'R', (byte)'.'];
        Assert.Contains("refusing pickle global 'posix.system'", Refused(pickle).Message);
    }

    [Fact]
    public void BuildOnAnythingButAnOrderedDictIsRefused()
    {
        var onDict = new PickleBuilder().Proto().EmptyDict().EmptyDict().Build().Stop().ToArray();
        Assert.Contains("refusing BUILD on a dict", Refused(onDict).Message);
        var onList = new PickleBuilder().Proto().EmptyList().EmptyDict().Build().Stop().ToArray();
        Assert.Contains("refusing BUILD on a list", Refused(onList).Message);
        // What torch.save does: OrderedDict() then BUILD with the _metadata state.
        var allowed = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .EmptyDict().Mark().Str("_metadata").EmptyDict().SetItems().Build().Stop().ToArray();
        Assert.True(Assert.IsType<PickleDict>(Load(allowed)).IsOrderedDict);
    }

    [Fact]
    public void AllowListedGlobalsCannotBeMisused()
    {
        var callStorage = new PickleBuilder().Proto().Global("torch", "FloatStorage").EmptyTuple().Reduce().Stop().ToArray();
        Assert.Contains("refusing to call 'torch.FloatStorage' with 0 arguments", Refused(callStorage).Message);
        var orderedDictArgs = new PickleBuilder().Proto().Global("collections", "OrderedDict").Ints(1).Reduce().Stop().ToArray();
        Assert.Contains("collections.OrderedDict called with arguments", Refused(orderedDictArgs).Message);
        var callString = new PickleBuilder().Proto().Str("os.system").EmptyTuple().Reduce().Stop().ToArray();
        Assert.Contains("refusing to call a str", Refused(callString).Message);
        var unknownTorch = new PickleBuilder().Proto().Global("torch", "Tensor").Stop().ToArray();
        Assert.Contains("refusing pickle global 'torch.Tensor'", Refused(unknownTorch).Message);
    }

    [Theory]
    [InlineData(0x81, "NEWOBJ")]
    [InlineData(0x92, "NEWOBJ_EX")]
    [InlineData((byte)'i', "INST")]
    [InlineData((byte)'o', "OBJ")]
    public void ObjectCreatingOpcodesAreRefused(byte op, string name)
    {
        var e = Refused(new PickleBuilder().Proto().EmptyTuple().EmptyTuple().Op(op).Stop().ToArray());
        Assert.Contains($"refusing pickle opcode {name}", e.Message);
    }

    [Fact]
    public void PersistentIdWithoutAStorageResolverIsRefused()
        => Assert.Contains("persistent id", Refused(new PickleBuilder().Proto().Str("x").PersistentId().Stop().ToArray()).Message);

    [Fact]
    public void MalformedPicklesGiveClearErrors()
    {
        Assert.Contains("stack underflow", Refused(new PickleBuilder().Proto().Reduce().Stop().ToArray()).Message);
        Assert.Contains("memo key 7 was never stored", Refused([0x80, 2, (byte)'h', 7, (byte)'.']).Message);
        Assert.Contains("unsupported pickle protocol 1", Refused([0x80, 1, (byte)'N', (byte)'.']).Message);
        Assert.Contains("unsupported pickle opcode 0xFF", Refused([0x80, 2, 0xFF]).Message);
        Assert.Contains("pickle ends with 2 values", Refused([0x80, 2, (byte)'N', (byte)'N', (byte)'.']).Message);
        // A string length far beyond the input: refused before allocating.
        Assert.Contains("length 4294967295 exceeds the 1 bytes left", Refused([0x80, 2, (byte)'X', 0xFF, 0xFF, 0xFF, 0xFF, (byte)'.']).Message);
    }

    [Fact]
    public void EmptyDictOpcodesCostOneSmallObjectEach()
    {
        // 100 000 EMPTY_DICT opcodes inside a tuple: each dict used to allocate its list and index up front (~190
        // bytes per input byte); the memory the unpickler may use is bounded by the input.
        byte[] pickle = [0x80, 2, (byte)'(', .. Enumerable.Repeat((byte)'}', 100_000), (byte)'t', (byte)'.'];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var tuple = Assert.IsType<PickleTuple>(Load(pickle));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(100_000, tuple.Count);
        Assert.Empty(Assert.IsType<PickleDict>(tuple[0]).Items);
        Assert.True(allocated < 100L * pickle.Length, $"{allocated:N0} bytes allocated for a {pickle.Length:N0}-byte pickle");
    }

    [Fact]
    public void EveryTruncationIsAClearError()
    {
        var pickle = new PickleBuilder().Proto().EmptyDict().Mark().Str("state_dict").Global("collections", "OrderedDict")
            .EmptyTuple().Reduce().Str("epoch").Int(100000).SetItems().Stop().ToArray();
        for (int length = 0; length < pickle.Length; length++)
        {
            var e = Refused(pickle[..length]);
            Assert.StartsWith("test.pkl: ", e.Message);
        }
    }
}
