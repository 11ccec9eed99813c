using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>HRNet's BasicBlock at constant width: relu(bn2(conv2(relu(bn1(conv1(x))))) + x), the add fused into conv2's store.</summary>
internal sealed class BasicBlock(LayerFactory layers, string prefix, int channels)
{
    private readonly ConvLayer _conv1 = layers.Conv3x3(prefix + ".conv1", channels, channels, false, prefix + ".bn1", Activation.ReLU);
    private readonly ConvLayer _conv2 = layers.Conv3x3(prefix + ".conv2", channels, channels, false, prefix + ".bn2", Activation.ReLU);

    public long MultiplyAccumulates(Nhwc input) => _conv1.MultiplyAccumulates(input) + _conv2.MultiplyAccumulates(input);

    public FeatureMap Run(FeatureMap input, Executor ops)
    {
        var hidden = ops.Arena.Allocate(input.Shape);
        ops.Conv(_conv1, input, hidden);
        var output = ops.Arena.Allocate(hidden.Shape);
        ops.Conv(_conv2, hidden, output, residual: input);
        return output;
    }
}
