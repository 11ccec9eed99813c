using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models;

/// <summary>
/// Squeeze-and-excite: the global mean of every channel, through a short chain of 1×1 convolutions with biases (e.g.
/// reduce + ReLU, expand + hard-sigmoid), gives one gate per channel; the input's channels are scaled by their gates,
/// in place or into another map.
/// </summary>
internal sealed class SqueezeExcite
{
    private readonly LayerFactory _f;
    private readonly ConvLayer[] _chain;
    private readonly FeatureMap[] _vectors;   // the pooled means, then each conv's output; the last are the gates

    /// <param name="chain">The 1×1 convolutions of the squeeze path: name, output channels, activation; the last gives
    /// as many gates as <paramref name="input"/> has channels.</param>
    public SqueezeExcite(LayerFactory f, Nhwc input, params (string Name, int OutChannels, Activation Activation)[] chain)
    {
        if (chain.Length == 0 || chain[^1].OutChannels != input.Channels)
            throw new ArgumentException($"squeeze-excite on {input.Channels} channels needs a chain ending in {input.Channels} gates");
        _f = f;
        var shape = new Nhwc(1, 1, input.Channels);
        _vectors = new FeatureMap[chain.Length + 1];
        _vectors[0] = f.Map(shape);
        _chain = new ConvLayer[chain.Length];
        for (int i = 0; i < chain.Length; i++)
        {
            _chain[i] = f.Conv(chain[i].Name, shape, chain[i].OutChannels, ConvGeometry.Pointwise(), bias: true, batchNorm: null, chain[i].Activation);
            shape = new Nhwc(1, 1, chain[i].OutChannels);
            _vectors[i + 1] = f.Map(shape);
        }
    }

    /// <summary>output = input × gates(input); output may be input.</summary>
    public void Run(FeatureMap input, FeatureMap output)
    {
        var ops = _f.Ops;
        ops.GlobalAveragePool(input, _vectors[0]);
        for (int i = 0; i < _chain.Length; i++) ops.Conv(_chain[i], _vectors[i], _vectors[i + 1]);
        ops.ScaleChannels(input, _vectors[^1], output);
    }
}
