using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// What every part of the network is built with: the weight source (asked for each convolution in forward order,
/// under its PyTorch module name), the executor with its activation arena, and the tally of parameters and
/// operations that <c>nanopose info</c> reports. Given the layers of an instance built before
/// (<paramref name="shared"/>), it hands those out again in the same order instead of packing weights anew.
/// </summary>
internal sealed class LayerFactory(IWeightSource? weights, Executor ops, IReadOnlyList<ConvLayer>? shared = null)
{
    private readonly List<ConvLayer> _layers = [];

    public Executor Ops => ops;
    public ActivationArena Arena => ops.Arena;

    /// <summary>Every convolution made, in forward order.</summary>
    public IReadOnlyList<ConvLayer> Layers => _layers;
    public long Parameters { get; private set; }
    public long MultiplyAccumulates { get; private set; }

    /// <summary>FLOPs as the Lite-HRNet README counts them (torchstat, MODELS.md A.11): conv MACs (+ one per output
    /// if biased), 2 per BatchNorm output, 1 per ReLU output; non-convolution terms are added with <see cref="CountReadmeFlops"/>.</summary>
    public long ReadmeFlops { get; private set; }

    /// <summary>A new activation tensor; its memory is planned once the network is built.</summary>
    public FeatureMap Map(Nhwc shape) => ops.Arena.Allocate(shape);

    /// <summary>An mmcv ConvModule: <c>&lt;prefix&gt;.conv</c> without bias, BatchNorm <c>&lt;prefix&gt;.bn</c>, then the activation.</summary>
    public ConvLayer ConvModule(string prefix, Nhwc input, int outChannels, int kernel = 1, int stride = 1,
        bool depthwise = false, Activation activation = Activation.None) =>
        Conv(prefix + ".conv", prefix + ".bn", input, outChannels, kernel, stride, depthwise, activation, hasBias: false);

    /// <summary>A conv inside an <c>nn.Sequential</c>: <c>&lt;prefix&gt;.&lt;index&gt;</c>, its BatchNorm at <c>index + 1</c>.</summary>
    public ConvLayer SequentialConv(string prefix, int index, Nhwc input, int outChannels, int kernel = 1, int stride = 1,
        bool depthwise = false, Activation activation = Activation.None) =>
        Conv($"{prefix}.{index}", $"{prefix}.{index + 1}", input, outChannels, kernel, stride, depthwise, activation, hasBias: false);

    /// <summary>A 1×1 conv with a bias and no BatchNorm (spatial weighting, the keypoint head's final layer).</summary>
    public ConvLayer BiasedConv(string name, Nhwc input, int outChannels, Activation activation = Activation.None) =>
        Conv(name, batchNorm: null, input, outChannels, kernel: 1, stride: 1, depthwise: false, activation, hasBias: true);

    /// <summary>Adds a term of the README FLOPs that is not a convolution (pooling, upsampling, a shared ReLU).</summary>
    public void CountReadmeFlops(long flops) => ReadmeFlops += flops;

    ConvLayer Conv(string name, string? batchNorm, Nhwc input, int outChannels, int kernel, int stride, bool depthwise,
        Activation activation, bool hasBias)
    {
        int groups = depthwise ? input.Channels : 1;
        if (depthwise && outChannels != input.Channels)
            throw new ArgumentException($"{name}: a depthwise conv keeps its {input.Channels} channels, asked for {outChannels}");
        var request = new ConvRequest(name, outChannels, input.Channels / groups, kernel, kernel, hasBias, batchNorm);
        var geometry = ConvGeometry.Square(kernel, stride, kernel / 2, groups);
        ConvLayer layer;
        if (shared is null) layer = ConvLayer.Create(weights!, request, geometry, activation, ops.Width);
        else if (_layers.Count >= shared.Count || shared[_layers.Count].Name != name)
            throw new InvalidOperationException($"{name}: the shared layers do not match this network ({shared.Count} layers)");
        else layer = shared[_layers.Count];
        _layers.Add(layer);

        var output = layer.OutputShape(input);
        long outputs = (long)output.Pixels * output.Channels, macs = layer.MultiplyAccumulates(input);
        Parameters += request.WeightLength + (hasBias ? outChannels : 0) + (batchNorm is null ? 0 : 2 * outChannels);
        MultiplyAccumulates += macs;
        ReadmeFlops += macs + (hasBias ? outputs : 0) + (batchNorm is null ? 0 : 2 * outputs) + (activation == Activation.ReLU ? outputs : 0);
        return layer;
    }
}
