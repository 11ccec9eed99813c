using NanoPose.Pipelines.Detection;
using NanoPose.TestSupport;

namespace NanoPose.Tests.Pipelines.Detection;

public class PicoDetDecoderTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(DetectorCase.NamesWithTaps), MemberType = typeof(DetectorCase))]
    public void DecodesTheGoldenHeadOutputsLikeTheGraph(string name)
    {
        var golden = DetectorCase.Get(name);
        int n = PicoDetDecoder.AnchorCount(golden.InputSize, golden.InputSize);
        Assert.Equal(golden.Anchors, n);
        var boxes = new float[4 * n];
        var scores = new float[n];
        var levelStart = new int[PicoDetDecoder.Levels + 1];
        for (int level = 0; level < PicoDetDecoder.Levels; level++)
        {
            int stride = PicoDetDecoder.Stride(level);
            var cls = golden.Tap($"cls_logit_s{stride}");
            var align = golden.Tap($"align_logit_s{stride}");
            var reg = golden.Tap($"reg_s{stride}");
            int h = cls.Shape[2], w = cls.Shape[3];
            Assert.Equal((h, w), PicoDetDecoder.LevelSize(golden.InputSize, golden.InputSize, level));
            Assert.Equal([1, PicoDetDecoder.RegressionChannels, h, w], reg.Shape);
            int start = levelStart[level];
            // One-channel maps are the same in NCHW and NHWC; the regression logits need the transpose.
            levelStart[level + 1] = start + PicoDetDecoder.DecodeLevel(cls.Data, align.Data, ToNhwc(reg.Data, PicoDetDecoder.RegressionChannels, h, w),
                h, w, stride, boxes.AsSpan(4 * start), scores.AsSpan(start));
        }
        Assert.Equal(n, levelStart[^1]);

        var expectedBoxes = golden.Array("boxes");
        var expectedScores = golden.Array("scores");
        Assert.Equal([1, n, 4], expectedBoxes.Shape);
        Assert.Equal([1, 1, n], expectedScores.Shape);
        var (boxDiff, boxAt) = MaxAbsDiff(boxes, expectedBoxes.Data);
        var (scoreDiff, scoreAt) = MaxAbsDiff(scores, expectedScores.Data);

        double tapDiff = 0;
        for (int level = 0; level < PicoDetDecoder.Levels; level++)
        {
            var tap = golden.Tap($"score_s{PicoDetDecoder.Stride(level)}");
            tapDiff = Math.Max(tapDiff, MaxAbsDiff(scores.AsSpan(levelStart[level], levelStart[level + 1] - levelStart[level]), tap.Data).Max);
        }

        output.WriteLine($"{name}: {n} anchors; boxes max abs diff {boxDiff:E2} px (anchor {boxAt / 4}, coordinate {boxAt % 4}), " +
            $"scores {scoreDiff:E2} (anchor {scoreAt}), score taps {tapDiff:E2}");
        Assert.True(boxDiff <= 2e-3, $"boxes max abs diff {boxDiff:E2} px at anchor {boxAt / 4}");
        Assert.True(scoreDiff <= 1e-4, $"scores max abs diff {scoreDiff:E2} at anchor {scoreAt}");
        Assert.True(tapDiff <= 1e-4, $"score taps max abs diff {tapDiff:E2}");
    }

    [Fact]
    public void AnchorCountFollowsTheLevelSizes()
    {
        // G.6 and the table of G.7.
        Assert.Equal(765, PicoDetDecoder.AnchorCount(192, 192));
        Assert.Equal(2125, PicoDetDecoder.AnchorCount(320, 320));
        Assert.Equal(1726, PicoDetDecoder.AnchorCount(288, 288));
        Assert.Equal(2040, PicoDetDecoder.AnchorCount(256, 384));
        Assert.Equal(2040, PicoDetDecoder.AnchorCount(384, 256));
        Assert.Equal((5, 5), PicoDetDecoder.LevelSize(288, 288, 3));
        Assert.Equal((36, 36), PicoDetDecoder.LevelSize(288, 288, 0));
        Assert.Equal((8, 12), PicoDetDecoder.LevelSize(64, 96, 0));
        Assert.Equal((4, 6), PicoDetDecoder.LevelSize(64, 96, 1));
        Assert.Throws<ArgumentException>(() => PicoDetDecoder.AnchorCount(300, 320));
        Assert.Throws<ArgumentOutOfRangeException>(() => PicoDetDecoder.Stride(4));
    }

    [Fact]
    public void DecodesAHandComputedLevelInNhwc()
    {
        // A 1×2 level at stride 16: centres (8, 8) and (24, 8). A logit of 100 against zeros is a one-hot bin in float
        // (e^−100 vanishes next to 1); equal logits give the mean bin 3.5.
        const int stride = 16, bins = PicoDetDecoder.Bins;
        var reg = new float[2 * PicoDetDecoder.RegressionChannels];
        reg[0 * bins + 2] = 100;                                 // anchor 0 left: bin 2 → 32 px
        reg[1 * bins + 0] = 100;                                 // anchor 0 top: bin 0 → 0 px
        reg[2 * bins + 7] = 100;                                 // anchor 0 right: bin 7 → 112 px
        // anchor 0 bottom: all zero → 3.5 bins → 56 px
        var second = reg.AsSpan(PicoDetDecoder.RegressionChannels);
        second[..bins].Fill(-1000);                                // anchor 1 left: equal logits far from 0, still 3.5 → 56 px
        second[1 * bins + 1] = 1e30f;                              // anchor 1 top: bin 1 → 16 px, no overflow
        second[2 * bins + 3] = 100;                                // anchor 1 right: bin 3 → 48 px
        second[3 * bins + 5] = 100;                                // anchor 1 bottom: bin 5 → 80 px
        float[] cls = [0, 100], align = [0, 0];
        var boxes = new float[8];
        var scores = new float[2];
        Assert.Equal(2, PicoDetDecoder.DecodeLevel(cls, align, reg, 1, 2, stride, boxes, scores));
        Assert.Equal([8 - 32, 8 - 0, 8 + 112, 8 + 56, 24 - 56, 8 - 16, 24 + 48, 8 + 80], boxes);
        Assert.Equal(0.5f, scores[0], 1e-6f);
        Assert.Equal(MathF.Sqrt(0.5f), scores[1], 1e-6f);
    }

    /// <summary>Without a box threshold every anchor gets its box, a NaN score's too; with one, every score is written
    /// as without it, the boxes of anchors scoring above it are the same floats, and the others' boxes are left
    /// untouched (NaN stays NaN here).</summary>
    [Fact]
    public void BoxThresholdDecodesOnlyTheBoxesAboveIt()
    {
        const int h = 20, w = 20;
        var random = new Random(11);
        var (cls, align, reg) = (new float[h * w], new float[h * w], new float[h * w * PicoDetDecoder.RegressionChannels]);
        foreach (var array in new[] { cls, align, reg })
            for (int i = 0; i < array.Length; i++) array[i] = (float)(random.NextDouble() * 12 - 8);
        cls[5] = float.NaN;   // a NaN score: every box without a threshold, no box with one
        var (allBoxes, allScores) = (new float[4 * h * w], new float[h * w]);
        allBoxes.AsSpan().Fill(float.NaN);
        PicoDetDecoder.DecodeLevel(cls, align, reg, h, w, 16, allBoxes, allScores);
        Assert.All(allBoxes, v => Assert.True(float.IsFinite(v), "without a threshold, every anchor gets its box"));
        const float threshold = 0.1f;
        var (boxes, scores) = (new float[4 * h * w], new float[h * w]);
        boxes.AsSpan().Fill(float.NaN);
        PicoDetDecoder.DecodeLevel(cls, align, reg, h, w, 16, boxes, scores, boxesAbove: threshold);
        Assert.Equal(allScores, scores);   // float.Equals: NaN equals NaN
        int above = 0;
        for (int a = 0; a < h * w; a++)
        {
            var (box, expected) = (boxes.AsSpan(4 * a, 4).ToArray(), allBoxes.AsSpan(4 * a, 4).ToArray());
            if (scores[a] > threshold) { above++; Assert.Equal(expected, box); }
            else Assert.All(box, v => Assert.True(float.IsNaN(v), $"anchor {a} scores {scores[a]}, below the threshold, yet got a box"));
        }
        Assert.InRange(above, 1, h * w - 1);   // the case has both kinds of anchor
    }

    [Fact]
    public void RefusesMismatchedSpans()
    {
        var reg = new float[4 * 32];
        var boxes = new float[16];
        var scores = new float[4];
        Assert.Throws<ArgumentException>(() => PicoDetDecoder.DecodeLevel(new float[3], new float[4], reg, 2, 2, 8, boxes, scores));
        Assert.Throws<ArgumentException>(() => PicoDetDecoder.DecodeLevel(new float[4], new float[4], new float[4 * 31], 2, 2, 8, boxes, scores));
        Assert.Throws<ArgumentException>(() => PicoDetDecoder.DecodeLevel(new float[4], new float[4], reg, 2, 2, 8, new float[15], scores));
        Assert.Throws<ArgumentException>(() => PicoDetDecoder.DecodeLevel(new float[4], new float[4], reg, 2, 2, 8, boxes, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PicoDetDecoder.DecodeLevel(new float[4], new float[4], reg, 2, 2, 0, boxes, scores));
    }

    [Fact]
    public void DecodingAllocatesNothing()
    {
        const int h = 40, w = 40;
        var random = new Random(7);
        var cls = new float[h * w];
        var align = new float[h * w];
        var reg = new float[h * w * 32];
        foreach (var array in new[] { cls, align, reg })
            for (int i = 0; i < array.Length; i++) array[i] = (float)(random.NextDouble() * 8 - 4);
        var boxes = new float[4 * h * w];
        var scores = new float[h * w];
        void Decode() => PicoDetDecoder.DecodeLevel(cls, align, reg, h, w, 8, boxes, scores);
        Decode();
        Assert.Equal(0, SteadyStateAllocation.MinimumBytes(Decode));
    }

    private static float[] ToNhwc(float[] nchw, int channels, int height, int width)
    {
        var nhwc = new float[nchw.Length];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    nhwc[(y * width + x) * channels + c] = nchw[(c * height + y) * width + x];
        return nhwc;
    }

    private static (double Max, int At) MaxAbsDiff(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        int at = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            // A NaN must fail, not hide behind a comparison that is false.
            if (!(d <= max)) (max, at) = (double.IsNaN(d) ? double.PositiveInfinity : d, i);
        }
        return (max, at);
    }
}
