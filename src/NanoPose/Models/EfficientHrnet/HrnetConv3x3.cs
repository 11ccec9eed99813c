using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>HRNet's building unit, asked of the shared <see cref="LayerFactory"/>.</summary>
internal static class HrnetConv3x3
{
    /// <summary>A 3×3 pad-1 conv (stride 1 unless given) with its BatchNorm.</summary>
    public static ConvLayer Conv3x3(this LayerFactory layers, string name, int inChannels, int outChannels, bool bias, string batchNorm,
        Activation activation, int stride = 1) =>
        layers.Conv(name, inChannels, outChannels, ConvGeometry.Square(3, stride, 1), bias, batchNorm, activation);
}
