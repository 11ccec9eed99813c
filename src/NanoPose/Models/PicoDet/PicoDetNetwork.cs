using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Models.PicoDet;

/// <summary>
/// PicoDet-S (MODELS.md G.3–G.5) built for one input size: PP-LCNet backbone → LCPAN neck (four levels, strides 8 to
/// 64) → PicoHeadV2, one tower per level shared by the class, box and alignment branches. A run gives, per level, the
/// class logit, the alignment logit and the 4 × bins box-side logits (NHWC maps owned by the network);
/// <see cref="PicoDetOutputs"/> turns them into boxes and scores. Every convolution is asked of the weight source in
/// forward order; its activations share one buffer planned by tensor liveness, so a run allocates nothing.
/// As an <see cref="IPoseNetwork"/> (for the raw-network tools: <c>info</c>, <c>forward</c>, <c>bench</c>) its outputs
/// are those maps in level order: class logit, alignment logit, box logits for stride 8, then 16, 32, 64.
/// </summary>
public sealed class PicoDetNetwork : IPoseNetwork
{
    private const int ImageChannels = 3;

    private readonly LayerFactory _f;
    private readonly FeatureMap _image;
    private readonly ConvLayer _stem;
    private readonly FeatureMap _stemOutput;
    private readonly (DepthwiseSeparable Block, FeatureMap Output)[] _backbone;
    private readonly FeatureMap[] _features;   // the outputs of the blocks that feed the neck: C3, C4, C5
    private readonly Neck _neck;
    private readonly HeadLevel[] _head;
    private readonly VectorWidth _width;

    private PicoDetNetwork(PicoDetConfig config, IWeightSource? weights, IReadOnlyList<object>? shared, VectorWidth width,
        int inputHeight, int inputWidth, WorkerPool? pool)
    {
        config.Validate();
        config.RequireInputSize(inputHeight, inputWidth);
        (Config, InputHeight, InputWidth, _width) = (config, inputHeight, inputWidth, width);
        var arena = new ActivationArena();
        _f = new LayerFactory(weights, width, new Executor(width, arena, pool), shared);

        _image = _f.Map(new Nhwc(inputHeight, inputWidth, ImageChannels));
        _stem = _f.Conv("backbone.conv1", _image.Shape, config.StemChannels, ConvGeometry.Square(3, 2, 1), bias: true, batchNorm: null, Activation.HardSwish);
        _stemOutput = _f.Map(_stem.OutputShape(_image.Shape));
        var blocks = config.BackboneBlocks;
        _backbone = new (DepthwiseSeparable, FeatureMap)[blocks.Count];
        var shape = _stemOutput.Shape;
        for (int i = 0; i < blocks.Count; i++)
        {
            var b = blocks[i];
            var block = new DepthwiseSeparable(_f, b.Name, shape, b.OutChannels, b.Kernel, b.Stride, b.SqueezeExcite);
            _backbone[i] = (block, _f.Map(block.OutputShape));
            shape = block.OutputShape;
        }
        _features = [.. PicoDetConfig.FeatureBlocks.Select(name => _backbone[blocks.ToList().FindIndex(b => b.Name == name)].Output)];

        _neck = new Neck(_f, config.NeckChannels, [.. _features.Select(map => map.Shape)]);
        _head = [.. _neck.Outputs.Select((p, level) => new HeadLevel(_f, level, p.Shape, config.RegressionBins))];
        Outputs = new PicoDetOutputs([.. _head.Select((h, level) => new PicoDetLevel(8 << level, h.ClassLogit, h.AlignmentLogit, h.BoxLogits))],
            config.RegressionBins);

        // Every map is made; one traced run tells their lifetimes, and the arena places them in one buffer.
        _f.Ops.Trace(() => RunLayers(null));
        foreach (var level in Outputs.Levels)
        {
            arena.KeepAlive(level.ClassLogit);
            arena.KeepAlive(level.AlignmentLogit);
            arena.KeepAlive(level.BoxLogits);
        }
        arena.Plan();
        (ParameterCount, MultiplyAccumulates, BufferFloats) = (_f.Parameters, _f.MultiplyAccumulates, arena.BufferFloats);
        _forwardOutputs = [.. Outputs.Levels.SelectMany(level => new[] { level.ClassLogit, level.AlignmentLogit, level.BoxLogits })];
    }

    private readonly FeatureMap[] _forwardOutputs;

    /// <summary>Builds the detector for the input size of <paramref name="config"/>, or the given one (sides multiples of 32).</summary>
    public static PicoDetNetwork Build(PicoDetConfig config, IWeightSource weights, VectorWidth width, int? inputHeight = null,
        int? inputWidth = null, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        return new(config, weights, null, width, inputHeight ?? config.InputHeight, inputWidth ?? config.InputWidth, pool);
    }

    /// <summary>Loads a converted detector from a .npw file, for its own input size or the given one.</summary>
    public static PicoDetNetwork Load(NpwFile file, VectorWidth width, int? inputHeight = null, int? inputWidth = null, WorkerPool? pool = null) =>
        Build(file.ReadConfiguration(PicoDetConfig.FromArchitecture), new NpwWeightSource(file), width, inputHeight, inputWidth, pool);

    /// <summary>Another instance sharing the packed weights, with its own activation memory, on one thread.</summary>
    public PicoDetNetwork Replicate() => new(Config, null, _f.Layers, _width, InputHeight, InputWidth, pool: null);

    IPoseNetwork IPoseNetwork.Replicate() => Replicate();

    public PicoDetConfig Config { get; }
    public ModelArchitecture Architecture => Config.ToArchitecture();
    public int InputChannels => ImageChannels;
    public int InputHeight { get; }
    public int InputWidth { get; }
    public long ParameterCount { get; }
    public long MultiplyAccumulates { get; }
    public long BufferFloats { get; }

    /// <summary>The raw outputs of the last run, overwritten by the next.</summary>
    public PicoDetOutputs Outputs { get; }

    public OperationProfile? Profile { get => _f.Ops.Profile; set => _f.Ops.Profile = value; }

    public IReadOnlyList<(string Label, string Value)> Figures => [];

    /// <summary>
    /// Runs the detector on one normalised RGB image, 3 × H × W floats (NCHW). <paramref name="tap"/>, if given, sees the
    /// backbone features (<c>c3</c>–<c>c5</c>), the neck outputs (<c>p3</c>–<c>p6</c>) and per level s the head's
    /// <c>cls_logit_s{s}</c>, <c>align_logit_s{s}</c> and <c>reg_s{s}</c> (the names of the golden taps).
    /// </summary>
    public PicoDetOutputs Run(ReadOnlySpan<float> imageNchw, Action<string, FeatureMap>? tap = null)
    {
        _image.CopyFromNchw(imageNchw);
        RunLayers(tap);
        return Outputs;
    }

    /// <summary>Runs the detector; its 12 raw maps in level order (class, alignment, box logits per stride), owned by the network.</summary>
    public IReadOnlyList<FeatureMap> Forward(ReadOnlySpan<float> imageNchw)
    {
        Run(imageNchw);
        return _forwardOutputs;
    }

    private void RunLayers(Action<string, FeatureMap>? tap)
    {
        var ops = _f.Ops;
        ops.Conv(_stem, _image, _stemOutput);
        var x = _stemOutput;
        foreach (var (block, output) in _backbone)
        {
            block.Run(x, output);
            x = output;
        }
        if (tap is not null)
            for (int i = 0; i < _features.Length; i++) tap($"c{i + 3}", _features[i]);

        _neck.Run(_features);
        if (tap is not null)
            for (int i = 0; i < _neck.Outputs.Length; i++) tap($"p{i + 3}", _neck.Outputs[i]);

        for (int level = 0; level < _head.Length; level++)
        {
            _head[level].Run(_neck.Outputs[level], ops);
            if (tap is null) continue;
            int stride = 8 << level;
            tap($"cls_logit_s{stride}", _head[level].ClassLogit);
            tap($"align_logit_s{stride}", _head[level].AlignmentLogit);
            tap($"reg_s{stride}", _head[level].BoxLogits);
        }
    }

    /// <summary>
    /// LCPAN (MODELS.md G.4): 1×1 laterals to the neck width, a top-down pass (upsampled coarser map concatenated before
    /// the finer lateral, two blocks), a bottom-up pass (downsampled finer map concatenated before the coarser one) and
    /// an extra stride-64 level, the sum of two downsamplings (of the lateral L5 and of P5) with no activation after it.
    /// The concatenations are made in place: each producer writes its own channel slice.
    /// </summary>
    private sealed class Neck
    {
        private readonly LayerFactory _f;
        private readonly ConvLayer[] _laterals;
        private readonly FeatureMap[] _concat;   // top-down 0, top-down 1, bottom-up 0, bottom-up 1: 2 × width channels each
        private readonly FeatureMap[] _first, _second;   // the two halves of each concatenation
        private readonly DepthwiseSeparable[][] _pairs;   // the two blocks after each concatenation
        private readonly FeatureMap[] _pairHidden;
        private readonly DepthwiseSeparable _downP3, _downP4, _extraFromLateral, _extraFromOutput;
        private readonly FeatureMap _extraA, _extraB;

        public Neck(LayerFactory f, int width, Nhwc[] c)
        {
            _f = f;
            var pointwise = ConvGeometry.Pointwise();
            _laterals = [.. c.Select((shape, i) => f.Conv($"neck.lateral.{i}", shape, width, pointwise, true, null, Activation.HardSwish))];
            Nhwc At(Nhwc shape, int channels) => shape with { Channels = channels, PixelStride = channels };
            // [up(L5), L4] at 16, [up(T4), L3] at 8, [down(P3), T4] at 16, [down(P4), L5] at 32.
            _concat = [f.Map(At(c[1], 2 * width)), f.Map(At(c[0], 2 * width)), f.Map(At(c[1], 2 * width)), f.Map(At(c[2], 2 * width))];
            _first = [.. _concat.Select(m => m.Channels(0, width))];
            _second = [.. _concat.Select(m => m.Channels(width, width))];
            string[] names = ["neck.top_down.0", "neck.top_down.1", "neck.bottom_up.0", "neck.bottom_up.1"];
            _pairs = new DepthwiseSeparable[4][];
            _pairHidden = new FeatureMap[4];
            for (int i = 0; i < 4; i++)
            {
                var first = new DepthwiseSeparable(f, names[i] + ".0", _concat[i].Shape, 2 * width, 5, 1);
                _pairHidden[i] = f.Map(first.OutputShape);
                _pairs[i] = [first, new DepthwiseSeparable(f, names[i] + ".1", first.OutputShape, width, 5, 1)];
            }
            Outputs = new FeatureMap[4];
            Outputs[0] = f.Map(At(c[0], width));   // P3
            Outputs[1] = f.Map(At(c[1], width));   // P4
            Outputs[2] = f.Map(At(c[2], width));   // P5
            _downP3 = new DepthwiseSeparable(f, "neck.down.0", Outputs[0].Shape, width, 5, 2);
            _downP4 = new DepthwiseSeparable(f, "neck.down.1", Outputs[1].Shape, width, 5, 2);
            _extraFromLateral = new DepthwiseSeparable(f, "neck.extra_from_lateral", At(c[2], width), width, 5, 2);
            _extraFromOutput = new DepthwiseSeparable(f, "neck.extra_from_output", Outputs[2].Shape, width, 5, 2);
            _extraA = f.Map(_extraFromLateral.OutputShape);
            _extraB = f.Map(_extraFromOutput.OutputShape);
            Outputs[3] = f.Map(_extraFromLateral.OutputShape);   // P6
            if (_downP3.OutputShape.Height != c[1].Height || _downP4.OutputShape.Height != c[2].Height)
                throw new ArgumentException($"neck: downsampled maps do not meet the coarser ones ({c[0]} → {_downP3.OutputShape}, {c[1]})");
        }

        /// <summary>P3, P4, P5, P6.</summary>
        public FeatureMap[] Outputs { get; }

        public void Run(FeatureMap[] c)
        {
            var ops = _f.Ops;
            // Each lateral writes where it is concatenated: L4 after up(L5), L3 after up(T4), L5 after down(P4).
            var (l3, l4, l5, t4) = (_second[1], _second[0], _second[3], _second[2]);
            ops.Conv(_laterals[0], c[0], l3);
            ops.Conv(_laterals[1], c[1], l4);
            ops.Conv(_laterals[2], c[2], l5);
            ops.UpsampleNearest(l5, _first[0], 2);
            RunPair(0, t4);
            ops.UpsampleNearest(t4, _first[1], 2);
            RunPair(1, Outputs[0]);
            _downP3.Run(Outputs[0], _first[2]);
            RunPair(2, Outputs[1]);
            _downP4.Run(Outputs[1], _first[3]);
            RunPair(3, Outputs[2]);
            _extraFromLateral.Run(l5, _extraA);
            _extraFromOutput.Run(Outputs[2], _extraB);
            ops.Add(_extraA, _extraB, Outputs[3]);
        }

        private void RunPair(int i, FeatureMap output)
        {
            _pairs[i][0].Run(_concat[i], _pairHidden[i]);
            _pairs[i][1].Run(_pairHidden[i], output);
        }
    }

    /// <summary>
    /// One level of PicoHeadV2 (MODELS.md G.5): a tower of two depthwise-separable 5×5 blocks gives F; squeeze-excite
    /// (plain sigmoid gate) and a 1×1 + hard-swish give E; the class logit and the box logits are 1×1s of E; the
    /// alignment logit is a dense 5×5 of F (+ hard-swish) and a 1×1 on one channel (a scale and a shift).
    /// </summary>
    private sealed class HeadLevel
    {
        private readonly DepthwiseSeparable _tower0, _tower1;
        private readonly SqueezeExcite _gate;
        private readonly ConvLayer _seConv, _cls, _reg, _alignConv, _alignScale;
        private readonly FeatureMap _towerHidden, _feature, _gated, _excited, _alignHidden;

        public HeadLevel(LayerFactory f, int level, Nhwc input, int bins)
        {
            string p = $"head.{level}.";
            int channels = input.Channels;
            var pointwise = ConvGeometry.Pointwise();
            _tower0 = new DepthwiseSeparable(f, p + "tower.0", input, channels, 5, 1);
            _towerHidden = f.Map(_tower0.OutputShape);
            _tower1 = new DepthwiseSeparable(f, p + "tower.1", _tower0.OutputShape, channels, 5, 1);
            _feature = f.Map(_tower1.OutputShape);
            _gate = new SqueezeExcite(f, _feature.Shape, (p + "se.fc", channels, Activation.Sigmoid));
            _gated = f.Map(_feature.Shape);
            _seConv = f.Conv(p + "se.conv", _feature.Shape, channels, pointwise, true, null, Activation.HardSwish);
            _excited = f.Map(_feature.Shape);
            _cls = f.Conv(p + "cls", _feature.Shape, 1, pointwise, true, null, Activation.None);
            _reg = f.Conv(p + "reg", _feature.Shape, 4 * bins, pointwise, true, null, Activation.None);
            _alignConv = f.Conv(p + "align.conv", _feature.Shape, 1, ConvGeometry.Square(5, 1, 2), true, null, Activation.HardSwish);
            var one = _feature.Shape with { Channels = 1, PixelStride = 1 };
            _alignScale = f.Conv(p + "align.scale", one, 1, pointwise, true, null, Activation.None);
            _alignHidden = f.Map(one);
            ClassLogit = f.Map(one);
            AlignmentLogit = f.Map(one);
            BoxLogits = f.Map(_feature.Shape with { Channels = 4 * bins, PixelStride = 4 * bins });
        }

        public FeatureMap ClassLogit { get; }
        public FeatureMap AlignmentLogit { get; }
        public FeatureMap BoxLogits { get; }

        public void Run(FeatureMap input, Executor ops)
        {
            _tower0.Run(input, _towerHidden);
            _tower1.Run(_towerHidden, _feature);
            _gate.Run(_feature, _gated);
            ops.Conv(_seConv, _gated, _excited);
            ops.Conv(_cls, _excited, ClassLogit);
            ops.Conv(_reg, _excited, BoxLogits);
            ops.Conv(_alignConv, _feature, _alignHidden);
            ops.Conv(_alignScale, _alignHidden, AlignmentLogit);
        }
    }
}

/// <summary>One output level of the detector: its stride and its raw maps (H×W×1, H×W×1, H×W×4·bins).</summary>
public sealed record PicoDetLevel(int Stride, FeatureMap ClassLogit, FeatureMap AlignmentLogit, FeatureMap BoxLogits);

/// <summary>The detector's raw outputs, level by level (strides 8, 16, 32, 64).</summary>
public sealed record PicoDetOutputs(IReadOnlyList<PicoDetLevel> Levels, int RegressionBins)
{
    /// <summary>Anchors over all levels: one per cell of every level's map.</summary>
    public int AnchorCount => Levels.Sum(l => l.ClassLogit.Height * l.ClassLogit.Width);
}
