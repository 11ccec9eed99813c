using System.Text;
using System.Xml.Linq;
using NanoPose.Layers;
using NanoPose.TestSupport;
using NanoPose.WeightsTools.Conversion;
using NanoPose.WeightsTools.OpenVino;

namespace NanoPose.WeightsTools.Tests.OpenVino;

/// <summary>The real PicoDet IR files (../shared/models/picodet, MODELS.md G) and the weight source over them.</summary>
public class PicoDetIrTests
{
    public static TheoryData<int> Sizes() => [192, 320];

    private static string XmlPath(int size)
    {
        SharedData.File($"models/picodet/picodet_s_{size}_lcnet_pedestrian.bin");
        return SharedData.File($"models/picodet/picodet_s_{size}_lcnet_pedestrian.xml");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ReadsTheWholeGraph(int size)
    {
        var ir = OpenVinoIrFile.Load(XmlPath(size));
        Assert.Equal(1199, ir.Layers.Count);
        Assert.Equal(1282, ir.Edges.Count);
        Assert.Equal(2_292_314, ir.BinLength);
        var counts = ir.Layers.GroupBy(l => l.Type).ToDictionary(g => g.Key, g => g.Count());
        // MODELS.md G.0's inventory.
        Assert.Equal(65, counts["Convolution"]);
        Assert.Equal(33, counts["GroupConvolution"]);
        Assert.Equal(78, counts["HSwish"]);
        Assert.Equal(2, counts["HardSigmoid"]);
        Assert.Equal(12, counts["Sigmoid"]);
        Assert.Equal(6, counts["ReduceMean"]);
        Assert.Equal(4, counts["MatMul"]);
        Assert.Equal(264, ir.Layers.Count(l => l.Const?.ElementType == OpenVinoElementType.F16));
        // Every op type of the file is one the reader knows, and the reader knows no other.
        Assert.Equal(OpenVinoIrFile.KnownOps.Keys.Order(), counts.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ServesEveryNanoPoseConvolutionWithItsShape(int size)
    {
        var weights = OpenVinoWeightSource.Load(XmlPath(size));
        Assert.Equal((size, size), weights.InputSize);
        long parameters = 0;
        foreach (var conv in PicoDetIrLayout.Convolutions)
        {
            var served = weights.Conv(conv.Request());
            Assert.Equal(conv.OutChannels * conv.InChannelsPerGroup * conv.Kernel * conv.Kernel, served.Weight.Length);
            Assert.Equal(conv.OutChannels, served.Bias.Length);
            Assert.Equal(conv.WeightShape, weights.ShapeOf(conv.Name + ".weight")!);
            Assert.Equal([conv.OutChannels], weights.ShapeOf(conv.Name + ".bias")!);
            Assert.All(served.Weight, w => Assert.True(float.IsFinite(w)));
            parameters += served.Weight.Length + served.Bias.Length;
        }
        weights.ThrowIfIncomplete();
        Assert.Equal(1_146_056, parameters);   // G.11: weights + folded biases
        Assert.Null(weights.ShapeOf("backbone.conv1.running_mean"));
        Assert.Null(weights.ShapeOf("nothing.weight"));
    }

    [Fact]
    public void TheLayoutHasTheNamesOfTheContract()
    {
        var names = PicoDetIrLayout.Convolutions.Select(c => c.Name).ToList();
        Assert.Equal(98, names.Distinct().Count());
        Assert.Equal(31, names.Count(n => n.StartsWith("backbone.", StringComparison.Ordinal)));
        Assert.Equal(27, names.Count(n => n.StartsWith("neck.", StringComparison.Ordinal)));
        Assert.Equal(40, names.Count(n => n.StartsWith("head.", StringComparison.Ordinal)));
        string[] spot =
        [
            "backbone.conv1", "backbone.blocks2.0.dw", "backbone.blocks5.5.pw", "backbone.blocks6.1.se.conv1", "backbone.blocks6.0.se.conv2",
            "neck.lateral.0", "neck.lateral.2", "neck.top_down.1.0.dw", "neck.down.1.pw", "neck.bottom_up.0.1.pw",
            "neck.extra_from_lateral.dw", "neck.extra_from_output.pw", "head.0.tower.0.dw", "head.3.tower.1.pw", "head.2.se.fc",
            "head.1.se.conv", "head.0.cls", "head.3.reg", "head.2.align.conv", "head.1.align.scale",
        ];
        Assert.All(spot, n => Assert.Contains(n, names));
        var byName = PicoDetIrLayout.Convolutions.ToDictionary(c => c.Name);
        Assert.Equal(("Multiply_35613", 96, 96), (byName["neck.lateral.0"].IrLayer, byName["neck.lateral.0"].OutChannels, byName["neck.lateral.0"].InChannelsPerGroup));
        Assert.Equal([1, 96, 5, 5], byName["head.0.align.conv"].WeightShape);   // dense, not depthwise (G.5)
        Assert.True(byName["neck.down.0.dw"].Depthwise);
        Assert.Equal(2, byName["neck.down.0.dw"].Stride);
        Assert.Equal(IrActivation.HardSigmoid, byName["backbone.blocks6.1.se.conv2"].Then);
        Assert.Equal(IrActivation.Relu, byName["backbone.blocks6.1.se.conv1"].Then);
        Assert.Equal(IrActivation.Sigmoid, byName["head.3.se.fc"].Then);
        Assert.Equal(IrActivation.None, byName["head.3.reg"].Then);
    }

    /// <summary>A few values against a decode written here: the Const's offset from XLinq, the bytes as fp16 by hand.</summary>
    [Theory]
    [InlineData(320, "backbone.conv1")]
    [InlineData(320, "backbone.blocks6.1.se.conv2")]
    [InlineData(192, "neck.top_down.1.0.dw")]
    [InlineData(192, "head.3.align.scale")]
    public void WeightsAreTheFp16ValuesAtTheConstOffset(int size, string name)
    {
        string xmlPath = XmlPath(size);
        var conv = PicoDetIrLayout.Convolutions.Single(c => c.Name == name);
        var weights = OpenVinoWeightSource.Load(xmlPath);
        var served = weights.Conv(conv.Request());
        byte[] bin = File.ReadAllBytes(Path.ChangeExtension(xmlPath, ".bin"));
        var document = XDocument.Load(xmlPath);
        float[] Decode(string constName)
        {
            var data = document.Descendants("layer").Single(l => (string?)l.Attribute("name") == constName).Element("data")!;
            Assert.Equal("f16", (string?)data.Attribute("element_type"));
            int offset = int.Parse((string)data.Attribute("offset")!), bytes = int.Parse((string)data.Attribute("size")!);
            var values = new float[bytes / 2];
            for (int i = 0; i < values.Length; i++)
            {
                int bits = bin[offset + 2 * i] | bin[offset + 2 * i + 1] << 8;
                int exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF;
                double magnitude = exponent == 0 ? mantissa * Math.Pow(2, -24) : (1024 + mantissa) * Math.Pow(2, exponent - 25);
                Assert.NotEqual(31, exponent);
                values[i] = (float)((bits & 0x8000) != 0 ? -magnitude : magnitude);
            }
            return values;
        }
        float[] weight = Decode(conv.WeightConst), bias = Decode(conv.BiasConst);
        Assert.Equal(weight.Length, served.Weight.Length);
        foreach (int i in new[] { 0, 1, weight.Length / 2, weight.Length - 1 }.Where(i => i < weight.Length)) Assert.Equal(weight[i], served.Weight[i]);
        Assert.Equal(bias, served.Bias);
    }

    [Fact]
    public void ThrowIfIncompleteNamesTheConvolutionsNotAskedFor()
    {
        var weights = OpenVinoWeightSource.Load(XmlPath(192));
        foreach (var conv in PicoDetIrLayout.Convolutions.Where(c => c.Name is not ("head.2.cls" or "neck.down.1.dw")))
            weights.Conv(conv.Request());
        var error = Assert.Throws<OpenVinoException>(weights.ThrowIfIncomplete);
        Assert.Contains("2 IR convolution(s) were not used by the network", error.Message);
        Assert.Contains("Conv_84 (head.2.cls)", error.Message);
        Assert.Contains("Multiply_35857 (neck.down.1.dw)", error.Message);
    }

    [Fact]
    public void RequestsThatDoNotFitAreRefusedNamingBoth()
    {
        var weights = OpenVinoWeightSource.Load(XmlPath(192));
        var conv = PicoDetIrLayout.Convolutions.Single(c => c.Name == "backbone.blocks5.1.dw");
        var error = Assert.Throws<OpenVinoException>(() => weights.Conv(conv.Request() with { KernelHeight = 3, KernelWidth = 3 }));
        Assert.Contains("'Multiply_35413'", error.Message);
        Assert.Contains("asks for backbone.blocks5.1.dw with weight shape [192, 1, 3, 3], but this IR layer's is [192, 1, 5, 5] (stored as [192, 1, 1, 5, 5])", error.Message);

        error = Assert.Throws<OpenVinoException>(() => weights.Conv(conv.Request() with { BatchNorm = "backbone.blocks5.1.bn" }));
        Assert.Contains("already folded", error.Message);
        error = Assert.Throws<OpenVinoException>(() => weights.Conv(conv.Request() with { HasBias = false }));
        Assert.Contains("without a bias", error.Message);
        error = Assert.Throws<OpenVinoException>(() => weights.Conv(new ConvRequest("backbone.blocks7.0.dw", 8, 1, 3, 3, true, null)));
        Assert.Contains("backbone.blocks7.0.dw [8, 1, 3, 3], which no IR convolution corresponds to", error.Message);
        weights.Conv(conv.Request());
        error = Assert.Throws<OpenVinoException>(() => weights.Conv(conv.Request()));
        Assert.Contains("twice", error.Message);
    }

    /// <summary>Edits of the real files that keep them well-formed but change what the network would compute.</summary>
    public static TheoryData<string, string, string> SemanticEdits() => new()
    {
        // (what, edit, refusal)
        { "stem stride", "xml:strides=\"2, 2\" dilations=\"1, 1\" pads_begin=\"1, 1\"|strides=\"1, 1\" dilations=\"1, 1\" pads_begin=\"1, 1\"", "strides '1, 1' should be '2, 2' for backbone.conv1" },
        { "hard-sigmoid alpha 1/6", "bin:Constant_1661_compressed|0.17", "alpha (Constant_1661_compressed) is [0.17004395], not exactly 0.16662598" },
        { "Div_10 by 2", "bin:Constant_37653_compressed|2", "is named like a no-op (Div_k) but multiplies by 2" },
        { "activation swapped", "xml:name=\"HSwish_23183\" type=\"HSwish\" version=\"opset4\"|name=\"HSwish_23183\" type=\"Sigmoid\" version=\"opset1\"", "should feed only a HSwish (input 0) for backbone.conv1" },
        { "unknown op", "xml:name=\"Relu_0\" type=\"ReLU\"|name=\"Relu_0\" type=\"PRelu\"", "op type 'PRelu' is not supported" },
    };

    [Theory]
    [MemberData(nameof(SemanticEdits))]
    public void EditsThatChangeTheFunctionAreRefused(string what, string edit, string refusal)
    {
        string xmlPath = XmlPath(320);
        string xml = File.ReadAllText(xmlPath);
        byte[] bin = File.ReadAllBytes(Path.ChangeExtension(xmlPath, ".bin"));
        string[] parts = edit[4..].Split('|');
        if (edit.StartsWith("xml:", StringComparison.Ordinal))
        {
            int at = xml.IndexOf(parts[0], StringComparison.Ordinal);
            Assert.True(at >= 0, what);
            xml = xml[..at] + parts[1] + xml[(at + parts[0].Length)..];
        }
        else
        {
            var data = XDocument.Parse(xml).Descendants("layer").Single(l => (string?)l.Attribute("name") == parts[0]).Element("data")!;
            int offset = int.Parse((string)data.Attribute("offset")!);
            BitConverter.TryWriteBytes(bin.AsSpan(offset), (Half)double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        var error = Assert.Throws<OpenVinoException>(() => new OpenVinoWeightSource(OpenVinoIrFile.Parse(Encoding.UTF8.GetBytes(xml), bin, "edited.xml", "edited.bin"), PicoDetIrLayout.Convolutions));
        Assert.StartsWith("edited.xml:", error.Message);
        Assert.Contains(refusal, error.Message);
    }

    [Fact]
    public void TheHardSigmoidConstantsAreTheFp16OfTheIr()
    {
        Assert.Equal(OpenVinoWeightSource.HardSigmoidSlope, (float)(Half)(1.0 / 6));
        Assert.Equal(OpenVinoWeightSource.HardSigmoidOffset, (float)(Half)0.5);
    }

    [Fact]
    public void ConvertOpenVinoRefusesAnUnknownArchitecture()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelConversion.ConvertOpenVino("unused.xml", "no-such-net"));
        Assert.StartsWith("unknown architecture 'no-such-net'", error.Message);
    }

    [Fact]
    public void TheCommandLineRoutesXmlAndInspectsIt()
    {
        string xmlPath = XmlPath(192);
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, CommandLine.Run(["convert", xmlPath, "-o", "unused.npw"], output, error));
        Assert.Contains("an OpenVINO IR model needs --arch", error.ToString());

        (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, CommandLine.Run(["convert", "missing.xml", "--arch", ModelConversion.Architectures.Keys.First(), "-o", "unused.npw"], output, error));
        Assert.Contains("missing.xml: does not exist", error.ToString());

        (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, CommandLine.Run(["inspect", xmlPath], output, error));
        string text = output.ToString();
        Assert.Contains("OpenVINO IR, 1199 layers, 1282 edges", text);
        Assert.Contains("  Multiply_35283  Convolution  [16, 3, 3, 3]", text);
        Assert.Contains("  Multiply_35293  GroupConvolution  [16, 1, 1, 3, 3]", text);
        Assert.Contains("98 convolutions", text);
    }
}
