using System.Buffers;
namespace NanoPose.Pipelines.TopDown;

/// <summary>How a keypoint's sub-pixel position is refined from its heatmap (MODELS.md A.13).</summary>
public enum HeatmapDecoding
{
    /// <summary>mmpose <c>post_process='default'</c>: a quarter pixel towards the higher neighbour on each axis.</summary>
    Default,

    /// <summary>DARK (mmpose <c>post_process='unbiased'</c>, kernel 11): Gaussian blur, log, one Taylor (Newton) step.</summary>
    Dark,
}

/// <summary>
/// mmpose 0.x <c>keypoints_from_heatmaps</c> (use_udp=False) for one person: argmax per joint (<c>_get_max_preds</c>),
/// sub-pixel refinement, and <c>transform_preds</c> back to image pixels. float32 where mmpose computes in float32.
/// </summary>
public static class HeatmapDecoder
{
    /// <summary>The DARK blur kernel size of mmpose's configs (σ = 2 by OpenCV's rule).</summary>
    public const int DarkKernelSize = 11;

    /// <summary>
    /// Decodes joints × height × width heatmaps into <paramref name="keypoints"/> (one per joint) in heatmap pixels;
    /// the score is the heatmap maximum. A joint whose maximum is not positive gets position (−1, −1), as in mmpose.
    /// </summary>
    public static void Decode(ReadOnlySpan<float> heatmaps, int joints, int height, int width, HeatmapDecoding decoding, Span<Keypoint> keypoints)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(joints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        int plane = height * width;
        if (heatmaps.Length != joints * plane) throw new ArgumentException($"expected {joints}×{height}×{width} = {joints * plane} values, found {heatmaps.Length}", nameof(heatmaps));
        if (keypoints.Length != joints) throw new ArgumentException($"expected room for {joints} keypoints, found {keypoints.Length}", nameof(keypoints));
        if (!Enum.IsDefined(decoding)) throw new ArgumentOutOfRangeException(nameof(decoding), decoding, "unknown decoding");

        // DARK's two planes come from the shared pool: decoding runs once per person and should not allocate.
        float[]? buffers = decoding == HeatmapDecoding.Dark ? ArrayPool<float>.Shared.Rent(2 * plane) : null;
        try
        {
            for (int j = 0; j < joints; j++)
            {
                var map = heatmaps.Slice(j * plane, plane);
                var (x, y, max) = ArgMax(map, width);
                if (decoding == HeatmapDecoding.Default) (x, y) = QuarterOffset(map, height, width, x, y);
                else
                {
                    var blurred = buffers.AsSpan(0, plane);
                    DarkRefinement.Blur(map, height, width, DarkKernel, blurred, buffers.AsSpan(plane, plane));
                    (x, y) = DarkRefinement.Taylor(blurred, height, width, x, y);
                }
                keypoints[j] = new Keypoint(x, y, max);
            }
        }
        finally
        {
            if (buffers is not null) ArrayPool<float>.Shared.Return(buffers);
        }
    }

    private static readonly float[] DarkKernel = CreateDarkKernel();

    private static float[] CreateDarkKernel()
    {
        var kernel = new float[DarkKernelSize];
        DarkRefinement.GaussianKernel(DarkKernelSize, kernel);
        return kernel;
    }

    /// <summary>
    /// mmpose <c>transform_preds</c>: heatmap pixels → image pixels for a crop of <paramref name="box"/>;
    /// x ↦ x·(s_x·200 / W) + c_x − s_x·200/2, likewise y.
    /// </summary>
    public static void ToImage(Span<Keypoint> keypoints, CenterScale box, int heatmapWidth, int heatmapHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heatmapWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heatmapHeight);
        float sizeX = box.ScaleX * CenterScale.PixelStd, sizeY = box.ScaleY * CenterScale.PixelStd;
        float stepX = sizeX / heatmapWidth, stepY = sizeY / heatmapHeight;
        for (int j = 0; j < keypoints.Length; j++)
        {
            var k = keypoints[j];
            keypoints[j] = k with { X = k.X * stepX + box.CenterX - sizeX * 0.5f, Y = k.Y * stepY + box.CenterY - sizeY * 0.5f };
        }
    }

    /// <summary>mmpose <c>_get_max_preds</c>: the first maximum in row-major order (numpy argmax; a NaN wins).</summary>
    private static (float X, float Y, float Max) ArgMax(ReadOnlySpan<float> map, int width)
    {
        int best = 0;
        for (int i = 1; i < map.Length && !float.IsNaN(map[best]); i++)
            if (map[i] > map[best] || float.IsNaN(map[i])) best = i;
        float max = map[best];
        return max > 0 ? (best % width, best / width, max) : (-1, -1, max);
    }

    /// <summary>Strictly inside on both axes (1 &lt; x &lt; W−1 and 1 &lt; y &lt; H−1): ±0.25 by the sign of the central difference.</summary>
    private static (float X, float Y) QuarterOffset(ReadOnlySpan<float> map, int height, int width, float x, float y)
    {
        int px = (int)x, py = (int)y;
        if (!(1 < px && px < width - 1 && 1 < py && py < height - 1)) return (x, y);
        float dx = map[py * width + px + 1] - map[py * width + px - 1];
        float dy = map[(py + 1) * width + px] - map[(py - 1) * width + px];
        return (x + 0.25f * Sign(dx), y + 0.25f * Sign(dy));
    }

    private static float Sign(float v) => v > 0 ? 1 : v < 0 ? -1 : 0;
}
