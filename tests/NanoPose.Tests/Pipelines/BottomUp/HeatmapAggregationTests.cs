using NanoPose.Kernels.Simd;
using NanoPose.Pipelines.BottomUp;

namespace NanoPose.Tests.Pipelines.BottomUp;

/// <summary>
/// Aggregation on tiny outputs whose results can be derived by hand: an 8 × 4 input, so the quarter output is
/// 2 wide × 1 high and the half output 4 × 2. Bilinear doubling (align_corners=False) of a row [a, b] is
/// [a, a + (b−a)/4, a + 3(b−a)/4, b] (edge samples clamp), which is exact for the values used.
/// </summary>
public class HeatmapAggregationTests
{
    private const int InputWidth = 8, InputHeight = 4;

    public static TheoryData<VectorWidth> Widths => [.. Isa.Supported];

    [Theory, MemberData(nameof(Widths))]
    public void AveragesBothOutputsWithoutFlip(VectorWidth width)
    {
        // Two joints: quarter heatmaps 2 and 3, tags 10 and 11; half heatmaps 4 and 5 (and two tag maps, ignored).
        var quarter = Constant(1, 2, 2, 3, 10, 11);
        var half = Constant(2, 4, 4, 5, 99, 99);
        var maps = HeatmapAggregation.Aggregate(new BottomUpOutputs(quarter, half), null, InputWidth, InputHeight, [1, 0], width);

        Assert.Equal((2, InputHeight, InputWidth, 1), (maps.Joints, maps.Height, maps.Width, maps.TagDimension));
        Assert.All(maps.Heatmap(0).ToArray(), v => Assert.Equal(3f, v)); // (2 + 4) / 2
        Assert.All(maps.Heatmap(1).ToArray(), v => Assert.Equal(4f, v)); // (3 + 5) / 2
        Assert.All(maps.Tags.AsSpan(0, 32).ToArray(), v => Assert.Equal(10f, v));
        Assert.All(maps.Tags.AsSpan(32, 32).ToArray(), v => Assert.Equal(11f, v));
    }

    [Theory, MemberData(nameof(Widths))]
    public void FlipsBackSwapsJointsAndAveragesAtInputSize(VectorWidth width)
    {
        // Joint 0 is a ramp 0 → 4 along x, joint 1 a constant 8; tag 0 the same ramp, tag 1 a constant 1. The half
        // output holds the quarter output already doubled, so (quarter↑ + half)/2 is the doubled quarter output.
        var quarter = new ChannelMaps([0, 4, 8, 8, 0, 4, 1, 1], 4, 1, 2);
        var half = new ChannelMaps([0, 1, 3, 4, 0, 1, 3, 4, 8, 8, 8, 8, 8, 8, 8, 8], 2, 2, 4);
        var outputs = new BottomUpOutputs(quarter, half);
        // The same outputs for the flipped image: mirrored back, joint 0 becomes the constant and joint 1 the
        // reversed ramp.
        var maps = HeatmapAggregation.Aggregate(outputs, outputs, InputWidth, InputHeight, [1, 0], width);

        float[] ramp = [0, 0.25f, 0.75f, 1.5f, 2.5f, 3.25f, 3.75f, 4]; // [0, 1, 3, 4] doubled again
        float[] reversed = [.. ramp.Reverse()];
        Assert.Equal(2, maps.TagDimension);
        for (int y = 0; y < InputHeight; y++)
            for (int x = 0; x < InputWidth; x++)
            {
                Assert.Equal((ramp[x] + 8) / 2, maps.Heatmap(0)[y * InputWidth + x]);
                Assert.Equal((8 + reversed[x]) / 2, maps.Heatmap(1)[y * InputWidth + x]);
                Assert.Equal([ramp[x], 1f], maps.Tag(0, y, x).ToArray());
                Assert.Equal([1f, reversed[x]], maps.Tag(1, y, x).ToArray());
            }
    }

    [Fact]
    public void CombinesScalesByAveragingHeatmapsAndKeepingScaleOneTags()
    {
        var large = new AggregatedMaps(1, 1, 2, 2, [1, 2], [9, 9, 9, 9]);
        var unit = new AggregatedMaps(1, 1, 2, 2, [3, 5], [1, 2, 3, 4]);
        var small = new AggregatedMaps(1, 1, 2, 2, [2, 5], [7, 7, 7, 7]);
        var combined = HeatmapAggregation.CombineScales([large, unit, small], 1);
        Assert.Equal([2f, 4f], combined.Heatmaps);
        Assert.Equal([1f, 2f, 3f, 4f], combined.Tags);
        Assert.Equal(unit.Heatmaps, HeatmapAggregation.CombineScales([unit], 0).Heatmaps); // one scale: unchanged
        Assert.Throws<ArgumentException>(() => HeatmapAggregation.CombineScales([unit, new AggregatedMaps(1, 2, 1, 2, [0, 0], [0, 0, 0, 0])], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapAggregation.CombineScales([unit], 1));
    }

    [Fact]
    public void RejectsMismatchedOutputs()
    {
        var outputs = new BottomUpOutputs(Constant(1, 2, 2, 3, 10, 11), Constant(2, 4, 4, 5, 0, 0));
        var threeChannels = new BottomUpOutputs(new ChannelMaps(new float[6], 3, 1, 2), outputs.Half);
        var otherSize = new BottomUpOutputs(outputs.Quarter, new ChannelMaps(new float[24], 2, 2, 6));
        Assert.Throws<ArgumentException>(() => HeatmapAggregation.Aggregate(threeChannels, null, 8, 4, [1, 0], VectorWidth.Scalar));
        Assert.Throws<ArgumentException>(() => HeatmapAggregation.Aggregate(outputs, otherSize, 8, 4, [1, 0], VectorWidth.Scalar));
        Assert.Throws<ArgumentException>(() => HeatmapAggregation.Aggregate(outputs, outputs, 8, 4, [0, 0], VectorWidth.Scalar));
        Assert.Throws<ArgumentException>(() => new ChannelMaps(new float[5], 1, 2, 3));
    }

    /// <summary>Four constant planes (two joints' heatmaps, then two more maps) of the given size.</summary>
    private static ChannelMaps Constant(int height, int width, float heat0, float heat1, float extra0, float extra1)
    {
        int plane = height * width;
        var data = new float[4 * plane];
        float[] values = [heat0, heat1, extra0, extra1];
        for (int c = 0; c < 4; c++) data.AsSpan(c * plane, plane).Fill(values[c]);
        return new ChannelMaps(data, 4, height, width);
    }
}
