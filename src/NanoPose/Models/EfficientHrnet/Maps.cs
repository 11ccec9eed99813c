using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

internal static class Maps
{
    /// <summary>A fresh dense map of this shape.</summary>
    public static FeatureMap Allocate(Nhwc shape) => FeatureMap.Allocate(shape.Height, shape.Width, shape.Channels);
}
