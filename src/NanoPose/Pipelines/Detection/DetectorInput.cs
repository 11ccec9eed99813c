using NanoPose.Pipelines.TopDown;

namespace NanoPose.Pipelines.Detection;

/// <summary>
/// The detector's input (MODELS.md G.8): the image resized to the network's size ignoring its aspect ratio, bilinear
/// with pixel centres aligned (<c>cv2.resize</c> INTER_LINEAR, which the golden inputs use; PaddleDetection itself
/// resizes bicubic, a few pixels' difference in boxes), rounded to 8 bits, then ImageNet-normalised into NCHW.
/// </summary>
internal static class DetectorInput
{
    /// <summary>Resizes <paramref name="image"/> (RGB, or BGR with <paramref name="bgr"/>) into <paramref name="resized"/>
    /// (tightly packed RGB, <paramref name="width"/>×<paramref name="height"/>) and normalises it into <paramref name="nchw"/>.</summary>
    public static void Prepare(RgbImage image, bool bgr, int width, int height, Span<byte> resized, Span<float> nchw)
    {
        ResizeBilinear(image, bgr, width, height, resized);
        InputNormalization.ImageNet.ToNchw(resized[..(width * height * 3)], width, height, nchw);
    }

    /// <summary>Bilinear resize with half-pixel centres and edges clamped, as <c>cv2.resize</c> INTER_LINEAR (float
    /// weights here, OpenCV's 11-bit fixed point there: values may differ by one level).</summary>
    public static void ResizeBilinear(RgbImage image, bool bgr, int width, int height, Span<byte> resized)
    {
        if (resized.Length < width * height * 3) throw new ArgumentException($"room for {width}×{height} RGB pixels needed", nameof(resized));
        var (x0, x1, wx) = Axis(image.Width, width);
        var (y0, y1, wy) = Axis(image.Height, height);
        int red = bgr ? 2 : 0, blue = bgr ? 0 : 2;
        var pixels = image.Pixels;
        for (int y = 0; y < height; y++)
        {
            var top = pixels.Slice(y0[y] * image.Stride);
            var bottom = pixels.Slice(y1[y] * image.Stride);
            float fy = wy[y];
            var row = resized.Slice(y * width * 3, width * 3);
            for (int x = 0; x < width; x++)
            {
                int a = 3 * x0[x], b = 3 * x1[x];
                float fx = wx[x];
                row[3 * x] = Mix(top, bottom, a + red, b + red, fx, fy);
                row[3 * x + 1] = Mix(top, bottom, a + 1, b + 1, fx, fy);
                row[3 * x + 2] = Mix(top, bottom, a + blue, b + blue, fx, fy);
            }
        }
    }

    private static byte Mix(ReadOnlySpan<byte> top, ReadOnlySpan<byte> bottom, int a, int b, float fx, float fy)
    {
        float upper = top[a] + (top[b] - top[a]) * fx;
        float lower = bottom[a] + (bottom[b] - bottom[a]) * fx;
        float value = upper + (lower - upper) * fy;
        return (byte)Math.Clamp((int)MathF.Round(value), 0, 255);
    }

    /// <summary>For each output position: the two source positions and the weight of the second.</summary>
    private static (int[] First, int[] Second, float[] Weight) Axis(int source, int target)
    {
        var (first, second, weight) = (new int[target], new int[target], new float[target]);
        double scale = (double)source / target;
        for (int i = 0; i < target; i++)
        {
            double s = Math.Max(0, (i + 0.5) * scale - 0.5);
            int f = Math.Min((int)s, source - 1);
            first[i] = f;
            second[i] = Math.Min(f + 1, source - 1);
            weight[i] = (float)(s - f);
        }
        return (first, second, weight);
    }
}
