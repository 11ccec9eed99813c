using System.Text;
using System.Text.RegularExpressions;
using NanoPose.TestSupport;
using NanoPose.WeightsTools.OpenVino;
using NanoPose.WeightsTools.Tests.OpenVino;

namespace NanoPose.WeightsTools.Tests.Fuzz;

/// <summary>
/// Hostile and corrupt OpenVINO IRs through <see cref="OpenVinoIrFile.Parse"/> and the weight source's graph checks
/// (<see cref="SyntheticIr"/>, and the real PicoDet files for a few hundred cases): DTDs and entities, hostile
/// attribute values (offsets, sizes, shapes, ids, element and op types), edits of the graph's structure, byte
/// mutations of both files and every truncation. Each case ends in success or an <see cref="OpenVinoException"/>
/// naming the file; allocation stays within 16× the two files plus a constant; no case hangs.
/// </summary>
public partial class OpenVinoFuzzTests
{
    private const int Seed = 7_230_411;
    private const int RandomCases = 10_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static FuzzFamily Family(string name, int seed) => new(name, seed, typeof(OpenVinoException));

    /// <summary>Both files in one input (so the allocation bound sees their total): the xml length, then both.</summary>
    private static byte[] Pack(byte[] xml, byte[] bin) => [.. BitConverter.GetBytes(xml.Length), .. xml, .. bin];
    private static byte[] Pack(string xml, byte[] bin) => Pack(Encoding.UTF8.GetBytes(xml), bin);

    private static void Read(byte[] packed)
    {
        int length = BitConverter.ToInt32(packed);
        SyntheticIr.Serve(packed[4..(4 + length)], packed[(4 + length)..], FuzzFamily.Source);
    }

    [Fact]
    public void TheSyntheticIrIsValid()
    {
        var weights = SyntheticIr.Serve(Encoding.UTF8.GetBytes(SyntheticIr.Xml), SyntheticIr.Bin(), "synthetic.xml");
        Assert.Equal((8, 8), weights.InputSize);
        Assert.Equal(23, weights.Ir.Layers.Count);
        Assert.Equal(336, weights.Ir.BinLength);
    }

    public static IEnumerable<(string Case, string Xml, string Refusal)> HostileXml()
    {
        string xml = SyntheticIr.Xml;
        string body = xml[(xml.IndexOf("?>", StringComparison.Ordinal) + 2)..];
        string Replace(string from, string to)
        {
            Assert.Contains(from, xml);
            int at = xml.IndexOf(from, StringComparison.Ordinal);
            return xml[..at] + to + xml[(at + from.Length)..];
        }
        const string Prohibited = "DTD is prohibited";
        string laughs = "<!ENTITY lol \"lol\">" + string.Concat(Enumerable.Range(1, 9).Select(i =>
            $"<!ENTITY lol{i} \"{string.Concat(Enumerable.Repeat(i == 1 ? "&lol;" : $"&lol{i - 1};", 10))}\">"));
        yield return ("billion laughs", $"<?xml version=\"1.0\"?><!DOCTYPE net [{laughs}]>" + body.Replace("name=\"synthetic\"", "name=\"&lol9;\""), Prohibited);
        yield return ("external entity", "<?xml version=\"1.0\"?><!DOCTYPE net [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + body.Replace("name=\"synthetic\"", "name=\"&x;\""), Prohibited);
        yield return ("external DTD", "<?xml version=\"1.0\"?><!DOCTYPE net SYSTEM \"http://127.0.0.1:9/ir.dtd\">" + body, Prohibited);
        yield return ("parameter entity", "<?xml version=\"1.0\"?><!DOCTYPE net [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/p\"> %p;]>" + body, Prohibited);
        yield return ("undeclared entity", Replace("name=\"synthetic\"", "name=\"&x;\""), "not a valid IR xml");
        yield return ("offset past the .bin", Replace("offset=\"314\" size=\"4\"", "offset=\"336\" size=\"4\""), "lies past the end of fuzz.input.bin (336 bytes)");
        yield return ("offset + size just past the .bin", Replace("offset=\"320\" size=\"16\"", "offset=\"321\" size=\"16\""), "lies past the end");
        yield return ("offset near 2^63", Replace("offset=\"314\" size=\"4\"", "offset=\"9223372036854775807\" size=\"4\""), "lies past the end");
        yield return ("offset past 2^64", Replace("offset=\"314\"", "offset=\"18446744073709551616\""), "offset '18446744073709551616' is not a non-negative integer");
        yield return ("negative offset", Replace("offset=\"314\"", "offset=\"-4\""), "offset '-4' is not a non-negative integer");
        yield return ("negative size", Replace("size=\"216\"", "size=\"-216\""), "size '-216' is not a non-negative integer");
        yield return ("size not matching the shape", Replace("size=\"216\"", "size=\"218\""), "size 218 does not match shape [4, 3, 3, 3] of f16 (108 × 2 = 216 bytes)");
        yield return ("size overflowing with the offset", Replace("offset=\"320\" size=\"16\"", "offset=\"320\" size=\"9223372036854775800\""), "does not match shape");
        yield return ("huge shape", Replace("shape=\"4, 3, 3, 3\"", "shape=\"2147483647, 2147483647, 2147483647, 2147483647\""), "has more elements than the .bin has bytes (336)");
        yield return ("shape product overflowing", Replace("shape=\"2\"", "shape=\"65536, 65536, 65536, 65536, 65536\""), "has more elements than the .bin has bytes");
        yield return ("dim past int", Replace("shape=\"2\"", "shape=\"4294967296\""), "dim 0 is not an integer in [1, 2147483647]");
        yield return ("zero dim", Replace("shape=\"4, 3, 3, 3\"", "shape=\"0, 3, 3, 3\""), "dim 0 is not an integer in [1,");
        yield return ("negative dim", Replace("shape=\"4, 3, 3, 3\"", "shape=\"4, -3, 3, 3\""), "dim 1 is not an integer in [1,");
        yield return ("rank 9", Replace("shape=\"2\"", "shape=\"1,1,1,1,1,1,1,1,2\""), "has more than 8 dims");
        yield return ("negative port dim", Replace("<dim>8</dim>", "<dim>-1</dim>"), "dim '-1' is not an integer in [1,");
        yield return ("huge port dim", Replace("<dim>8</dim>", "<dim>99999999999999999999</dim>"), "is not an integer in [1,");
        yield return ("unknown op type", Replace("type=\"HSwish\"", "type=\"Mish\""), "op type 'Mish' is not supported");
        yield return ("unknown op version", Replace("type=\"HSwish\" version=\"opset4\"", "type=\"HSwish\" version=\"opset99\""), "HSwish version 'opset99' is not supported (only opset4)");
        yield return ("element type i8", Replace("element_type=\"f16\"", "element_type=\"i8\""), "element_type 'i8' is not supported");
        yield return ("element type bf16", Replace("element_type=\"f16\"", "element_type=\"bf16\""), "element_type 'bf16' is not supported");
        yield return ("i64 weights", Replace("element_type=\"f16\" shape=\"4, 3, 3, 3\" offset=\"0\" size=\"216\"", "element_type=\"i64\" shape=\"4, 3, 3, 3\" offset=\"0\" size=\"864\""), "lies past the end");
        yield return ("f32 Parameter only", Replace("element_type=\"f32\"/>", "element_type=\"u8\"/>"), "input element_type 'u8' is not f32");
        yield return ("IR version 10", Replace("version=\"11\"", "version=\"10\""), "IR version '10' is not supported");
        yield return ("duplicated id", Replace("<layer id=\"7\"", "<layer id=\"6\""), "layer id 6 is also used by");
        yield return ("duplicated name", Replace("name=\"hswish0\"", "name=\"bias0\""), "layer name 'bias0' is also used by");
        yield return ("edge from a missing layer", Replace("from-layer=\"6\"", "from-layer=\"99\""), "starts at layer 99, which does not exist");
        yield return ("edge to a missing layer", Replace("to-layer=\"7\"", "to-layer=\"2147483647\""), "ends at layer 2147483647, which does not exist");
        yield return ("edge to a missing port", Replace("to-layer=\"7\" to-port=\"0\"", "to-layer=\"7\" to-port=\"5\""), "ends at input port 5, which this layer does not have");
        yield return ("negative layer id in an edge", Replace("to-layer=\"7\"", "to-layer=\"-7\""), "to-layer '-7' is not a non-negative 32-bit integer");
        yield return ("input port fed twice", Replace("from-layer=\"7\" from-port=\"1\" to-layer=\"10\"", "from-layer=\"6\" from-port=\"2\" to-layer=\"7\"")
            , "input port 0 is already fed by");
        yield return ("edge between ports of different shapes", Replace("from-layer=\"0\" from-port=\"0\" to-layer=\"3\" to-port=\"0\"", "from-layer=\"3\" from-port=\"2\" to-layer=\"3\" to-port=\"0\""), "input port 0 is [1, 3, 8, 8], but");
        yield return ("cycle", Replace("from-layer=\"7\" from-port=\"1\" to-layer=\"10\"", "from-layer=\"10\" from-port=\"2\" to-layer=\"10\""), "the graph has a cycle");
        yield return ("missing layer", Regex.Replace(xml, "<layer id=\"7\".*?</layer>", "", RegexOptions.Singleline), "ends at layer 7, which does not exist");
        yield return ("missing edge", Replace("<edge from-layer=\"8\" from-port=\"0\" to-layer=\"9\" to-port=\"0\"/>", ""), "input port 0 is not fed by any edge");
        yield return ("no edges", Regex.Replace(xml, "<edges>.*?</edges>", "", RegexOptions.Singleline), "has no <edges>");
        yield return ("unexpected element", Replace("<meta_data>", "<layers/><meta_data>"), "unexpected <layers> in <net>");
        yield return ("text in a layer", Replace("<data shape=", "oops<data shape="), "unexpected text 'oops'");
        yield return ("too many ports", Replace("<dim>64</dim>\n\t\t\t\t</port>\n\t\t\t</input>", "<dim>64</dim>\n\t\t\t\t</port>" + string.Concat(Enumerable.Range(10, 70).Select(i => $"<port id=\"{i}\"/>")) + "</input>"), "more than 64 ports");
        yield return ("too many dims", Replace("<dim>64</dim>", string.Concat(Enumerable.Repeat("<dim>1</dim>", 9))), "has more than 8 dims");
        yield return ("truncated", xml[..(xml.Length / 2)], "not a valid IR xml");
        yield return ("not xml", "7767517\n1 1\nInput data 0 1 data\n", "not a valid IR xml");
        yield return ("empty", "", "not a valid IR xml");
        // Graph checks of the weight source.
        yield return ("stride", Replace("strides=\"2, 2\"", "strides=\"2, 1\""), "strides '2, 1' should be '2, 2' for net.conv0");
        yield return ("dilation", Replace("dilations=\"1, 1\"", "dilations=\"2, 2\""), "dilations '2, 2' should be '1, 1'");
        yield return ("auto pad", Replace("auto_pad=\"explicit\"", "auto_pad=\"same_upper\""), "auto_pad 'same_upper' is not explicit");
        yield return ("no-op multiply by 2", Replace("offset=\"224\"", "offset=\"216\""), "is named like a no-op (Div_k) but multiplies by -1.5");
        yield return ("hard-sigmoid beta", Replace("offset=\"318\"", "offset=\"224\""), "beta (beta_compressed) is [1], not exactly 0.5");
        yield return ("weight through a Convert to f16", Replace("name=\"w0\" type=\"Convert\" version=\"opset1\">\n\t\t\t<data destination_type=\"f32\"", "name=\"w0\" type=\"Convert\" version=\"opset1\">\n\t\t\t<data destination_type=\"f16\""), "converts its weight of conv0 to 'f16', not f32");
        yield return ("conv renamed", Replace("name=\"dw1\"", "name=\"dw2\""), "has no layer 'dw1'");
        yield return ("conv type swapped", Replace("type=\"GroupConvolution\"", "type=\"Convolution\""), "should be a GroupConvolution for net.dw1");
    }

    [Fact]
    public void HostileXmlIsRefusedNamingTheProblem()
    {
        byte[] bin = SyntheticIr.Bin();
        var family = Family("OpenVINO hostile xml", Seed);
        var wrong = new List<string>();
        foreach (var (name, xml, refusal) in HostileXml())
            family.Run(name, Pack(xml, bin), bytes =>
            {
                var error = Assert.Throws<OpenVinoException>(() => Read(bytes));
                if (!error.Message.Contains(refusal, StringComparison.Ordinal)) wrong.Add($"{name}: '{error.Message}' does not say '{refusal}'");
                throw error;
            });
        family.Finish(50, Bound);
        Assert.Empty(wrong);
    }

    private static readonly string[] HostileValues =
    [
        "", "-1", "0", "1", "2", "336", "337", "2147483647", "2147483648", "-2147483648", "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "1e3", "0x10", " 1", "1,", ",", "1, 2", "4, 3, 3, 3", "2147483647, 2147483647", "f16", "f32", "i64", "u64",
        "i8", "bf16", "boolean", "Const", "Convert", "Multiply", "Div_0", "conv0", "opset1", "opset4", "numpy", "explicit", "\u00e9", "&amp;",
    ];

    [GeneratedRegex("=\"[^\"]*\"")]
    private static partial Regex AttributeValue();

    /// <summary>One to three attribute values replaced by hostile ones.</summary>
    private static string MutateAttributes(string xml, Random random)
    {
        var values = AttributeValue().Matches(xml);
        var chosen = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => values[random.Next(values.Count)]).DistinctBy(m => m.Index).OrderByDescending(m => m.Index);
        foreach (var match in chosen)
            xml = xml[..match.Index] + "=\"" + HostileValues[random.Next(HostileValues.Length)] + "\"" + xml[(match.Index + match.Length)..];
        return xml;
    }

    [Fact]
    public void HostileAttributeValues()
    {
        byte[] bin = SyntheticIr.Bin();
        var family = Family("OpenVINO hostile attribute values", Seed + 1);
        for (int i = 0; i < RandomCases; i++)
            family.Run($"{i}", Pack(MutateAttributes(SyntheticIr.Xml, Mutations.CaseRandom(family.Seed, i)), bin), Read);
        family.Finish(RandomCases, Bound);
        Assert.True(family.Outcomes[nameof(OpenVinoException)] > RandomCases / 2);
    }

    [Fact]
    public void ByteMutationsOfBothFiles()
    {
        byte[] xml = Encoding.UTF8.GetBytes(SyntheticIr.Xml), bin = SyntheticIr.Bin();
        var family = Family("OpenVINO xml/bin byte mutations", Seed + 2);
        for (int i = 0; i < RandomCases; i++)
        {
            var random = Mutations.CaseRandom(family.Seed, i);
            int which = random.Next(3);
            family.Run($"{i}", Pack(which != 1 ? Mutations.Mutate(xml, random) : xml, which != 0 ? Mutations.Mutate(bin, random) : bin), Read);
        }
        family.Finish(RandomCases, Bound);
    }

    [Fact]
    public void TruncatedXmlAndBinAtEveryByte()
    {
        byte[] xml = Encoding.UTF8.GetBytes(SyntheticIr.Xml), bin = SyntheticIr.Bin();
        var family = Family("OpenVINO truncated xml and bin", Seed + 3);
        foreach (byte[] prefix in Mutations.Truncations(bin)) family.Run($".bin cut at {prefix.Length}", Pack(xml, prefix), Read);
        foreach (byte[] prefix in Mutations.Truncations(xml)) family.Run($".xml cut at {prefix.Length}", Pack(prefix, bin), Read);
        family.Finish(bin.Length + xml.Length, Bound);
        // Every cut is refused, except those that only drop the final newline after </net>.
        Assert.Equal(family.Cases - 1, family.Outcomes[nameof(OpenVinoException)]);
    }

    /// <summary>Byte mutations of the real PicoDet xml (not the .bin: the bin's values are refused only where the
    /// graph checks read them), through the full weight source with the PicoDet layout.</summary>
    [Fact]
    public void ByteMutationsOfTheRealXml()
    {
        string xmlPath = SharedData.File("models/picodet/picodet_s_192_lcnet_pedestrian.xml");
        byte[] xml = File.ReadAllBytes(xmlPath), bin = File.ReadAllBytes(SharedData.File("models/picodet/picodet_s_192_lcnet_pedestrian.bin"));
        var family = Family("OpenVINO PicoDet xml byte mutations", Seed + 4);
        const int Cases = 500;
        for (int i = 0; i < Cases; i++)
            family.Run($"{i}", Pack(Mutations.Mutate(xml, Mutations.CaseRandom(family.Seed, i)), bin), packed =>
            {
                int length = BitConverter.ToInt32(packed);
                var weights = new OpenVinoWeightSource(OpenVinoIrFile.Parse(packed[4..(4 + length)], packed[(4 + length)..], FuzzFamily.Source, FuzzFamily.Source + ".bin"), PicoDetIrLayout.Convolutions);
                foreach (var conv in PicoDetIrLayout.Convolutions) weights.Conv(conv.Request());
                weights.ThrowIfIncomplete();
            });
        family.Finish(Cases, TimeSpan.FromSeconds(60));
    }
}
