using NanoPose.Pipelines.BottomUp;

namespace NanoPose.Tests.Pipelines.BottomUp;

/// <summary>The parser's steps one by one, on maps small enough to check by hand.</summary>
public class ParserStepsTests
{
    [Fact]
    public void SuppressionKeepsWindowMaximaAndTies()
    {
        // 1 × 9 row, window 5 (±2): 5 at x=2 dominates x=0..4; 3 at x=6 ties 3 at x=8 (both kept, neither
        // sees a larger value within 2); 1 at x=4 is within reach of the 5.
        float[] row = [1, 2, 5, 0, 1, 0, 3, 0, 3];
        var output = new float[9];
        PeakSelection.SuppressNonMaxima(row, 1, 9, 5, output);
        Assert.Equal([0, 0, 5, 0, 0, 0, 3, 0, 3], output);

        // Vertical reach too: a 7 two rows below suppresses the 6 above it, not one three rows away.
        float[] column = [6, 0, 7, 0, 0, 6];
        var suppressed = new float[6];
        PeakSelection.SuppressNonMaxima(column, 6, 1, 5, suppressed);
        Assert.Equal([0, 0, 7, 0, 0, 6], suppressed);
    }

    [Fact]
    public void SuppressionMatchesTheWindowDefinitionOnRandomMaps()
    {
        // Values from four levels, so plateaus and ties are common; sizes below, at and above the window.
        var random = new Random(7);
        foreach (int kernel in new[] { 1, 3, 5 })
            for (int height = 1; height <= 7; height++)
                for (int width = 1; width <= 9; width += 2)
                {
                    var heat = Enumerable.Range(0, height * width).Select(_ => random.Next(4) * 0.25f).ToArray();
                    var output = new float[heat.Length];
                    PeakSelection.SuppressNonMaxima(heat, height, width, kernel, output);
                    int r = kernel / 2;
                    for (int y = 0; y < height; y++)
                        for (int x = 0; x < width; x++)
                        {
                            float max = float.NegativeInfinity;
                            for (int j = Math.Max(0, y - r); j <= Math.Min(height - 1, y + r); j++)
                                for (int i = Math.Max(0, x - r); i <= Math.Min(width - 1, x + r); i++) max = Math.Max(max, heat[j * width + i]);
                            float v = heat[y * width + x];
                            Assert.Equal(v == max ? v : 0, output[y * width + x]);
                        }
                }
        Assert.Throws<ArgumentOutOfRangeException>(() => PeakSelection.SuppressNonMaxima(new float[4], 2, 2, 4, new float[4]));
        var shared = new float[4];
        Assert.Throws<ArgumentException>(() => PeakSelection.SuppressNonMaxima(shared, 2, 2, 3, shared));
    }

    [Fact]
    public void TopKOrdersByValueThenPositionAndGathersTags()
    {
        // One joint on a 2 × 3 map, tags (value·10, −value) per pixel.
        float[] heat = [0.5f, 0, 0.9f, 0.5f, 0.2f, 0];
        var tags = heat.SelectMany(v => new[] { v * 10, -v }).ToArray();
        var maps = new AggregatedMaps(1, 2, 3, 2, heat, tags);
        var top = PeakSelection.TopK(heat, maps, 0, 3);
        Assert.Equal([0.9f, 0.5f, 0.5f], top.Values);
        Assert.Equal([2, 0, 0], top.X);
        Assert.Equal([0, 0, 1], top.Y);
        Assert.Equal([9f, -0.9f], top.Tags[0]);
        Assert.Equal(6, PeakSelection.TopK(heat, maps, 0, 30).Count); // never more than the map holds
    }

    [Fact]
    public void GroupingMatchesByTagAndStartsPeopleForFarTags()
    {
        // Three joints, visited 0, 1, 2. Joint 0: two people with tags 1 and 5. Joint 1: tags 5.2 and 1.3 (swapped
        // order), and a weak 0.05 candidate below the threshold. Joint 2: tag 3 is 2 away from both: a new person.
        var candidates = new[]
        {
            Candidates((0, 0, 0.9f, 1f), (4, 0, 0.8f, 5f)),
            Candidates((4, 1, 0.7f, 5.2f), (0, 1, 0.6f, 1.3f), (2, 2, 0.05f, 1f)),
            Candidates((2, 3, 0.5f, 3f)),
        };
        var people = TagGrouping.Group(candidates, [0, 1, 2], new ParserOptions());
        Assert.Equal(3, people.Count);
        Assert.Equal([new Keypoint(0, 0, 0.9f), new Keypoint(0, 1, 0.6f), default], people[0]);
        Assert.Equal([new Keypoint(4, 0, 0.8f), new Keypoint(4, 1, 0.7f), default], people[1]);
        Assert.Equal([default, default, new Keypoint(2, 3, 0.5f)], people[2]);
    }

    [Fact]
    public void GroupingComparesWithThePersonsMeanTag()
    {
        // Person tags 0 then 0.9: mean 0.45, so a joint-2 tag of 1.4 (0.95 from the mean) still joins, although it is
        // 1.4 from the first tag. The tag 10 (cost 1000 − 0.95 against 100 − 0.9) gets the padding column: new person.
        var candidates = new[]
        {
            Candidates((0, 0, 0.9f, 0f)),
            Candidates((1, 0, 0.9f, 0.9f)),
            Candidates((2, 0, 0.9f, 1.4f), (3, 0, 0.95f, 10f)),
        };
        var people = TagGrouping.Group(candidates, [0, 1, 2], new ParserOptions());
        Assert.Equal(2, people.Count);
        Assert.Equal(new Keypoint(2, 0, 0.9f), people[0][2]);
        Assert.Equal(new Keypoint(3, 0, 0.95f), people[1][2]);
    }

    [Fact]
    public void GroupingReplicatesTheReferencesKeyCollision()
    {
        // People keyed 0 and 3; with a negative tag threshold joint 1's candidate (tag 3) cannot join anyone and
        // starts a person keyed 3, which, as in the reference's dictionary, is the existing second person.
        var candidates = new[]
        {
            Candidates((0, 0, 0.9f, 0f), (5, 5, 0.9f, 3f)),
            Candidates((7, 7, 0.8f, 3f)),
        };
        var options = new ParserOptions { TagThreshold = -1 };
        var people = TagGrouping.Group(candidates, [0, 1], options);
        Assert.Equal(2, people.Count);
        Assert.Equal(new Keypoint(7, 7, 0.8f), people[1][1]);
    }

    [Fact]
    public void AdjustMovesAQuarterTowardTheLargerNeighbourAndClampsAtEdges()
    {
        // One joint, 3 × 3 map. At (1, 1): right 0.4 > left 0.2 → +0.25; below 0.1 < above 0.3 → −0.25.
        float[] heat = [0, 0.3f, 0, 0.2f, 1, 0.4f, 0, 0.1f, 0];
        var maps = new AggregatedMaps(1, 3, 3, 1, heat, new float[9]);
        Keypoint[] person = [new(1, 1, 1)];
        KeypointRefinement.Adjust(person, maps);
        Assert.Equal(new Keypoint(1.75f, 1.25f, 1), person[0]);

        // At (0, 0) the left and upper neighbours clamp to the pixel itself (0): right 0.3 > 0 → +0.25,
        // below 0.2 > 0 → +0.25. Missing joints (score 0) stay put.
        Keypoint[] corner = [new(0, 0, 0.5f)];
        KeypointRefinement.Adjust(corner, maps);
        Assert.Equal(new Keypoint(0.75f, 0.75f, 0.5f), corner[0]);
        Keypoint[] missing = [default];
        KeypointRefinement.Adjust(missing, maps);
        Assert.Equal(default, missing[0]);
    }

    [Fact]
    public void ScoreIsTheMeanOverAllJoints()
    {
        Assert.Equal(0.25f, KeypointRefinement.Score([new(0, 0, 0.5f), default, new(1, 1, 0.5f), default]));
    }

    [Fact]
    public void RefineFillsMissingJointsFromTheTagPenalisedMaximum()
    {
        // Two joints on a 1 × 4 map. Joint 0 found at x=0 (adjusted to 0.75) with tag 0. Joint 1 is missing: its
        // heatmap is highest (0.9) at x=3, but that pixel's tag 2 rounds to a penalty of 2; x=1 (0.6, tag 0.4 → 0)
        // wins. Quarter offset at x=1: right 0.5 < left 0.55 → −0.25, vertical tie → −0.25.
        float[] heat = [1, 0, 0, 0, 0.55f, 0.6f, 0.5f, 0.9f];
        float[] tags = [0, 0, 0, 0, 0, 0.4f, 0, 2];
        var maps = new AggregatedMaps(2, 1, 4, 1, heat, tags);
        Keypoint[] person = [new(0.75f, 0.25f, 1), default];
        KeypointRefinement.Refine(person, maps);
        Assert.Equal(new Keypoint(1.25f, 0.25f, 0.6f), person[1]);
        Assert.Equal(new Keypoint(0.75f, 0.25f, 1), person[0]); // found joints are kept
    }

    [Fact]
    public void ParserRunsTheStepsInOrder()
    {
        // Two joints on a 1 × 8 map, all tags 0. Joint 0 peaks at 0.8 (its 0.1 neighbour is suppressed); joint 1's
        // 0.08 is below the detection threshold, so the grouping leaves it out and refinement fills it in — after
        // the score (0.8 + 0) / 2 was taken.
        float[] heat = [0, 0.8f, 0.1f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.05f, 0.08f, 0];
        var maps = new AggregatedMaps(2, 1, 8, 1, heat, new float[16]);
        var people = new HeatmapParser().Parse(maps, [0, 1]);
        var person = Assert.Single(people);
        Assert.Equal(0.4f, person.Score);
        Assert.Equal(new Keypoint(1.75f, 0.25f, 0.8f), person.Keypoints[0]);
        Assert.Equal(new Keypoint(6.25f, 0.25f, 0.08f), person.Keypoints[1]);
    }

    private static JointCandidates Candidates(params (int X, int Y, float Value, float Tag)[] entries) =>
        new([.. entries.Select(e => e.X)], [.. entries.Select(e => e.Y)], [.. entries.Select(e => e.Value)], [.. entries.Select(e => new[] { e.Tag })]);
}
