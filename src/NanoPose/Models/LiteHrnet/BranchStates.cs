using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// The branch tensors that live from one block or module to the next. Each branch shape has three buffers: a
/// block reads one and writes another; a fuse reads one and sums into the other two. Which buffer holds what is
/// decided while building, so a run only follows the plan.
/// </summary>
internal static class BranchStates
{
    private const int Count = 3;

    /// <summary>A state buffer of <paramref name="shape"/> that is none of <paramref name="busy"/>.</summary>
    public static FeatureMap Free(LayerFactory f, Nhwc shape, params ReadOnlySpan<FeatureMap> busy)
    {
        for (int i = 0; i < Count; i++)
        {
            var candidate = f.Map($"branch.state{i}", shape);
            bool taken = false;
            foreach (var map in busy) taken |= ReferenceEquals(map, candidate);
            if (!taken) return candidate;
        }
        throw new InvalidOperationException($"all {Count} state buffers of {shape} are busy");
    }

    /// <summary>A state buffer shaped like <paramref name="busy"/>[0] that is none of them.</summary>
    public static FeatureMap Other(LayerFactory f, params ReadOnlySpan<FeatureMap> busy) => Free(f, Dense(busy[0].Shape), busy);

    private static Nhwc Dense(Nhwc shape) => new(shape.Height, shape.Width, shape.Channels);
}
