using System.Collections.Concurrent;
using System.Diagnostics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Depthwise;
using NanoPose.Kernels.Simd;

namespace NanoPose.Layers;

/// <summary>
/// One convolution of a network, ready to run: weights packed once for the chosen vector width, BatchNorm
/// folded into the bias, activation and residual add fused into the store. A depthwise convolution
/// (groups = in = out channels) runs the depthwise kernel; every other one the dense kernel, which routes
/// 1×1 convs to its GEMM. A dense 3×3 stride-1 layer may run Winograd F(2×2) or F(4×4) instead, per output size, when
/// that measured faster at load (<see cref="ChooseKernel"/>); the direct kernel stays the fallback.
/// </summary>
public sealed class ConvLayer
{
    private readonly float[] _packed;
    private readonly float[] _bias;
    private readonly VectorWidth _width;
    /// <summary>PyTorch weights, kept for a layer Winograd may run (packed for a variant when it is first measured).</summary>
    private readonly float[]? _weights;
    private readonly ConcurrentDictionary<WinogradTile, float[]> _winogradPacked = new();
    /// <summary>Per output (height, width): the Winograd variant chosen for it, absent for the direct kernel.</summary>
    private readonly ConcurrentDictionary<(int Height, int Width), WinogradTile> _winogradChoice = new();

    public ConvLayer(ConvRequest request, ConvWeights weights, ConvGeometry geometry, Activation activation, VectorWidth width)
    {
        if (request.Transposed) throw new ArgumentException($"{request.Name}: a transposed convolution needs a {nameof(DeconvLayer)}");
        if (request.KernelHeight != geometry.KernelHeight || request.KernelWidth != geometry.KernelWidth)
            throw new ArgumentException($"{request.Name}: weights are {request.KernelHeight}×{request.KernelWidth}, geometry says {geometry.KernelHeight}×{geometry.KernelWidth}");
        Name = request.Name;
        OutChannels = request.OutChannels;
        InChannels = request.InChannelsPerGroup * geometry.Groups;
        Geometry = geometry;
        Activation = activation;
        IsDepthwise = geometry.Groups > 1 && geometry.Groups == InChannels && geometry.Groups == OutChannels
            && geometry.KernelHeight == geometry.KernelWidth && geometry.StrideY == geometry.StrideX;
        Kind = $"{(IsDepthwise ? "depthwise" : "conv")} {geometry.KernelHeight}×{geometry.KernelWidth}";
        // Depthwise channels that do not fill 512-bit vectors run faster 256 bits wide (kernels/KERNELS.md).
        _width = IsDepthwise ? DepthwiseConv2d.PreferredWidth(width, OutChannels) : width;
        _bias = weights.Bias;
        if (IsDepthwise)
        {
            _packed = new float[DepthwiseConv2d.PackedWeightLength(OutChannels, geometry.KernelHeight)];
            DepthwiseConv2d.PackWeights(weights.Weight, OutChannels, geometry.KernelHeight, _packed);
        }
        else
        {
            _packed = new float[Conv2d.PackedWeightsLength(width, OutChannels, InChannels, geometry)];
            Conv2d.PackWeights(width, weights.Weight, OutChannels, InChannels, geometry, _packed);
            // The scalar width stays the plain reference: Winograd only for the vector bodies.
            if (width != VectorWidth.Scalar && Winograd.Supports(geometry))
                _weights = weights.Weight;
        }
    }

    /// <summary>Asks <paramref name="source"/> for the weights of <paramref name="request"/> and packs them.</summary>
    public static ConvLayer Create(IWeightSource source, ConvRequest request, ConvGeometry geometry, Activation activation, VectorWidth width) =>
        new(request, source.Conv(request), geometry, activation, width);

    public string Name { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public ConvGeometry Geometry { get; }
    public Activation Activation { get; }
    public bool IsDepthwise { get; }

    public Nhwc OutputShape(Nhwc input) => Geometry.OutputShape(input, OutChannels);

    /// <summary>"depthwise 3×3", "conv 1×1", "conv 3×3": the kind of kernel that runs this layer, for profiles.</summary>
    public string Kind { get; }

    /// <summary>The layer on one input, for profiles: name, kind (with the Winograd variant chosen for this size),
    /// channels, stride and sizes.</summary>
    public string Describe(Nhwc input)
    {
        var output = OutputShape(input);
        return $"{Name}: {KindFor(output)} {InChannels}→{OutChannels} stride {Geometry.StrideY}, {input.Height}×{input.Width} → {output.Height}×{output.Width}";
    }

    /// <summary>Multiply-accumulates of one run on an input of this size.</summary>
    public long MultiplyAccumulates(Nhwc input)
    {
        var output = OutputShape(input);
        return (long)output.Pixels * OutChannels * (InChannels / Geometry.Groups) * Geometry.KernelHeight * Geometry.KernelWidth;
    }

    /// <summary>Whether the pointwise GEMM runs this layer, split by output pixels rather than rows.</summary>
    private bool SplitsByPixel => _width != VectorWidth.Scalar && Geometry.IsPointwise && Geometry.Groups == 1;

    /// <summary>The units a run can be split into: output pixels for a 1×1 GEMM, rows of Winograd tiles, output rows otherwise.</summary>
    public int SplitUnits(Nhwc output) =>
        SplitsByPixel ? output.Pixels
        : WinogradFor(output) is { } tile ? (output.Height + (int)tile - 1) / (int)tile
        : output.Height;

    /// <summary>"conv 3×3" or, where Winograd runs this output size, "conv 3×3 Winograd F4x4": for profiles.</summary>
    public string KindFor(Nhwc output) => WinogradFor(output) is { } tile ? $"{Kind} Winograd {tile}" : Kind;

    private WinogradTile? WinogradFor(Nhwc output) =>
        _weights is not null && _winogradChoice.TryGetValue((output.Height, output.Width), out var tile) ? tile : null;

    /// <summary>Below this many multiply-accumulates a layer keeps the direct kernel unmeasured (transform overheads).</summary>
    private const long WinogradMinimumMacs = 1 << 20;

    /// <summary>Winograd must beat the direct kernel by this factor to be chosen, so timing noise does not flip choices.</summary>
    private const double WinogradMargin = 0.9;

    /// <summary>Choices measured so far, shared by layers of the same shape (the weights' values do not change the time).</summary>
    private static readonly ConcurrentDictionary<(VectorWidth, Nhwc, int, Padding2d, Activation, bool), WinogradTile?> MeasuredShapes = new();

    /// <summary>
    /// At load (the executor's planning run calls this for every convolution with its input size): for a dense 3×3
    /// stride-1 layer, times the direct kernel and Winograd F(2×2) and F(4×4) on this shape, one thread, 7 alternating
    /// rounds, best of each, and keeps the fastest (Winograd only when at least 10 % faster). Layers of a shape measured
    /// before take that result. Other layers, and layers too small to gain, keep the direct kernel.
    /// </summary>
    public void ChooseKernel(Nhwc input, bool hasResidual)
    {
        if (_weights is null || input.Channels != InChannels) return;
        var output = OutputShape(input);
        if (_winogradChoice.ContainsKey((output.Height, output.Width))) return;
        var forced = ForcedWinograd();
        if (forced is null && MultiplyAccumulates(input) < WinogradMinimumMacs) return;
        var key = (_width, input with { PixelStride = InChannels }, OutChannels, Geometry.Padding, Activation, hasResidual);
        var choice = forced is { } f ? f.Tile : MeasuredShapes.GetOrAdd(key, _ => MeasureFastest(input, output, hasResidual));
        if (choice is { } tile)
        {
            WinogradPacked(tile);
            _winogradChoice[(output.Height, output.Width)] = tile;
        }
        // The variants measured but chosen for no size give their memory back (F4x4 holds 4× the weights).
        foreach (var packed in _winogradPacked.Keys)
            if (!_winogradChoice.Values.Contains(packed)) _winogradPacked.TryRemove(packed, out _);
    }

    /// <summary>The environment variable that overrides the measured choice: <c>direct</c>, <c>F2x2</c> or <c>F4x4</c> for
    /// every dense 3×3 stride-1 layer (tests of each variant's error; reproducible kernels across processes).</summary>
    public const string WinogradVariable = "NANOPOSE_WINOGRAD";

    /// <summary>The override of <see cref="WinogradVariable"/>, null when unset (measure).</summary>
    private static (WinogradTile? Tile, bool)? ForcedWinograd() => Environment.GetEnvironmentVariable(WinogradVariable) switch
    {
        null or "" => null,
        "direct" => (null, true),
        "F2x2" => (WinogradTile.F2x2, true),
        "F4x4" => (WinogradTile.F4x4, true),
        var other => throw new InvalidOperationException($"{WinogradVariable}: expected direct, F2x2 or F4x4 (or unset: measured per layer), found '{other}'"),
    };

    /// <summary>The weights packed for <paramref name="tile"/>, packed on first use. Looked up before GetOrAdd: its
    /// factory captures this layer, a delegate allocated on every call of a forward pass that should allocate nothing.</summary>
    private float[] WinogradPacked(WinogradTile tile) => _winogradPacked.TryGetValue(tile, out var packed) ? packed
        : _winogradPacked.GetOrAdd(tile, t =>
        {
            var weights = new float[Winograd.PackedWeightsLength(_width, t, OutChannels, InChannels)];
            Winograd.PackWeights(_width, t, _weights!, OutChannels, InChannels, weights);
            return weights;
        });

    private WinogradTile? MeasureFastest(Nhwc input, Nhwc output, bool hasResidual)
    {
        // The first 16 output rows (a multiple of both tiles) stand for the map: they cost what any 16 rows cost, and
        // whole maps made loading H0 seconds slower and took memory the input-size limits do not allow for.
        input = input with { Height = Math.Min(input.Height, 16 + 2 - Geometry.Padding.Top - Geometry.Padding.Bottom), PixelStride = input.Channels };
        if (input.Height < 1 || Geometry.OutputHeight(input.Height) < 1) return null;
        output = OutputShape(input);
        var random = new Random(1);
        var inputMap = FeatureMap.Allocate(input.Height, input.Width, input.Channels);
        foreach (ref float value in inputMap.Span) value = random.NextSingle() - 0.5f;
        var outputMap = FeatureMap.Allocate(output.Height, output.Width, output.Channels);
        var residualMap = hasResidual ? FeatureMap.Allocate(output.Height, output.Width, output.Channels) : null;
        WinogradTile?[] candidates = [null, WinogradTile.F2x2, WinogradTile.F4x4];
        var best = new double[candidates.Length];
        Array.Fill(best, double.MaxValue);
        // Alternating rounds, so drift (JIT tiers, the other core's load) touches every candidate alike.
        for (int round = 0; round < 7; round++)
            for (int c = 0; c < candidates.Length; c++)
            {
                long start = Stopwatch.GetTimestamp();
                RunKernel(candidates[c], inputMap, outputMap, residualMap, 0, output.Height);
                best[c] = Math.Min(best[c], Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        int fastest = best[1] <= best[2] ? 1 : 2;
        return best[fastest] < WinogradMargin * best[0] ? candidates[fastest] : null;
    }

    /// <summary>output = act(conv(input) + bias [+ residual]).</summary>
    public void Run(FeatureMap input, FeatureMap output, FeatureMap? residual = null) => Run(input, output, residual, 0, 1);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> equal contiguous ranges of the
    /// <see cref="SplitUnits"/>: every output value is computed exactly as by a whole run.</summary>
    /// <param name="rowSums">Depthwise layers only: an H×1×C map that receives each output row's channel sums (a global
    /// pool of the output taken in the epilogue, <see cref="DepthwiseConv2d.RunRows"/>).</param>
    public void Run(FeatureMap input, FeatureMap output, FeatureMap? residual, int part, int parts, FeatureMap? rowSums = null)
    {
        if (input.ChannelCount != InChannels)
            throw new ArgumentException($"{Name}: input has {input.ChannelCount} channels, the layer takes {InChannels}");
        if (rowSums is not null && (!IsDepthwise || rowSums.Shape != new Nhwc(output.Height, 1, OutChannels)))
            throw new ArgumentException($"{Name}: row sums are for depthwise layers, into {output.Height}×1×{OutChannels}; this is {Kind} and they are {rowSums.Shape}");
        var epilogue = new Epilogue
        {
            Bias = _bias,
            Activation = Activation,
            Residual = residual is null ? default : residual.Span,
            ResidualPixelStride = residual?.Shape.PixelStride ?? 0,
        };
        var (start, end) = Threading.WorkerPool.Range(SplitUnits(output.Shape), part, parts);
        if (IsDepthwise)
            DepthwiseConv2d.RunRows(_width, input.Span, input.Shape, _packed, Geometry, output.Span, output.Shape, epilogue, start, end,
                rowSums is null ? default : rowSums.Span);
        else if (SplitsByPixel)
            Pointwise.RunPixels(_width, input.Span, input.Shape, _packed, output.Span, output.Shape, epilogue, start, end);
        else if (WinogradFor(output.Shape) is { } tile)
            RunKernel(tile, input, output, residual, start * (int)tile, Math.Min(output.Height, end * (int)tile));
        else
            RunKernel(null, input, output, residual, start, end);
    }

    /// <summary>Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) by Winograd <paramref name="tile"/>, or
    /// by the direct dense kernel when it is null.</summary>
    private void RunKernel(WinogradTile? tile, FeatureMap input, FeatureMap output, FeatureMap? residual, int rowStart, int rowEnd)
    {
        var epilogue = new Epilogue
        {
            Bias = _bias,
            Activation = Activation,
            Residual = residual is null ? default : residual.Span,
            ResidualPixelStride = residual?.Shape.PixelStride ?? 0,
        };
        if (tile is not { } t)
        {
            Conv2d.RunRows(_width, input.Span, input.Shape, _packed, Geometry, output.Span, output.Shape, epilogue, rowStart, rowEnd);
            return;
        }
        int length = Winograd.ScratchLength(_width, t, OutChannels, InChannels);
        if (_scratch is null || _scratch.Length < length) _scratch = new float[length];
        Winograd.RunRows(_width, t, input.Span, input.Shape, WinogradPacked(t), Geometry, output.Span, output.Shape, epilogue,
            rowStart, rowEnd, _scratch);
    }

    /// <summary>Winograd's working memory, one buffer per thread, grown to the largest layer it ran.</summary>
    [ThreadStatic] private static float[]? _scratch;

    /// <summary>The input rows [First, End) that output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) read,
    /// padding rows included (First may be negative, End past the map).</summary>
    private (int First, int End) TapRows(int rowStart, int rowEnd) =>
        (rowStart * Geometry.StrideY - Geometry.Padding.Top, (rowEnd - 1) * Geometry.StrideY - Geometry.Padding.Top + Geometry.KernelHeight);

    /// <summary>The window that computes output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) from input
    /// rows [<paramref name="inputStart"/>, <paramref name="inputEnd"/>) alone: the rows those outputs reach above and below
    /// the range become its zero padding (negative where the range holds more than they read).</summary>
    private ConvGeometry WindowOver(int rowStart, int rowEnd, int inputStart, int inputEnd)
    {
        var (firstTap, endTap) = TapRows(rowStart, rowEnd);
        return Geometry with { Padding = Geometry.Padding with { Top = inputStart - firstTap, Bottom = endTap - inputEnd } };
    }

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of a dense layer, alone, into
    /// <paramref name="band"/> (<paramref name="bandShape"/>: those rows). The layer reads only the input rows they need:
    /// the window's padding above and below is what of it those rows still reach, so every value is the whole run's.
    /// </summary>
    public void RunRows(FeatureMap input, int rowStart, int rowEnd, Span<float> band, Nhwc bandShape)
    {
        if (IsDepthwise)
            throw new InvalidOperationException($"{Name}: output bands are for dense layers, this one is {Kind}");
        var (firstTap, endTap) = TapRows(rowStart, rowEnd);
        int inputStart = Math.Clamp(firstTap, 0, input.Height), inputEnd = Math.Clamp(endTap, inputStart, input.Height);
        var window = WindowOver(rowStart, rowEnd, inputStart, inputEnd);
        var rows = input.RowSpan(inputStart, inputEnd, out var rowsShape);
        var epilogue = new Epilogue { Bias = _bias, Activation = Activation };
        if (SplitsByPixel) Pointwise.RunPixels(_width, rows, rowsShape, _packed, band, bandShape, epilogue, 0, rowsShape.Pixels);
        else Conv2d.RunRows(_width, rows, rowsShape, _packed, window, band, bandShape, epilogue, 0, bandShape.Height);
    }

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of a depthwise layer from the input rows in
    /// <paramref name="band"/>, which start at input row <paramref name="bandStart"/> of <paramref name="inputHeight"/>
    /// and must hold every row those outputs read. The band's missing rows above and below become the window's zero
    /// padding, which is only right where the band meets the map's edge; that is checked.
    /// </summary>
    public void RunFromBand(ReadOnlySpan<float> band, Nhwc bandShape, int bandStart, int inputHeight, FeatureMap output, int rowStart, int rowEnd)
    {
        if (!IsDepthwise) throw new InvalidOperationException($"{Name}: input bands are for depthwise layers, this one is {Kind}");
        var window = WindowOver(rowStart, rowEnd, bandStart, bandStart + bandShape.Height);
        var (top, bottom) = (window.Padding.Top, window.Padding.Bottom);
        if (top < 0 || bottom < 0 || (top > 0 && bandStart != 0) || (bottom > 0 && bandStart + bandShape.Height != inputHeight))
            throw new ArgumentException($"{Name}: input rows [{bandStart}, {bandStart + bandShape.Height}) of {inputHeight} do not cover output rows [{rowStart}, {rowEnd})");
        var rows = output.RowSpan(rowStart, rowEnd, out var rowsShape);
        DepthwiseConv2d.RunRows(_width, band, bandShape, _packed, window, rows, rowsShape,
            new Epilogue { Bias = _bias, Activation = Activation }, 0, rowsShape.Height);
    }
}
