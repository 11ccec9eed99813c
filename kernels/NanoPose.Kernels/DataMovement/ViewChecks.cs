using NanoPose.Kernels.Common;

namespace NanoPose.Kernels.DataMovement;

/// <summary>Argument checks shared by the view-to-view kernels of the data-movement, elementwise, pooling and resize families.</summary>
internal static class ViewChecks
{
    /// <summary>Throws unless <paramref name="actual"/> has the height, width and channels of <paramref name="expected"/>
    /// (pixel strides may differ).</summary>
    public static void RequireSameShape(Nhwc expected, Nhwc actual, string name)
    {
        if (actual.Height != expected.Height || actual.Width != expected.Width || actual.Channels != expected.Channels)
            throw new ArgumentException(
                $"{name}: view is {actual.Height}x{actual.Width}x{actual.Channels}, expected {expected.Height}x{expected.Width}x{expected.Channels}.", name);
    }

    /// <summary>Throws when two buffers share memory, for kernels whose vector tails rewrite outputs from inputs.</summary>
    public static void RequireDisjoint(ReadOnlySpan<float> input, ReadOnlySpan<float> output, string name)
    {
        if (input.Overlaps(output))
            throw new ArgumentException($"{name}: must not overlap the input (this kernel cannot run in place).", name);
    }
}
