using System.Text;
using NanoPose.TestSupport;
using NanoPose.WeightsTools.Ncnn;

namespace NanoPose.WeightsTools.Tests.Fuzz;

/// <summary>
/// Hostile and corrupt ncnn models through <see cref="NcnnModel.Parse"/>: token-level mutations of the .param text
/// (numbers that overflow, negative and huge counts, unknown layer types, missing or repeated blobs and lines), byte
/// mutations of both files, and the .bin truncated at every byte. Each case ends in success or an
/// <see cref="NcnnException"/> naming the file; allocation stays within 16× the two files plus a constant.
/// </summary>
public class NcnnFuzzTests
{
    private const int Seed = 5_550_123;
    private const int RandomCases = 10_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    /// <summary>Every layer type the reader knows, on a 3×4×4 input: conv 1×1 (fp16 weights), slice, depthwise 3×3
    /// (fp32), concat, split, ReLU, add, 2× upsampling, reshape and permute.</summary>
    private const string Param = """
        7767517
        11 13
        Input            data    0 1 data 0=4 1=4 2=3
        Convolution      conv0   1 1 data c0 0=4 1=1 5=1 6=12 9=1
        Slice            slice   1 2 c0 s0 s1 -23300=2,-233,-233
        ConvolutionDepthWise dw  1 1 s1 d1 0=2 1=3 4=1 5=1 6=18 7=2
        Concat           cat     2 1 s0 d1 cat 0=0
        Split            split   1 2 cat p0 p1
        ReLU             relu    1 1 p0 r0
        BinaryOp         add     2 1 r0 p1 sum 0=0
        Interp           up      1 1 sum up 0=2 1=2.0 2=2.0
        Reshape          flat    1 1 up rs 0=64 1=1 2=-1
        Permute          perm    1 1 rs out 0=1
        """;

    private static byte[] Bin()
    {
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes(NcnnModel.Float16Tag));
        for (int i = 0; i < 12; i++) bytes.AddRange(BitConverter.GetBytes((Half)(i * 0.5 - 3)));
        for (int i = 0; i < 4; i++) bytes.AddRange(BitConverter.GetBytes(0.25f * i));
        bytes.AddRange(BitConverter.GetBytes(NcnnModel.Float32Tag));
        for (int i = 0; i < 18 + 2; i++) bytes.AddRange(BitConverter.GetBytes(i * 0.1f - 1));
        return [.. bytes];
    }

    /// <summary>Both files in one input (so the allocation bound sees their total): the .param length, then both.</summary>
    private static byte[] Pack(string param, byte[] bin)
    {
        byte[] text = Encoding.UTF8.GetBytes(param);
        return [.. BitConverter.GetBytes(text.Length), .. text, .. bin];
    }

    private static void Read(byte[] packed)
    {
        int length = BitConverter.ToInt32(packed);
        string param = Encoding.UTF8.GetString(packed, 4, length);
        var model = NcnnModel.Parse(param, packed[(4 + length)..], FuzzFamily.Source, FuzzFamily.Source + ".bin");
        foreach (var conv in model.Convolutions)
            Assert.Equal((long)conv.OutChannels * conv.InChannelsPerGroup * conv.KernelHeight * conv.KernelWidth, conv.Weight.Length);
    }

    private static FuzzFamily Family(string name, int seed) => new(name, seed, typeof(NcnnException));

    [Fact]
    public void TheBaseModelIsValid()
    {
        var model = NcnnModel.Parse(Param, Bin(), "base.param", "base.bin");
        Assert.Equal(11, model.Layers.Count);
        Assert.Equal(2, model.Convolutions.Count);
    }

    private static readonly string[] HostileTokens =
    [
        "-1", "0", "1", "-233", "2147483647", "2147483648", "-2147483648", "99999999999999999999", "1e39", "-1e39", "nan",
        "inf", "1.5", "0.0", "x", "=", "0=", "=5", "6=2147483647", "0=1048577", "-23300=3,1,2", "-23300=2147483647",
        "-23300=-1", "-23300=1,", "1000000", "1000001", "Pooling", "Convolution", "data", "c0", "\u00e9", "0=1e-45",
    ];

    /// <summary>One to three token or line edits of the .param text.</summary>
    private static string MutateParam(string param, Random random)
    {
        var lines = param.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList()).ToList();
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits; e++)
        {
            var line = lines[random.Next(lines.Count)];
            switch (random.Next(7))
            {
                case 0 when line.Count > 0: line[random.Next(line.Count)] = HostileTokens[random.Next(HostileTokens.Length)]; break;
                case 1 when line.Count > 0: line.RemoveAt(random.Next(line.Count)); break;
                case 2 when line.Count > 0: line.Insert(random.Next(line.Count + 1), line[random.Next(line.Count)]); break;
                case 3: line.Insert(random.Next(line.Count + 1), HostileTokens[random.Next(HostileTokens.Length)]); break;
                case 4: lines.Insert(random.Next(lines.Count + 1), [.. line]); break;   // duplicated line
                case 5 when lines.Count > 1: lines.RemoveAt(random.Next(lines.Count)); break;
                default:
                {
                    int a = random.Next(lines.Count), b = random.Next(lines.Count);
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    break;
                }
            }
        }
        return string.Join('\n', lines.Select(l => string.Join(' ', l)));
    }

    [Fact]
    public void TokenMutationsOfTheParamText()
    {
        byte[] bin = Bin();
        var family = Family("ncnn .param token mutations", Seed);
        for (int i = 0; i < RandomCases; i++)
            family.Run($"{i}", Pack(MutateParam(Param, Mutations.CaseRandom(Seed, i)), bin), Read);
        family.Finish(RandomCases, Bound);
    }

    [Fact]
    public void ByteMutationsOfBothFiles()
    {
        byte[] packed = Pack(Param, Bin());
        int paramLength = BitConverter.ToInt32(packed);
        var family = Family("ncnn .param/.bin byte mutations", Seed + 1);
        for (int i = 0; i < RandomCases; i++)
        {
            var random = Mutations.CaseRandom(family.Seed, i);
            // Mutate the .param text or the .bin (keeping the length prefix honest), or both.
            byte[] text = packed[4..(4 + paramLength)], bin = packed[(4 + paramLength)..];
            int which = random.Next(3);
            if (which != 1) text = Mutations.Mutate(text, random);
            if (which != 0) bin = Mutations.Mutate(bin, random);
            family.Run($"{i}", [.. BitConverter.GetBytes(text.Length), .. text, .. bin], Read);
        }
        family.Finish(RandomCases, Bound);
    }

    [Fact]
    public void TruncatedBinAndParamAtEveryByte()
    {
        byte[] bin = Bin();
        var family = Family("ncnn truncated .bin and .param", Seed);
        foreach (byte[] prefix in Mutations.Truncations(bin)) family.Run($".bin cut at {prefix.Length}", Pack(Param, prefix), Read);
        for (int length = 0; length < Param.Length; length++) family.Run($".param cut at {length}", Pack(Param[..length], bin), Read);
        family.Finish(bin.Length + Param.Length, Bound);
        // Every cut of the .bin is refused; a .param cut inside its last line can still be valid (the output blob's
        // name shortened, or its one parameter dropped: order_type 0 is the default).
        Assert.Equal(family.Cases - 4, family.Outcomes[nameof(NcnnException)]);
    }

    public static IEnumerable<(string Case, string Param, string Refusal)> HostileParams()
    {
        string Replace(string from, string to)
        {
            Assert.Contains(from, Param);
            return Param.Replace(from, to);
        }
        yield return ("layer count beyond the limit", Replace("11 13", "2000000000 13"), "at most 32768 layers and 65536 blobs");
        yield return ("negative layer count", Replace("11 13", "-11 13"), "expected 'layer_count blob_count'");
        yield return ("huge layer count", Replace("11 13", "30000 13"), "the header announces 30000 layers, the file has 11");
        yield return ("negative blob count on a line", Replace("conv0   1 1", "conv0   -1 1"), "blob counts must be non-negative integers");
        yield return ("huge blob count on a line", Replace("conv0   1 1", "conv0   2147483647 2147483647"), "announces 2147483647 input and 2147483647 output blobs");
        yield return ("number overflowing int", Replace("6=12", "6=2147483648"), "parameter 6: '2147483648' is not a number");
        yield return ("number overflowing float", Replace("1=2.0", "1=1e39"), "parameter 1: '1e39' is not a number");
        yield return ("NaN scale", Replace("1=2.0", "1=nan"), "'nan' is not a number");
        yield return ("array count overflowing", Replace("-23300=2,-233,-233", "-23300=2147483647,1"), "array parameter -23300 must be 'n,v1,…,vn'");
        yield return ("unknown layer type", Replace("ReLU             relu", "Pooling          relu"), "unsupported layer type 'Pooling'");
        yield return ("missing blob", Replace("1 1 p0 r0", "1 1 nowhere r0"), "input blob 'nowhere' is not produced by any earlier layer");
        yield return ("blob consumed twice", Replace("2 1 r0 p1 sum", "2 1 r0 r0 sum"), "already consumed");
        yield return ("huge channel count", Replace("data 0=4 1=4 2=3", "data 0=4 1=4 2=2147483647"), "c (2=2147483647) must be in [0, 1048576]");
        yield return ("weight count overflowing the .bin", Replace("0=4 1=1 5=1 6=12", "0=1048576 1=64 5=1 6=2147483647"), "weight_data_size");
        yield return ("upsampling past an int", Replace("data 0=4 1=4 2=3", "data 0=2147483647 1=2147483647 2=3"), "scale 1=2 makes an output side of 4294967294");
        yield return ("reshape inferring more than an int", Replace("data 0=4 1=4 2=3", "data 0=1048576 1=1048576 2=3"), "cannot reshape 4×2097152×2097152 into 274877906944 values");
        yield return ("interp scale beyond the limit", Replace("1=2.0", "1=2000.0"), "scale 1=2000 must be in (0, 1024]");
    }

    [Fact]
    public void HostileParamsAreRefusedNamingTheProblem()
    {
        byte[] bin = Bin();
        var family = Family("ncnn hostile .param", Seed);
        var wrong = new List<string>();
        foreach (var (name, param, refusal) in HostileParams())
            family.Run(name, Pack(param, bin), bytes =>
            {
                var error = Assert.Throws<NcnnException>(() => Read(bytes));
                if (!error.Message.Contains(refusal, StringComparison.Ordinal)) wrong.Add($"{name}: '{error.Message}' does not say '{refusal}'");
                throw error;
            });
        family.Finish(10, Bound);
        Assert.Empty(wrong);
    }
}
