using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.DataMovement;

public class ChannelSlicesTests
{
    [Fact]
    public void ReferenceSplitsAndConcatsByHand()
    {
        // One 1x2 image with channels [a0 a1 a2 | b0 b1]: split at 3, then concat back.
        float[] input = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        var inputView = new Nhwc(1, 2, 5);
        var first = new float[6];
        var second = new float[4];
        ChannelSlices.Split(input, inputView, 0, first, new Nhwc(1, 2, 3), VectorWidth.Scalar);
        ChannelSlices.Split(input, inputView, 3, second, new Nhwc(1, 2, 2), VectorWidth.Scalar);
        Assert.Equal([1f, 2, 3, 6, 7, 8], first);
        Assert.Equal([4f, 5, 9, 10], second);
        var joined = new float[10];
        ChannelSlices.Concat(first, new Nhwc(1, 2, 3), second, new Nhwc(1, 2, 2), joined, inputView, VectorWidth.Scalar);
        Assert.Equal(input, joined);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void CopyMatchesReferenceForEveryChannelCountAndStride(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
            foreach (var (inPad, outPad) in new[] { (0, 0), (3, 0), (0, 5), (7, 2) })
                AssertCopy(View(3, 4, channels, inPad), View(3, 4, channels, outPad), channels, width);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void CopyMatchesReferenceForEverySpatialSize(VectorWidth width)
    {
        for (int size = 1; size <= 33; size++)
        {
            AssertCopy(View(size, 34 - size, 20, 20), View(size, 34 - size, 20), size, width);
            AssertCopy(View(1, size, 7), View(1, size, 7), size, width);
        }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void SplitAndConcatMatchReference(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
        {
            var whole = View(2, 3, 2 * channels + 1, 3);
            var input = Random(whole, channels);
            var first = View(2, 3, channels, 1);
            var second = View(2, 3, channels + 1);
            var firstOut = Random(first, 100);
            var secondOut = Random(second, 101);
            var firstExpected = Copy(firstOut);
            var secondExpected = Copy(secondOut);
            ChannelSlices.Split(input, whole, 0, firstOut, first, width);
            ChannelSlices.Split(input, whole, channels, secondOut, second, width);
            ChannelSlices.CopyReference(input, whole with { Channels = channels }, firstExpected, first);
            ChannelSlices.CopyReference(input.AsSpan(channels), whole with { Channels = channels + 1 }, secondExpected, second);
            Tolerance.AssertExact(firstExpected, firstOut, $"split first C={channels}");
            Tolerance.AssertExact(secondExpected, secondOut, $"split second C={channels}");

            var joined = Random(whole, 102);
            var joinedExpected = Copy(joined);
            ChannelSlices.Concat(firstOut, first, secondOut, second, joined, whole, width);
            for (int p = 0; p < whole.Pixels; p++)
                input.AsSpan(p * whole.PixelStride, whole.Channels).CopyTo(joinedExpected.AsSpan(p * whole.PixelStride));
            Tolerance.AssertExact(joinedExpected, joined, $"concat C={channels}");
        }
    }

    [Fact]
    public void RejectsMismatchedShapesSlicesAndOverlap()
    {
        var buffer = new float[64];
        var view = new Nhwc(2, 2, 4);
        Assert.Throws<ArgumentException>(() => ChannelSlices.Copy(buffer, view, new float[16], new Nhwc(2, 2, 3), VectorWidth.V256));
        Assert.Throws<ArgumentException>(() => ChannelSlices.Copy(buffer, view, buffer.AsSpan(8), view, VectorWidth.V256));
        Assert.Throws<ArgumentException>(() => ChannelSlices.Split(buffer, view, 2, new float[16], new Nhwc(2, 2, 3), VectorWidth.V256));
        Assert.Throws<ArgumentException>(() => ChannelSlices.CopyInto(buffer, view, new float[64], new Nhwc(2, 2, 6), 3, VectorWidth.V256));
        Assert.Throws<ArgumentException>(() => ChannelSlices.Copy(new float[15], view, new float[16], view, VectorWidth.V256));
    }

    static void AssertCopy(Nhwc inputView, Nhwc outputView, int seed, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var output = Random(outputView, seed + 1000);
        var expected = Copy(output);
        ChannelSlices.Copy(input, inputView, output, outputView, width);
        ChannelSlices.CopyReference(input, inputView, expected, outputView);
        Tolerance.AssertExact(expected, output, $"copy {inputView} -> {outputView}");
    }
}
