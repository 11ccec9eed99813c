using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

internal static class Maps
{
    /// <summary>A fresh dense map of this shape, not zeroed: every map of the network is written in full before it is read.</summary>
    public static FeatureMap Allocate(Nhwc shape) =>
        new(GC.AllocateUninitializedArray<float>(shape.Height * shape.Width * shape.Channels), 0, new Nhwc(shape.Height, shape.Width, shape.Channels));
}
