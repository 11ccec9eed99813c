using NanoPose.Kernels.Common;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// FLOPs as the Lite-HRNet README counts them (torchstat, MODELS.md A.11): every convolution's MACs, plus one per
/// output if biased, 2 per BatchNorm output and 1 per ReLU output, taken from the layers the factory made on a known
/// input; the terms that are not convolutions (pooling, upsampling, a shared ReLU) are added by the parts with
/// <see cref="Count"/> as they are built.
/// </summary>
internal sealed class ReadmeFlops
{
    private long _beyondConvolutions;

    /// <summary>Adds a term that is not a convolution.</summary>
    public void Count(long flops) => _beyondConvolutions += flops;

    /// <summary>The README FLOPs of the network <paramref name="f"/> built.</summary>
    public long Total(LayerFactory f) => f.MultiplyAccumulates + _beyondConvolutions + f.SizedConvs.Sum(c =>
    {
        long outputs = (long)c.Output.Pixels * c.Output.Channels;
        return (c.Request.HasBias ? outputs : 0) + (c.Request.BatchNorm is null ? 0 : 2 * outputs) + (c.Activation == Activation.ReLU ? outputs : 0);
    });
}
