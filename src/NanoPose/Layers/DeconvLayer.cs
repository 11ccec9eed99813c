using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Simd;

namespace NanoPose.Layers;

/// <summary>A 4×4, stride-2, padding-1 transposed convolution (EfficientHRNet's upsampling), weights packed at load.</summary>
public sealed class DeconvLayer
{
    private readonly float[] _packed;
    private readonly float[] _bias;
    private readonly VectorWidth _width;

    public DeconvLayer(ConvRequest request, ConvWeights weights, Activation activation, VectorWidth width)
    {
        if (!request.Transposed || request.KernelHeight != 4 || request.KernelWidth != 4)
            throw new ArgumentException($"{request.Name}: expected a 4×4 transposed convolution, found {request}");
        (Name, InChannels, OutChannels, Activation, _width, _bias) =
            (request.Name, request.InChannelsPerGroup, request.OutChannels, activation, width, weights.Bias);
        _packed = new float[Deconv4x4Stride2.PackedWeightsLength(width, InChannels, OutChannels)];
        Deconv4x4Stride2.PackWeights(width, weights.Weight, InChannels, OutChannels, _packed);
    }

    public static DeconvLayer Create(IWeightSource source, ConvRequest request, Activation activation, VectorWidth width) =>
        new(request, source.Conv(request), activation, width);

    public string Name { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public Activation Activation { get; }

    public Nhwc OutputShape(Nhwc input) => new(input.Height * 2, input.Width * 2, OutChannels);

    public long MultiplyAccumulates(Nhwc input) => (long)input.Pixels * InChannels * OutChannels * 16;

    public void Run(FeatureMap input, FeatureMap output) => Run(input, output, 0, 1);

    /// <summary>Output rows of part <paramref name="part"/> of <paramref name="parts"/> equal contiguous ranges.</summary>
    public void Run(FeatureMap input, FeatureMap output, int part, int parts)
    {
        if (input.ChannelCount != InChannels)
            throw new ArgumentException($"{Name}: input has {input.ChannelCount} channels, the layer takes {InChannels}");
        var (start, end) = Threading.WorkerPool.Range(output.Height, part, parts);
        Deconv4x4Stride2.RunRows(_width, input.Span, input.Shape, _packed, output.Span, output.Shape, Epilogue.With(_bias, Activation), start, end);
    }
}
