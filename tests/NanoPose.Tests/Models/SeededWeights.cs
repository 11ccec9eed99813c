using NanoPose.Layers;

namespace NanoPose.Tests.Models;

/// <summary>Seeded random weights scaled by fan-in, so activations stay finite and every output depends on the input;
/// the same for every network built from the same request sequence and seed.</summary>
internal sealed class SeededWeights(int seed) : IWeightSource
{
    private readonly Random _random = new(seed);

    public ConvWeights Conv(ConvRequest request)
    {
        float scale = 1f / MathF.Sqrt(request.InChannelsPerGroup * request.KernelHeight * request.KernelWidth);
        var weight = new float[request.WeightLength];
        for (int i = 0; i < weight.Length; i++) weight[i] = (_random.NextSingle() * 2 - 1) * scale;
        var bias = new float[request.OutChannels];
        for (int i = 0; i < bias.Length; i++) bias[i] = _random.NextSingle() * 0.2f - 0.1f;
        return new ConvWeights(weight, bias);
    }
}
