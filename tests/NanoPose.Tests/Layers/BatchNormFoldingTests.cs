using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;

namespace NanoPose.Tests.Layers;

/// <summary>A conv with folded BatchNorm equals the conv followed by the BatchNorm (both by the reference kernels).</summary>
public class BatchNormFoldingTests
{
    private static float[] Values(Random random, int length, double low = -1, double high = 1) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)(low + random.NextDouble() * (high - low)))];

    private sealed record Norm(float[] Gamma, float[] Beta, float[] Mean, float[] Variance)
    {
        public static Norm Sample(Random random, int channels) => new(
            Values(random, channels, 0.5, 2), Values(random, channels),
            Values(random, channels), Values(random, channels, 0.01, 3));

        /// <summary>Inference BatchNorm on an NHWC tensor, in double.</summary>
        public float[] Apply(float[] x, int channels) =>
            [.. x.Select((v, i) => (float)((v - Mean[i % channels]) / Math.Sqrt(Variance[i % channels] + 1e-5) * Gamma[i % channels] + Beta[i % channels]))];
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(4, false)]   // depthwise: groups = channels
    public void FoldedConvolutionEqualsConvolutionThenBatchNorm(int groups, bool hasBias)
    {
        var random = new Random(groups * 10 + (hasBias ? 1 : 0));
        const int inChannels = 4, outChannels = 4, height = 5, width = 6;
        var request = new ConvRequest("conv", outChannels, inChannels / groups, 3, 3, hasBias, "bn");
        var geometry = ConvGeometry.Square(3, 1, 1, groups);
        var weight = Values(random, request.WeightLength);
        var bias = hasBias ? Values(random, outChannels) : [];
        var norm = Norm.Sample(random, outChannels);
        var inputShape = new Nhwc(height, width, inChannels);
        var input = Values(random, height * width * inChannels);
        var outputShape = geometry.OutputShape(inputShape, outChannels);

        var convolved = new float[outputShape.Pixels * outChannels];
        ConvReference.Conv2d(input, inputShape, weight, geometry, convolved, outputShape, Epilogue.With(bias), 0, outputShape.Height);
        var expected = norm.Apply(convolved, outChannels);

        var folded = BatchNormFolding.Fold(request, weight, bias, norm.Gamma, norm.Beta, norm.Mean, norm.Variance);
        var output = FeatureMap.Allocate(height, width, outChannels);
        new ConvLayer(request, folded, geometry, Activation.None, VectorWidth.Scalar).Run(new FeatureMap(input, 0, inputShape), output);

        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output.Buffer[i], 1e-4f);
    }

    [Fact]
    public void FoldedTransposedConvolutionEqualsTransposedConvolutionThenBatchNorm()
    {
        var random = new Random(5);
        const int inChannels = 3, outChannels = 5, height = 4, width = 3;
        var request = new ConvRequest("deconv", outChannels, inChannels, 4, 4, HasBias: false, "bn", Transposed: true);
        var weight = Values(random, request.WeightLength); // [in, out, 4, 4]
        var norm = Norm.Sample(random, outChannels);
        var inputShape = new Nhwc(height, width, inChannels);
        var outputShape = new Nhwc(2 * height, 2 * width, outChannels);
        var input = Values(random, height * width * inChannels);

        var convolved = new float[outputShape.Pixels * outChannels];
        ConvReference.ConvTranspose4x4Stride2(input, inputShape, weight, convolved, outputShape, Epilogue.None, 0, outputShape.Height);
        var expected = norm.Apply(convolved, outChannels);

        var folded = BatchNormFolding.Fold(request, weight, [], norm.Gamma, norm.Beta, norm.Mean, norm.Variance);
        var output = FeatureMap.Allocate(2 * height, 2 * width, outChannels);
        new DeconvLayer(request, folded, Activation.None, VectorWidth.Scalar).Run(new FeatureMap(input, 0, inputShape), output);

        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output.Buffer[i], 1e-4f);
    }

    [Fact]
    public void HandComputedCase()
    {
        // One 1×1 conv, weight 2, bias 1; BN gamma 3, beta 0.5, mean 1, var 4 − eps: scale 3/2 → w' 3, b' (1 − 1)·1.5 + 0.5.
        var request = new ConvRequest("c", 1, 1, 1, 1, HasBias: true, "bn");
        var folded = BatchNormFolding.Fold(request, [2f], [1f], [3f], [0.5f], [1f], [4f - 1e-5f], BatchNormFolding.Epsilon);
        Assert.Equal(3f, folded.Weight[0], 1e-6f);
        Assert.Equal(0.5f, folded.Bias[0], 1e-6f);
    }

    [Fact]
    public void RefusesStatisticsOfTheWrongLength()
    {
        var request = new ConvRequest("c", 2, 1, 1, 1, HasBias: false, "bn");
        var error = Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(request, [1f, 1f], [], [1f], [0f, 0f], [0f, 0f], [1f, 1f]));
        Assert.Contains("bn: gamma has 1 values, expected 2", error.Message);
    }
}
