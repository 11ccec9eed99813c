using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;

namespace NanoPose.Models;

/// <summary>
/// The one vocabulary every model family is built with. A family's builder asks for each layer in forward order under
/// its source name (the PyTorch module, or the name a converter maps to); the factory takes the weights from the
/// weight source and packs them, or, when building a replica, hands out the layers of the first instance again in the
/// same order. It keeps every request, so parameters are counted as the source framework counts them, and every
/// layer made for a known input shape, so multiply-accumulates are counted from the graph that runs. A family that
/// plans its activation memory when it is built (one input size) also gets its executor and arena here.
/// </summary>
internal sealed class LayerFactory
{
    private readonly IWeightSource? _weights;
    private readonly Executor? _ops;
    private readonly IReadOnlyList<object>? _shared;
    private readonly List<object> _layers = [];
    private readonly List<ConvRequest> _requests = [];
    private readonly List<(ConvRequest Request, Activation Activation, Nhwc Input, Nhwc Output)> _sized = [];

    /// <param name="weights">Where the weights come from; null when <paramref name="shared"/> is given.</param>
    /// <param name="width">The vector width the layers are packed for.</param>
    /// <param name="ops">The executor and arena of a network built for one input size, if the family plans at build.</param>
    /// <param name="shared">The <see cref="Layers"/> of an instance built before, to be handed out again in order.</param>
    public LayerFactory(IWeightSource? weights, VectorWidth width, Executor? ops = null, IReadOnlyList<object>? shared = null)
    {
        if (weights is null && shared is null) throw new ArgumentException("a layer factory needs a weight source or the layers of an instance built before");
        (_weights, Width, _ops, _shared) = (weights, width, ops, shared);
    }

    public VectorWidth Width { get; }

    /// <summary>The executor of a family that plans at build time.</summary>
    public Executor Ops => _ops ?? throw new InvalidOperationException("this factory was made without an executor");
    public ActivationArena Arena => Ops.Arena;

    /// <summary>A new activation tensor; its memory is planned once the network is built.</summary>
    public FeatureMap Map(Nhwc shape) => Ops.Arena.Allocate(shape);

    /// <summary>Every layer made, in forward order: what a replica is built from.</summary>
    public IReadOnlyList<object> Layers => _layers;

    /// <summary>Every weight request, in forward order.</summary>
    public IReadOnlyList<ConvRequest> Requests => _requests;

    /// <summary>Learnable parameters as PyTorch counts them: weights, biases, BatchNorm scale and shift.</summary>
    public long Parameters => _requests.Sum(ParametersOf);

    /// <summary>Multiply-accumulates of the layers made with an input shape.</summary>
    public long MultiplyAccumulates => _sized.Sum(c => (long)c.Output.Pixels * c.Request.WeightLength);

    /// <summary>The layers made with an input shape: request, activation, input and output shapes (for a family's own FLOP conventions).</summary>
    public IReadOnlyList<(ConvRequest Request, Activation Activation, Nhwc Input, Nhwc Output)> SizedConvs => _sized;

    /// <summary>A convolution named <paramref name="name"/> (its weight is <c>name.weight</c>), with an optional bias and an
    /// optional BatchNorm after it (folded in by the weight source), then <paramref name="activation"/>. A power-of-two
    /// <paramref name="scale"/> multiplies weights and bias, which multiplies every output exactly by it (before the
    /// activation): a network's doubling of a conv's output, folded in.</summary>
    public ConvLayer Conv(string name, int inChannels, int outChannels, ConvGeometry geometry, bool bias, string? batchNorm, Activation activation,
        float scale = 1f)
    {
        if (!float.IsPow2(scale)) throw new ArgumentException($"{name}: scale {scale} is not a power of two, so it would not be exact");
        var request = new ConvRequest(name, outChannels, inChannels / geometry.Groups, geometry.KernelHeight, geometry.KernelWidth, bias, batchNorm);
        return Make(request, () =>
        {
            var weights = _weights!.Conv(request);
            if (scale != 1f) weights = new ConvWeights([.. weights.Weight.Select(w => w * scale)], [.. weights.Bias.Select(b => b * scale)]);
            return new ConvLayer(request, weights, geometry, activation, Width);
        });
    }

    /// <summary>As <see cref="Conv(string, int, int, ConvGeometry, bool, string?, Activation, float)"/> on a known input, whose
    /// multiply-accumulates are counted.</summary>
    public ConvLayer Conv(string name, Nhwc input, int outChannels, ConvGeometry geometry, bool bias, string? batchNorm, Activation activation,
        float scale = 1f)
    {
        if (geometry.Groups > 1 && input.Channels % geometry.Groups != 0)
            throw new ArgumentException($"{name}: {input.Channels} input channels do not split into {geometry.Groups} groups");
        var layer = Conv(name, input.Channels, outChannels, geometry, bias, batchNorm, activation, scale);
        _sized.Add((_requests[^1], activation, input, layer.OutputShape(input)));
        return layer;
    }

    /// <summary>A depthwise k×k convolution (one filter per channel, symmetric padding k/2) on a known input.</summary>
    public ConvLayer Depthwise(string name, Nhwc input, int kernel, int stride, bool bias, string? batchNorm, Activation activation) =>
        Conv(name, input, input.Channels, ConvGeometry.Square(kernel, stride, kernel / 2, input.Channels), bias, batchNorm, activation);

    /// <summary>The 4×4 stride-2 transposed convolution, no bias, with its BatchNorm.</summary>
    public DeconvLayer Deconv(string name, int inChannels, int outChannels, string batchNorm, Activation activation)
    {
        var request = new ConvRequest(name, outChannels, inChannels, 4, 4, HasBias: false, batchNorm, Transposed: true);
        return Make(request, () => DeconvLayer.Create(_weights!, request, activation, Width));
    }

    private T Make<T>(ConvRequest request, Func<T> create) where T : class
    {
        T layer;
        if (_shared is null) layer = create();
        else if (_layers.Count >= _shared.Count || _shared[_layers.Count] is not T sharedLayer || NameOf(sharedLayer) != request.Name)
            throw new InvalidOperationException($"{request.Name}: the shared layers do not match this network ({_shared.Count} layers)");
        else layer = sharedLayer;
        _layers.Add(layer);
        _requests.Add(request);
        return layer;
    }

    private static string NameOf(object layer) => layer switch
    {
        ConvLayer conv => conv.Name,
        DeconvLayer deconv => deconv.Name,
        _ => "",
    };

    /// <summary>Learnable parameters of one request, as PyTorch counts them.</summary>
    public static long ParametersOf(ConvRequest r) =>
        r.WeightLength + (r.HasBias ? r.OutChannels : 0) + (r.BatchNorm is null ? 0 : 2 * r.OutChannels);
}
