using System.Buffers;
using System.Numerics;

namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// DARK as mmpose 0.x implements it (<c>_gaussian_blur</c> then <c>_taylor</c>): the heatmap is zero-padded,
/// blurred with OpenCV's Gaussian (σ from the kernel size), rescaled to its original maximum and logged; the argmax
/// is then moved by one Newton step −H⁻¹∇ of the log map.
/// </summary>
internal static class DarkRefinement
{
    /// <summary>
    /// blur(map) · max(map)/max(blur(map)) into <paramref name="output"/>, blurring with the odd-sized
    /// <paramref name="kernel"/> (<see cref="GaussianKernel"/>) over a zero padding, rows first, then columns, in
    /// OpenCV's summation order. <paramref name="scratch"/> holds the row pass. mmpose then takes log(max(v, 1e-10)) of
    /// every value; <see cref="Taylor"/> takes it of the 13 values it reads, which gives the same numbers.
    /// <para>
    /// Vectors run across x, each lane doing the scalar sum in the scalar order (multiply, then add: .NET does not fuse
    /// them), so the result is the same bit for bit on every vector width; the last columns that do not fill a vector take
    /// the scalar loop, in the same order.
    /// </para>
    /// </summary>
    public static void Blur(ReadOnlySpan<float> map, int height, int width, ReadOnlySpan<float> kernel, Span<float> output, Span<float> scratch)
    {
        int kernelSize = kernel.Length, radius = kernelSize / 2, lanes = Vector<float>.Count;

        // The row pass reads each row from a copy with the zero padding written out, so every column runs the same
        // loop and the vectors reach the edges (reading the row itself, the 16 columns of a 48-wide map whose taps reach
        // past it took a checked scalar path: most of the blur's time). Adding a padding tap's 0 changes no sum.
        int paddedWidth = width + 2 * radius;
        float[]? rented = paddedWidth > 1024 ? ArrayPool<float>.Shared.Rent(paddedWidth) : null;
        Span<float> line = rented is null ? stackalloc float[paddedWidth] : rented.AsSpan(0, paddedWidth);
        line.Clear();
        for (int y = 0; y < height; y++)
        {
            map.Slice(y * width, width).CopyTo(line[radius..]);
            var rowOut = scratch.Slice(y * width, width);
            int x = 0;
            for (; x + lanes <= width; x += lanes)
            {
                var s = kernel[0] * new Vector<float>(line[x..]);
                for (int k = 1; k < kernelSize; k++) s += kernel[k] * new Vector<float>(line[(x + k)..]);
                s.CopyTo(rowOut[x..]);
            }
            for (; x < width; x++)
            {
                float s = kernel[0] * line[x];
                for (int k = 1; k < kernelSize; k++) s += kernel[k] * line[x + k];
                rowOut[x] = s;
            }
        }
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);

        float originalMax = Max(map);
        var blurredMax = new Vector<float>(float.NegativeInfinity);
        float blurredMaxTail = float.NegativeInfinity;
        for (int y = 0; y < height; y++)
        {
            var rowOut = output.Slice(y * width, width);
            int x = 0;
            for (; x + lanes <= width; x += lanes)
            {
                // The kernel is symmetric, so OpenCV's column pass pairs the rows at equal distance (a row in the
                // padding adds 0, which changes nothing).
                var s = kernel[radius] * new Vector<float>(scratch[(y * width + x)..]);
                for (int k = 1; k <= radius; k++)
                    s += kernel[radius + k] * (RowVector(scratch, height, width, x, y + k) + RowVector(scratch, height, width, x, y - k));
                s.CopyTo(rowOut[x..]);
                blurredMax = Vector.Max(blurredMax, s);
            }
            for (; x < width; x++)
            {
                float s = kernel[radius] * scratch[y * width + x];
                for (int k = 1; k <= radius; k++)
                    s += kernel[radius + k] * (Row(scratch, height, width, x, y + k) + Row(scratch, height, width, x, y - k));
                rowOut[x] = s;
                blurredMaxTail = MathF.Max(blurredMaxTail, s);
            }
        }
        for (int i = 0; i < lanes; i++) blurredMaxTail = MathF.Max(blurredMaxTail, blurredMax[i]);

        float rescale = originalMax / blurredMaxTail;
        int n = height * width, j = 0;
        for (; j + lanes <= n; j += lanes) (new Vector<float>(output[j..]) * rescale).CopyTo(output[j..]);
        for (; j < n; j++) output[j] *= rescale;
    }

    private static Vector<float> RowVector(ReadOnlySpan<float> rows, int height, int width, int x, int y) =>
        (uint)y < (uint)height ? new Vector<float>(rows[(y * width + x)..]) : Vector<float>.Zero;

    /// <summary>mmpose's log of the rescaled blur, <c>log(max(v, 1e-10))</c>.</summary>
    private static float Log(float v) => MathF.Log(MathF.Max(v, 1e-10f));

    /// <summary>
    /// mmpose <c>_taylor</c> on the log of the blurred map <paramref name="h"/> (<see cref="Blur"/>) at the integer
    /// position (x, y), if 1 &lt; x &lt; W−2 and 1 &lt; y &lt; H−2: differences in
    /// float32, the 2×2 solve in double (numpy promotes), the result rounded back to float32. A step that is not finite
    /// (a flat or degenerate map) is skipped.
    /// </summary>
    public static (float X, float Y) Taylor(ReadOnlySpan<float> h, int height, int width, float x, float y)
    {
        int px = (int)x, py = (int)y;
        if (!(1 < px && px < width - 2 && 1 < py && py < height - 2)) return (x, y);
        float V(ReadOnlySpan<float> map, int dx, int dy) => Log(map[(py + dy) * width + px + dx]);
        double dx = 0.5 * (V(h, 1, 0) - V(h, -1, 0));
        double dy = 0.5 * (V(h, 0, 1) - V(h, 0, -1));
        double dxx = 0.25 * (V(h, 2, 0) - 2 * V(h, 0, 0) + V(h, -2, 0));
        double dxy = 0.25 * (V(h, 1, 1) - V(h, 1, -1) - V(h, -1, 1) + V(h, -1, -1));
        double dyy = 0.25 * (V(h, 0, 2) - 2 * V(h, 0, 0) + V(h, 0, -2));
        double det = dxx * dyy - dxy * dxy;
        if (det == 0) return (x, y);
        double offsetX = -(dyy * dx - dxy * dy) / det;
        double offsetY = -(dxx * dy - dxy * dx) / det;
        if (!double.IsFinite(offsetX) || !double.IsFinite(offsetY)) return (x, y);
        return ((float)(x + offsetX), (float)(y + offsetY));
    }

    /// <summary>OpenCV <c>getGaussianKernel(size, 0, CV_32F)</c>: σ = 0.3·((size−1)/2 − 1) + 0.8, float32 taps normalised in double.</summary>
    public static void GaussianKernel(int size, Span<float> kernel)
    {
        double sigma = ((size - 1) * 0.5 - 1) * 0.3 + 0.8;
        double scale2 = -0.5 / (sigma * sigma), sum = 0;
        for (int i = 0; i < size; i++)
        {
            double x = i - (size - 1) * 0.5;
            kernel[i] = (float)Math.Exp(scale2 * x * x);
            sum += kernel[i];
        }
        sum = 1 / sum;
        for (int i = 0; i < size; i++) kernel[i] = (float)(kernel[i] * sum);
    }

    private static float Row(ReadOnlySpan<float> rows, int height, int width, int x, int y) => (uint)y < (uint)height ? rows[y * width + x] : 0f;

    private static float Max(ReadOnlySpan<float> values)
    {
        float max = values[0];
        foreach (float v in values) max = MathF.Max(max, v);
        return max;
    }
}
