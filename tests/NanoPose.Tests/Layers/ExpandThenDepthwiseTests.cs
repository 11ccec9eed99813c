using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.TestSupport;
using NanoPose.Threading;
using Xunit;

namespace NanoPose.Tests.Layers;

/// <summary>
/// MBConv's streamed expansion (<see cref="Executor.ExpandThenDepthwise"/>) against the two layers run one after the
/// other over the whole expanded map, on the kernels and paddings EfficientNet uses and on heights that leave a
/// short last band and split unevenly over two threads.
/// </summary>
public class ExpandThenDepthwiseTests
{
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        // height, width, input channels, kernel, stride
        { 192, 40, 16, 3, 2 },
        { 97, 33, 24, 3, 1 },
        { 96, 50, 16, 5, 2 },
        { 45, 70, 32, 5, 1 },
        { 42, 70, 32, 5, 1 },   // the last band needs only rows the one before it already holds
        { 7, 9, 8, 3, 2 },
    };

    [Theory, MemberData(nameof(Shapes))]
    public void EqualsExpandingThenFilteringTheWholeMap(int height, int width, int inChannels, int kernel, int stride)
    {
        int hidden = inChannels * 6;
        var weights = new SeededWeights(seed: height * 31 + kernel);
        var expand = Layer(weights, "expand", hidden, inChannels, ConvGeometry.Pointwise(), Activation.SiLU);
        var depthwise = Layer(weights, "depthwise", hidden, 1,
            ConvGeometry.Square(kernel, stride, Padding2d.Same(kernel, stride), groups: hidden), Activation.SiLU);
        CheckStreamingEqualsWholeMap(expand, depthwise, height, width, inChannels, seed: height * 31 + kernel);
    }

    /// <summary>A dense k×k layer in the expansion's place (EfficientNet's stem before <c>features.1</c>): its output
    /// rows are computed band by band from the input rows they read, the padding kept only where a band meets the map's
    /// edge.</summary>
    public static TheoryData<int, int, int, int, int, int> DenseShapes => new()
    {
        // height, width, input channels, output channels, kernel, stride (the depthwise layer: 3×3 stride 1)
        { 384, 40, 3, 24, 3, 2 },   // H−4's stem at a narrower width, "same" padding (0, 1)
        { 101, 37, 3, 32, 3, 2 },   // odd sizes: the last band is short
        { 90, 31, 8, 20, 3, 1 },
        { 60, 45, 5, 16, 5, 1 },
        { 9, 7, 3, 24, 3, 2 },
    };

    [Theory, MemberData(nameof(DenseShapes))]
    public void EqualsTheDenseLayerThenFilteringTheWholeMap(int height, int width, int inChannels, int outChannels, int kernel, int stride)
    {
        var weights = new SeededWeights(seed: height * 17 + outChannels);
        var producer = Layer(weights, "producer", outChannels, inChannels, ConvGeometry.Square(kernel, stride, Padding2d.Same(kernel, stride)), Activation.SiLU);
        var depthwise = Layer(weights, "depthwise", outChannels, 1,
            ConvGeometry.Square(3, 1, Padding2d.Same(3, 1), groups: outChannels), Activation.SiLU);
        CheckStreamingEqualsWholeMap(producer, depthwise, height, width, inChannels, seed: height * 17 + outChannels);
    }

    /// <summary>Streams <paramref name="expand"/> into <paramref name="depthwise"/> on 1 and 2 threads and compares with the
    /// two layers run one after the other, value for value.</summary>
    static void CheckStreamingEqualsWholeMap(ConvLayer expand, ConvLayer depthwise, int height, int width, int inChannels, int seed)
    {
        var random = new Random(seed);
        int hidden = expand.OutChannels;
        var input = FeatureMap.Allocate(height, width, inChannels);
        foreach (ref float v in input.Span) v = random.NextSingle() * 4 - 2;
        var expandedShape = expand.OutputShape(input.Shape);
        var outputShape = depthwise.OutputShape(expandedShape);

        var ops = new Executor(Isa.Best, new ActivationArena(), pool: null);
        var expanded = FeatureMap.Allocate(expandedShape.Height, expandedShape.Width, expandedShape.Channels);
        var expected = FeatureMap.Allocate(outputShape.Height, outputShape.Width, outputShape.Channels);
        ops.Conv(expand, input, expanded);
        ops.Conv(depthwise, expanded, expected);

        foreach (int threads in (int[])[1, 2])
        {
            using var pool = threads > 1 ? new WorkerPool(threads) : null;
            var streaming = new Executor(Isa.Best, new ActivationArena(), pool);
            int bandRows = Executor.BandRows(depthwise, expandedShape.Width, hidden);
            var bands = FeatureMap.Allocate(threads * bandRows, expandedShape.Width, hidden);
            var actual = FeatureMap.Allocate(outputShape.Height, outputShape.Width, outputShape.Channels);
            foreach (ref float v in actual.Span) v = float.NaN;
            streaming.ExpandThenDepthwise(expand, depthwise, input, bands, actual);
            Assert.Equal(expected.Span.ToArray(), actual.Span.ToArray());
        }
    }

    [Fact]
    public void RefusesBandsTooSmallForOneBand()
    {
        var weights = new SeededWeights(seed: 1);
        var expand = Layer(weights, "expand", 48, 8, ConvGeometry.Pointwise(), Activation.SiLU);
        var depthwise = Layer(weights, "depthwise", 48, 1, ConvGeometry.Square(3, 2, Padding2d.Same(3, 2), groups: 48), Activation.SiLU);
        var ops = new Executor(Isa.Best, new ActivationArena(), pool: null);
        var error = Assert.Throws<ArgumentException>(() => ops.ExpandThenDepthwise(expand, depthwise,
            FeatureMap.Allocate(16, 16, 8), FeatureMap.Allocate(1, 16, 48), FeatureMap.Allocate(8, 8, 48)));
        Assert.Contains("bands", error.Message);
    }

    static ConvLayer Layer(SeededWeights weights, string name, int outChannels, int inPerGroup, ConvGeometry geometry, Activation activation) =>
        ConvLayer.Create(weights, new ConvRequest(name, outChannels, inPerGroup, geometry.KernelHeight, geometry.KernelWidth, HasBias: true, BatchNorm: null),
            geometry, activation, Isa.Best);
}
