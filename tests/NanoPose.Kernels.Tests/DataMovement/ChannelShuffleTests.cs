using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.DataMovement;

public class ChannelShuffleTests
{
    [Fact]
    public void ReferenceInterleavesHalvesByHand()
    {
        // C = 6: view (2, 3) -> transpose -> flatten gives channels 0 3 1 4 2 5.
        float[] input = [10, 11, 12, 13, 14, 15];
        var output = new float[6];
        ChannelShuffle.Shuffle2Reference(input, new Nhwc(1, 1, 6), output, new Nhwc(1, 1, 6));
        Assert.Equal([10f, 13, 11, 14, 12, 15], output);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void ShuffleMatchesReferenceForEveryHalfWidth(VectorWidth width)
    {
        for (int half = 1; half <= 33; half++)
            foreach (var (inPad, outPad) in new[] { (0, 0), (5, 0), (0, 3) })
                AssertShuffle(View(2, 3, 2 * half, inPad), View(2, 3, 2 * half, outPad), half, width);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void ShuffleMatchesReferenceOnLiteHrnetShapes(VectorWidth width)
    {
        AssertShuffle(View(64, 48, 40), View(64, 48, 40), 1, width);
        AssertShuffle(View(16, 12, 160), View(16, 12, 160, 160), 2, width);
        AssertShuffle(View(8, 6, 320), View(8, 6, 320), 3, width);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void ConcatShuffleEqualsShuffleOfConcat(VectorWidth width)
    {
        for (int half = 1; half <= 33; half++)
        {
            var firstView = View(3, 2, half, 2);
            var secondView = View(3, 2, half, half);
            var outputView = View(3, 2, 2 * half, 1);
            var first = Random(firstView, half);
            var second = Random(secondView, half + 50);
            var output = Random(outputView, half + 100);
            var expected = Copy(output);
            ChannelShuffle.ConcatShuffle2(first, firstView, second, secondView, output, outputView, width);

            var concatView = View(3, 2, 2 * half);
            var concat = new float[concatView.RequiredLength];
            ChannelSlices.CopyReference(first, firstView, concat, concatView with { Channels = half });
            ChannelSlices.CopyReference(second, secondView, concat.AsSpan(half), concatView with { Channels = half });
            ChannelShuffle.Shuffle2Reference(concat, concatView, expected, outputView);
            Tolerance.AssertExact(expected, output, $"concat-shuffle half={half}");
        }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void ConcatShuffleWithAScaledSecondHalfEqualsScalingThenShuffling(VectorWidth width)
    {
        for (int half = 1; half <= 41; half += 4)
        {
            var firstView = View(4, 3, half, half + 3);
            var secondView = View(4, 3, half, half);
            var outputView = View(4, 3, 2 * half);
            var first = Random(firstView, half);
            var second = Random(secondView, half + 50);
            var scale = TestData.Random(half, half + 70);
            var output = Random(outputView, half + 100);
            ChannelShuffle.ConcatShuffle2(first, firstView, second, secondView, output, outputView, width, scale);

            var scaled = new float[secondView.RequiredLength];
            Arithmetic.ScaleChannelsReference(second, secondView, scale, scaled, secondView);
            var expected = new float[outputView.RequiredLength];
            ChannelShuffle.ConcatShuffle2Reference(first, firstView, scaled, secondView, expected, outputView);
            Tolerance.AssertExact(expected, output, $"scaled concat-shuffle half={half}");
        }
        var error = Assert.Throws<ArgumentException>(() => ChannelShuffle.ConcatShuffle2(new float[4], View(1, 2, 2), new float[4], View(1, 2, 2),
            new float[8], View(1, 2, 4), width, secondScale: new float[3]));
        Assert.Contains("secondScale: expected 2 floats", error.Message);
    }

    [Fact]
    public void RejectsOddChannelsAndInPlace()
    {
        var buffer = new float[12];
        Assert.Throws<ArgumentException>(() => ChannelShuffle.Shuffle2(buffer, new Nhwc(1, 4, 3), new float[12], new Nhwc(1, 4, 3), VectorWidth.V128));
        Assert.Throws<ArgumentException>(() => ChannelShuffle.Shuffle2(buffer, new Nhwc(1, 3, 4), buffer, new Nhwc(1, 3, 4), VectorWidth.V128));
    }

    static void AssertShuffle(Nhwc inputView, Nhwc outputView, int seed, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var output = Random(outputView, seed + 1000);
        var expected = Copy(output);
        ChannelShuffle.Shuffle2(input, inputView, output, outputView, width);
        ChannelShuffle.Shuffle2Reference(input, inputView, expected, outputView);
        Tolerance.AssertExact(expected, output, $"shuffle {inputView} -> {outputView}");
    }
}
