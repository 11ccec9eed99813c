using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.TopDown;

public class HeatmapDecoderTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(HeatmapDecoding.Default)]
    [InlineData(HeatmapDecoding.Dark)]
    public void DecodesLikeMmpose(HeatmapDecoding decoding)
    {
        const int joints = CocoKeypoints.Count;
        var keypoints = new Keypoint[joints];
        double worstPosition = 0, worstScore = 0;
        foreach (var golden in TopDownCase.Cases)
        {
            HeatmapDecoder.Decode(golden.Array("heatmaps_flip_averaged").Data, joints, TopDownCase.HeatmapHeight, TopDownCase.HeatmapWidth, decoding, keypoints);
            HeatmapDecoder.ToImage(keypoints, golden.CenterScale, TopDownCase.HeatmapWidth, TopDownCase.HeatmapHeight);
            var expected = golden.Decoded(decoding);
            for (int j = 0; j < joints; j++)
            {
                worstPosition = Math.Max(worstPosition, Math.Max(Math.Abs(keypoints[j].X - expected[j].X), Math.Abs(keypoints[j].Y - expected[j].Y)));
                worstScore = Math.Max(worstScore, Math.Abs(keypoints[j].Score - expected[j].Score));
            }
        }
        output.WriteLine($"{decoding} decoding, 12 cases: keypoints max abs diff {worstPosition:E2} px, scores {worstScore:E2}");
        Assert.True(worstPosition <= 1e-3, $"keypoints max abs diff {worstPosition:E2} px");
        Assert.True(worstScore <= 1e-5, $"scores max abs diff {worstScore:E2}");
    }

    [Fact]
    public void QuarterOffsetMovesTowardsTheHigherNeighbourOnlyStrictlyInside()
    {
        // 5 wide, 4 high: the peak at (2, 2) has a higher right and a higher upper neighbour.
        var map = new float[4 * 5];
        map[2 * 5 + 2] = 1f;
        map[2 * 5 + 3] = 0.5f;
        map[2 * 5 + 1] = 0.25f;
        map[1 * 5 + 2] = 0.5f;
        Assert.Equal(new Keypoint(2.25f, 1.75f, 1f), DecodeOne(map, 4, 5, HeatmapDecoding.Default));

        // Equal neighbours: no offset on that axis.
        map[1 * 5 + 2] = 0f;
        Assert.Equal(new Keypoint(2.25f, 2f, 1f), DecodeOne(map, 4, 5, HeatmapDecoding.Default));

        // y = 1 is not strictly inside (1 < y is required): neither axis moves.
        var edge = new float[4 * 5];
        edge[1 * 5 + 2] = 1f;
        edge[1 * 5 + 3] = 0.5f;
        Assert.Equal(new Keypoint(2f, 1f, 1f), DecodeOne(edge, 4, 5, HeatmapDecoding.Default));
    }

    [Fact]
    public void TakesTheFirstMaximumAndMarksNonPositiveMapsMissing()
    {
        float[] twoPeaks = [0, 3, 0, 3];
        Assert.Equal(new Keypoint(1, 0, 3), DecodeOne(twoPeaks, 2, 2, HeatmapDecoding.Default));
        float[] negative = [-1, -0.5f, -2, -3];
        Assert.Equal(new Keypoint(-1, -1, -0.5f), DecodeOne(negative, 2, 2, HeatmapDecoding.Dark));
        Assert.Equal(new Keypoint(-1, -1, 0), DecodeOne(new float[4], 2, 2, HeatmapDecoding.Default));
    }

    [Fact]
    public void DarkFindsTheCentreOfAGaussianBetweenPixels()
    {
        // A σ = 2 Gaussian centred at (20.3, 30.6) on a 48×64 map: blurring keeps it Gaussian (σ² = 4 + 4), so its log
        // is a quadratic and one Newton step lands on the centre; the quarter offset only gets within a quarter pixel.
        const int height = 64, width = 48;
        var map = new float[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                map[y * width + x] = MathF.Exp(-((x - 20.3f) * (x - 20.3f) + (y - 30.6f) * (y - 30.6f)) / 8f);
        var dark = DecodeOne(map, height, width, HeatmapDecoding.Dark);
        Assert.InRange(dark.X, 20.29f, 20.31f);
        Assert.InRange(dark.Y, 30.59f, 30.61f);
        Assert.Equal(new Keypoint(20.25f, 30.75f, map[31 * width + 20]), DecodeOne(map, height, width, HeatmapDecoding.Default));
    }

    /// <summary>The vectorised blur equals, bit for bit, the plain loops it replaced (zero padding, OpenCV's order) on
    /// maps narrower than a vector, narrower than the kernel, and of the usual sizes.</summary>
    [Theory]
    [InlineData(64, 48, 11)]
    [InlineData(96, 72, 11)]
    [InlineData(7, 5, 11)]
    [InlineData(13, 19, 3)]
    [InlineData(1, 1, 11)]
    [InlineData(32, 24, 5)]
    public void DarkBlurEqualsThePlainLoops(int height, int width, int kernelSize)
    {
        var random = new Random(height * 1000 + width);
        var map = new float[height * width];
        for (int i = 0; i < map.Length; i++) map[i] = (float)random.NextDouble();
        var kernel = new float[kernelSize];
        DarkRefinement.GaussianKernel(kernelSize, kernel);
        var blurred = new float[map.Length];
        DarkRefinement.Blur(map, height, width, kernel, blurred, new float[map.Length]);

        int r = kernelSize / 2;
        float At(float[] m, int x, int y) => (uint)x < (uint)width && (uint)y < (uint)height ? m[y * width + x] : 0f;
        var rows = new float[map.Length];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                float s = kernel[0] * At(map, x - r, y);
                for (int k = 1; k < kernelSize; k++) s += kernel[k] * At(map, x - r + k, y);
                rows[y * width + x] = s;
            }
        var expected = new float[map.Length];
        float blurredMax = float.NegativeInfinity;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                float s = kernel[r] * rows[y * width + x];
                for (int k = 1; k <= r; k++) s += kernel[r + k] * (At(rows, x, y + k) + At(rows, x, y - k));
                expected[y * width + x] = s;
                blurredMax = MathF.Max(blurredMax, s);
            }
        float rescale = map.Max() / blurredMax;
        for (int i = 0; i < expected.Length; i++) expected[i] *= rescale;
        Assert.Equal(expected, blurred);
    }

    [Fact]
    public void OpenCvGaussianKernelOfSize11HasSigma2()
    {
        Span<float> kernel = stackalloc float[11];
        DarkRefinement.GaussianKernel(11, kernel);
        double sum = 0;
        foreach (float k in kernel) sum += k;
        Assert.Equal(1, sum, 1e-6);
        Assert.Equal(Math.Exp(-0.5 * 25 / 4) / Math.Exp(0), kernel[0] / (double)kernel[5], 1e-6);
    }

    [Fact]
    public void MapsHeatmapPixelsToTheImage()
    {
        // A 48-wide heatmap of a box 192 px wide centred at x = 100: heatmap x = 0 is image x = 4, each step is 4 px.
        Keypoint[] keypoints = [new(0, 0, 0.5f), new(24, 32, 1f)];
        HeatmapDecoder.ToImage(keypoints, new CenterScale(100, 200, 0.96f, 1.28f), 48, 64);
        Assert.Equal([new Keypoint(4, 72, 0.5f), new Keypoint(100, 200, 1f)], keypoints);
    }

    [Fact]
    public void RefusesWrongSizes()
    {
        Assert.Throws<ArgumentException>(() => HeatmapDecoder.Decode(new float[10], 2, 2, 2, HeatmapDecoding.Default, new Keypoint[2]));
        Assert.Throws<ArgumentException>(() => HeatmapDecoder.Decode(new float[8], 2, 2, 2, HeatmapDecoding.Default, new Keypoint[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapDecoder.Decode(new float[8], 2, 2, 2, (HeatmapDecoding)7, new Keypoint[2]));
    }

    private static Keypoint DecodeOne(float[] map, int height, int width, HeatmapDecoding decoding)
    {
        var keypoints = new Keypoint[1];
        HeatmapDecoder.Decode(map, 1, height, width, decoding, keypoints);
        return keypoints[0];
    }
}
