using NanoPose.Layers;

namespace NanoPose.TestSupport;

/// <summary>
/// Seeded random weights for building a network without a checkpoint (tests and benchmarks): uniform in
/// ±<c>gain</c>/√fan-in, biases uniform in ±0.1, so activations stay finite and every output depends on the input.
/// The same seed and the same request sequence give the same weights.
/// </summary>
internal sealed class SeededWeights(int seed, float gain = 1f) : IWeightSource
{
    private readonly Random _random = new(seed);

    public ConvWeights Conv(ConvRequest request)
    {
        // A transposed conv's fan-in per output is in·k·k / stride² = in·4 for the 4×4 stride-2 one.
        int fanIn = request.Transposed ? request.InChannelsPerGroup * 4 : request.InChannelsPerGroup * request.KernelHeight * request.KernelWidth;
        float scale = gain / MathF.Sqrt(fanIn);
        var weight = new float[request.WeightLength];
        for (int i = 0; i < weight.Length; i++) weight[i] = (_random.NextSingle() * 2 - 1) * scale;
        var bias = new float[request.OutChannels];
        for (int i = 0; i < bias.Length; i++) bias[i] = (_random.NextSingle() * 2 - 1) * 0.1f;
        return new ConvWeights(weight, bias);
    }
}
