namespace NanoPose.Pipelines.BottomUp;

/// <summary>Candidate joints of one heatmap: its positions, values and tag vectors, best first.</summary>
public sealed record JointCandidates(int[] X, int[] Y, float[] Values, float[][] Tags)
{
    public int Count => Values.Length;
}

/// <summary>
/// The first two parser steps (MODELS.md C.3 steps 1–2; HigherHRNet <c>HeatmapParser.nms</c>, <c>top_k</c>):
/// keep only pixels equal to the maximum of their window, then the largest values of each joint's map.
/// </summary>
public static class PeakSelection
{
    /// <summary>
    /// <c>det · (maxpool(det, kernel, stride 1, padding kernel/2) == det)</c> on one map: a pixel keeps its value if
    /// no pixel of its window (clipped to the map) is larger, ties included; the others become zero.
    /// </summary>
    public static void SuppressNonMaxima(ReadOnlySpan<float> heatmap, int height, int width, int kernel, Span<float> output)
    {
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "must be odd and positive");
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if (heatmap.Length != height * width) throw new ArgumentException($"a {height}×{width} map needs {height * width} values, found {heatmap.Length}", nameof(heatmap));
        if (output.Length != heatmap.Length) throw new ArgumentException($"expected {heatmap.Length} values, found {output.Length}", nameof(output));

        // Max is exact, so the window maximum is a row pass then a column pass.
        int radius = kernel / 2;
        var rowMax = new float[heatmap.Length];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                float m = float.NegativeInfinity;
                for (int i = Math.Max(0, x - radius); i <= Math.Min(width - 1, x + radius); i++) m = MathF.Max(m, heatmap[y * width + i]);
                rowMax[y * width + x] = m;
            }
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                float m = float.NegativeInfinity;
                for (int j = Math.Max(0, y - radius); j <= Math.Min(height - 1, y + radius); j++) m = MathF.Max(m, rowMax[j * width + x]);
                float v = heatmap[y * width + x];
                output[y * width + x] = v * (m == v ? 1f : 0f);
            }
    }

    /// <summary>
    /// The <paramref name="k"/> largest values of a suppressed map (fewer if the map is smaller), largest first and
    /// equal values in row-major order, with their positions and the tag vectors of the joint at those positions.
    /// </summary>
    public static JointCandidates TopK(ReadOnlySpan<float> suppressed, AggregatedMaps maps, int joint, int k)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if ((uint)joint >= (uint)maps.Joints) throw new ArgumentOutOfRangeException(nameof(joint), joint, $"the maps have {maps.Joints} joints");
        if (suppressed.Length != maps.PlaneSize) throw new ArgumentException($"expected {maps.PlaneSize} values, found {suppressed.Length}", nameof(suppressed));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);

        int count = Math.Min(k, suppressed.Length);
        // Insertion into a short sorted list: k is 30, the map has tens of thousands of pixels.
        var best = new int[count];
        int filled = 0;
        for (int i = 0; i < suppressed.Length; i++)
        {
            float v = suppressed[i];
            if (filled == count && !(v > suppressed[best[count - 1]])) continue;
            int at = filled < count ? filled++ : count - 1;
            while (at > 0 && v > suppressed[best[at - 1]])
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
        }

        var candidates = new JointCandidates(new int[count], new int[count], new float[count], new float[count][]);
        for (int c = 0; c < count; c++)
        {
            int x = best[c] % maps.Width, y = best[c] / maps.Width;
            candidates.X[c] = x;
            candidates.Y[c] = y;
            candidates.Values[c] = suppressed[best[c]];
            candidates.Tags[c] = maps.Tag(joint, y, x).ToArray();
        }
        return candidates;
    }
}
