using Microsoft.ML.OnnxRuntime;
using NanoPose.Layers;
using NanoPose.WeightsTools.Onnx;
using static NanoPose.WeightsTools.Tests.Onnx.OnnxTestSupport;

namespace NanoPose.WeightsTools.Tests.Onnx;

/// <summary>The protobuf encoding and small hand-built graphs that ONNX Runtime loads and runs, against hand computations.</summary>
public class OnnxGraphTests
{
    /// <summary>Serves fixed weights by name.</summary>
    private sealed class FixedWeights(Dictionary<string, ConvWeights> weights) : IWeightSource
    {
        public ConvWeights Conv(ConvRequest request) => weights[request.Name];
    }

    [Fact]
    public void EncodesTheProtobufWireFormat()
    {
        // The examples of the protobuf encoding guide: field 1 = 150; field 2 = "testing"; field 3 = a message holding field 1 = 150.
        var w = new ProtobufWriter();
        w.Int64(1, 150);
        w.String(2, "testing");
        w.Message(3, inner => inner.Int64(1, 150));
        w.Int64(1, -1);   // int64 −1: ten bytes of two's complement
        Assert.Equal(Convert.FromHexString("089601" + "120774657374696e67" + "1a03089601" + "08ffffffffffffffffff01"), w.ToArray());
    }

    [Fact]
    public void AConvolutionWithAsymmetricPaddingRunsAsComputedByHand()
    {
        const int inC = 2, outC = 3, h = 5, w = 4, k = 3, stride = 2;
        var padding = new ConvPadding(Top: 0, Left: 1, Bottom: 1, Right: 2);
        var random = new Random(3);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1)];
        float[] weight = Values(outC * inC * k * k), bias = Values(outC), image = Values(inC * h * w);

        var graph = new OnnxGraph("conv", new FixedWeights(new() { ["conv"] = new ConvWeights(weight, bias) }));
        var x = graph.Input("image", inC, h, w);
        var y = graph.Conv(x, "conv", outC, k, stride, padding);
        graph.Output(graph.Relu(y), "out");
        int outH = (h + padding.Top + padding.Bottom - k) / stride + 1, outW = (w + padding.Left + padding.Right - k) / stride + 1;
        Assert.Equal((2, 3), (outH, outW));
        Assert.Equal((outC, outH, outW), (y.Channels, y.Height, y.Width));

        // relu(bias + Σ weight[o, c, i, j] · image[c, oy·s + i − top, ox·s + j − left]), zero outside the image.
        var expected = new float[outC * outH * outW];
        for (int o = 0; o < outC; o++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    float sum = bias[o];
                    for (int c = 0; c < inC; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++)
                            {
                                int iy = oy * stride + i - padding.Top, ix = ox * stride + j - padding.Left;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) sum += weight[((o * inC + c) * k + i) * k + j] * image[(c * h + iy) * w + ix];
                            }
                    expected[(o * outH + oy) * outW + ox] = MathF.Max(0, sum);
                }

        using var session = new InferenceSession(graph.ToModel("test"));
        var (name, shape, values) = Assert.Single(Run(session, image, inC, h, w));
        Assert.Equal("out", name);
        Assert.Equal([1, outC, outH, outW], shape);
        Assert.True(MaxAbsDiff(expected, values) < 1e-5f, $"max abs diff {MaxAbsDiff(expected, values)}");
        Assert.Contains(values, v => v > 0);   // the ReLU let something through
    }

    [Fact]
    public void ChannelShuffleInterleavesTheHalves()
    {
        // channel_shuffle(x, 2): output channel 2k is input channel k, 2k + 1 is C/2 + k (MODELS.md A.2).
        const int channels = 6, h = 2, w = 3;
        var graph = new OnnxGraph("shuffle", new FixedWeights([]));
        graph.Output(graph.ChannelShuffle(graph.Input("image", channels, h, w)), "out");
        var image = Enumerable.Range(0, channels * h * w).Select(i => (float)i).ToArray();
        using var session = new InferenceSession(graph.ToModel("test"));
        var values = Assert.Single(Run(session, image, channels, h, w)).Values;
        int[] source = [0, 3, 1, 4, 2, 5];
        for (int c = 0; c < channels; c++)
            Assert.Equal(image.AsSpan(source[c] * h * w, h * w), values.AsSpan(c * h * w, h * w));
    }
}
