namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// mmpose 0.x's flip test (MODELS.md A.13 step 1): the network also sees the horizontally mirrored input; its heatmaps
/// are mirrored back with left/right joints swapped (<c>flip_back</c>), shifted right by one pixel
/// (<c>shift_heatmap=True</c>: column c takes column c − 1, column 0 keeps its value) and averaged with the plain ones.
/// </summary>
public static class FlipTest
{
    /// <summary>Mirrors a channels × height × width tensor left to right.</summary>
    public static void FlipHorizontally(ReadOnlySpan<float> nchw, int channels, int height, int width, Span<float> flipped)
    {
        CheckLength(nchw.Length, channels, height, width, nameof(nchw));
        CheckLength(flipped.Length, channels, height, width, nameof(flipped));
        for (int row = 0; row < channels * height; row++)
        {
            var source = nchw.Slice(row * width, width);
            var target = flipped.Slice(row * width, width);
            for (int x = 0; x < width; x++) target[x] = source[width - 1 - x];
        }
    }

    /// <summary>
    /// (heatmaps + shifted flip-back of <paramref name="heatmapsOfFlipped"/>) × 0.5, joint by joint;
    /// <paramref name="flipPartner"/>[j] names the joint j becomes when mirrored (<see cref="CocoKeypoints.FlipPartner"/>).
    /// </summary>
    public static void Average(ReadOnlySpan<float> heatmaps, ReadOnlySpan<float> heatmapsOfFlipped, int joints, int height, int width,
        IReadOnlyList<int> flipPartner, Span<float> averaged)
    {
        CheckLength(heatmaps.Length, joints, height, width, nameof(heatmaps));
        CheckLength(heatmapsOfFlipped.Length, joints, height, width, nameof(heatmapsOfFlipped));
        CheckLength(averaged.Length, joints, height, width, nameof(averaged));
        if (flipPartner.Count != joints) throw new ArgumentException($"expected a flip partner for each of the {joints} joints, found {flipPartner.Count}", nameof(flipPartner));
        int plane = height * width;
        for (int j = 0; j < joints; j++)
        {
            int partner = flipPartner[j];
            if ((uint)partner >= (uint)joints) throw new ArgumentException($"joint {j}'s flip partner {partner} is not a joint", nameof(flipPartner));
            for (int y = 0; y < height; y++)
            {
                var plain = heatmaps.Slice(j * plane + y * width, width);
                var mirrored = heatmapsOfFlipped.Slice(partner * plane + y * width, width);
                var output = averaged.Slice(j * plane + y * width, width);
                // Flipped back, column x is mirrored[width-1-x]; after the shift, column x ≥ 1 takes column x − 1.
                for (int x = 0; x < width; x++)
                    output[x] = (plain[x] + mirrored[width - 1 - Math.Max(x - 1, 0)]) * 0.5f;
            }
        }
    }

    private static void CheckLength(int length, int channels, int height, int width, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (length != channels * height * width)
            throw new ArgumentException($"expected {channels}×{height}×{width} = {channels * height * width} values, found {length}", name);
    }
}
