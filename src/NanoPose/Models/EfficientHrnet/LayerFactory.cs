using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// Creates the layers of one network from a weight source, in the order the builder asks (= forward order), and
/// keeps every request so the network can count its parameters the way PyTorch does.
/// </summary>
internal sealed class LayerFactory(IWeightSource source, VectorWidth width)
{
    private readonly List<ConvRequest> _requests = [];

    public VectorWidth Width => width;
    public IReadOnlyList<ConvRequest> Requests => _requests;

    /// <summary>A conv named <paramref name="name"/> (its weight is <c>name.weight</c>) with an optional BatchNorm after it.</summary>
    public ConvLayer Conv(string name, int inChannels, int outChannels, ConvGeometry geometry, bool bias, string? batchNorm, Activation activation)
    {
        var request = new ConvRequest(name, outChannels, inChannels / geometry.Groups, geometry.KernelHeight, geometry.KernelWidth, bias, batchNorm);
        _requests.Add(request);
        return ConvLayer.Create(source, request, geometry, activation, width);
    }

    /// <summary>The 4×4 stride-2 transposed conv, no bias, with its BatchNorm.</summary>
    public DeconvLayer Deconv(string name, int inChannels, int outChannels, string batchNorm, Activation activation)
    {
        var request = new ConvRequest(name, outChannels, inChannels, 4, 4, HasBias: false, batchNorm, Transposed: true);
        _requests.Add(request);
        return DeconvLayer.Create(source, request, activation, width);
    }

    /// <summary>A 3×3 stride-1 pad-1 conv (HRNet's building unit).</summary>
    public ConvLayer Conv3x3(string name, int inChannels, int outChannels, bool bias, string batchNorm, Activation activation, int stride = 1) =>
        Conv(name, inChannels, outChannels, ConvGeometry.Square(3, stride, 1), bias, batchNorm, activation);
}
