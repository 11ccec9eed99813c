using NanoPose.Layers;

namespace NanoPose.Weights;

/// <summary>
/// Weights of a converted model: each convolution is stored folded as <c>&lt;name&gt;.weight</c> (PyTorch layout)
/// and <c>&lt;name&gt;.bias</c>. A tensor that is missing or of another shape is refused by name.
/// </summary>
public sealed class NpwWeightSource(NpwFile file) : IWeightSource
{
    public ConvWeights Conv(ConvRequest request) => new(
        file.GetTensor(request.Name + ".weight", request.WeightShape),
        file.GetTensor(request.Name + ".bias", request.OutChannels));
}
