using System.Globalization;
using System.Text;
using NanoPose.WeightsTools.OpenVino;

namespace NanoPose.WeightsTools.Tests.OpenVino;

/// <summary>
/// A small IR in the shape of the PicoDet graph, written here from scratch: image → conv 3×3 s2 (f16 weight through a
/// Convert) → bias Add → HSwish → Div_0 (× 1.0) → depthwise 3×3 (f16) → bias Add (an f32 Const, no Convert) →
/// HardSigmoid (α f32, β f16 scalars) → Reshape (i64 target) → Result. With <see cref="Layout"/> it exercises the
/// reader and the weight source's graph checks in a few kilobytes.
/// </summary>
public static class SyntheticIr
{
    public static readonly IReadOnlyList<IrConvolution> Layout =
    [
        new("net.conv0", "conv0", "w0_compressed", [4, 3, 3, 3], 2, 1, "bias0", "b0_compressed", IrActivation.HSwish),
        new("net.dw1", "dw1", "w1_compressed", [4, 1, 1, 3, 3], 1, 1, "bias1", "b1", IrActivation.HardSigmoid),
    ];

    public static byte[] Bin()
    {
        var bytes = new List<byte>();
        void Halves(int count, Func<int, double> value)
        {
            for (int i = 0; i < count; i++) bytes.AddRange(BitConverter.GetBytes((Half)value(i)));
        }
        Halves(108, i => (i - 54) / 32.0);                                      // w0 at 0, 216 bytes
        Halves(4, i => i - 1.5);                                                 // b0 at 216, 8 bytes
        Halves(1, _ => 1.0);                                                     // Div_0's factor at 224
        Halves(36, i => i / 64.0 - 0.25);                                        // w1 at 226, 72 bytes
        for (int i = 0; i < 4; i++) bytes.AddRange(BitConverter.GetBytes(0.125f * i));   // b1 at 298, 16 bytes
        bytes.AddRange(BitConverter.GetBytes(OpenVinoWeightSource.HardSigmoidSlope));     // alpha at 314
        Halves(1, _ => 0.5);                                                     // beta at 318
        bytes.AddRange(BitConverter.GetBytes(1L));                               // reshape target at 320
        bytes.AddRange(BitConverter.GetBytes(64L));
        return [.. bytes];
    }

    public static readonly string Xml = Build();

    private static string Build()
    {
        var xml = new StringBuilder("<?xml version=\"1.0\" ?>\n<net name=\"synthetic\" version=\"11\">\n\t<layers>\n");
        long[] image = [1, 3, 8, 8], map = [1, 4, 4, 4], bias = [1, 4, 1, 1];
        void Layer(int id, string name, string type, string version, string? data, long[][] inputs, long[][] outputs)
        {
            xml.Append(CultureInfo.InvariantCulture, $"\t\t<layer id=\"{id}\" name=\"{name}\" type=\"{type}\" version=\"{version}\">\n");
            if (data is not null) xml.Append(CultureInfo.InvariantCulture, $"\t\t\t<data {data}/>\n");
            int port = 0;
            foreach (var (tag, ports) in new[] { ("input", inputs), ("output", outputs) })
            {
                if (ports.Length == 0) continue;
                xml.Append(CultureInfo.InvariantCulture, $"\t\t\t<{tag}>\n");
                foreach (var dims in ports)
                {
                    xml.Append(CultureInfo.InvariantCulture, $"\t\t\t\t<port id=\"{port++}\" precision=\"FP32\">\n");
                    foreach (long d in dims) xml.Append(CultureInfo.InvariantCulture, $"\t\t\t\t\t<dim>{d}</dim>\n");
                    xml.Append("\t\t\t\t</port>\n");
                }
                xml.Append(CultureInfo.InvariantCulture, $"\t\t\t</{tag}>\n");
            }
            xml.Append("\t\t</layer>\n");
        }
        void Const(int id, string name, string type, long[] shape, long offset, long size) =>
            Layer(id, name, "Const", "opset1", $"element_type=\"{type}\" shape=\"{string.Join(", ", shape)}\" offset=\"{offset}\" size=\"{size}\"", [], [shape]);
        void Convert(int id, string name, long[] shape) => Layer(id, name, "Convert", "opset1", "destination_type=\"f32\"", [shape], [shape]);
        const string Conv = "dilations=\"1, 1\" pads_begin=\"1, 1\" pads_end=\"1, 1\" auto_pad=\"explicit\"";

        Layer(0, "image", "Parameter", "opset1", "shape=\"1,3,8,8\" element_type=\"f32\"", [], [image]);
        Const(1, "w0_compressed", "f16", [4, 3, 3, 3], 0, 216);
        Convert(2, "w0", [4, 3, 3, 3]);
        Layer(3, "conv0", "Convolution", "opset1", "strides=\"2, 2\" " + Conv, [image, [4, 3, 3, 3]], [map]);
        Const(4, "b0_compressed", "f16", bias, 216, 8);
        Convert(5, "b0", bias);
        Layer(6, "bias0", "Add", "opset1", "auto_broadcast=\"numpy\"", [map, bias], [map]);
        Layer(7, "hswish0", "HSwish", "opset4", null, [map], [map]);
        Const(8, "one_compressed", "f16", [1, 1, 1, 1], 224, 2);
        Convert(9, "one", [1, 1, 1, 1]);
        Layer(10, "Div_0", "Multiply", "opset1", "auto_broadcast=\"numpy\"", [map, [1, 1, 1, 1]], [map]);
        Const(11, "w1_compressed", "f16", [4, 1, 1, 3, 3], 226, 72);
        Convert(12, "w1", [4, 1, 1, 3, 3]);
        Layer(13, "dw1", "GroupConvolution", "opset1", "strides=\"1, 1\" " + Conv, [map, [4, 1, 1, 3, 3]], [map]);
        Const(14, "b1", "f32", bias, 298, 16);
        Layer(15, "bias1", "Add", "opset1", "auto_broadcast=\"numpy\"", [map, bias], [map]);
        Const(16, "alpha", "f32", [], 314, 4);
        Const(17, "beta_compressed", "f16", [], 318, 2);
        Convert(18, "beta", []);
        Layer(19, "hsig", "HardSigmoid", "opset1", null, [map, [], []], [map]);
        Const(20, "target", "i64", [2], 320, 16);
        Layer(21, "flat", "Reshape", "opset1", "special_zero=\"false\"", [map, [2]], [[1, 64]]);
        Layer(22, "out", "Result", "opset1", null, [[1, 64]], []);
        xml.Append("\t</layers>\n\t<edges>\n");
        int[][] edges =
        [
            [0, 0, 3, 0], [1, 0, 2, 0], [2, 1, 3, 1], [3, 2, 6, 0], [4, 0, 5, 0], [5, 1, 6, 1], [6, 2, 7, 0],
            [7, 1, 10, 0], [8, 0, 9, 0], [9, 1, 10, 1], [10, 2, 13, 0], [11, 0, 12, 0], [12, 1, 13, 1], [13, 2, 15, 0],
            [14, 0, 15, 1], [15, 2, 19, 0], [16, 0, 19, 1], [17, 0, 18, 0], [18, 1, 19, 2], [19, 3, 21, 0], [20, 0, 21, 1],
            [21, 2, 22, 0],
        ];
        foreach (var e in edges)
            xml.Append(CultureInfo.InvariantCulture, $"\t\t<edge from-layer=\"{e[0]}\" from-port=\"{e[1]}\" to-layer=\"{e[2]}\" to-port=\"{e[3]}\"/>\n");
        xml.Append("\t</edges>\n\t<meta_data>\n\t\t<MO_version value=\"synthetic\"/>\n\t</meta_data>\n</net>\n");
        return xml.ToString();
    }

    /// <summary>Reads an IR and takes every convolution of <see cref="Layout"/> from it, as a conversion would.</summary>
    public static OpenVinoWeightSource Serve(byte[] xml, byte[] bin, string source)
    {
        var weights = new OpenVinoWeightSource(OpenVinoIrFile.Parse(xml, bin, source, source + ".bin"), Layout);
        foreach (var conv in Layout)
        {
            var served = weights.Conv(conv.Request());
            Assert.Equal(conv.OutChannels * conv.InChannelsPerGroup * conv.Kernel * conv.Kernel, served.Weight.Length);
            Assert.Equal(conv.OutChannels, served.Bias.Length);
        }
        weights.ThrowIfIncomplete();
        return weights;
    }
}
