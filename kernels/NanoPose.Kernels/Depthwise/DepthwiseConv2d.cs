using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Depthwise;

/// <summary>
/// Depthwise k×k convolution over NHWC views, vectorised across channels, with the <see cref="Epilogue"/> fused
/// into the store. Weights are packed once at load (<see cref="PackWeights"/>); the definition is
/// <see cref="DepthwiseConv2dReference"/>.
/// <para>
/// The output must not overlap the input or the residual: the last channel block of a row of channels overlaps
/// the one before it (C = 20 with 16 lanes computes channels 0–15, then 4–19), so some lanes are computed and
/// stored twice; that is harmless only while their inputs stay unchanged. Arguments that overlap are rejected.
/// </para>
/// </summary>
public static class DepthwiseConv2d
{
    /// <summary>Floats between two taps in the packed layout: C rounded up to 16 (one 64-byte line per 16 channels).</summary>
    public static int PackedTapStride(int channels) => (channels + 15) & ~15;

    /// <summary>Length of the packed weights: <c>[k·k][PackedTapStride(C)]</c>.</summary>
    public static int PackedWeightLength(int channels, int kernel) => kernel * kernel * PackedTapStride(channels);

    /// <summary>
    /// PyTorch <c>[C, 1, k, k]</c> → <c>[ky][kx][c]</c> with each tap padded to <see cref="PackedTapStride"/>
    /// (zeros), so a channel block of one tap is one contiguous vector load. Done once at load.
    /// </summary>
    public static void PackWeights(ReadOnlySpan<float> torchWeights, int channels, int kernel, Span<float> packed)
    {
        if (channels < 1) throw new ArgumentException($"channels: expected at least 1, found {channels}.", nameof(channels));
        if (kernel < 1) throw new ArgumentException($"kernel: expected at least 1, found {kernel}.", nameof(kernel));
        int taps = kernel * kernel;
        if (torchWeights.Length != channels * taps)
            throw new ArgumentException($"torchWeights: expected {channels * taps} floats ([{channels}, 1, {kernel}, {kernel}]), found {torchWeights.Length}.", nameof(torchWeights));
        int tapStride = PackedTapStride(channels);
        if (packed.Length != taps * tapStride)
            throw new ArgumentException($"packed: expected {taps * tapStride} floats, found {packed.Length}.", nameof(packed));
        packed.Clear();
        for (int c = 0; c < channels; c++)
            for (int tap = 0; tap < taps; tap++)
                packed[tap * tapStride + c] = torchWeights[c * taps + tap];
    }

    /// <summary>
    /// The width a layer of <paramref name="channels"/> should run at, chosen once at load from the widest one the
    /// process runs (<paramref name="widest"/>, usually <see cref="Isa.Best"/>): V256 instead of V512 when the
    /// channels are not a multiple of 16. The kernel is bound by loads, and such channel counts waste lanes at 512
    /// bits (20 channels: 32 lanes computed, not 24) and split 64-byte loads across cache lines. Measured one thread
    /// on Zen 5, 3×3: 20 channels at 64×48 32 → 36 GFLOP/s, 40 at 32×24 33 → 42; multiples of 16 stay faster at V512.
    /// </summary>
    public static VectorWidth PreferredWidth(VectorWidth widest, int channels)
    {
        if (channels < 1) throw new ArgumentException($"channels: expected at least 1, found {channels}.", nameof(channels));
        return widest == VectorWidth.V512 && channels % V512.Count != 0 ? VectorWidth.V256 : widest;
    }

    /// <summary>Every output row. <paramref name="packedWeights"/> comes from <see cref="PackWeights"/>.</summary>
    public static void Run(VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        ConvGeometry window, Span<float> output, Nhwc outputShape, in Epilogue epilogue) =>
        RunRows(width, input, inputShape, packedWeights, window, output, outputShape, epilogue, 0, outputShape.Height);

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) only, the rest of
    /// <paramref name="output"/> untouched, so the engine can split rows across threads.
    /// <see cref="VectorWidth.Scalar"/> runs the reference loops; a vector width narrower than the lanes the
    /// channels fill steps down (C = 8 on V512 runs V256; C &lt; 4 runs the scalar loops).
    /// With <paramref name="rowSums"/> (H × C floats, dense), each output row y also leaves
    /// <c>rowSums[y·C + c] = Σ_x output[y, x, c]</c> (float sum, x in order) while the row is in L1: a global
    /// average pool of the output without reading it again (Lite-HRNet's spatial weighting, see
    /// <see cref="Pooling.AveragePooling.MeanOfRowSums"/>).
    /// </summary>
    public static void RunRows(VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        ConvGeometry window, Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd, Span<float> rowSums = default)
    {
        int channels = inputShape.Channels;
        Validate(input, inputShape, window, packedWeights.Length, PackedWeightLength(channels, window.KernelHeight),
            nameof(packedWeights), epilogue, output, outputShape, rowStart, rowEnd, rowSums);
        if (width == VectorWidth.V512 && channels < V512.Count) width = VectorWidth.V256;
        if (width == VectorWidth.V256 && channels < V256.Count) width = VectorWidth.V128;
        if (width == VectorWidth.V128 && channels < V128.Count) width = VectorWidth.Scalar;
        switch (width)
        {
            case VectorWidth.Scalar:
                DepthwiseConv2dReference.Compute(input, inputShape, window, packedWeights, channelStride: 1,
                    tapStride: PackedTapStride(channels), epilogue, output, outputShape, rowStart, rowEnd, rowSums);
                break;
            case VectorWidth.V128:
                Rows<V128, Vector128<float>>(input, inputShape, window, packedWeights, epilogue, output, outputShape, rowStart, rowEnd, rowSums);
                break;
            case VectorWidth.V256:
                Rows<V256, Vector256<float>>(input, inputShape, window, packedWeights, epilogue, output, outputShape, rowStart, rowEnd, rowSums);
                break;
            case VectorWidth.V512:
                Rows<V512, Vector512<float>>(input, inputShape, window, packedWeights, epilogue, output, outputShape, rowStart, rowEnd, rowSums);
                break;
            default:
                throw new ArgumentException($"width: expected Scalar, V128, V256 or V512, found {width}.", nameof(width));
        }
    }

    /// <summary>Argument checks shared by the reference and the fast bodies.</summary>
    internal static void Validate(ReadOnlySpan<float> input, Nhwc inputShape, ConvGeometry window,
        int weightLength, int expectedWeightLength, string weightName, Epilogue epilogue,
        Span<float> output, Nhwc outputShape, int rowStart, int rowEnd, ReadOnlySpan<float> rowSums = default)
    {
        var pad = window.Padding;
        if (window.KernelHeight < 1 || window.StrideY < 1 || !pad.IsValid
            || window.KernelWidth != window.KernelHeight || window.StrideX != window.StrideY)
            throw new ArgumentException($"window: expected a square kernel, equal strides ≥ 1 and paddings ≥ 0, found {window}.", nameof(window));
        inputShape.Validate(input.Length, nameof(input));
        if (inputShape.Channels < 1 || inputShape.Height + pad.Top + pad.Bottom < window.KernelHeight || inputShape.Width + pad.Left + pad.Right < window.KernelHeight)
            throw new ArgumentException($"inputShape: expected at least 1 channel and a padded size of at least {window.KernelHeight}×{window.KernelHeight}, found {inputShape} with {pad}.", nameof(inputShape));
        outputShape.Validate(output.Length, nameof(output));
        var expected = window.OutputShape(inputShape, inputShape.Channels);
        if (outputShape.Height != expected.Height || outputShape.Width != expected.Width || outputShape.Channels != expected.Channels)
            throw new ArgumentException($"outputShape: expected {expected.Height}×{expected.Width}×{expected.Channels}, found {outputShape.Height}×{outputShape.Width}×{outputShape.Channels}.", nameof(outputShape));
        if (weightLength != expectedWeightLength)
            throw new ArgumentException($"{weightName}: expected {expectedWeightLength} floats, found {weightLength}.", weightName);
        if (!epilogue.Bias.IsEmpty && epilogue.Bias.Length != inputShape.Channels)
            throw new ArgumentException($"epilogue: bias of {inputShape.Channels} floats expected, found {epilogue.Bias.Length}.", nameof(epilogue));
        if (!epilogue.Residual.IsEmpty)
            new Nhwc(expected.Height, expected.Width, expected.Channels, epilogue.ResidualPixelStride).Validate(epilogue.Residual.Length, "epilogue.Residual");
        if (rowStart < 0 || rowStart > rowEnd || rowEnd > outputShape.Height)
            throw new ArgumentException($"rowStart, rowEnd: expected 0 ≤ rowStart ≤ rowEnd ≤ {outputShape.Height}, found [{rowStart}, {rowEnd}).", nameof(rowStart));
        if (!rowSums.IsEmpty && rowSums.Length != expected.Height * expected.Channels)
            throw new ArgumentException($"rowSums: expected {expected.Height}×{expected.Channels} = {expected.Height * expected.Channels} floats (one per output row and channel), found {rowSums.Length}.", nameof(rowSums));
        ReadOnlySpan<float> written = output;
        if (written.Overlaps(input))
            throw new ArgumentException("output: must not overlap input (expected separate buffers, found overlapping spans).", nameof(output));
        if (written.Overlaps(epilogue.Residual))
            throw new ArgumentException("output: must not overlap epilogue.Residual (expected separate buffers, found overlapping spans).", nameof(output));
    }

    /// <summary>
    /// The vector body, one output row at a time: the taps accumulate (then the bias is added) straight into the output row,
    /// then (only with a residual or an activation) a second pass finishes that row while it is still in L1.
    /// Keeping the exp calls of the activations out of the tap loops keeps the accumulators in registers.
    /// </summary>
    static void Rows<TOps, TVec>(ReadOnlySpan<float> input, Nhwc inputShape, ConvGeometry window,
        ReadOnlySpan<float> packedWeights, Epilogue epilogue, Span<float> output, Nhwc outputShape, int rowStart, int rowEnd, Span<float> rowSums)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        var geometry = new RowGeometry(inputShape, window, outputShape);
        ref float inputRef = ref MemoryMarshal.GetReference(input);
        ref float weights = ref MemoryMarshal.GetReference(packedWeights);
        ref float bias = ref MemoryMarshal.GetReference(epilogue.Bias);
        ref float outputRef = ref MemoryMarshal.GetReference(output);
        bool finish = !epilogue.Residual.IsEmpty || epilogue.Activation != Activation.None;
        for (int y = rowStart; y < rowEnd; y++)
        {
            AccumulateRow<TOps, TVec>(ref inputRef, ref weights, ref bias, !epilogue.Bias.IsEmpty, ref outputRef, geometry, y);
            if (finish) FinishRow<TOps, TVec>(epilogue, ref outputRef, outputShape, y);
            if (!rowSums.IsEmpty) SumRow<TOps, TVec>(ref outputRef, outputShape, y, rowSums.Slice(y * outputShape.Channels, outputShape.Channels));
        }
    }

    /// <summary>sums[c] = Σ_x output[y, x, c], x in order as in the reference; the row was just written and is in L1.
    /// The overlapping tail vector rewrites equal values.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void SumRow<TOps, TVec>(ref float output, Nhwc outputShape, int y, Span<float> sums)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int channels = outputShape.Channels, lanes = TOps.Count, last = channels - lanes;
        ref float row = ref Unsafe.Add(ref output, outputShape.Offset(y, 0));
        ref float destination = ref MemoryMarshal.GetReference(sums);
        for (int c = 0; ; c += lanes)
        {
            c = Math.Min(c, last);
            TVec sum = TOps.Zero;
            ref float pixel = ref Unsafe.Add(ref row, c);
            for (int x = 0; x < outputShape.Width; x++)
            {
                sum = TOps.Add(sum, TOps.Load(ref pixel));
                pixel = ref Unsafe.Add(ref pixel, outputShape.PixelStride);
            }
            TOps.Store(sum, ref Unsafe.Add(ref destination, c));
            if (c == last) break;
        }
    }

    /// <summary>Sizes and strides of one call, in the form the row loops use.</summary>
    readonly struct RowGeometry
    {
        public readonly int Kernel, Stride, Top, Left, InputHeight, InputWidth, Channels, PixelStride, RowPitch, TapStride;
        public readonly int OutputWidth, OutputPixelStride;
        /// <summary>Output columns [InteriorStart, InteriorEnd) have all k column taps inside the input.</summary>
        public readonly int InteriorStart, InteriorEnd;

        public RowGeometry(Nhwc inputShape, ConvGeometry window, Nhwc outputShape)
        {
            (Kernel, Stride, Top, Left) = (window.KernelHeight, window.StrideY, window.Padding.Top, window.Padding.Left);
            (InputHeight, InputWidth, Channels, PixelStride) = (inputShape.Height, inputShape.Width, inputShape.Channels, inputShape.PixelStride);
            RowPitch = InputWidth * PixelStride;
            TapStride = PackedTapStride(Channels);
            (OutputWidth, OutputPixelStride) = (outputShape.Width, outputShape.PixelStride);
            InteriorStart = Math.Min(OutputWidth, (Left + Stride - 1) / Stride);
            InteriorEnd = InputWidth + Left < Kernel ? InteriorStart
                : Math.Clamp((InputWidth + Left - Kernel) / Stride + 1, InteriorStart, OutputWidth);
        }
    }

    /// <summary>
    /// Output row <paramref name="y"/> before the residual and activation. Zero padding becomes a clipped tap range,
    /// so no tap is bounds-checked: interior columns go eight pixels at a time (four when fewer than eight, one at a
    /// time when fewer than four), each weight vector loaded once for the group and eight independent accumulator
    /// chains hiding the FMA latency; border columns one at a time with their column taps clipped.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void AccumulateRow<TOps, TVec>(ref float input, ref float weights, ref float bias, bool hasBias,
        ref float output, in RowGeometry g, int y)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int k = g.Kernel, iy = y * g.Stride - g.Top;
        int kyStart = Math.Max(0, -iy), rows = Math.Max(0, Math.Min(k, g.InputHeight - iy) - kyStart);
        if (rows == 0) (iy, kyStart) = (0, 0); // a row of pure padding: keep the references in bounds
        ref float inputRows = ref Unsafe.Add(ref input, (iy + kyStart) * g.RowPitch);
        ref float weightRows = ref Unsafe.Add(ref weights, kyStart * k * g.TapStride);
        ref float outputRow = ref Unsafe.Add(ref output, y * g.OutputWidth * g.OutputPixelStride);
        int x = 0;
        for (; x < g.InteriorStart; x++)
            Pixel<TOps, TVec>(ref inputRows, ref weightRows, ref bias, hasBias, ref outputRow, g, x, rows);
        int interior = g.InteriorEnd - x;
        if (interior >= 8) x = Groups<TOps, TVec, EightPixels>(ref inputRows, ref weightRows, ref bias, hasBias, ref outputRow, g, x, rows);
        else if (interior >= 4) x = Groups<TOps, TVec, FourPixels>(ref inputRows, ref weightRows, ref bias, hasBias, ref outputRow, g, x, rows);
        for (; x < g.OutputWidth; x++)
            Pixel<TOps, TVec>(ref inputRows, ref weightRows, ref bias, hasBias, ref outputRow, g, x, rows);
    }

    /// <summary>One output pixel with its column taps clipped to the input; every channel block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Pixel<TOps, TVec>(ref float inputRows, ref float weightRows, ref float bias, bool hasBias,
        ref float outputRow, in RowGeometry g, int x, int rows)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int ix = x * g.Stride - g.Left;
        int kxStart = Math.Max(0, -ix), columns = Math.Max(0, Math.Min(g.Kernel, g.InputWidth - ix) - kxStart);
        if (columns == 0) (rows, ix, kxStart) = (0, 0, 0); // every tap is padding: keep the references in bounds
        ref float inputStart = ref Unsafe.Add(ref inputRows, (ix + kxStart) * g.PixelStride);
        ref float weightStart = ref Unsafe.Add(ref weightRows, kxStart * g.TapStride);
        int ps = g.PixelStride, rowPitch = g.RowPitch, tapStride = g.TapStride, weightPitch = g.Kernel * g.TapStride;
        int lastBlock = g.Channels - TOps.Count;
        ref float outputPixel = ref Unsafe.Add(ref outputRow, x * g.OutputPixelStride);
        // Four channel blocks at a time: one block's taps form a single chain of dependent multiply-adds, bound by the
        // FMA latency (a border pixel of a 5×5 layer cost as much as several interior ones); four chains overlap.
        int c = 0;
        for (; c + 4 * TOps.Count <= g.Channels; c += 4 * TOps.Count)
        {
            TVec acc0 = TOps.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            ref float inputRow = ref Unsafe.Add(ref inputStart, c);
            ref float weightRow = ref Unsafe.Add(ref weightStart, c);
            for (int ky = 0; ky < rows; ky++)
            {
                ref float tap = ref inputRow;
                ref float weight = ref weightRow;
                for (int kx = 0; kx < columns; kx++)
                {
                    acc0 = TOps.MultiplyAdd(TOps.Load(ref tap), TOps.Load(ref weight), acc0);
                    acc1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, TOps.Count)), TOps.Load(ref Unsafe.Add(ref weight, TOps.Count)), acc1);
                    acc2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 2 * TOps.Count)), TOps.Load(ref Unsafe.Add(ref weight, 2 * TOps.Count)), acc2);
                    acc3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 3 * TOps.Count)), TOps.Load(ref Unsafe.Add(ref weight, 3 * TOps.Count)), acc3);
                    tap = ref Unsafe.Add(ref tap, ps);
                    weight = ref Unsafe.Add(ref weight, tapStride);
                }
                inputRow = ref Unsafe.Add(ref inputRow, rowPitch);
                weightRow = ref Unsafe.Add(ref weightRow, weightPitch);
            }
            if (hasBias)
            {
                ref float b = ref Unsafe.Add(ref bias, c);
                acc0 = TOps.Add(acc0, TOps.Load(ref b));
                acc1 = TOps.Add(acc1, TOps.Load(ref Unsafe.Add(ref b, TOps.Count)));
                acc2 = TOps.Add(acc2, TOps.Load(ref Unsafe.Add(ref b, 2 * TOps.Count)));
                acc3 = TOps.Add(acc3, TOps.Load(ref Unsafe.Add(ref b, 3 * TOps.Count)));
            }
            ref float o = ref Unsafe.Add(ref outputPixel, c);
            TOps.Store(acc0, ref o);
            TOps.Store(acc1, ref Unsafe.Add(ref o, TOps.Count));
            TOps.Store(acc2, ref Unsafe.Add(ref o, 2 * TOps.Count));
            TOps.Store(acc3, ref Unsafe.Add(ref o, 3 * TOps.Count));
        }
        if (c == g.Channels) return;
        for (; ; c += TOps.Count)
        {
            if (c > lastBlock) c = lastBlock;
            TVec acc = TOps.Zero;
            ref float inputRow = ref Unsafe.Add(ref inputStart, c);
            ref float weightRow = ref Unsafe.Add(ref weightStart, c);
            for (int ky = 0; ky < rows; ky++)
            {
                ref float tap = ref inputRow;
                ref float weight = ref weightRow;
                for (int kx = 0; kx < columns; kx++)
                {
                    acc = TOps.MultiplyAdd(TOps.Load(ref tap), TOps.Load(ref weight), acc);
                    tap = ref Unsafe.Add(ref tap, ps);
                    weight = ref Unsafe.Add(ref weight, tapStride);
                }
                inputRow = ref Unsafe.Add(ref inputRow, rowPitch);
                weightRow = ref Unsafe.Add(ref weightRow, weightPitch);
            }
            if (hasBias) acc = TOps.Add(acc, TOps.Load(ref Unsafe.Add(ref bias, c)));
            TOps.Store(acc, ref Unsafe.Add(ref outputPixel, c));
            if (c == lastBlock) break;
        }
    }

    /// <summary>How many interior pixels one step computes; a compile-time constant per instantiation.</summary>
    interface IPixelGroup { static abstract int Pixels { get; } }
    readonly struct FourPixels : IPixelGroup { public static int Pixels => 4; }
    readonly struct EightPixels : IPixelGroup { public static int Pixels => 8; }

    /// <summary>
    /// Interior columns [x, InteriorEnd) in groups; the last group ends at InteriorEnd and overlaps the one before,
    /// recomputing its pixels identically (harmless: the row holds plain sums until FinishRow). Returns InteriorEnd.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Groups<TOps, TVec, TGroup>(ref float inputRows, ref float weightRows, ref float bias, bool hasBias,
        ref float outputRow, in RowGeometry g, int x, int rows)
        where TOps : struct, IVec<TVec> where TVec : struct where TGroup : struct, IPixelGroup
    {
        int last = g.InteriorEnd - TGroup.Pixels;
        for (; ; x += TGroup.Pixels)
        {
            if (x > last) x = last;
            Group<TOps, TVec, TGroup>(ref Unsafe.Add(ref inputRows, (x * g.Stride - g.Left) * g.PixelStride), ref weightRows,
                ref bias, hasBias, ref Unsafe.Add(ref outputRow, x * g.OutputPixelStride), g, rows);
            if (x == last) return g.InteriorEnd;
        }
    }

    /// <summary>
    /// Four or eight interior pixels (all column taps inside the input); every channel block. The eight-pixel
    /// accumulators exist only in the eight-pixel instantiation (the JIT folds the <c>Pixels == 8</c> tests).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Group<TOps, TVec, TGroup>(ref float inputStart, ref float weightStart, ref float bias, bool hasBias,
        ref float outputStart, in RowGeometry g, int rows)
        where TOps : struct, IVec<TVec> where TVec : struct where TGroup : struct, IPixelGroup
    {
        if (TGroup.Pixels == 8 && g.Kernel == 3 && g.Stride == 1)
        {
            EightPixels3x3<TOps, TVec>(ref inputStart, ref weightStart, ref bias, hasBias, ref outputStart, g, rows);
            return;
        }
        if (TGroup.Pixels == 8 && g.Kernel == 5 && g.Stride == 1)
        {
            EightPixels5x5<TOps, TVec>(ref inputStart, ref weightStart, ref bias, hasBias, ref outputStart, g, rows);
            return;
        }
        if (TGroup.Pixels == 8 && g.Kernel == 3 && g.Stride == 2)
        {
            EightPixels3x3Stride2<TOps, TVec>(ref inputStart, ref weightStart, ref bias, hasBias, ref outputStart, g, rows);
            return;
        }
        int k = g.Kernel, ps = g.PixelStride, rowPitch = g.RowPitch, tapStride = g.TapStride, weightPitch = k * g.TapStride;
        int step = g.Stride * ps, outStep = g.OutputPixelStride;
        int lastBlock = g.Channels - TOps.Count;
        for (int c = 0; ; c += TOps.Count)
        {
            if (c > lastBlock) c = lastBlock;
            TVec acc0 = TOps.Zero;
            TVec acc1 = acc0, acc2 = acc0, acc3 = acc0, acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
            ref float inputRow = ref Unsafe.Add(ref inputStart, c);
            ref float weightRow = ref Unsafe.Add(ref weightStart, c);
            for (int ky = 0; ky < rows; ky++)
            {
                ref float tap = ref inputRow;
                ref float weight = ref weightRow;
                for (int kx = 0; kx < k; kx++)
                {
                    TVec w = TOps.Load(ref weight);
                    acc0 = TOps.MultiplyAdd(TOps.Load(ref tap), w, acc0);
                    acc1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, step)), w, acc1);
                    acc2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 2 * step)), w, acc2);
                    acc3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 3 * step)), w, acc3);
                    if (TGroup.Pixels == 8)
                    {
                        acc4 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 4 * step)), w, acc4);
                        acc5 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 5 * step)), w, acc5);
                        acc6 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 6 * step)), w, acc6);
                        acc7 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 7 * step)), w, acc7);
                    }
                    tap = ref Unsafe.Add(ref tap, ps);
                    weight = ref Unsafe.Add(ref weight, tapStride);
                }
                inputRow = ref Unsafe.Add(ref inputRow, rowPitch);
                weightRow = ref Unsafe.Add(ref weightRow, weightPitch);
            }
            StorePixels<TOps, TVec>(ref Unsafe.Add(ref outputStart, c), outStep, ref Unsafe.Add(ref bias, c), hasBias, TGroup.Pixels, acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
            if (c == lastBlock) break;
        }
    }

    /// <summary>Stores the accumulators of 4 or 8 adjacent output pixels (the last four only when <paramref name="pixels"/> is 8),
    /// each plus the bias: the taps were summed from zero, and the bias comes after them, as in the reference (a large
    /// bias taken as the starting value absorbs the low bits of the products).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StorePixels<TOps, TVec>(ref float destination, nint outStep, ref float bias, bool hasBias, int pixels,
        TVec a0, TVec a1, TVec a2, TVec a3, TVec a4, TVec a5, TVec a6, TVec a7)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        if (hasBias)
        {
            TVec b = TOps.Load(ref bias);
            (a0, a1, a2, a3) = (TOps.Add(a0, b), TOps.Add(a1, b), TOps.Add(a2, b), TOps.Add(a3, b));
            if (pixels == 8) (a4, a5, a6, a7) = (TOps.Add(a4, b), TOps.Add(a5, b), TOps.Add(a6, b), TOps.Add(a7, b));
        }
        TOps.Store(a0, ref destination);
        TOps.Store(a1, ref Unsafe.Add(ref destination, outStep));
        TOps.Store(a2, ref Unsafe.Add(ref destination, 2 * outStep));
        TOps.Store(a3, ref Unsafe.Add(ref destination, 3 * outStep));
        if (pixels < 8) return;
        TOps.Store(a4, ref Unsafe.Add(ref destination, 4 * outStep));
        TOps.Store(a5, ref Unsafe.Add(ref destination, 5 * outStep));
        TOps.Store(a6, ref Unsafe.Add(ref destination, 6 * outStep));
        TOps.Store(a7, ref Unsafe.Add(ref destination, 7 * outStep));
    }

    /// <summary>
    /// Eight interior pixels of a 3×3 stride-1 convolution: each input column of a kernel row is loaded once and
    /// feeds the (up to three) pixels whose window holds it, so a kernel row costs 10 input loads instead of 24 (the
    /// general <see cref="Group"/> is bound by its loads). Each pixel still adds its taps in the reference's order
    /// (kernel rows, then columns left to right), so the results are bit-identical to <see cref="Group"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void EightPixels3x3<TOps, TVec>(ref float inputStart, ref float weightStart, ref float bias, bool hasBias,
        ref float outputStart, in RowGeometry g, int rows)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        nint ps = g.PixelStride, rowPitch = g.RowPitch, tapStride = g.TapStride, outStep = g.OutputPixelStride;
        int lastBlock = g.Channels - TOps.Count;
        for (int c = 0; ; c += TOps.Count)
        {
            if (c > lastBlock) c = lastBlock;
            TVec a0 = TOps.Zero;
            TVec a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            ref float row = ref Unsafe.Add(ref inputStart, c);
            ref float weight = ref Unsafe.Add(ref weightStart, c);
            for (int ky = 0; ky < rows; ky++)
            {
                TVec w0 = TOps.Load(ref weight), w1 = TOps.Load(ref Unsafe.Add(ref weight, tapStride)), w2 = TOps.Load(ref Unsafe.Add(ref weight, 2 * tapStride));
                // Column j feeds pixel j (tap 0), j − 1 (tap 1) and j − 2 (tap 2).
                TVec v = TOps.Load(ref row);
                a0 = TOps.MultiplyAdd(v, w0, a0);
                v = TOps.Load(ref Unsafe.Add(ref row, ps));
                a0 = TOps.MultiplyAdd(v, w1, a0); a1 = TOps.MultiplyAdd(v, w0, a1);
                v = TOps.Load(ref Unsafe.Add(ref row, 2 * ps));
                a0 = TOps.MultiplyAdd(v, w2, a0); a1 = TOps.MultiplyAdd(v, w1, a1); a2 = TOps.MultiplyAdd(v, w0, a2);
                v = TOps.Load(ref Unsafe.Add(ref row, 3 * ps));
                a1 = TOps.MultiplyAdd(v, w2, a1); a2 = TOps.MultiplyAdd(v, w1, a2); a3 = TOps.MultiplyAdd(v, w0, a3);
                v = TOps.Load(ref Unsafe.Add(ref row, 4 * ps));
                a2 = TOps.MultiplyAdd(v, w2, a2); a3 = TOps.MultiplyAdd(v, w1, a3); a4 = TOps.MultiplyAdd(v, w0, a4);
                v = TOps.Load(ref Unsafe.Add(ref row, 5 * ps));
                a3 = TOps.MultiplyAdd(v, w2, a3); a4 = TOps.MultiplyAdd(v, w1, a4); a5 = TOps.MultiplyAdd(v, w0, a5);
                v = TOps.Load(ref Unsafe.Add(ref row, 6 * ps));
                a4 = TOps.MultiplyAdd(v, w2, a4); a5 = TOps.MultiplyAdd(v, w1, a5); a6 = TOps.MultiplyAdd(v, w0, a6);
                v = TOps.Load(ref Unsafe.Add(ref row, 7 * ps));
                a5 = TOps.MultiplyAdd(v, w2, a5); a6 = TOps.MultiplyAdd(v, w1, a6); a7 = TOps.MultiplyAdd(v, w0, a7);
                v = TOps.Load(ref Unsafe.Add(ref row, 8 * ps));
                a6 = TOps.MultiplyAdd(v, w2, a6); a7 = TOps.MultiplyAdd(v, w1, a7);
                v = TOps.Load(ref Unsafe.Add(ref row, 9 * ps));
                a7 = TOps.MultiplyAdd(v, w2, a7);
                row = ref Unsafe.Add(ref row, rowPitch);
                weight = ref Unsafe.Add(ref weight, 3 * tapStride);
            }
            StorePixels<TOps, TVec>(ref Unsafe.Add(ref outputStart, c), outStep, ref Unsafe.Add(ref bias, c), hasBias, 8, a0, a1, a2, a3, a4, a5, a6, a7);
            if (c == lastBlock) break;
        }
    }

    /// <summary>
    /// Eight interior pixels of a 5×5 stride-1 convolution (PicoDet's neck and head): as <see cref="EightPixels3x3"/>,
    /// each of the 12 input columns of a kernel row is loaded once and feeds the (up to five) pixels whose window holds
    /// it, 17 loads per kernel row (5 weights, 12 columns) for 40 multiply-adds instead of 45 loads. Columns go left to
    /// right, so each pixel still adds its taps in the reference's order and the results equal <see cref="Group"/>'s.
    /// 8 accumulators, 5 weights and the column: 14 registers, within AVX2's 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void EightPixels5x5<TOps, TVec>(ref float inputStart, ref float weightStart, ref float bias, bool hasBias,
        ref float outputStart, in RowGeometry g, int rows)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        nint ps = g.PixelStride, rowPitch = g.RowPitch, tapStride = g.TapStride, outStep = g.OutputPixelStride;
        int lastBlock = g.Channels - TOps.Count;
        for (int c = 0; ; c += TOps.Count)
        {
            if (c > lastBlock) c = lastBlock;
            TVec a0 = TOps.Zero;
            TVec a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            ref float row = ref Unsafe.Add(ref inputStart, c);
            ref float weight = ref Unsafe.Add(ref weightStart, c);
            for (int ky = 0; ky < rows; ky++)
            {
                TVec w0 = TOps.Load(ref weight), w1 = TOps.Load(ref Unsafe.Add(ref weight, tapStride)), w2 = TOps.Load(ref Unsafe.Add(ref weight, 2 * tapStride));
                TVec w3 = TOps.Load(ref Unsafe.Add(ref weight, 3 * tapStride)), w4 = TOps.Load(ref Unsafe.Add(ref weight, 4 * tapStride));
                // Column j feeds pixel j − t with tap t, for the taps t in 0…4 that land on one of the eight pixels.
                TVec v = TOps.Load(ref row);
                a0 = F(v, w0, a0);
                v = TOps.Load(ref Unsafe.Add(ref row, ps));
                a0 = F(v, w1, a0); a1 = F(v, w0, a1);
                v = TOps.Load(ref Unsafe.Add(ref row, 2 * ps));
                a0 = F(v, w2, a0); a1 = F(v, w1, a1); a2 = F(v, w0, a2);
                v = TOps.Load(ref Unsafe.Add(ref row, 3 * ps));
                a0 = F(v, w3, a0); a1 = F(v, w2, a1); a2 = F(v, w1, a2); a3 = F(v, w0, a3);
                v = TOps.Load(ref Unsafe.Add(ref row, 4 * ps));
                a0 = F(v, w4, a0); a1 = F(v, w3, a1); a2 = F(v, w2, a2); a3 = F(v, w1, a3); a4 = F(v, w0, a4);
                v = TOps.Load(ref Unsafe.Add(ref row, 5 * ps));
                a1 = F(v, w4, a1); a2 = F(v, w3, a2); a3 = F(v, w2, a3); a4 = F(v, w1, a4); a5 = F(v, w0, a5);
                v = TOps.Load(ref Unsafe.Add(ref row, 6 * ps));
                a2 = F(v, w4, a2); a3 = F(v, w3, a3); a4 = F(v, w2, a4); a5 = F(v, w1, a5); a6 = F(v, w0, a6);
                v = TOps.Load(ref Unsafe.Add(ref row, 7 * ps));
                a3 = F(v, w4, a3); a4 = F(v, w3, a4); a5 = F(v, w2, a5); a6 = F(v, w1, a6); a7 = F(v, w0, a7);
                v = TOps.Load(ref Unsafe.Add(ref row, 8 * ps));
                a4 = F(v, w4, a4); a5 = F(v, w3, a5); a6 = F(v, w2, a6); a7 = F(v, w1, a7);
                v = TOps.Load(ref Unsafe.Add(ref row, 9 * ps));
                a5 = F(v, w4, a5); a6 = F(v, w3, a6); a7 = F(v, w2, a7);
                v = TOps.Load(ref Unsafe.Add(ref row, 10 * ps));
                a6 = F(v, w4, a6); a7 = F(v, w3, a7);
                v = TOps.Load(ref Unsafe.Add(ref row, 11 * ps));
                a7 = F(v, w4, a7);
                row = ref Unsafe.Add(ref row, rowPitch);
                weight = ref Unsafe.Add(ref weight, 5 * tapStride);
            }
            StorePixels<TOps, TVec>(ref Unsafe.Add(ref outputStart, c), outStep, ref Unsafe.Add(ref bias, c), hasBias, 8, a0, a1, a2, a3, a4, a5, a6, a7);
            if (c == lastBlock) break;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static TVec F(TVec v, TVec w, TVec a) => TOps.MultiplyAdd(v, w, a);
    }

    /// <summary>
    /// Eight interior pixels of a 3×3 stride-2 convolution: their windows span 17 input columns, each loaded once
    /// (an even column is tap 0 of one pixel and tap 2 of the one before, an odd column tap 1 of one pixel), 17 loads
    /// per kernel row instead of 24. Each pixel adds its taps in the reference's order, as in <see cref="Group"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void EightPixels3x3Stride2<TOps, TVec>(ref float inputStart, ref float weightStart, ref float bias, bool hasBias,
        ref float outputStart, in RowGeometry g, int rows)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        nint ps = g.PixelStride, rowPitch = g.RowPitch, tapStride = g.TapStride, outStep = g.OutputPixelStride;
        int lastBlock = g.Channels - TOps.Count;
        for (int c = 0; ; c += TOps.Count)
        {
            if (c > lastBlock) c = lastBlock;
            TVec a0 = TOps.Zero;
            TVec a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            ref float row = ref Unsafe.Add(ref inputStart, c);
            ref float weight = ref Unsafe.Add(ref weightStart, c);
            for (int ky = 0; ky < rows; ky++)
            {
                TVec w0 = TOps.Load(ref weight), w1 = TOps.Load(ref Unsafe.Add(ref weight, tapStride)), w2 = TOps.Load(ref Unsafe.Add(ref weight, 2 * tapStride));
                a0 = TOps.MultiplyAdd(TOps.Load(ref row), w0, a0);
                a0 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, ps)), w1, a0);
                TVec v = TOps.Load(ref Unsafe.Add(ref row, 2 * ps));
                a0 = TOps.MultiplyAdd(v, w2, a0); a1 = TOps.MultiplyAdd(v, w0, a1);
                a1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 3 * ps)), w1, a1);
                v = TOps.Load(ref Unsafe.Add(ref row, 4 * ps));
                a1 = TOps.MultiplyAdd(v, w2, a1); a2 = TOps.MultiplyAdd(v, w0, a2);
                a2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 5 * ps)), w1, a2);
                v = TOps.Load(ref Unsafe.Add(ref row, 6 * ps));
                a2 = TOps.MultiplyAdd(v, w2, a2); a3 = TOps.MultiplyAdd(v, w0, a3);
                a3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 7 * ps)), w1, a3);
                v = TOps.Load(ref Unsafe.Add(ref row, 8 * ps));
                a3 = TOps.MultiplyAdd(v, w2, a3); a4 = TOps.MultiplyAdd(v, w0, a4);
                a4 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 9 * ps)), w1, a4);
                v = TOps.Load(ref Unsafe.Add(ref row, 10 * ps));
                a4 = TOps.MultiplyAdd(v, w2, a4); a5 = TOps.MultiplyAdd(v, w0, a5);
                a5 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 11 * ps)), w1, a5);
                v = TOps.Load(ref Unsafe.Add(ref row, 12 * ps));
                a5 = TOps.MultiplyAdd(v, w2, a5); a6 = TOps.MultiplyAdd(v, w0, a6);
                a6 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 13 * ps)), w1, a6);
                v = TOps.Load(ref Unsafe.Add(ref row, 14 * ps));
                a6 = TOps.MultiplyAdd(v, w2, a6); a7 = TOps.MultiplyAdd(v, w0, a7);
                a7 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 15 * ps)), w1, a7);
                a7 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, 16 * ps)), w2, a7);
                row = ref Unsafe.Add(ref row, rowPitch);
                weight = ref Unsafe.Add(ref weight, 3 * tapStride);
            }
            StorePixels<TOps, TVec>(ref Unsafe.Add(ref outputStart, c), outStep, ref Unsafe.Add(ref bias, c), hasBias, 8, a0, a1, a2, a3, a4, a5, a6, a7);
            if (c == lastBlock) break;
        }
    }

    /// <summary>
    /// Adds the residual and applies the activation to output row <paramref name="y"/> in place. The overlapping
    /// tail block is loaded before the blocks it overlaps are rewritten, so no lane is finished twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void FinishRow<TOps, TVec>(Epilogue epilogue, ref float output, Nhwc outputShape, int y)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int channels = outputShape.Channels, lastBlock = channels - TOps.Count;
        bool hasTail = channels % TOps.Count != 0, hasResidual = !epilogue.Residual.IsEmpty;
        ref float residual = ref MemoryMarshal.GetReference(epilogue.Residual);
        for (int x = 0; x < outputShape.Width; x++)
        {
            int pixel = y * outputShape.Width + x;
            ref float destination = ref Unsafe.Add(ref output, pixel * outputShape.PixelStride);
            ref float residualPixel = ref Unsafe.Add(ref residual, hasResidual ? pixel * epilogue.ResidualPixelStride : 0);
            TVec tail = TOps.Load(ref Unsafe.Add(ref destination, lastBlock));
            for (int c = 0; c + TOps.Count <= channels; c += TOps.Count)
                TOps.Store(Finish<TOps, TVec>(TOps.Load(ref Unsafe.Add(ref destination, c)), ref residualPixel, hasResidual, c, epilogue.Activation),
                    ref Unsafe.Add(ref destination, c));
            if (hasTail)
                TOps.Store(Finish<TOps, TVec>(tail, ref residualPixel, hasResidual, lastBlock, epilogue.Activation),
                    ref Unsafe.Add(ref destination, lastBlock));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec Finish<TOps, TVec>(TVec sum, ref float residual, bool hasResidual, int c, Activation activation)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        if (hasResidual) sum = TOps.Add(sum, TOps.Load(ref Unsafe.Add(ref residual, c)));
        return Activations.Apply<TOps, TVec>(sum, activation);
    }
}
