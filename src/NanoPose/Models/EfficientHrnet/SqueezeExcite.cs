using NanoPose.Kernels.Common;
using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Pooling;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// Squeeze-and-excite (<c>.se</c>): global average pool → <c>se.1</c> 1×1 with bias + SiLU → <c>se.3</c> 1×1 with bias
/// + sigmoid → every channel of the input scaled in place by its gate.
/// </summary>
internal sealed class SqueezeExcite
{
    private readonly ConvLayer _reduce;
    private readonly ConvLayer _expand;
    private readonly VectorWidth _width;

    public SqueezeExcite(LayerFactory layers, string prefix, int channels, int reduced)
    {
        _reduce = layers.Conv(prefix + ".1", channels, reduced, ConvGeometry.Pointwise(), true, null, Activation.SiLU);
        _expand = layers.Conv(prefix + ".3", reduced, channels, ConvGeometry.Pointwise(), true, null, Activation.Sigmoid);
        _width = layers.Width;
    }

    public long MultiplyAccumulates() => 2L * _reduce.InChannels * _reduce.OutChannels;

    public void Run(FeatureMap map, ActivationArena arena)
    {
        var pooled = arena.Allocate(new Nhwc(1, 1, _reduce.InChannels));
        AveragePooling.Global(map.Span, map.Shape, pooled.Span, _width);
        var squeezed = arena.Allocate(new Nhwc(1, 1, _reduce.OutChannels));
        _reduce.Run(pooled, squeezed);
        var gates = arena.Allocate(new Nhwc(1, 1, _expand.OutChannels));
        _expand.Run(squeezed, gates);
        Arithmetic.ScaleChannels(map.Span, map.Shape, gates.Span, map.Span, map.Shape, _width);
    }
}
