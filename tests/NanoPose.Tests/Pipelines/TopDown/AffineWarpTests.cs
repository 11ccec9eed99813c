using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.TopDown;

public class AffineWarpTests(ITestOutputHelper output)
{
    /// <summary>One 8-bit step after normalisation: 1/255 over the smallest std.</summary>
    private const double OneStep = 1 / 255.0 / 0.225;

    [Fact]
    public void CropsAndInputsMatchMmposeWithinOneStep()
    {
        int worstCrop = 0, differing = 0, total = 0;
        double worstInput = 0, worstNormalised = 0;
        var crop = new byte[TopDownCase.InputWidth * TopDownCase.InputHeight * 3];
        var input = new float[crop.Length];
        foreach (var golden in TopDownCase.Cases)
        {
            var (pixels, width, height) = golden.Image();
            var m = AffineTransform.FromCenterScale(golden.CenterScale, TopDownCase.InputWidth, TopDownCase.InputHeight);
            AffineWarp.WarpBilinear(new RgbImage(pixels, width, height), m, crop, TopDownCase.InputWidth, TopDownCase.InputHeight);
            var expectedCrop = golden.Array("crop_rgb");
            Assert.Equal([TopDownCase.InputHeight, TopDownCase.InputWidth, 3], expectedCrop.Shape);
            for (int i = 0; i < crop.Length; i++)
            {
                int difference = Math.Abs(crop[i] - (int)expectedCrop.Data[i]);
                worstCrop = Math.Max(worstCrop, difference);
                if (difference != 0) differing++;
            }
            total += crop.Length;

            var expectedInput = golden.Array("input").Data;
            InputNormalization.ImageNet.ToNchw(crop, TopDownCase.InputWidth, TopDownCase.InputHeight, input);
            worstInput = Math.Max(worstInput, MaxAbsDifference(expectedInput, input));
            // The golden crop normalised here gives the golden input bit for bit.
            byte[] goldenCrop = [.. expectedCrop.Data.Select(v => (byte)v)];
            InputNormalization.ImageNet.ToNchw(goldenCrop, TopDownCase.InputWidth, TopDownCase.InputHeight, input);
            worstNormalised = Math.Max(worstNormalised, MaxAbsDifference(expectedInput, input));
        }
        output.WriteLine($"crops: max |diff| {worstCrop} (uint8), {differing} of {total} values differ; " +
                         $"input tensor max abs diff {worstInput:E2}; golden crop normalised: {worstNormalised:E2}");
        Assert.True(worstCrop <= 1, $"crop differs by {worstCrop}");
        Assert.True(worstInput <= OneStep * 1.0001, $"input max abs diff {worstInput:E2}");
        Assert.True(worstNormalised == 0, $"normalised golden crop max abs diff {worstNormalised:E2}");
    }

    [Fact]
    public void InterpolatesBilinearlyWithZeroOutsideTheImage()
    {
        // A 2×1 image (R values 0 and 200) sampled by a crop shifted by half a pixel: the crop's x = 0 reads image
        // x = 0.5 (half of each), x = 1 reads image x = 1.5 (half of 200 and half of the zero border).
        byte[] pixels = [0, 10, 20, 200, 100, 50];
        var crop = new byte[2 * 1 * 3];
        AffineWarp.WarpBilinear(new RgbImage(pixels, 2, 1), new AffineTransform(1, 0, -0.5, 0, 1, 0), crop, 2, 1);
        Assert.Equal([100, 55, 35, 100, 50, 25], crop);
    }

    [Fact]
    public void RoundsLikeOpenCvFixedPoint()
    {
        // Image x = 1/3 rounds to 11/32 of a pixel: 255·21/32 = 167.3 → 167 (a float bilinear gives 170).
        byte[] pixels = [255, 255, 255, 0, 0, 0];
        var crop = new byte[3];
        AffineWarp.WarpBilinear(new RgbImage(pixels, 2, 1), new AffineTransform(1, 0, -1 / 3.0, 0, 1, 0), crop, 1, 1);
        Assert.Equal([167, 167, 167], crop);
    }

    [Fact]
    public void ReadsRowsByStride()
    {
        // Two rows of one pixel with 2 bytes of row padding; the identity map copies them.
        byte[] pixels = [1, 2, 3, 99, 99, 4, 5, 6];
        var crop = new byte[6];
        AffineWarp.WarpBilinear(new RgbImage(pixels, 1, 2, stride: 5), new AffineTransform(1, 0, 0, 0, 1, 0), crop, 1, 2);
        Assert.Equal([1, 2, 3, 4, 5, 6], crop);
    }

    /// <summary>
    /// The warp, whatever path a pixel takes (vector blocks inside the image, single pixels at its edges), against
    /// OpenCV's fixed-point formula written out per pixel: random images, strides and transforms (scaled, rotated,
    /// mirrored, crops partly or wholly outside), byte for byte.
    /// </summary>
    [Fact]
    public void EveryPixelIsOpenCvsFixedPointBlend()
    {
        var random = new Random(7);
        int cases = 0;
        for (int trial = 0; trial < 60; trial++)
        {
            int width = random.Next(1, 90), height = random.Next(1, 70), stride = width * 3 + random.Next(0, 5);
            var pixels = new byte[(height - 1) * stride + width * 3];
            random.NextBytes(pixels);
            var image = new RgbImage(pixels, width, height, stride);
            double angle = random.NextDouble() * 2 * Math.PI, scale = 0.2 + random.NextDouble() * 3;
            double flip = random.Next(2) == 0 ? 1 : -1;
            var transform = new AffineTransform(scale * Math.Cos(angle) * flip, -scale * Math.Sin(angle), random.NextDouble() * 80 - 40,
                scale * Math.Sin(angle) * flip, scale * Math.Cos(angle), random.NextDouble() * 80 - 40);
            if (trial % 3 == 0) transform = new AffineTransform(scale, 0, random.NextDouble() * 20 - 10, 0, scale, random.NextDouble() * 20 - 10);
            int cropWidth = random.Next(1, 70), cropHeight = random.Next(1, 50);
            var crop = new byte[cropWidth * cropHeight * 3];
            AffineWarp.WarpBilinear(image, transform, crop, cropWidth, cropHeight);
            Assert.Equal(ReferenceWarp(pixels, width, height, stride, transform.Invert(), cropWidth, cropHeight), crop);
            cases++;
        }
        output.WriteLine($"{cases} random warps equal the per-pixel formula");
    }

    /// <summary>cv2.warpAffine INTER_LINEAR on 8-bit RGB, one pixel and one channel at a time, zero outside the image.</summary>
    private static byte[] ReferenceWarp(byte[] pixels, int width, int height, int stride, AffineTransform m, int cropWidth, int cropHeight)
    {
        static long Saturate(double v) => (long)Math.Clamp(Math.Round(v, MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        int At(int x, int y, int c) => (uint)x < (uint)width && (uint)y < (uint)height ? pixels[y * stride + x * 3 + c] : 0;
        var crop = new byte[cropWidth * cropHeight * 3];
        for (int y = 0; y < cropHeight; y++)
            for (int x = 0; x < cropWidth; x++)
            {
                long fixedX = (Saturate((m.M01 * y + m.M02) * 1024) + 16 + Saturate(m.M00 * x * 1024)) >> 5;
                long fixedY = (Saturate((m.M11 * y + m.M12) * 1024) + 16 + Saturate(m.M10 * x * 1024)) >> 5;
                int sx = (int)Math.Clamp(fixedX >> 5, short.MinValue, short.MaxValue), sy = (int)Math.Clamp(fixedY >> 5, short.MinValue, short.MaxValue);
                int fx = (int)(fixedX & 31), fy = (int)(fixedY & 31);
                for (int c = 0; c < 3; c++)
                {
                    int sum = (32 - fy) * (32 - fx) * 32 * At(sx, sy, c) + (32 - fy) * fx * 32 * At(sx + 1, sy, c)
                        + fy * (32 - fx) * 32 * At(sx, sy + 1, c) + fy * fx * 32 * At(sx + 1, sy + 1, c);
                    crop[(y * cropWidth + x) * 3 + c] = (byte)((sum + (1 << 14)) >> 15);
                }
            }
        return crop;
    }

    [Fact]
    public void RefusesWrongSizes()
    {
        Assert.Throws<ArgumentException>(() => new RgbImage(new byte[11], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RgbImage(new byte[12], 2, 2, stride: 5));
        Assert.Throws<ArgumentException>(() => AffineWarp.WarpBilinear(new RgbImage(new byte[12], 2, 2), new AffineTransform(1, 0, 0, 0, 1, 0), new byte[11], 2, 2));
    }

    [Fact]
    public void NormalisesByImageNetMeanAndStd()
    {
        var input = new float[3];
        InputNormalization.ImageNet.ToNchw([255, 0, 128], 1, 1, input);
        Assert.Equal([(float)((1.0 - 0.485) / 0.229), (float)(-0.456 / 0.224), (float)((128 / 255f - 0.406) / 0.225)], input);
    }

    private static double MaxAbsDifference(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs((double)expected[i] - actual[i]));
        return max;
    }
}
