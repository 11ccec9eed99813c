using NanoPose.Pipelines.Detection;
using NanoPose.TestSupport;

namespace NanoPose.Tests.Pipelines.Detection;

public class BoxNmsTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(DetectorCase.Names), MemberType = typeof(DetectorCase))]
    public void MatchesTheGoldenDetections(string name)
    {
        var golden = DetectorCase.Get(name);
        var boxes = golden.Array("boxes").Data;
        var scores = golden.Array("scores").Data;
        // Input pixels → image pixels, x·W/S and y·H/S (G.8 point 4).
        double sx = (double)golden.ImageWidth / golden.InputSize, sy = (double)golden.ImageHeight / golden.InputSize;
        var imageBoxes = new float[boxes.Length];
        for (int i = 0; i < boxes.Length; i++) imageBoxes[i] = (float)(boxes[i] * (i % 2 == 0 ? sx : sy));

        var kept = BoxNms.Run(imageBoxes, scores, DetectorCase.ManifestNms);
        var expected = golden.Detections();
        output.WriteLine($"{name}: {kept.Count} detections, golden {expected.Length}");
        Assert.Equal(expected.Length, kept.Count);
        double worstBox = 0;
        for (int d = 0; d < kept.Count; d++)
        {
            var (box, score) = expected[d];
            // The golden scores are the float64 run's; the stored float32 scores are those rounded.
            Assert.True(kept[d].Score == (float)score, $"detection {d}: score {kept[d].Score} against golden {score}");
            float[] actual = [kept[d].X1, kept[d].Y1, kept[d].X2, kept[d].Y2];
            for (int k = 0; k < 4; k++) worstBox = Math.Max(worstBox, Math.Abs(actual[k] - box[k]));
        }
        output.WriteLine($"{name}: boxes max abs diff {worstBox:E2} image px");
        Assert.True(worstBox <= 1e-3, $"boxes max abs diff {worstBox:E2} image px");
    }

    [Fact]
    public void DefaultsArePicoDetsConfigAndTheManifests()
    {
        Assert.Equal(new BoxNmsOptions(0.025f, 1000, 0.6f, 100), new BoxNmsOptions());
        Assert.Equal(new BoxNmsOptions(), DetectorCase.ManifestNms);
    }

    [Fact]
    public void EmptyInputGivesNothing()
    {
        Assert.Empty(BoxNms.Run([], []));
    }

    [Fact]
    public void ScoresMustBeStrictlyAboveTheThreshold()
    {
        float[] boxes = [0, 0, 10, 10, 20, 20, 30, 30, 40, 40, 50, 50];
        Assert.Empty(BoxNms.Run(boxes, [0.025f, 0.01f, -1f]));
        var kept = BoxNms.Run(boxes, [0.025f, BitIncrement(0.025f), 0f]);
        Assert.Equal([new DetectedBox(20, 20, 30, 30, BitIncrement(0.025f))], kept);
    }

    [Fact]
    public void IdenticalBoxesKeepTheBest()
    {
        float[] boxes = [5, 5, 15, 25, 5, 5, 15, 25, 5, 5, 15, 25];
        Assert.Equal([new DetectedBox(5, 5, 15, 25, 0.9f)], BoxNms.Run(boxes, [0.7f, 0.9f, 0.8f]));
    }

    [Fact]
    public void EqualScoresKeepTheEarlierBox()
    {
        // IoU 100/110 > 0.6: the stable sort puts the lower index first, whichever box it is.
        float[] a = [0, 0, 10, 10], b = [0, 0, 10, 11];
        Assert.Equal([new DetectedBox(0, 0, 10, 10, 0.5f)], BoxNms.Run([.. a, .. b], [0.5f, 0.5f]));
        Assert.Equal([new DetectedBox(0, 0, 10, 11, 0.5f)], BoxNms.Run([.. b, .. a], [0.5f, 0.5f]));
        // Apart, both stay, lower index first.
        float[] c = [20, 20, 30, 30];
        Assert.Equal([new DetectedBox(20, 20, 30, 30, 0.5f), new DetectedBox(0, 0, 10, 10, 0.5f)], BoxNms.Run([.. c, .. a], [0.5f, 0.5f]));
    }

    [Fact]
    public void SuppressesOnlyAboveTheIouThreshold()
    {
        // Against [0,0,10,10]: [0,0,10,6] has IoU 60/100 = 0.6f exactly (kept), [0,0,10,7] 0.7 (suppressed).
        Assert.Equal(0.6f, BoxNms.Iou(new DetectedBox(0, 0, 10, 6, 0), new DetectedBox(0, 0, 10, 10, 0)));
        float[] boxes = [0, 0, 10, 10, 0, 0, 10, 6, 0, 0, 10, 7];
        Assert.Equal([new DetectedBox(0, 0, 10, 10, 0.9f), new DetectedBox(0, 0, 10, 6, 0.8f)], BoxNms.Run(boxes, [0.9f, 0.8f, 0.7f]));
        // Touching edges intersect with area 0: IoU 0. No +1 on areas: [0,0,2,2] in [0,0,4,4] is 4/16.
        Assert.Equal(0f, BoxNms.Iou(new DetectedBox(10, 0, 20, 10, 0), new DetectedBox(0, 0, 10, 10, 0)));
        Assert.Equal(0.25f, BoxNms.Iou(new DetectedBox(0, 0, 2, 2, 0), new DetectedBox(0, 0, 4, 4, 0)));
    }

    [Fact]
    public void InvertedBoxesFollowPaddlesArithmetic()
    {
        var full = new DetectedBox(0, 0, 10, 10, 0);
        // Inverted in x only inside the full box: intersection (2 − 8)·10 = −60, union 0 + 100 + 60: IoU −0.375,
        // whichever box is the candidate.
        Assert.Equal(-0.375f, BoxNms.Iou(new DetectedBox(8, 0, 2, 10, 0), full));
        Assert.Equal(-0.375f, BoxNms.Iou(full, new DetectedBox(8, 0, 2, 10, 0)));
        // Inverted in both: intersection (−10)·(−10) = 100 = the full box's area, union 0: +∞, so it is suppressed.
        var inverted = new DetectedBox(10, 10, 0, 0, 0);
        Assert.Equal(float.PositiveInfinity, BoxNms.Iou(inverted, full));
        // Two identical inverted boxes count as apart (x1 of one > x2 of the other): IoU 0, both kept.
        Assert.Equal(0f, BoxNms.Iou(inverted, inverted));

        float[] boxes = [0, 0, 10, 10, 10, 10, 0, 0, 8, 0, 2, 10, 10, 10, 0, 0];
        Assert.Equal(
            [new DetectedBox(0, 0, 10, 10, 0.9f), new DetectedBox(8, 0, 2, 10, 0.7f)],
            BoxNms.Run(boxes, [0.9f, 0.8f, 0.7f, 0.1f]));
        // Without the full box the two identical inverted boxes both survive.
        Assert.Equal(
            [new DetectedBox(10, 10, 0, 0, 0.8f), new DetectedBox(8, 0, 2, 10, 0.7f), new DetectedBox(10, 10, 0, 0, 0.1f)],
            BoxNms.Run(boxes.AsSpan(4).ToArray(), [0.8f, 0.7f, 0.1f]));
    }

    [Fact]
    public void NonFiniteScoresAreDroppedOrRankedFirst()
    {
        float[] boxes = [0, 0, 1, 1, 10, 10, 11, 11, 20, 20, 21, 21, 30, 30, 31, 31];
        var kept = BoxNms.Run(boxes, [0.5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
        Assert.Equal([new DetectedBox(20, 20, 21, 21, float.PositiveInfinity), new DetectedBox(0, 0, 1, 1, 0.5f)], kept);
        Assert.Empty(BoxNms.Run(boxes, [float.NaN, float.NaN, float.NaN, float.NaN]));
    }

    [Fact]
    public void NonFiniteCoordinatesGiveNaNOrZeroIous()
    {
        var nan = new DetectedBox(float.NaN, float.NaN, float.NaN, float.NaN, 0);
        var box = new DetectedBox(0, 0, 10, 10, 0);
        Assert.True(float.IsNaN(BoxNms.Iou(box, nan)));
        Assert.True(float.IsNaN(BoxNms.Iou(nan, box)));
        // A NaN IoU is not ≤ the threshold, so it suppresses: a NaN box kept first removes everything after it…
        float[] boxes = [float.NaN, float.NaN, float.NaN, float.NaN, 0, 0, 10, 10, 100, 100, 110, 110];
        var kept = BoxNms.Run(boxes, [0.9f, 0.8f, 0.7f]);
        Assert.Single(kept);
        Assert.True(float.IsNaN(kept[0].X1));
        // …and a NaN box after a kept box is removed.
        Assert.Equal([new DetectedBox(0, 0, 10, 10, 0.9f), new DetectedBox(100, 100, 110, 110, 0.7f)], BoxNms.Run(boxes, [0.8f, 0.9f, 0.7f]));

        // An infinite box: area ∞, so a finite box inside it has IoU 100/∞ = 0; two infinite boxes give ∞/∞ = NaN.
        var everything = new DetectedBox(float.NegativeInfinity, float.NegativeInfinity, float.PositiveInfinity, float.PositiveInfinity, 0);
        Assert.Equal(0f, BoxNms.Iou(box, everything));
        Assert.True(float.IsNaN(BoxNms.Iou(everything, everything)));
        float ni = float.NegativeInfinity, pi = float.PositiveInfinity;
        float[] infinite = [ni, ni, pi, pi, 0, 0, 10, 10, ni, ni, pi, pi];
        Assert.Equal([everything with { Score = 0.9f }, box with { Score = 0.8f }], BoxNms.Run(infinite, [0.9f, 0.8f, 0.7f]));
    }

    [Fact]
    public void OnlyTheBestNmsTopKCandidatesEnterTheSuppression()
    {
        // The best 1000 are one box repeated; the 1001st best is elsewhere. Cut to 1000 before NMS, it never gets in.
        const int copies = 1000;
        var boxes = new List<float>();
        var scores = new List<float>();
        for (int i = 0; i < copies; i++)
        {
            boxes.AddRange([0, 0, 10, 10]);
            scores.Add(0.5f + i * 1e-4f);
        }
        boxes.AddRange([50, 50, 60, 60]);
        scores.Add(0.1f);
        Assert.Equal([new DetectedBox(0, 0, 10, 10, scores[copies - 1])], BoxNms.Run(boxes.ToArray(), scores.ToArray()));
        var wider = BoxNms.Run(boxes.ToArray(), scores.ToArray(), new BoxNmsOptions(NmsTopK: copies + 1));
        Assert.Equal([new DetectedBox(0, 0, 10, 10, scores[copies - 1]), new DetectedBox(50, 50, 60, 60, 0.1f)], wider);
    }

    [Fact]
    public void KeepsTheBestKeepTopKInDescendingOrder()
    {
        // 1500 disjoint boxes with shuffled distinct scores.
        const int n = 1500;
        var random = new Random(11);
        var scores = Enumerable.Range(0, n).Select(i => 0.03f + i * 1e-4f).OrderBy(_ => random.Next()).ToArray();
        var boxes = new float[4 * n];
        for (int i = 0; i < n; i++) boxes.AsSpan(4 * i, 4).SetValues(20f * i, 0, 20f * i + 10, 10);
        var best = scores.OrderByDescending(s => s).ToArray();

        Assert.Equal(best.Take(100), BoxNms.Run(boxes, scores).Select(b => b.Score));
        Assert.Equal(best.Take(1000), BoxNms.Run(boxes, scores, new BoxNmsOptions(KeepTopK: -1)).Select(b => b.Score));
        Assert.Equal(best, BoxNms.Run(boxes, scores, new BoxNmsOptions(NmsTopK: -1, KeepTopK: -1)).Select(b => b.Score));
        Assert.Equal(best.Take(7), BoxNms.Run(boxes, scores, new BoxNmsOptions(KeepTopK: 7)).Select(b => b.Score));
        Assert.Empty(BoxNms.Run(boxes, scores, new BoxNmsOptions(KeepTopK: 0)));
        // Each kept box sits where its score was.
        foreach (var kept in BoxNms.Run(boxes, scores))
            Assert.Equal(20f * Array.IndexOf(scores, kept.Score), kept.X1);
    }

    [Fact]
    public void RandomBoxesKeepTheInvariants()
    {
        // Hostile mixtures (inverted boxes, NaN, ∞) must not throw, and what comes out must be a valid greedy result.
        var random = new Random(3);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f];
        for (int round = 0; round < 200; round++)
        {
            int n = random.Next(0, 300);
            var boxes = new float[4 * n];
            var scores = new float[n];
            for (int i = 0; i < boxes.Length; i++) boxes[i] = random.Next(50) == 0 ? specials[random.Next(specials.Length)] : (float)(random.NextDouble() * 100);
            for (int i = 0; i < n; i++) scores[i] = random.Next(50) == 0 ? specials[random.Next(specials.Length)] : (float)random.NextDouble();
            var options = new BoxNmsOptions(NmsTopK: random.Next(1, 400), KeepTopK: random.Next(0, 150));
            var kept = BoxNms.Run(boxes, scores, options);
            Assert.True(kept.Count <= Math.Min(options.KeepTopK, options.NmsTopK));
            for (int a = 0; a < kept.Count; a++)
            {
                Assert.True(kept[a].Score > options.ScoreThreshold);
                if (a > 0) Assert.True(kept[a].Score <= kept[a - 1].Score);
                for (int b = 0; b < a; b++) Assert.True(BoxNms.Iou(kept[a], kept[b]) <= options.IouThreshold);
            }
        }
    }

    [Fact]
    public void RefusesBadArguments()
    {
        Assert.Throws<ArgumentException>(() => BoxNms.Run(new float[7], new float[2]));
        Assert.Throws<ArgumentException>(() => BoxNms.Run(new float[8], new float[2], new BoxNmsOptions(ScoreThreshold: float.NaN)));
        Assert.Throws<ArgumentException>(() => BoxNms.Run(new float[8], new float[2], new BoxNmsOptions(IouThreshold: float.NaN)));
    }

    [Fact]
    public void ReusingTheListAllocatesNothing()
    {
        var random = new Random(5);
        var boxes = new float[4 * 2125];
        var scores = new float[2125];
        for (int i = 0; i < scores.Length; i++)
        {
            float x = (float)random.NextDouble() * 300, y = (float)random.NextDouble() * 300;
            boxes.AsSpan(4 * i, 4).SetValues(x, y, x + 20, y + 40);
            scores[i] = (float)random.NextDouble();
        }
        var kept = new List<DetectedBox>(100);
        var options = new BoxNmsOptions();
        void Run() => BoxNms.Run(boxes, scores, options, kept);
        Run();
        Assert.Equal(0, SteadyStateAllocation.MinimumBytes(Run));
        Assert.NotEmpty(kept);
    }

    private static float BitIncrement(float x) => MathF.BitIncrement(x);
}

internal static class SpanExtensions
{
    public static void SetValues(this Span<float> span, float a, float b, float c, float d) => (span[0], span[1], span[2], span[3]) = (a, b, c, d);
}
