using NanoPose.Layers;
using NanoPose.Weights;

namespace NanoPose.WeightsTools.Conversion;

/// <summary>
/// Passes requests through to another source and keeps what it returned, in request order, so a network built
/// once from a checkpoint can be written out as a .npw file: <c>&lt;name&gt;.weight</c> and <c>&lt;name&gt;.bias</c>.
/// </summary>
public sealed class RecordingWeightSource(IWeightSource inner) : IWeightSource
{
    private readonly List<(ConvRequest Request, ConvWeights Weights)> _recorded = [];

    public IReadOnlyList<(ConvRequest Request, ConvWeights Weights)> Recorded => _recorded;

    public ConvWeights Conv(ConvRequest request)
    {
        var weights = inner.Conv(request);
        _recorded.Add((request, weights));
        return weights;
    }

    /// <summary>Adds every recorded convolution to <paramref name="writer"/>; weights as <paramref name="storeAs"/>,
    /// biases always float32 (they are few, and fp16 would cost accuracy for nothing).</summary>
    public void WriteTo(NpwWriter writer, WeightDType storeAs)
    {
        foreach (var (request, weights) in _recorded)
        {
            writer.Add(request.Name + ".weight", request.WeightShape, weights.Weight, storeAs);
            writer.Add(request.Name + ".bias", [request.OutChannels], weights.Bias, WeightDType.Float32);
        }
    }
}
