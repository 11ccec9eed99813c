namespace NanoPose.Layers;

/// <summary>
/// What a network asks its weight source for: one convolution, named by its PyTorch module prefix (e.g.
/// <c>backbone.stem.conv1.conv</c>), with the shape the architecture implies. <see cref="BatchNorm"/> names the
/// BatchNorm that follows it in the checkpoint, if any; a source folds it into the weights.
/// </summary>
public sealed record ConvRequest(
    string Name,
    int OutChannels,
    int InChannelsPerGroup,
    int KernelHeight,
    int KernelWidth,
    bool HasBias,
    string? BatchNorm,
    bool Transposed = false)
{
    /// <summary>PyTorch weight shape: [out, in/groups, kh, kw], or [in, out, kh, kw] for a transposed conv.</summary>
    public int[] WeightShape => Transposed
        ? [InChannelsPerGroup, OutChannels, KernelHeight, KernelWidth]
        : [OutChannels, InChannelsPerGroup, KernelHeight, KernelWidth];

    public int WeightLength => OutChannels * InChannelsPerGroup * KernelHeight * KernelWidth;
}

/// <summary>
/// A convolution's weights ready for inference: BatchNorm already folded in, PyTorch layout
/// (<see cref="ConvRequest.WeightShape"/>), and a bias per output channel (zeros when the layer has none).
/// </summary>
public sealed record ConvWeights(float[] Weight, float[] Bias);

/// <summary>
/// Where a network's weights come from while it is built: a .npw file at run time, a PyTorch checkpoint or ncnn
/// file while converting. Models ask for every convolution through this, in forward order, so one builder
/// serves loading and conversion alike.
/// </summary>
public interface IWeightSource
{
    ConvWeights Conv(ConvRequest request);
}
