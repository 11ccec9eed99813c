using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.TopDown;

public class FlipTestTests(ITestOutputHelper output)
{
    [Fact]
    public void AveragesLikeMmpose()
    {
        const int joints = CocoKeypoints.Count, height = TopDownCase.HeatmapHeight, width = TopDownCase.HeatmapWidth;
        var averaged = new float[joints * height * width];
        double worst = 0;
        foreach (var golden in TopDownCase.Cases)
        {
            FlipTest.Average(golden.Array("heatmaps").Data, golden.Array("heatmaps_of_flipped_input").Data, joints, height, width,
                CocoKeypoints.FlipPartner, averaged);
            var expected = golden.Array("heatmaps_flip_averaged").Data;
            for (int i = 0; i < averaged.Length; i++) worst = Math.Max(worst, Math.Abs((double)expected[i] - averaged[i]));
        }
        output.WriteLine($"flip-averaged heatmaps, 12 cases: max abs diff {worst:E2}");
        Assert.True(worst <= 1e-6, $"max abs diff {worst:E2}");
    }

    [Fact]
    public void SwapsPairsMirrorsAndShiftsByOnePixel()
    {
        // Two joints that swap, one row of 3: joint 0's flipped map [1 2 3] comes back as joint 1's [3 2 1],
        // shifted right to [3 3 2]; joint 1's [4 5 6] → [6 5 4] → [6 6 5]. The plain maps are zero.
        float[] flipped = [1, 2, 3, 4, 5, 6];
        var averaged = new float[6];
        FlipTest.Average(new float[6], flipped, 2, 1, 3, [1, 0], averaged);
        Assert.Equal([3f, 3f, 2.5f, 1.5f, 1.5f, 1f], averaged);
    }

    [Fact]
    public void MirrorsTheInput()
    {
        float[] input = [1, 2, 3, 4, 5, 6];
        var flipped = new float[6];
        FlipTest.FlipHorizontally(input, 2, 1, 3, flipped);
        Assert.Equal([3f, 2f, 1f, 6f, 5f, 4f], flipped);
    }

    [Fact]
    public void RefusesABadPartnerList()
    {
        Assert.Throws<ArgumentException>(() => FlipTest.Average(new float[6], new float[6], 2, 1, 3, [1], new float[6]));
        Assert.Throws<ArgumentException>(() => FlipTest.Average(new float[6], new float[6], 2, 1, 3, [1, 2], new float[6]));
    }
}
