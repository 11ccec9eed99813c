using NanoPose.Kernels.Common;
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

    public SqueezeExcite(LayerFactory layers, string prefix, int channels, int reduced)
    {
        _reduce = layers.Conv(prefix + ".1", channels, reduced, ConvGeometry.Pointwise(), true, null, Activation.SiLU);
        _expand = layers.Conv(prefix + ".3", reduced, channels, ConvGeometry.Pointwise(), true, null, Activation.Sigmoid);
    }

    public long MultiplyAccumulates() => 2L * _reduce.InChannels * _reduce.OutChannels;

    public void Run(FeatureMap map, Executor ops)
    {
        var pooled = ops.Arena.Allocate(new Nhwc(1, 1, _reduce.InChannels));
        ops.GlobalAveragePool(map, pooled);
        var squeezed = ops.Arena.Allocate(new Nhwc(1, 1, _reduce.OutChannels));
        ops.Conv(_reduce, pooled, squeezed);
        var gates = ops.Arena.Allocate(new Nhwc(1, 1, _expand.OutChannels));
        ops.Conv(_expand, squeezed, gates);
        ops.ScaleChannels(map, gates, map);
    }
}
