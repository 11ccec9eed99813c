using System.Globalization;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Common;
using NanoPose.Layers;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// Lite-HRNet (and Naive Lite-HRNet) with its top-down heatmap head, as the official code runs it (MODELS.md A):
/// stem → for each stage: transition, modules → IterativeHead → 1×1 final layer, giving one heatmap per keypoint at
/// a quarter of the input size. Built for one input size; every convolution is asked of the weight source in
/// forward order under its PyTorch name. Its activations share one buffer planned by tensor liveness
/// (<see cref="BufferFloats"/>); a run allocates nothing.
/// </summary>
public sealed class LiteHrnetNetwork : IPoseNetwork
{
    private const int ImageChannels = 3;

    private readonly FeatureMap _image;
    private readonly Executor _ops;
    private readonly Stem _stem;
    private readonly (Transition Transition, LiteHrnetModule[] Modules)[] _stages;
    private readonly IterativeHead _head;
    private readonly ConvLayer _finalLayer;
    private readonly FeatureMap _heatmaps;
    private readonly FeatureMap[] _stemOutput, _outputs;
    private readonly long _readmeFlops;

    private readonly IReadOnlyList<object> _layers;
    private readonly VectorWidth _width;

    private LiteHrnetNetwork(LiteHrnetConfig config, IWeightSource? weights, IReadOnlyList<object>? sharedLayers, VectorWidth width,
        int inputHeight, int inputWidth, WorkerPool? pool)
    {
        config.Validate();
        if (inputHeight <= 0 || inputWidth <= 0 || inputHeight % config.SizeMultiple != 0 || inputWidth % config.SizeMultiple != 0)
            throw new ArgumentException($"Lite-HRNet {config.Variant}: input {inputHeight}×{inputWidth} must have sides that are positive multiples of {config.SizeMultiple}");
        if (inputHeight > LiteHrnetConfig.MaxInputSide || inputWidth > LiteHrnetConfig.MaxInputSide)
            throw new ArgumentException($"Lite-HRNet {config.Variant}: input {inputHeight}×{inputWidth} has a side over {LiteHrnetConfig.MaxInputSide}");
        (Config, InputHeight, InputWidth, _width) = (config, inputHeight, inputWidth, width);
        var arena = new ActivationArena();
        var f = new LayerFactory(weights, width, new Executor(width, arena, pool), sharedLayers);
        var readmeFlops = new ReadmeFlops();
        _ops = f.Ops;

        _image = f.Map(new Nhwc(inputHeight, inputWidth, ImageChannels));
        _stem = new Stem(f, config, _image.Shape);
        _stemOutput = [_stem.Output];
        IReadOnlyList<FeatureMap> branches = _stemOutput;
        _stages = new (Transition, LiteHrnetModule[])[config.Stages.Count];
        for (int s = 0; s < config.Stages.Count; s++)
        {
            var stage = config.Stages[s];
            var transition = new Transition(f, s, branches, stage.Channels);
            branches = transition.Outputs;
            var modules = new LiteHrnetModule[stage.Modules];
            for (int m = 0; m < stage.Modules; m++)
            {
                modules[m] = new LiteHrnetModule(f, readmeFlops, config.ModuleType, stage, $"backbone.stage{s}.{m}", branches);
                branches = modules[m].Outputs;
            }
            _stages[s] = (transition, modules);
        }
        _head = new IterativeHead(f, branches);
        var features = _head.Output;
        _finalLayer = f.BiasedConv("keypoint_head.final_layer", features.Shape, config.HeadOutChannels);
        _heatmaps = f.Map(_finalLayer.OutputShape(features.Shape));
        _outputs = [_heatmaps];
        _layers = f.Layers;

        // Every map is made; one traced run tells their lifetimes, and the arena places them in one buffer.
        _ops.Trace(() => RunLayers(null));
        arena.KeepAlive(_heatmaps);
        arena.Plan();
        (ParameterCount, MultiplyAccumulates, _readmeFlops, BufferFloats, UnplannedBufferFloats, PeakLiveFloats) =
            (f.Parameters, f.MultiplyAccumulates, readmeFlops.Total(f), arena.BufferFloats, arena.UnplannedFloats, arena.PeakLiveFloats);
    }

    /// <summary>Builds the network for the input size of <paramref name="config"/>, or the given one (sides multiples of
    /// <see cref="LiteHrnetConfig.SizeMultiple"/>). With a <paramref name="pool"/>, large operations are split over its threads.</summary>
    public static LiteHrnetNetwork Build(LiteHrnetConfig config, IWeightSource weights, VectorWidth width, int? inputHeight = null, int? inputWidth = null,
        WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return new(config, weights, null, width, inputHeight ?? config.InputHeight, inputWidth ?? config.InputWidth, pool);
    }

    /// <inheritdoc/>
    public IPoseNetwork Replicate() => new LiteHrnetNetwork(Config, null, _layers, _width, InputHeight, InputWidth, pool: null);

    public LiteHrnetConfig Config { get; }
    public ModelArchitecture Architecture => Config.ToArchitecture();
    public int InputChannels => ImageChannels;
    public int InputHeight { get; }
    public int InputWidth { get; }
    public long ParameterCount { get; }
    public long MultiplyAccumulates { get; }

    /// <summary>Floats of the activation buffer, planned by tensor liveness.</summary>
    public long BufferFloats { get; }

    public OperationProfile? Profile { get => _ops.Profile; set => _ops.Profile = value; }

    /// <summary>Floats the activations would take with a buffer each.</summary>
    public long UnplannedBufferFloats { get; }

    /// <summary>The most activation floats alive at one point of a run: the least any plan can use.</summary>
    public long PeakLiveFloats { get; }

    /// <summary>FLOPs as the Lite-HRNet README prints them: torchstat's count divided by 2^20 (MODELS.md A.11).</summary>
    public double ReadmeMegaFlops => _readmeFlops / (double)(1 << 20);

    public IReadOnlyList<(string Label, string Value)> Figures =>
        [("FLOPs, Lite-HRNet README convention (torchstat / 2^20)", ReadmeMegaFlops.ToString("F1", CultureInfo.InvariantCulture) + "M")];

    /// <summary>
    /// Runs the network on one C × H × W image and returns the heatmaps (keypoints × H/4 × W/4, NHWC, owned by the
    /// network). <paramref name="tap"/>, if given, sees the stem output (<c>stem</c>) and every stage's branch outputs
    /// (<c>stage{s}_branch{b}</c>) as they are made.
    /// </summary>
    public FeatureMap Run(ReadOnlySpan<float> imageNchw, Action<string, FeatureMap>? tap = null)
    {
        _image.CopyFromNchw(imageNchw);
        RunLayers(tap);
        return _heatmaps;
    }

    private void RunLayers(Action<string, FeatureMap>? tap)
    {
        _stem.Run(_image);
        tap?.Invoke("stem", _stem.Output);
        IReadOnlyList<FeatureMap> branches = _stemOutput;
        for (int s = 0; s < _stages.Length; s++)
        {
            var (transition, modules) = _stages[s];
            branches = transition.Run(branches);
            foreach (var module in modules) branches = module.Run();
            if (tap is not null)
                for (int b = 0; b < branches.Count; b++) tap($"stage{s}_branch{b}", branches[b]);
        }
        _ops.Conv(_finalLayer, _head.Run(), _heatmaps);
    }

    public IReadOnlyList<FeatureMap> Forward(ReadOnlySpan<float> imageNchw)
    {
        Run(imageNchw);
        return _outputs;
    }
}
