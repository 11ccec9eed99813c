using NanoPose.Kernels.Common;
using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.Elementwise;

public class ArithmeticTests
{
    [Fact]
    public void ReferencesComputeByHand()
    {
        var view = new Nhwc(1, 2, 2);
        var output = new float[4];
        Arithmetic.AddReference([1, 2, 3, 4], view, [10, 20, 30, 40], view, output, view);
        Assert.Equal([11f, 22, 33, 44], output);
        Arithmetic.MultiplyReference([1, 2, 3, 4], view, [10, 20, 30, 40], view, output, view);
        Assert.Equal([10f, 40, 90, 160], output);
        Arithmetic.ScaleChannelsReference([1, 2, 3, 4], view, [2, -1], output, view);
        Assert.Equal([2f, -2, 6, -4], output);
        // 1x2 weights (one channel) nearest-upsampled to 1x4: columns 0,0,1,1.
        var wide = new float[4];
        Arithmetic.MultiplyByNearestUpsampledReference([1, 2, 3, 4], new Nhwc(1, 4, 1), [10, 100], new Nhwc(1, 2, 1), wide, new Nhwc(1, 4, 1));
        Assert.Equal([10f, 20, 300, 400], wide);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void AddAndMultiplyMatchReferenceForEveryChannelCount(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
            foreach (var (pa, pb, po) in new[] { (0, 0, 0), (channels, 0, 1), (1, 2, channels) })
            {
                AssertBinary(View(3, 5, channels, pa), View(3, 5, channels, pb), View(3, 5, channels, po), channels, inPlace: false, width);
                AssertBinary(View(2, 3, channels, pa), View(2, 3, channels, pb), View(2, 3, channels, pa), channels, inPlace: true, width);
            }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void ScaleChannelsMatchesReferenceForEveryChannelCount(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
            foreach (int padding in new[] { 0, 3, channels })
            {
                AssertScale(View(4, 3, channels, padding), View(4, 3, channels), channels, inPlace: false, width);
                AssertScale(View(4, 3, channels, padding), View(4, 3, channels, padding), channels, inPlace: true, width);
            }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void UpsampledMultiplyMatchesReferenceForEveryChannelCountAndSize(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
            AssertUpsampled(View(7, 5, channels, 2), View(3, 2, channels, 1), View(7, 5, channels), channels, inPlace: false, width);
        for (int size = 1; size <= 33; size++)
        {
            AssertUpsampled(View(size, 13, 20, 20), View(size % 4 + 1, 6, 20), View(size, 13, 20, 20), size, inPlace: true, width);
            AssertUpsampled(View(3, size, 9), View(2, (size + 1) / 2, 9), View(3, size, 9, 1), size, inPlace: false, width);
        }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceOnLiteHrnetBranches(VectorWidth width)
    {
        // Cross-resolution weights at 8x6 on the second half of each branch (in place), then spatial weighting.
        foreach (var (h, w, c) in new[] { (64, 48, 20), (32, 24, 40), (16, 12, 80), (8, 6, 160) })
        {
            var half = new Nhwc(h, w, c, 2 * c);
            AssertUpsampled(half, View(8, 6, c, 300 - c), half, c, inPlace: true, width);
            AssertScale(half, half, c, inPlace: true, width);
        }
        AssertBinary(View(64, 48, 40), View(64, 48, 40), View(64, 48, 40), 5, inPlace: true, width); // fuse sum
    }

    [Fact]
    public void RejectsMismatchedShapesAndShortScale()
    {
        var a = new float[24];
        Assert.Throws<ArgumentException>(() => Arithmetic.Add(a, new Nhwc(2, 3, 4), a, new Nhwc(3, 2, 4), new float[24], new Nhwc(2, 3, 4), VectorWidth.V256));
        Assert.Throws<ArgumentException>(() => Arithmetic.ScaleChannels(a, new Nhwc(2, 3, 4), new float[3], new float[24], new Nhwc(2, 3, 4), VectorWidth.V256));
        Assert.Throws<ArgumentException>(() => Arithmetic.MultiplyByNearestUpsampled(a, new Nhwc(2, 3, 4), a, new Nhwc(1, 1, 3), new float[24], new Nhwc(2, 3, 4), VectorWidth.V256));
        Assert.Throws<ArgumentOutOfRangeException>(() => Arithmetic.Add(a, new Nhwc(2, 3, 4), a, new Nhwc(2, 3, 4), new float[24], new Nhwc(2, 3, 4), (VectorWidth)7));
    }

    static void AssertBinary(Nhwc aView, Nhwc bView, Nhwc outputView, int seed, bool inPlace, VectorWidth width)
    {
        foreach (bool add in new[] { true, false })
        {
            var a = Random(aView, seed);
            var b = Random(bView, seed + 1);
            var output = inPlace ? a : Random(outputView, seed + 2);
            var expected = Copy(output);
            if (add)
            {
                Arithmetic.AddReference(Copy(a), aView, b, bView, expected, outputView);
                Arithmetic.Add(a, aView, b, bView, output, outputView, width);
            }
            else
            {
                Arithmetic.MultiplyReference(Copy(a), aView, b, bView, expected, outputView);
                Arithmetic.Multiply(a, aView, b, bView, output, outputView, width);
            }
            Tolerance.AssertExact(expected, output, $"{(add ? "add" : "multiply")} {aView} {bView} -> {outputView} in place {inPlace}");
        }
    }

    static void AssertScale(Nhwc inputView, Nhwc outputView, int seed, bool inPlace, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var scale = TestData.Random(inputView.Channels, seed + 1);
        var output = inPlace ? input : Random(outputView, seed + 2);
        var expected = Copy(output);
        Arithmetic.ScaleChannelsReference(Copy(input), inputView, scale, expected, outputView);
        Arithmetic.ScaleChannels(input, inputView, scale, output, outputView, width);
        Tolerance.AssertExact(expected, output, $"scale {inputView} -> {outputView} in place {inPlace}");
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void AddNearestUpsampledEqualsUpsamplingThenAdding(VectorWidth width)
    {
        foreach (int factor in new[] { 2, 4, 8 })
            foreach (int channels in new[] { 1, 7, 20, 40, 33 })
                foreach (bool inPlace in new[] { false, true })
                {
                    var lowView = View(3, 2, channels, channels + 1);
                    var view = View(3 * factor, 2 * factor, channels);
                    var input = Random(view, channels);
                    var low = Random(lowView, channels + 1);
                    var output = inPlace ? input : Random(view, channels + 2);
                    var upsampled = new float[view.RequiredLength];
                    NanoPose.Kernels.Resize.NearestResize.UpsampleByFactor(low, lowView, upsampled, view, factor, factor, VectorWidth.Scalar);
                    var expected = new float[view.RequiredLength];
                    Arithmetic.AddReference(input, view, upsampled, view, expected, view);
                    Arithmetic.AddNearestUpsampled(input, view, low, lowView, output, view, width);
                    Tolerance.AssertExact(expected, output, $"add upsampled ×{factor}, {channels} channels, in place {inPlace}");
                }
    }

    static void AssertUpsampled(Nhwc inputView, Nhwc weightsView, Nhwc outputView, int seed, bool inPlace, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var weights = Random(weightsView, seed + 1);
        var output = inPlace ? input : Random(outputView, seed + 2);
        var expected = Copy(output);
        Arithmetic.MultiplyByNearestUpsampledReference(Copy(input), inputView, weights, weightsView, expected, outputView);
        Arithmetic.MultiplyByNearestUpsampled(input, inputView, weights, weightsView, output, outputView, width);
        Tolerance.AssertExact(expected, output, $"upsampled multiply {inputView} by {weightsView} in place {inPlace}");
    }
}
