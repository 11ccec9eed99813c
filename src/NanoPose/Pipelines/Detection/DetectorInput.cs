using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
    /// weights here, OpenCV's 11-bit fixed point there: values may differ by one level). With AVX2, each source row is
    /// first blended across (two gathers per eight output values), then the two rows down, eight values at a time: the
    /// same float operations in the same order as <see cref="ResizeBilinearPlain"/>, so the same bytes.</summary>
    public static void ResizeBilinear(RgbImage image, bool bgr, int width, int height, Span<byte> resized)
    {
        if (!Avx2.IsSupported) { ResizeBilinearPlain(image, bgr, width, height, resized); return; }
        if (resized.Length < width * height * 3) throw new ArgumentException($"room for {width}×{height} RGB pixels needed", nameof(resized));
        var (x0, x1, wx) = Axis(image.Width, width);
        var (y0, y1, wy) = Axis(image.Height, height);
        // Per output value (3 per pixel): the byte offsets of its two source values within a row, and the weight.
        // Pooled, like the two blended rows: a detection allocates next to nothing (PipelineSoakTests bounds it).
        int values = 3 * width;
        var (first, second) = (ArrayPool<int>.Shared.Rent(values), ArrayPool<int>.Shared.Rent(values));
        var (weight, upper, lower) = (ArrayPool<float>.Shared.Rent(values), ArrayPool<float>.Shared.Rent(values), ArrayPool<float>.Shared.Rent(values));
        try
        {
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                {
                    int source = bgr ? 2 - c : c;
                    (first[3 * x + c], second[3 * x + c], weight[3 * x + c]) = (3 * x0[x] + source, 3 * x1[x] + source, wx[x]);
                }
            var pixels = image.Pixels;
            int upperRow = -1, lowerRow = -1;   // the source rows blended across into upper and lower
            for (int y = 0; y < height; y++)
            {
                // Output rows step through the source rows, so this row's upper one is often the last one's lower.
                if (y0[y] == lowerRow) (upper, lower, upperRow, lowerRow) = (lower, upper, lowerRow, upperRow);
                if (y0[y] != upperRow) BlendAcross(pixels[((upperRow = y0[y]) * image.Stride)..], image.Width, values, first, second, weight, upper);
                if (y1[y] != lowerRow) BlendAcross(pixels[((lowerRow = y1[y]) * image.Stride)..], image.Width, values, first, second, weight, lower);
                BlendDown(upper, lower, wy[y], resized.Slice(y * values, values));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(first);
            ArrayPool<int>.Shared.Return(second);
            ArrayPool<float>.Shared.Return(weight);
            ArrayPool<float>.Shared.Return(upper);
            ArrayPool<float>.Shared.Return(lower);
        }
    }

    /// <summary>across[i] = row[first[i]] + (row[second[i]] − row[first[i]]) · weight[i] for i &lt; <paramref name="values"/>.
    /// The gathers read four bytes at each offset, so they run only where the row has three bytes to spare past its
    /// last pixel (every row of an image but, when tightly packed, the last).</summary>
    private static unsafe void BlendAcross(ReadOnlySpan<byte> row, int sourceWidth, int values, int[] first, int[] second, float[] weight, float[] across)
    {
        int i = 0;
        if (row.Length >= 3 * sourceWidth + 3)
        {
            var lowByte = Vector256.Create(0xFF);
            fixed (byte* p = row)
            fixed (int* a = first, b = second)
            fixed (float* w = weight, h = across)
                for (; i <= values - 8; i += 8)
                {
                    var fa = Avx.ConvertToVector256Single(Avx2.GatherVector256((int*)p, Avx.LoadVector256(a + i), 1) & lowByte);
                    var fb = Avx.ConvertToVector256Single(Avx2.GatherVector256((int*)p, Avx.LoadVector256(b + i), 1) & lowByte);
                    Avx.Store(h + i, fa + (fb - fa) * Avx.LoadVector256(w + i));
                }
        }
        for (; i < values; i++)
            across[i] = row[first[i]] + (row[second[i]] - row[first[i]]) * weight[i];
    }

    /// <summary>output[i] = round(upper[i] + (lower[i] − upper[i]) · fy) clamped to a byte, 32 values a step.</summary>
    private static void BlendDown(float[] upper, float[] lower, float fy, Span<byte> output)
    {
        int i = 0, values = output.Length;
        var weight = Vector256.Create(fy);
        for (; i <= values - 32; i += 32)
        {
            var v0 = Level(upper, lower, i, weight);
            var v1 = Level(upper, lower, i + 8, weight);
            var v2 = Level(upper, lower, i + 16, weight);
            var v3 = Level(upper, lower, i + 24, weight);
            Vector256.Narrow(Vector256.Narrow(v0, v1), Vector256.Narrow(v2, v3)).AsByte().StoreUnsafe(ref output[i]);
        }
        for (; i < values; i++)
        {
            float value = upper[i] + (lower[i] - upper[i]) * fy;
            output[i] = (byte)Math.Clamp((int)MathF.Round(value), 0, 255);
        }
    }

    /// <summary>Eight values rounded half to even (as MathF.Round) and clamped to [0, 255], as 32-bit integers.</summary>
    private static Vector256<int> Level(float[] upper, float[] lower, int i, Vector256<float> fy)
    {
        var u = Vector256.LoadUnsafe(ref upper[i]);
        var value = u + (Vector256.LoadUnsafe(ref lower[i]) - u) * fy;
        var level = Vector256.ConvertToInt32(Vector256.Round(value));
        return Vector256.Min(Vector256.Max(level, Vector256<int>.Zero), Vector256.Create(255));
    }

    /// <summary>The plain loops: the definition, and the path without AVX2.</summary>
    internal static void ResizeBilinearPlain(RgbImage image, bool bgr, int width, int height, Span<byte> resized)
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
