using System.Buffers;
using System.Numerics.Tensors;

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
    /// <paramref name="output"/> must not overlap <paramref name="heatmap"/>.
    /// </summary>
    public static void SuppressNonMaxima(ReadOnlySpan<float> heatmap, int height, int width, int kernel, Span<float> output)
    {
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "must be odd and positive");
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if (heatmap.Length != height * width) throw new ArgumentException($"a {height}×{width} map needs {height * width} values, found {heatmap.Length}", nameof(heatmap));
        if (output.Length != heatmap.Length) throw new ArgumentException($"expected {heatmap.Length} values, found {output.Length}", nameof(output));
        if (heatmap.Overlaps(output)) throw new ArgumentException("must not overlap the heatmap", nameof(output));

        // The window maximum is a row pass then a column pass (max is exact), each a maximum with shifted copies
        // (clipped at the edges), with NaN propagating as in PyTorch's max-pool.
        int radius = kernel / 2, size = heatmap.Length;
        float[] rented = ArrayPool<float>.Shared.Rent(size);
        var rowMax = rented.AsSpan(0, size);
        heatmap.CopyTo(rowMax);
        for (int y = 0; y < height; y++)
        {
            var source = heatmap.Slice(y * width, width);
            var row = rowMax.Slice(y * width, width);
            for (int shift = 1; shift <= radius && shift < width; shift++)
            {
                TensorPrimitives.Max(row[..^shift], source[shift..], row[..^shift]);
                TensorPrimitives.Max(row[shift..], source[..^shift], row[shift..]);
            }
        }
        rowMax.CopyTo(output);
        for (int shift = 1; shift <= radius && shift < height; shift++)
        {
            int rows = shift * width;
            TensorPrimitives.Max(output[..^rows], rowMax[rows..], output[..^rows]);
            TensorPrimitives.Max(output[rows..], rowMax[..^rows], output[rows..]);
        }
        ArrayPool<float>.Shared.Return(rented);
        for (int i = 0; i < size; i++) output[i] = heatmap[i] * (output[i] == heatmap[i] ? 1f : 0f);
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
