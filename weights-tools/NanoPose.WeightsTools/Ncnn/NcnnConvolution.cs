namespace NanoPose.WeightsTools.Ncnn;

/// <summary>The activation ncnn fused into a convolution (parameter 9).</summary>
public enum NcnnActivation { None = 0, Relu = 1 }

/// <summary>
/// A Convolution or ConvolutionDepthWise layer with its weights from the .bin: <see cref="Weight"/> in
/// [out][in/groups][kh][kw] order (the PyTorch layout), converted to float32, and <see cref="Bias"/>, one per
/// output channel (ncnn exporters fold BatchNorm into it), or empty when the layer has no bias_term.
/// <see cref="InChannels"/> and the output size come from tracking blob shapes through the graph; the output size is
/// −1 where the graph leaves it open (an Input layer without a shape, before any layer fixes the size).
/// </summary>
public sealed record NcnnConvolution(
    NcnnLayer Layer,
    int OutChannels,
    int InChannels,
    int Groups,
    int KernelHeight,
    int KernelWidth,
    int StrideHeight,
    int StrideWidth,
    int DilationHeight,
    int DilationWidth,
    int PadTop,
    int PadLeft,
    int PadBottom,
    int PadRight,
    NcnnActivation Activation,
    bool StoredAsFloat16,
    float[] Weight,
    float[] Bias)
{
    public int OutputHeight { get; init; } = -1;
    public int OutputWidth { get; init; } = -1;

    public bool Depthwise => Layer.Type == NcnnModel.DepthwiseType;
    public int InChannelsPerGroup => InChannels / Groups;

    /// <summary>[out, in/groups, kh, kw] and the ncnn layer, for messages.</summary>
    public string Describe() =>
        $"ncnn layer {Layer.Name} (line {Layer.Line}, {Layer.Type}) [{OutChannels}, {InChannelsPerGroup}, {KernelHeight}, {KernelWidth}] " +
        $"stride {StrideHeight}×{StrideWidth} pad {PadTop},{PadLeft},{PadBottom},{PadRight} groups {Groups} activation {Activation}";
}
