using NanoPose.Layers;
using NanoPose.Weights;

namespace NanoPose.Models;

/// <summary>
/// A network built for one input size, its weights packed and its activation memory planned: running it allocates
/// nothing. Outputs are NHWC maps owned by the network and overwritten by the next run.
/// </summary>
public interface IPoseNetwork
{
    ModelArchitecture Architecture { get; }
    int InputChannels { get; }
    int InputHeight { get; }
    int InputWidth { get; }

    /// <summary>Runs the raw network on one image in NCHW order (C × H × W floats).</summary>
    IReadOnlyList<FeatureMap> Forward(ReadOnlySpan<float> imageNchw);

    /// <summary>Learnable parameters as the source framework counts them (BatchNorm scale and shift included).</summary>
    long ParameterCount { get; }

    /// <summary>Multiply-accumulates of the convolutions at this input size.</summary>
    long MultiplyAccumulates { get; }

    /// <summary>Floats of the activation memory, planned by tensor liveness.</summary>
    long BufferFloats { get; }

    /// <summary>Another instance of this network that shares its packed weights but has its own activation memory and
    /// runs on one thread, so that the two can run different images at the same time.</summary>
    IPoseNetwork Replicate();

    /// <summary>When set, each operation of later runs adds its wall time here (the network's own threads only; a
    /// <see cref="Replicate"/> starts without one).</summary>
    OperationProfile? Profile { get; set; }

    /// <summary>Family-specific figures for <c>nanopose info</c> (label, value), e.g. FLOPs in a paper's convention.</summary>
    IReadOnlyList<(string Label, string Value)> Figures { get; }
}
