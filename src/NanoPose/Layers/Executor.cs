using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Pooling;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;
using NanoPose.Threading;

namespace NanoPose.Layers;

/// <summary>
/// Runs the operations of one network instance over its <see cref="FeatureMap"/>s, so model code reads as the network
/// does. Large convolutions and elementwise operations are split into equal contiguous ranges of output rows (or
/// pixels) over the <see cref="WorkerPool"/>, never along a reduction, so every value is computed exactly as by one
/// thread. In trace mode (<see cref="Trace"/>) nothing is computed: each operation notes its operands' uses in the
/// <see cref="Arena"/>, one step per operation, which is how the arena learns the tensors' lifetimes.
/// <para>Not thread-safe: one instance runs one operation at a time (its split jobs are reused, so a run allocates nothing).</para>
/// </summary>
internal sealed class Executor(VectorWidth width, ActivationArena arena, WorkerPool? pool)
{
    /// <summary>Below this many multiply-accumulates a convolution runs on one thread (a dispatch costs microseconds).</summary>
    private const long ParallelMacs = 1 << 18;

    /// <summary>Below this many output floats an elementwise operation runs on one thread.</summary>
    private const long ParallelFloats = 1 << 15;

    private readonly ConvJob _conv = new();
    private readonly DeconvJob _deconv = new();
    private readonly ExpandDepthwiseJob _expandDepthwise = new();
    private readonly RowsJob _rows = new() { Width = width };
    private readonly FeatureMap[] _oneTerm = new FeatureMap[1];
    private bool _tracing;

    public VectorWidth Width => width;
    public ActivationArena Arena => arena;

    /// <summary>Threads an operation may be split over (1 without a pool).</summary>
    public int Threads => pool?.Threads ?? 1;

    /// <summary>When set, every operation adds its wall time here (<c>nanopose bench --profile</c>).</summary>
    public OperationProfile? Profile { get; set; }

    private long Start() => Profile is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Runs <paramref name="forward"/> in trace mode: operations only note their operands' uses.</summary>
    public void Trace(Action forward)
    {
        _tracing = true;
        try
        {
            forward();
        }
        finally
        {
            _tracing = false;
        }
    }

    /// <summary>In trace mode notes the operands as used in one step and returns true (skip the work).</summary>
    private bool Traced(params ReadOnlySpan<FeatureMap?> maps)
    {
        if (!_tracing) return false;
        foreach (var map in maps)
            if (map is not null) arena.Use(map);
        arena.EndStep();
        return true;
    }

    private int Parts(long work, long threshold, int units) =>
        pool is null || work < threshold ? 1 : Math.Min(pool.Threads, units);

    /// <summary>output = act(conv(input) + bias [+ residual]); a depthwise layer may also leave its output's per-row
    /// channel sums in <paramref name="rowSums"/> (H×1×C, for <see cref="MeanOfRowSums"/>).</summary>
    public void Conv(ConvLayer layer, FeatureMap input, FeatureMap output, FeatureMap? residual = null, FeatureMap? rowSums = null)
    {
        if (_tracing) layer.ChooseKernel(input.Shape, residual is not null);   // at load: the kernel for this size, measured
        if (Traced(input, output, residual, rowSums)) return;
        long start = Start();
        int parts = Parts(layer.MultiplyAccumulates(input.Shape), ParallelMacs, layer.SplitUnits(output.Shape));
        if (parts == 1)
        {
            layer.Run(input, output, residual, 0, 1, rowSums);
        }
        else
        {
            (_conv.Layer, _conv.Input, _conv.Output, _conv.Residual, _conv.RowSums) = (layer, input, output, residual, rowSums);
            Dispatch(_conv, parts);
        }
        Profile?.Add(layer.KindFor(output.Shape), layer, input.Shape, output.Shape, start, layer.MultiplyAccumulates(input.Shape));
    }

    /// <summary>Input rows per band of <see cref="ExpandThenDepthwise"/>: up to 768 KB of the expanded map, so that a band
    /// is still in a 1 MB L2 when the depthwise layer reads it.</summary>
    public static int BandRows(ConvLayer depthwise, int width, int expandedChannels)
    {
        var g = depthwise.Geometry;
        int outputRows = Math.Max(1, ((192 * 1024 / Math.Max(1, width * expandedChannels)) - g.KernelHeight) / g.StrideY + 1);
        return (outputRows - 1) * g.StrideY + g.KernelHeight;
    }

    /// <summary>
    /// depthwise(expand(input)) without the expanded map: MBConv's 1×1 expansion (or, before a block without one, the
    /// dense layer that feeds it, e.g. EfficientNet's stride-2 stem) runs over bands of <see cref="BandRows"/> of its
    /// output rows into <paramref name="bands"/> (one band per thread), and the depthwise layer reads each band while it
    /// is in cache. The rows neighbouring bands share (k − stride of them) are moved up, not computed again. Every output
    /// value is computed as by the two layers one after the other.
    /// </summary>
    public void ExpandThenDepthwise(ConvLayer expand, ConvLayer depthwise, FeatureMap input, FeatureMap bands, FeatureMap output)
    {
        if (Traced(input, bands, output)) return;
        long start = Start();
        var hidden = expand.OutputShape(input.Shape);
        int bandRows = BandRows(depthwise, hidden.Width, hidden.Channels);
        if (bands.Width != hidden.Width || bands.ChannelCount != hidden.Channels || bands.Height < bandRows)
            throw new ArgumentException($"bands: expected {bandRows}·k rows of {hidden.Width}×{hidden.Channels}, found {bands.Shape}");
        (_expandDepthwise.Expand, _expandDepthwise.Depthwise, _expandDepthwise.Input, _expandDepthwise.Bands, _expandDepthwise.Output, _expandDepthwise.BandRows) =
            (expand, depthwise, input, bands, output, bandRows);
        long macs = expand.MultiplyAccumulates(input.Shape) + depthwise.MultiplyAccumulates(hidden);
        int parts = Math.Min(Parts(macs, ParallelMacs, output.Height), bands.Height / bandRows);
        if (parts == 1) _expandDepthwise.Run(0, 1);
        else Dispatch(_expandDepthwise, parts);
        Profile?.Add(expand.Geometry.IsPointwise ? "expand 1×1 + depthwise" : $"{expand.Kind} + depthwise", null, default, output.Shape, start, macs);
    }

    public void Deconv(DeconvLayer layer, FeatureMap input, FeatureMap output)
    {
        if (Traced(input, output)) return;
        long start = Start();
        int parts = Parts(layer.MultiplyAccumulates(input.Shape), ParallelMacs, output.Height);
        if (parts == 1)
        {
            layer.Run(input, output);
        }
        else
        {
            (_deconv.Layer, _deconv.Input, _deconv.Output) = (layer, input, output);
            Dispatch(_deconv, parts);
        }
        Profile?.Add("deconv 4×4", layer, input.Shape, output.Shape, start, layer.MultiplyAccumulates(input.Shape));
    }

    /// <summary>output = a + b; output may be a or b itself.</summary>
    public void Add(FeatureMap a, FeatureMap b, FeatureMap output)
    {
        if (Traced(a, b, output)) return;
        RunRows(RowOp.Add, a, b, output, output.Height);
    }

    public void Relu(FeatureMap map)
    {
        if (Traced(map)) return;
        RunRows(RowOp.Relu, map, null, map, map.Height);
    }

    /// <summary>output = input · scale, one factor per channel from the 1×1 map <paramref name="scale"/>; output may be input.</summary>
    public void ScaleChannels(FeatureMap input, FeatureMap scale, FeatureMap output)
    {
        if (Traced(input, scale, output)) return;
        RunRows(RowOp.ScaleChannels, input, scale, output, output.Height);
    }

    /// <summary><c>channel_shuffle(torch.cat([first, second · secondScale], dim=1), 2)</c>; <paramref name="secondScale"/>
    /// (a 1×1 map, one factor per channel of <paramref name="second"/>) may be left out.</summary>
    public void ConcatShuffle(FeatureMap first, FeatureMap second, FeatureMap output, FeatureMap? secondScale = null)
    {
        if (Traced(first, second, output, secondScale)) return;
        _rows.Scale = secondScale;
        RunRows(RowOp.ConcatShuffle, first, second, output, output.Height);
    }

    /// <summary>output = input + <c>nn.Upsample(scale_factor=factor, mode='nearest')(low)</c>, without the upsampled map.</summary>
    public void AddNearestUpsampled(FeatureMap input, FeatureMap low, FeatureMap output, int factor)
    {
        if (input.Height != low.Height * factor || input.Width != low.Width * factor)
            throw new ArgumentException($"{input.Shape} is not {low.Shape} upsampled ×{factor}");
        _oneTerm[0] = low;
        AddNearestUpsampled(input, _oneTerm, output);
    }

    /// <summary>
    /// A whole fuse sum in one pass (<see cref="UpsampledSum"/>): output = act((input (+ input)) + Σ upsampled terms),
    /// each term nearest-upsampled by the integer factor its size implies; <paramref name="preActivation"/>, if given,
    /// receives the sum before the activation. Split by rows of the smallest term, each giving that factor of output rows.
    /// </summary>
    public void AddNearestUpsampled(FeatureMap input, FeatureMap[] terms, FeatureMap output, bool doubleInput = false,
        Activation activation = Activation.None, FeatureMap? preActivation = null)
    {
        if (terms.Length > UpsampledTerms.MaxCount)
            throw new ArgumentException($"{terms.Length} upsampled terms, at most {UpsampledTerms.MaxCount} are added in one pass");
        if (_tracing)
        {
            Traced([input, output, preActivation, .. terms]);
            return;
        }
        int factor = 1;
        foreach (var term in terms)
        {
            if (term.Height < 1 || input.Height % term.Height != 0 || input.Width != term.Width * (input.Height / term.Height))
                throw new ArgumentException($"{input.Shape} is not {term.Shape} upsampled by an integer factor");
            factor = Math.Max(factor, input.Height / term.Height);
        }
        // Split in units of the largest factor's rows: every term's factor must divide it (HRNet's are powers of 2).
        foreach (var term in terms)
            if (factor % (input.Height / term.Height) != 0)
                throw new ArgumentException($"{term.Shape}: its factor ×{input.Height / term.Height} does not divide ×{factor}");
        (_rows.Terms, _rows.Factor, _rows.DoubleInput, _rows.Activation, _rows.PreActivation) = (terms, factor, doubleInput, activation, preActivation);
        RunRows(RowOp.AddNearestUpsampled, input, null, output, input.Height / factor);
    }

    /// <summary>output[…, channelStart + c] = input[…, c]: one input of a concat.</summary>
    public void CopyChannelsInto(FeatureMap input, FeatureMap output, int channelStart)
    {
        if (Traced(input, output)) return;
        _rows.ChannelStart = channelStart;
        RunRows(RowOp.CopyInto, input, null, output, output.Height);
    }

    /// <summary><c>nn.Upsample(scale_factor=factor, mode='nearest')</c>; split by input rows, each giving
    /// <paramref name="factor"/> output rows.</summary>
    public void UpsampleNearest(FeatureMap input, FeatureMap output, int factor)
    {
        if (Traced(input, output)) return;
        _rows.Factor = factor;
        RunRows(RowOp.UpsampleNearest, input, null, output, input.Height);
    }

    /// <summary>output = input · F.interpolate(weights, size=input size, mode='nearest').</summary>
    public void MultiplyByNearestUpsampled(FeatureMap input, FeatureMap weights, FeatureMap output)
    {
        if (Traced(input, weights, output)) return;
        long start = Start();
        Arithmetic.MultiplyByNearestUpsampled(input.Span, input.Shape, weights.Span, weights.Shape, output.Span, output.Shape, width);
        Profile?.Add("MultiplyByNearestUpsampled", null, default, output.Shape, start);
    }

    /// <summary><c>F.adaptive_avg_pool2d(input, output size)</c>; output may be a channel slice of a wider map.</summary>
    public void AdaptiveAveragePool(FeatureMap input, FeatureMap output)
    {
        if (Traced(input, output)) return;
        long start = Start();
        AveragePooling.Adaptive(input.Span, input.Shape, output.Span, output.Shape, width);
        Profile?.Add("AdaptiveAveragePool", null, default, output.Shape, start);
    }

    /// <summary>output (1×1×C) = the mean of every channel.</summary>
    public void GlobalAveragePool(FeatureMap input, FeatureMap output)
    {
        if (Traced(input, output)) return;
        long start = Start();
        AveragePooling.Global(input.Span, input.Shape, output.Span, width);
        Profile?.Add("GlobalAveragePool", null, default, output.Shape, start);
    }

    /// <summary>output (1×1×C) = the mean of a map of <paramref name="width"/> columns from its per-row channel sums
    /// (H×1×C, left by a depthwise layer's <see cref="Conv"/>).</summary>
    public void MeanOfRowSums(FeatureMap rowSums, int width, FeatureMap output)
    {
        if (Traced(rowSums, output)) return;
        long start = Start();
        AveragePooling.MeanOfRowSums(rowSums.Span, rowSums.Height, width, output.Span, Width);
        Profile?.Add("MeanOfRowSums", null, default, output.Shape, start);
    }

    /// <summary><c>F.interpolate(input, size=output size, mode='bilinear', align_corners=…)</c>.</summary>
    public void ResizeBilinear(FeatureMap input, FeatureMap output, bool alignCorners)
    {
        if (Traced(input, output)) return;
        long start = Start();
        BilinearResize.Resize(input.Span, input.Shape, output.Span, output.Shape, alignCorners, width);
        Profile?.Add("ResizeBilinear", null, default, output.Shape, start);
    }

    private void RunRows(RowOp op, FeatureMap a, FeatureMap? b, FeatureMap output, int rows)
    {
        long start = Start();
        (_rows.Op, _rows.A, _rows.B, _rows.Output, _rows.Rows) = (op, a, b, output, rows);
        int parts = Parts((long)output.Shape.Pixels * output.ChannelCount, ParallelFloats, rows);
        if (parts == 1) _rows.Run(0, 1);
        else Dispatch(_rows, parts);
        Profile?.Add(RowOpNames[(int)op], null, default, output.Shape, start);
    }

    private void Dispatch(IParallelWork work, int parts) => pool!.Run(work, parts);

    private sealed class ConvJob : IParallelWork
    {
        public ConvLayer Layer = null!;
        public FeatureMap Input = null!, Output = null!;
        public FeatureMap? Residual, RowSums;

        public void Run(int part, int parts) => Layer.Run(Input, Output, Residual, part, parts, RowSums);
    }

    private sealed class DeconvJob : IParallelWork
    {
        public DeconvLayer Layer = null!;
        public FeatureMap Input = null!, Output = null!;

        public void Run(int part, int parts) => Layer.Run(Input, Output, part, parts);
    }

    private sealed class ExpandDepthwiseJob : IParallelWork
    {
        public ConvLayer Expand = null!, Depthwise = null!;
        public FeatureMap Input = null!, Bands = null!, Output = null!;
        public int BandRows;

        public void Run(int part, int parts)
        {
            var g = Depthwise.Geometry;
            int height = Expand.OutputShape(Input.Shape).Height, outputRowsPerBand = (BandRows - g.KernelHeight) / g.StrideY + 1;
            var band = Bands.RowSpan(part * BandRows, (part + 1) * BandRows, out var bandShape);
            var (start, end) = Threading.WorkerPool.Range(Output.Height, part, parts);
            int rowFloats = bandShape.Width * bandShape.Channels, held = 0, heldEnd = 0;   // rows [heldEnd − held, heldEnd) are in the band
            for (int r0 = start; r0 < end; r0 += outputRowsPerBand)
            {
                int r1 = Math.Min(end, r0 + outputRowsPerBand);
                int first = Math.Max(0, r0 * g.StrideY - g.Padding.Top);
                int last = Math.Min(height, (r1 - 1) * g.StrideY - g.Padding.Top + g.KernelHeight);
                // Rows the previous band ends with and this one starts with move to the top instead of being expanded again.
                int kept = Math.Clamp(heldEnd - first, 0, held);
                if (kept > 0) band.Slice((held - kept) * rowFloats, kept * rowFloats).CopyTo(band);
                int from = first + kept;
                if (last > from)
                    Expand.RunRows(Input, from, last, band.Slice(kept * rowFloats, (last - from) * rowFloats), bandShape with { Height = last - from });
                var rowsShape = bandShape with { Height = last - first };
                Depthwise.RunFromBand(band[..rowsShape.RequiredLength], rowsShape, first, height, Output, r0, r1);
                (held, heldEnd) = (last - first, last);
            }
        }
    }

    private enum RowOp { Add, Relu, ScaleChannels, ConcatShuffle, CopyInto, UpsampleNearest, AddNearestUpsampled }

    private static readonly string[] RowOpNames = ["Add", "Relu", "ScaleChannels", "ConcatShuffle", "CopyInto", "UpsampleNearest", "AddNearestUpsampled"];

    /// <summary>An elementwise operation on a range of rows of every operand (the same rows, except the nearest
    /// upsamplings, split by rows of the small map: their full-size operands have <see cref="Factor"/> times as many).</summary>
    private sealed class RowsJob : IParallelWork
    {
        public VectorWidth Width;
        public RowOp Op;
        public FeatureMap A = null!, Output = null!;
        public FeatureMap? B, Scale;
        public int Rows, ChannelStart, Factor;
        public bool DoubleInput;
        public FeatureMap[] Terms = [];
        public Activation Activation;
        public FeatureMap? PreActivation;

        /// <summary>Rows [start, end) in units of <see cref="Factor"/> output rows: each term gives its share of them.</summary>
        private void RunUpsampledSum(int start, int end)
        {
            var input = A.RowSpan(start * Factor, end * Factor, out var inputShape);
            var output = Output.RowSpan(start * Factor, end * Factor, out var outputShape);
            Span<float> preActivation = default;
            Nhwc preShape = default;
            if (PreActivation is not null) preActivation = PreActivation.RowSpan(start * Factor, end * Factor, out preShape);
            var terms = Terms.Length switch
            {
                0 => default,
                1 => new UpsampledTerms(TermRows(0, out var v0), v0),
                2 => new UpsampledTerms(TermRows(0, out var v0), v0, TermRows(1, out var v1), v1),
                _ => new UpsampledTerms(TermRows(0, out var v0), v0, TermRows(1, out var v1), v1, TermRows(2, out var v2), v2),
            };
            UpsampledSum.Run(input, inputShape, terms, output, outputShape, Width, DoubleInput, Activation, preActivation, preShape);

            Span<float> TermRows(int k, out Nhwc shape)
            {
                int share = Factor / (A.Height / Terms[k].Height);   // rows of term k per unit
                return Terms[k].RowSpan(start * share, end * share, out shape);
            }
        }

        public void Run(int part, int parts)
        {
            var (start, end) = WorkerPool.Range(Rows, part, parts);
            if (start == end) return;
            var a = A.RowSpan(start, end, out var aShape);
            switch (Op)
            {
                case RowOp.Add:
                    Arithmetic.Add(a, aShape, B!.RowSpan(start, end, out var bShape), bShape, Output.RowSpan(start, end, out var sum), sum, Width);
                    break;
                case RowOp.Relu:
                    InPlaceActivation.Apply(Output.RowSpan(start, end, out var relu), relu, Activation.ReLU, Width);
                    break;
                case RowOp.ScaleChannels:
                    Arithmetic.ScaleChannels(a, aShape, B!.Span, Output.RowSpan(start, end, out var scaled), scaled, Width);
                    break;
                case RowOp.ConcatShuffle:
                    ChannelShuffle.ConcatShuffle2(a, aShape, B!.RowSpan(start, end, out var second), second,
                        Output.RowSpan(start, end, out var shuffled), shuffled, Width, Scale is null ? default : Scale.Span);
                    break;
                case RowOp.CopyInto:
                    ChannelSlices.CopyInto(a, aShape, Output.RowSpan(start, end, out var concat), concat, ChannelStart, Width);
                    break;
                case RowOp.AddNearestUpsampled:
                    RunUpsampledSum(start, end);
                    break;
                case RowOp.UpsampleNearest:
                    NearestResize.UpsampleByFactor(a, aShape, Output.RowSpan(start * Factor, end * Factor, out var upsampled), upsampled,
                        Factor, Factor, Width);
                    break;
            }
        }
    }
}
