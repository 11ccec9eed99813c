using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// EfficientHRNet H0 … H−4 (MODELS.md B), built from its <see cref="EfficientHrnetConfig"/>: the scaled EfficientNet
/// backbone, transitions (3×3 conv with bias + BN + ReLU) into HRNet stages 2–4, and the heatmap network. Input: a
/// normalised RGB image (3 channels, sides multiples of 32); outputs: 17 heatmaps + 17 tags at R/4 and 17 (or 34)
/// heatmaps at R/2. Every weight is requested at construction, in forward order.
/// </summary>
public sealed class EfficientHrnetModel
{
    private readonly EfficientNetBackbone _backbone;
    private readonly ConvLayer[][] _transitions;   // before stages 2, 3, 4: one per branch
    private readonly HrnetModule[][] _stages;      // stages 2, 3, 4
    private readonly HeatmapNetwork _head;
    private readonly VectorWidth _width;
    private EfficientHrnetPlan? _plan;   // for Run(image): the executor planned for the last input size

    public EfficientHrnetModel(EfficientHrnetConfig config, IWeightSource weights, VectorWidth width)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        (Config, _width) = (config, width);
        var layers = new LayerFactory(weights, width);
        _backbone = new EfficientNetBackbone(layers, config);
        var c = config.BranchChannels;
        _transitions = new ConvLayer[3][];
        _stages = new HrnetModule[3][];
        for (int s = 0; s < 3; s++)
        {
            int branches = s + 2;
            _transitions[s] = [.. Enumerable.Range(0, branches).Select(k =>
            {
                int inChannels = TransitionInput(s, k, _backbone.TapChannels, c[..(branches - 1)]);
                string name = $"trans{s + 1}_branch{k + 1}";
                return layers.Conv3x3(name + ".0", inChannels, c[k], true, name + ".1", Activation.ReLU);
            })];
            int modules = config.StageModules[s];
            _stages[s] = [.. Enumerable.Range(0, modules).Select(m =>
                new HrnetModule(layers, $"stage{s + 2}.{m}", c[..branches], multiScaleOutput: s < 2 || m < modules - 1))];
        }
        _head = new HeatmapNetwork(layers, config);
        Requests = [.. layers.Requests];
        ParameterCount = layers.Parameters;
    }

    /// <summary>Loads a converted model: configuration and weights from a .npw file, which must hold no other tensors.</summary>
    public static EfficientHrnetModel Load(NpwFile file, VectorWidth width)
    {
        var model = new EfficientHrnetModel(file.ReadConfiguration(EfficientHrnetConfig.FromArchitecture), new NpwWeightSource(file), width);
        file.RequireEveryTensorUsed();
        return model;
    }

    public EfficientHrnetConfig Config { get; }

    /// <summary>Every convolution the network asked its weight source for, in forward order.</summary>
    public IReadOnlyList<ConvRequest> Requests { get; }

    /// <summary>
    /// Runs the network on one thread. The outputs live in activation memory planned for this input size (planned again
    /// when the size changes): the next run overwrites them, and a model runs one image at a time. <paramref name="tap"/>,
    /// if given, sees the intermediate features as they are produced: <c>backbone_tap0..3</c> and
    /// <c>stage{2,3,4}_branch{b}</c> (the names of the golden arrays); a tapped map is valid only during the call.
    /// </summary>
    public EfficientHrnetOutputs Run(FeatureMap image, Action<string, FeatureMap>? tap = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        RequireInput(image.Shape);
        if (_plan is null || _plan.Input != image.Shape) _plan = Plan(image.Shape, pool: null);
        var (quarter, half) = Run(image, _plan.Ops, tap);
        return new EfficientHrnetOutputs(quarter, half);
    }

    /// <summary>An executor for <paramref name="input"/>-sized images whose activation memory is planned by a traced run.</summary>
    internal EfficientHrnetPlan Plan(Nhwc input, WorkerPool? pool)
    {
        RequireInput(input);
        var ops = new Executor(_width, new ActivationArena(), pool);
        FeatureMap? quarter = null, half = null;
        ops.Trace(() => (quarter, half) = Run(new FeatureMap(new TensorStorage(null, 0), 0, input), ops, null));
        ops.Arena.KeepAlive(quarter!);
        ops.Arena.KeepAlive(half!);
        ops.Arena.Plan();
        return new EfficientHrnetPlan(input, ops);
    }

    /// <summary>One run with <paramref name="ops"/>, which must have been planned for this input size by <see cref="Plan"/>.</summary>
    internal (FeatureMap Quarter, FeatureMap Half) Run(FeatureMap image, Executor ops, Action<string, FeatureMap>? tap)
    {
        ops.Arena.Rewind();
        var taps = _backbone.Run(image, ops);
        if (tap is not null)
            for (int t = 0; t < taps.Length; t++) tap($"backbone_tap{t}", taps[t]);

        FeatureMap[] x = [];
        for (int s = 0; s < 3; s++)
        {
            var previous = x;
            x = ops.Arena.MapList(_transitions[s].Length);
            for (int k = 0; k < x.Length; k++)
            {
                var conv = _transitions[s][k];
                var source = TransitionInput(s, k, taps, previous);
                x[k] = ops.Arena.Allocate(conv.OutputShape(source.Shape));
                ops.Conv(conv, source, x[k]);
            }
            foreach (var module in _stages[s]) x = module.Run(x, ops);
            if (tap is not null)
                for (int b = 0; b < x.Length; b++) tap($"stage{s + 2}_branch{b}", x[b]);
        }
        return _head.Run(x[0], ops);
    }

    /// <summary>Learnable parameters as PyTorch counts them: conv weights and biases, BatchNorm weight and bias.</summary>
    public long ParameterCount { get; }

    /// <summary>Parameters of the EfficientNet feature extractor (<c>features.*</c>).</summary>
    public long BackboneParameterCount => Requests.Where(r => r.Name.StartsWith("features.", StringComparison.Ordinal)).Sum(LayerFactory.ParametersOf);

    /// <summary>Multiply-accumulates of one run on a <paramref name="height"/>×<paramref name="width"/> image (every conv,
    /// the squeeze-excite ones and the transposed one included; pooling, adds and resizes are not MACs).</summary>
    public long MultiplyAccumulates(int height, int width)
    {
        var image = new Nhwc(height, width, 3);
        RequireInput(image);
        var taps = _backbone.TapShapes(image);
        long macs = _backbone.MultiplyAccumulates(image);
        Nhwc[] branches = [];
        for (int s = 0; s < 3; s++)
        {
            var previous = branches;
            var inputs = _transitions[s].Select((_, k) => TransitionInput(s, k, taps, previous)).ToArray();
            branches = [.. _transitions[s].Select((conv, k) => conv.OutputShape(inputs[k]))];
            macs += _transitions[s].Select((conv, k) => conv.MultiplyAccumulates(inputs[k])).Sum();
            foreach (var module in _stages[s]) macs += module.MultiplyAccumulates(branches);
        }
        return macs + _head.MultiplyAccumulates(branches[0]);
    }

    /// <summary>
    /// The EfficientHRNet README's figures (HigherHRNet's <c>get_model_summary</c>, MODELS.md B.8): every MBConv block's
    /// parameters are counted a second time (its class name contains "Conv"), and the transposed conv's mult-adds are
    /// its weight count times its output pixels, four times its true MACs.
    /// </summary>
    public (long Parameters, long MultiplyAdds) SummaryStyleComplexity(int height, int width)
    {
        long mbconvParameters = BackboneParameterCount - Requests.Where(r => r.Name.StartsWith("features.0.", StringComparison.Ordinal)).Sum(LayerFactory.ParametersOf);
        long deconv = _head.DeconvMultiplyAccumulates(new Nhwc(height / 4, width / 4, Config.BranchChannels[0]));
        return (ParameterCount + mbconvParameters, MultiplyAccumulates(height, width) + 3 * deconv);
    }

    /// <summary>What transition k before stage s + 2 reads: stage 2 reads taps 0 and 1; a later stage re-projects the
    /// previous stage's branches and adds a branch from the next tap.</summary>
    private static T TransitionInput<T>(int s, int k, T[] taps, T[] previous) =>
        s == 0 ? taps[k] : k < previous.Length ? previous[k] : taps[s + 1];

    private static void RequireInput(Nhwc image)
    {
        if (image.Channels != 3 || image.Height < 32 || image.Width < 32 || image.Height % 32 != 0 || image.Width % 32 != 0)
            throw new ArgumentException(
                $"EfficientHRNet takes a 3-channel image with sides that are multiples of 32 (its branches halve four times), found {image.Height}×{image.Width}×{image.Channels}",
                nameof(image));
    }
}

/// <summary>The two predictions: 17 heatmaps then 17 tags at R/4, and the heatmaps (17, or 34 with tags) at R/2.</summary>
public sealed record EfficientHrnetOutputs(FeatureMap HeatmapsAndTags, FeatureMap Heatmaps);

/// <summary>An executor whose activation arena is planned for one input shape.</summary>
internal sealed record EfficientHrnetPlan(Nhwc Input, Executor Ops);
