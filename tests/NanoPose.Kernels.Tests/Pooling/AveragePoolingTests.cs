using NanoPose.Kernels.Common;
using NanoPose.Kernels.Pooling;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.Pooling;

public class AveragePoolingTests
{
    [Fact]
    public void ReferencePoolsByHand()
    {
        // 3x3 of 1..9 into 2x2: PyTorch bins over 3 are rows/columns [0, 2) and [1, 3), overlapping in the middle.
        float[] input = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var output = new float[4];
        AveragePooling.AdaptiveReference(input, new Nhwc(3, 3, 1), output, new Nhwc(2, 2, 1));
        Assert.Equal([3f, 4, 6, 7], output);
        var mean = new float[1];
        AveragePooling.GlobalReference(input, new Nhwc(3, 3, 1), mean);
        Assert.Equal(5f, mean[0]);
    }

    [Fact]
    public void BinsArePyTorchsForNonDividingSizes()
    {
        AssertBins(7, 3, [(0, 3), (2, 5), (4, 7)]);
        AssertBins(5, 8, [(0, 1), (0, 2), (1, 2), (1, 3), (2, 4), (3, 4), (3, 5), (4, 5)]);
        AssertBins(10, 3, [(0, 4), (3, 7), (6, 10)]);
        AssertBins(64, 8, [(0, 8), (8, 16), (16, 24), (24, 32), (32, 40), (40, 48), (48, 56), (56, 64)]);
    }

    [Fact]
    public void ReferenceDividesByHeightThenWidthAsPyTorch()
    {
        // Nine 0.1f sum to 0.9000001f; PyTorch's sum / 3 / 3 gives 0.10000002f where sum / 9 would give 0.10000001f.
        var input = Enumerable.Repeat(0.1f, 9).ToArray();
        var output = new float[1];
        AveragePooling.AdaptiveReference(input, new Nhwc(3, 3, 1), output, new Nhwc(1, 1, 1));
        Assert.Equal(0.10000002f, output[0]);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void AdaptiveMatchesReferenceForEveryChannelCount(VectorWidth width)
    {
        for (int channels = 1; channels <= 33; channels++)
        {
            AssertAdaptive(View(7, 5, channels, 3), View(3, 8, channels, 2), channels, width);
            AssertGlobal(View(4, 3, channels, channels % 4), channels, width);
        }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void AdaptiveMatchesReferenceForEverySpatialSize(VectorWidth width)
    {
        for (int size = 1; size <= 33; size++)
        {
            int other = size * 7 % 33 + 1;
            AssertAdaptive(View(size, other, 20, 20), View(size % 5 + 1, size % 7 + 1, 20), size, width);
            AssertAdaptive(View(other, size, 5), View(size % 3 + 1, (size + 4) / 3, 5, 1), size, width);
            AssertGlobal(View(size, other, 17, 3), size, width);
        }
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceOnNonDividingSizes(VectorWidth width)
    {
        foreach (var (ih, iw, oh, ow) in new[] { (7, 7, 3, 3), (5, 5, 8, 8), (10, 10, 3, 3), (64, 48, 8, 6), (13, 11, 4, 5) })
            AssertAdaptive(View(ih, iw, 19, 2), View(oh, ow, 19), ih * iw, width);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void CrossResolutionPoolingWritesIntoConcatSlices(VectorWidth width)
    {
        // Lite-HRNet stage 2 cross-resolution weighting at 256x192: second halves of branches 0..2 pooled to 8x6,
        // straight into their channel slices of the 300-channel concat (branch 3's 160 channels would follow).
        var concatView = View(8, 6, 300);
        var output = Random(concatView, 7);
        var expected = Copy(output);
        int start = 0;
        foreach (var (h, w, c) in new[] { (64, 48, 20), (32, 24, 40), (16, 12, 80) })
        {
            var branchHalf = new Nhwc(h, w, c, 2 * c); // second half of the branch tensor: channels [c, 2c)
            var input = Random(branchHalf, c);
            AveragePooling.Adaptive(input, branchHalf, output.AsSpan(start), concatView with { Channels = c }, width);
            AveragePooling.AdaptiveReference(input, branchHalf, expected.AsSpan(start), concatView with { Channels = c });
            start += c;
        }
        Tolerance.AssertExact(expected, output, "cross-resolution pooling");
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void GlobalMatchesReferenceOnLiteHrnetBranches(VectorWidth width)
    {
        AssertGlobal(new Nhwc(64, 48, 20, 40), 1, width);
        AssertGlobal(new Nhwc(32, 24, 40, 80), 2, width);
        AssertGlobal(new Nhwc(8, 6, 160, 320), 3, width);
    }

    [Fact]
    public void RejectsEmptyAndMismatchedViews()
    {
        var input = new float[12];
        Assert.Throws<ArgumentException>(() => AveragePooling.Adaptive(input, new Nhwc(2, 2, 3), new float[12], new Nhwc(0, 2, 3), VectorWidth.V128));
        Assert.Throws<ArgumentException>(() => AveragePooling.Adaptive(input, new Nhwc(2, 2, 3), new float[12], new Nhwc(1, 1, 2), VectorWidth.V128));
        Assert.Throws<ArgumentException>(() => AveragePooling.Global(input, new Nhwc(2, 2, 3), new float[2], VectorWidth.V128));
    }

    static void AssertBins(int input, int output, (int Start, int End)[] bins)
    {
        for (int i = 0; i < output; i++)
            Assert.Equal(bins[i], (AveragePooling.BinStart(i, input, output), AveragePooling.BinEnd(i, input, output)));
    }

    static void AssertAdaptive(Nhwc inputView, Nhwc outputView, int seed, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var output = Random(outputView, seed + 1000);
        var expected = Copy(output);
        AveragePooling.Adaptive(input, inputView, output, outputView, width);
        AveragePooling.AdaptiveReference(input, inputView, expected, outputView);
        Tolerance.AssertExact(expected, output, $"adaptive {inputView} -> {outputView}");
    }

    static void AssertGlobal(Nhwc inputView, int seed, VectorWidth width)
    {
        var input = Random(inputView, seed);
        var output = TestData.Random(inputView.Channels + 3, seed + 1000);
        var expected = Copy(output);
        AveragePooling.Global(input, inputView, output, width);
        AveragePooling.GlobalReference(input, inputView, expected);
        Tolerance.AssertExact(expected, output, $"global {inputView}");
    }

    [Fact]
    public void MeanOfRowSumsComputesByHand()
    {
        // A 2×3 map of two channels, given as its row sums: channel 0 rows sum to 6 and 15, channel 1 to 3 and 0.
        var mean = new float[2];
        AveragePooling.MeanOfRowSumsReference([6, 3, 15, 0], height: 2, width: 3, mean);
        Assert.Equal([3.5f, 0.5f], mean);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MeanOfRowSumsMatchesItsReferenceExactlyAndTheGlobalMean(VectorWidth width)
    {
        foreach (int channels in new[] { 1, 3, 8, 20, 33, 40 })
            foreach (var (height, columns) in new[] { (1, 1), (64, 48), (7, 5) })
            {
                var map = Random(View(height, columns, channels), channels);
                var rowSums = new float[height * channels];
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < columns; x++)
                        for (int c = 0; c < channels; c++)
                            rowSums[y * channels + c] += map[(y * columns + x) * channels + c];
                var (expected, actual, global) = (new float[channels], new float[channels], new float[channels]);
                AveragePooling.MeanOfRowSumsReference(rowSums, height, columns, expected);
                AveragePooling.MeanOfRowSums(rowSums, height, columns, actual, width);
                Tolerance.AssertExact(expected, actual, $"{height}×{columns}×{channels}");
                // The same mean as the row-major global pool, up to the grouping of the sum.
                AveragePooling.GlobalReference(map, View(height, columns, channels), global);
                Tolerance.AssertClose(global, expected, height * columns, $"{height}×{columns}×{channels} against the global pool");
            }
        Assert.Throws<ArgumentException>(() => AveragePooling.MeanOfRowSums(new float[5], 2, 3, new float[2], width));
        Assert.Throws<ArgumentException>(() => AveragePooling.MeanOfRowSums(new float[4], 2, 0, new float[2], width));
    }
}
