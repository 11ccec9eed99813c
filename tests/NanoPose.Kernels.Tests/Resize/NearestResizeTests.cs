using NanoPose.Kernels.Common;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.Resize;

public class NearestResizeTests
{
    [Fact]
    public void ReferenceUpsamplesByHand()
    {
        // 1x2 with 2 channels, x2 vertically and x3 horizontally.
        float[] input = [1, 2, 3, 4];
        var output = new float[2 * 6 * 2];
        NearestResize.UpsampleByFactorReference(input, new Nhwc(1, 2, 2), output, new Nhwc(2, 6, 2), 2, 3);
        float[] row = [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4];
        Assert.Equal([.. row, .. row], output);
    }

    [Fact]
    public void LegacyRuleMatchesPyTorchByHand()
    {
        // 3 -> 5: scale 0.6f, floor(0, 0.6, 1.2, 1.8, 2.4).
        float[] input = [10, 20, 30];
        var output = new float[5];
        NearestResize.ResizeToSizeReference(input, new Nhwc(1, 3, 1), output, new Nhwc(1, 5, 1));
        Assert.Equal([10f, 10, 20, 20, 30], output);
        // Values read from torch 1.13.1: 2f/82 rounds down, so destination 41 stays on source 0 (exact arithmetic: 1).
        Assert.Equal(0, new LegacyNearestRule(2, 82).Source(41));
        Assert.Equal(1, new LegacyNearestRule(2, 98).Source(49));
        Assert.Equal(5, new LegacyNearestRule(6, 13).Source(12));
    }

    [Fact]
    public void LegacyRuleEqualsIntegerFactorForPowerOfTwoFactors()
    {
        for (int size = 1; size <= 33; size++)
            foreach (int factor in new[] { 1, 2, 4, 8 })
            {
                var legacy = new LegacyNearestRule(size, size * factor);
                var exact = new IntegerFactorRule(factor);
                for (int d = 0; d < size * factor; d++)
                    Assert.Equal(exact.Source(d), legacy.Source(d));
            }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void UpsampleMatchesReferenceForEveryChannelCount(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
        {
            AssertUpsample(View(3, 2, channels, 1), View(6, 6, channels, channels % 3), 2, 3, channels, width);
            AssertResize(View(3, 2, channels), View(7, 5, channels, 2), channels, width);
        }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void ResizeMatchesReferenceForEverySpatialSize(VectorWidth width)
    {
        for (int size = 1; size <= 33; size++)
        {
            AssertResize(View(size, 3, 17, 1), View(5, size, 17), size, width);
            AssertResize(View(4, size, 6), View(size, 9, 6, 3), size, width);
            AssertUpsample(View(size, 2, 20), View(size * 3, 2, 20), 3, 1, size, width);
        }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceOnNetworkShapes(VectorWidth width)
    {
        AssertResize(View(8, 6, 20), View(64, 48, 20), 1, width);   // Lite-HRNet cross-resolution weights
        AssertResize(View(6, 13, 5), View(13, 6, 5), 2, width);     // odd, shrinking one axis
        AssertUpsample(View(8, 6, 40), View(64, 48, 40, 40), 8, 8, 3, width); // fuse layer x8 into a wider tensor
        AssertUpsample(View(16, 16, 32), View(32, 32, 32), 2, 2, 4, width);   // EfficientHRNet H0 fuse x2
    }

    [Fact]
    public void RejectsWrongOutputSizeAndOverlap()
    {
        var buffer = new float[64];
        Assert.Throws<ArgumentException>(() => NearestResize.UpsampleByFactor(buffer, new Nhwc(2, 2, 2), new float[64], new Nhwc(4, 3, 2), 2, 2, VectorWidth.V128));
        Assert.Throws<ArgumentException>(() => NearestResize.UpsampleByFactor(buffer, new Nhwc(2, 2, 2), new float[64], new Nhwc(2, 2, 2), 0, 1, VectorWidth.V128));
        Assert.Throws<ArgumentException>(() => NearestResize.ResizeToSize(buffer, new Nhwc(2, 2, 2), buffer, new Nhwc(4, 4, 2), VectorWidth.V128));
        Assert.Throws<ArgumentException>(() => NearestResize.ResizeToSize(buffer, new Nhwc(2, 2, 2), new float[64], new Nhwc(0, 4, 2), VectorWidth.V128));
    }

    static void AssertUpsample(Nhwc inputView, Nhwc outputView, int factorY, int factorX, int seed, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var output = Random(outputView, seed + 1000);
        var expected = Copy(output);
        NearestResize.UpsampleByFactor(input, inputView, output, outputView, factorY, factorX, width);
        NearestResize.UpsampleByFactorReference(input, inputView, expected, outputView, factorY, factorX);
        Tolerance.AssertExact(expected, output, $"upsample x{factorY}x{factorX} {inputView} -> {outputView}");
    }

    static void AssertResize(Nhwc inputView, Nhwc outputView, int seed, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var output = Random(outputView, seed + 1000);
        var expected = Copy(output);
        NearestResize.ResizeToSize(input, inputView, output, outputView, width);
        NearestResize.ResizeToSizeReference(input, inputView, expected, outputView);
        Tolerance.AssertExact(expected, output, $"nearest {inputView} -> {outputView}");
    }
}
