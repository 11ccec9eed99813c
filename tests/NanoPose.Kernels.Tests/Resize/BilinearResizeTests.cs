using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.Resize;

public class BilinearResizeTests
{
    [Fact]
    public void ReferenceResizesByHand()
    {
        // align_corners=True, 2x2 -> 3x3: the corners stay, the rest are exact midpoints.
        float[] input = [0, 1, 2, 3];
        var output = new float[9];
        BilinearResize.ResizeReference(input, new Nhwc(2, 2, 1), output, new Nhwc(3, 3, 1), alignCorners: true);
        Assert.Equal([0f, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3], output);
        // align_corners=False, 1x2 -> 1x4: sources 0 (clamped from -0.25), 0.25, 0.75, 1.25 -> index 1 with i1 = i0.
        float[] row = [0, 4];
        var wide = new float[4];
        BilinearResize.ResizeReference(row, new Nhwc(1, 2, 1), wide, new Nhwc(1, 4, 1), alignCorners: false);
        Assert.Equal([0f, 1, 3, 4], wide);
    }

    [Fact]
    public void AxisWeightsAreTorch113s()
    {
        // torch 1.13.1, align_corners=True, 9 -> 15, destination 7: the source 4.000000178813934 is computed in double
        // from the float scale 8f/14, so weights are (0.9999998, 1.7881393e-07), not (1, 0).
        new BilinearAxis(9, 15, alignCorners: true).Source(7, out int i0, out int i1, out float w0, out float w1);
        Assert.Equal((4, 5, 0.9999998f, 1.7881393e-07f), (i0, i1, w0, w1));
        new BilinearAxis(9, 15, alignCorners: false).Source(14, out i0, out i1, out w0, out w1);
        Assert.Equal((8, 8), (i0, i1));
    }

    [Theory]
    [InlineData(true, new[] { -1.0f, 0.8571428f, -0.82857144f, 1.0285714f, -0.6571429f, 1.1999999f, -0.48571426f, 1.3714286f, -0.31428567f, 1.5428572f, -0.14285713f, 1.7142856f, -0.4285714f, 1.4285715f, -0.25714284f, 1.6f, -0.08571428f, 1.4285713f, 0.08571434f, 0.5714285f, 0.2571429f, 0.40000004f, 0.42857143f, 0.57142854f, 0.1428572f, 2.0f, 0.31428578f, 2.1714287f, 0.48571432f, 1.6571428f, 0.65714294f, -0.22857165f, 0.82857144f, -0.7428571f, 1.0f, -0.57142854f, 0.7142858f, 0.85714287f, 0.8857143f, 1.0285715f, 1.0571429f, 0.8571428f, 1.2285715f, -1.1175871e-07f, 1.4000001f, -0.17142855f, 1.5714285f, 0.0f, 1.2857144f, -0.28571427f, 1.4571428f, -0.1142857f, 1.6285714f, 0.05714287f, 1.8000001f, 0.22857143f, 1.9714286f, 0.4f, 2.142857f, 0.57142854f })]
    [InlineData(false, new[] { -1.0f, 0.8571428f, -0.85714287f, 0.99999994f, -0.6666666f, 1.1904761f, -0.47619045f, 1.3809525f, -0.28571424f, 1.5714285f, -0.14285713f, 1.7142856f, -0.54285705f, 1.3142858f, -0.39999995f, 1.4571428f, -0.20952372f, 1.4190475f, -0.019047542f, 0.69523805f, 0.17142868f, 0.65714276f, 0.31428576f, 0.7999999f, 0.14285727f, 1.9999999f, 0.2857144f, 2.1428568f, 0.47619057f, 1.7619045f, 0.66666675f, -0.3333334f, 0.857143f, -0.7142856f, 1.0000001f, -0.5714285f, 0.8285716f, 0.6285713f, 0.9714287f, 0.77142835f, 1.1619048f, 0.7333331f, 1.3523811f, 0.009523819f, 1.5428573f, -0.028571308f, 1.6857142f, 0.11428581f, 1.2857144f, -0.28571427f, 1.4285715f, -0.14285713f, 1.6190475f, 0.04761906f, 1.8095239f, 0.23809524f, 2.0f, 0.42857143f, 2.142857f, 0.57142854f })]
    public void ReferenceIsBitIdenticalToTorch113(bool alignCorners, float[] torchOutput)
    {
        // F.interpolate(x, size=(5, 6), mode='bilinear') on a contiguous 1x2x3x4 float tensor, torch 1.13.1 (AVX2 build),
        // with x (NHWC order) = ((k·37) mod 24) / 7 − 1.
        var input = new float[3 * 4 * 2];
        for (int k = 0; k < input.Length; k++) input[k] = k * 37 % 24 / 7f - 1f;
        var output = new float[5 * 6 * 2];
        BilinearResize.ResizeReference(input, new Nhwc(3, 4, 2), output, new Nhwc(5, 6, 2), alignCorners);
        Tolerance.AssertExact(torchOutput, output, $"torch 1.13 align_corners={alignCorners}");
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceForEveryChannelCount(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
            foreach (bool alignCorners in new[] { true, false })
                AssertResize(View(3, 4, channels, 2), View(7, 5, channels, channels % 3), alignCorners, channels, width);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceForEverySpatialSize(VectorWidth width)
    {
        for (int size = 1; size <= 33; size++)
            foreach (bool alignCorners in new[] { true, false })
            {
                AssertResize(View(size, 3, 17), View(6, 13, 17, 1), alignCorners, size, width);
                AssertResize(View(5, 4, 20, 20), View(size, size % 9 + 1, 20), alignCorners, size, width);
            }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceOnNetworkShapes(VectorWidth width)
    {
        AssertResize(View(8, 6, 160), View(16, 12, 160), true, 1, width);   // IterativeHead, deepest step
        AssertResize(View(32, 24, 40), View(64, 48, 40), true, 2, width);   // IterativeHead, last step
        AssertResize(View(8, 6, 5), View(64, 48, 5), true, 3, width);
        AssertResize(View(32, 32, 34), View(64, 64, 34), false, 4, width); // EfficientHRNet heatmap aggregation, R/4 -> R/2
    }

    [Fact]
    public void RejectsMismatchedChannelsAndOverlap()
    {
        var buffer = new float[64];
        Assert.Throws<ArgumentException>(() => BilinearResize.Resize(buffer, new Nhwc(2, 2, 2), new float[64], new Nhwc(4, 4, 3), true, VectorWidth.V128));
        Assert.Throws<ArgumentException>(() => BilinearResize.Resize(buffer, new Nhwc(2, 2, 2), buffer, new Nhwc(4, 4, 2), true, VectorWidth.V128));
    }

    static void AssertResize(Nhwc inputView, Nhwc outputView, bool alignCorners, int seed, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var output = Random(outputView, seed + 1000);
        var expected = Copy(output);
        BilinearResize.Resize(input, inputView, output, outputView, alignCorners, width);
        BilinearResize.ResizeReference(input, inputView, expected, outputView, alignCorners);
        string context = $"bilinear align_corners={alignCorners} {inputView} -> {outputView}";
        // MultiplyAdd is fused exactly where the reference's FusedMultiplyAdd is when the hardware has FMA.
        if (Isa.IsSupported(width) && (Fma.IsSupported || AdvSimd.IsSupported))
            Tolerance.AssertExact(expected, output, context);
        else
            Tolerance.AssertClose(expected, output, 4, context);
    }
}
