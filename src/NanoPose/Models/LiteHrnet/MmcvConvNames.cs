using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// The names mmcv gives Lite-HRNet's convolutions, asked of the shared <see cref="LayerFactory"/> on a known input
/// (so their multiply-accumulates are counted): square kernels padded k/2, depthwise (one filter per channel) or dense.
/// </summary>
internal static class MmcvConvNames
{
    /// <summary>An mmcv ConvModule: <c>&lt;prefix&gt;.conv</c> without bias, BatchNorm <c>&lt;prefix&gt;.bn</c>, then the activation.</summary>
    public static ConvLayer ConvModule(this LayerFactory f, string prefix, Nhwc input, int outChannels, int kernel = 1, int stride = 1,
        bool depthwise = false, Activation activation = Activation.None) =>
        f.Conv(prefix + ".conv", input, outChannels, Geometry(prefix + ".conv", input, outChannels, kernel, stride, depthwise),
            bias: false, prefix + ".bn", activation);

    /// <summary>A conv inside an <c>nn.Sequential</c>: <c>&lt;prefix&gt;.&lt;index&gt;</c>, its BatchNorm at <c>index + 1</c>;
    /// a power-of-two <paramref name="scale"/> multiplies its output exactly (folded into weights and bias).</summary>
    public static ConvLayer SequentialConv(this LayerFactory f, string prefix, int index, Nhwc input, int outChannels, int kernel = 1,
        int stride = 1, bool depthwise = false, Activation activation = Activation.None, float scale = 1f)
    {
        string name = $"{prefix}.{index}";
        return f.Conv(name, input, outChannels, Geometry(name, input, outChannels, kernel, stride, depthwise),
            bias: false, $"{prefix}.{index + 1}", activation, scale);
    }

    /// <summary>A 1×1 conv with a bias and no BatchNorm (spatial weighting, the keypoint head's final layer).</summary>
    public static ConvLayer BiasedConv(this LayerFactory f, string name, Nhwc input, int outChannels, Activation activation = Activation.None) =>
        f.Conv(name, input, outChannels, ConvGeometry.Pointwise(), bias: true, batchNorm: null, activation);

    private static ConvGeometry Geometry(string name, Nhwc input, int outChannels, int kernel, int stride, bool depthwise)
    {
        if (depthwise && outChannels != input.Channels)
            throw new ArgumentException($"{name}: a depthwise conv keeps its {input.Channels} channels, asked for {outChannels}");
        return ConvGeometry.Square(kernel, stride, kernel / 2, depthwise ? input.Channels : 1);
    }
}
