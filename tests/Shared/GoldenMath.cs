namespace NanoPose.TestSupport;

/// <summary>How far an engine's float32 output is from a golden array.</summary>
public static class GoldenMath
{
    /// <summary>The largest |expected − actual| (NaN if either holds a NaN, so every comparison with it fails).</summary>
    public static double MaxAbsDifference(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs((double)expected[i] - actual[i]));
        return max;
    }

    public static double MaxAbs(ReadOnlySpan<float> values)
    {
        double max = 0;
        foreach (float v in values) max = Math.Max(max, Math.Abs((double)v));
        return max;
    }

    /// <summary>
    /// How far a float32 run may be from a float64 reference array: 1e-4 relative to the array's largest magnitude, and
    /// never tighter than 1e-4 absolute (deep feature maps reach thousands; heatmaps and logits are of order 1).
    /// </summary>
    public static double Tolerance(ReadOnlySpan<float> expected) => 1e-4 * Math.Max(1, MaxAbs(expected));
}
