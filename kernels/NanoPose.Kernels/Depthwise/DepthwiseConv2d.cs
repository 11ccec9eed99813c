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

    /// <summary>Every output row. <paramref name="packedWeights"/> comes from <see cref="PackWeights"/>.</summary>
    public static void Run(VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, DepthwiseWindow window,
        ReadOnlySpan<float> packedWeights, Epilogue epilogue, Span<float> output, Nhwc outputShape) =>
        RunRows(width, input, inputShape, window, packedWeights, epilogue, output, outputShape, 0, outputShape.Height);

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) only, the rest of
    /// <paramref name="output"/> untouched, so the engine can split rows across threads.
    /// <see cref="VectorWidth.Scalar"/> runs the reference loops; a vector width narrower than the lanes the
    /// channels fill steps down (C = 8 on V512 runs V256; C &lt; 4 runs the scalar loops).
    /// </summary>
    public static void RunRows(VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, DepthwiseWindow window,
        ReadOnlySpan<float> packedWeights, Epilogue epilogue, Span<float> output, Nhwc outputShape, int rowStart, int rowEnd)
    {
        int channels = inputShape.Channels;
        Validate(input, inputShape, window, packedWeights.Length, PackedWeightLength(channels, window.Kernel),
            nameof(packedWeights), epilogue, output, outputShape, rowStart, rowEnd);
        if (width == VectorWidth.V512 && channels < V512.Count) width = VectorWidth.V256;
        if (width == VectorWidth.V256 && channels < V256.Count) width = VectorWidth.V128;
        if (width == VectorWidth.V128 && channels < V128.Count) width = VectorWidth.Scalar;
        switch (width)
        {
            case VectorWidth.Scalar:
                DepthwiseConv2dReference.Compute(input, inputShape, window, packedWeights, channelStride: 1,
                    tapStride: PackedTapStride(channels), epilogue, output, outputShape, rowStart, rowEnd);
                break;
            case VectorWidth.V128:
                Rows<V128, Vector128<float>>(input, inputShape, window, packedWeights, epilogue, output, outputShape, rowStart, rowEnd);
                break;
            case VectorWidth.V256:
                Rows<V256, Vector256<float>>(input, inputShape, window, packedWeights, epilogue, output, outputShape, rowStart, rowEnd);
                break;
            case VectorWidth.V512:
                Rows<V512, Vector512<float>>(input, inputShape, window, packedWeights, epilogue, output, outputShape, rowStart, rowEnd);
                break;
            default:
                throw new ArgumentException($"width: expected Scalar, V128, V256 or V512, found {width}.", nameof(width));
        }
    }

    /// <summary>Argument checks shared by the reference and the fast bodies.</summary>
    internal static void Validate(ReadOnlySpan<float> input, Nhwc inputShape, DepthwiseWindow window,
        int weightLength, int expectedWeightLength, string weightName, Epilogue epilogue,
        Span<float> output, Nhwc outputShape, int rowStart, int rowEnd)
    {
        var pad = window.Padding;
        if (window.Kernel < 1 || window.Stride < 1 || pad.Top < 0 || pad.Left < 0 || pad.Bottom < 0 || pad.Right < 0)
            throw new ArgumentException($"window: expected kernel and stride ≥ 1 and paddings ≥ 0, found {window}.", nameof(window));
        inputShape.Validate(input.Length, nameof(input));
        if (inputShape.Channels < 1 || inputShape.Height + pad.Top + pad.Bottom < window.Kernel || inputShape.Width + pad.Left + pad.Right < window.Kernel)
            throw new ArgumentException($"inputShape: expected at least 1 channel and a padded size of at least {window.Kernel}×{window.Kernel}, found {inputShape} with {pad}.", nameof(inputShape));
        outputShape.Validate(output.Length, nameof(output));
        var expected = window.OutputShape(inputShape);
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
        ReadOnlySpan<float> written = output;
        if (written.Overlaps(input))
            throw new ArgumentException("output: must not overlap input (expected separate buffers, found overlapping spans).", nameof(output));
        if (written.Overlaps(epilogue.Residual))
            throw new ArgumentException("output: must not overlap epilogue.Residual (expected separate buffers, found overlapping spans).", nameof(output));
    }

    /// <summary>
    /// The vector body. Zero padding becomes a clipped tap range per pixel, so no tap is ever bounds-checked:
    /// interior columns (all k column taps inside the input) go four pixels at a time, each weight vector loaded
    /// once for the four; border columns one pixel at a time with their column taps clipped. Requires
    /// C ≥ TOps.Count: the last channel block is moved back to end at C and overlaps the previous one.
    /// </summary>
    static void Rows<TOps, TVec>(ReadOnlySpan<float> input, Nhwc inputShape, DepthwiseWindow window,
        ReadOnlySpan<float> packedWeights, Epilogue epilogue, Span<float> output, Nhwc outputShape, int rowStart, int rowEnd)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int k = window.Kernel, stride = window.Stride, left = window.Padding.Left;
        int inWidth = inputShape.Width, outWidth = outputShape.Width;
        var taps = new Taps(input, inputShape, window, packedWeights);
        var store = new Store(epilogue, output, outputShape);
        int interiorStart = Math.Min(outWidth, (left + stride - 1) / stride);
        int interiorEnd = inWidth + left < k ? interiorStart
            : Math.Clamp((inWidth + left - k) / stride + 1, interiorStart, outWidth);
        for (int y = rowStart; y < rowEnd; y++)
        {
            int iy = y * stride - window.Padding.Top;
            int kyStart = Math.Max(0, -iy), kyEnd = Math.Min(k, inputShape.Height - iy);
            int x = 0;
            for (; x < interiorStart; x++)
                taps.Pixel<TOps, TVec>(ref store, y, x, iy, kyStart, kyEnd);
            for (; x + 4 <= interiorEnd; x += 4)
                taps.Quad<TOps, TVec>(ref store, y, x, iy, kyStart, kyEnd);
            for (; x < outWidth; x++)
                taps.Pixel<TOps, TVec>(ref store, y, x, iy, kyStart, kyEnd);
        }
    }

    /// <summary>Input and packed weights, and the multiply-add loops over one pixel's (or four pixels') taps.</summary>
    readonly ref struct Taps(ReadOnlySpan<float> input, Nhwc inputShape, DepthwiseWindow window, ReadOnlySpan<float> packedWeights)
    {
        readonly ref float _input = ref MemoryMarshal.GetReference(input);
        readonly ref float _weights = ref MemoryMarshal.GetReference(packedWeights);
        readonly int _kernel = window.Kernel, _stride = window.Stride, _left = window.Padding.Left;
        readonly int _width = inputShape.Width, _channels = inputShape.Channels, _pixelStride = inputShape.PixelStride;
        readonly int _rowPitch = inputShape.Width * inputShape.PixelStride, _tapStride = PackedTapStride(inputShape.Channels);

        /// <summary>One output pixel, rows [kyStart, kyEnd) and its columns clipped to the input.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Pixel<TOps, TVec>(ref Store store, int y, int x, int iy, int kyStart, int kyEnd)
            where TOps : struct, IVec<TVec> where TVec : struct
        {
            int ix = x * _stride - _left;
            int kxStart = Math.Max(0, -ix), kxEnd = Math.Min(_kernel, _width - ix);
            int lastBlock = _channels - TOps.Count;
            for (int c = 0; ; c += TOps.Count)
            {
                if (c > lastBlock) c = lastBlock;
                TVec acc = TOps.Zero;
                for (int ky = kyStart; ky < kyEnd; ky++)
                {
                    int inRow = (iy + ky) * _rowPitch + c, weightRow = ky * _kernel * _tapStride + c;
                    for (int kx = kxStart; kx < kxEnd; kx++)
                        acc = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref _input, inRow + (ix + kx) * _pixelStride)),
                            TOps.Load(ref Unsafe.Add(ref _weights, weightRow + kx * _tapStride)), acc);
                }
                store.Write<TOps, TVec>(acc, y, x, c);
                if (c == lastBlock) break;
            }
        }

        /// <summary>Four interior pixels x..x+3 (all column taps inside the input), rows [kyStart, kyEnd).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Quad<TOps, TVec>(ref Store store, int y, int x, int iy, int kyStart, int kyEnd)
            where TOps : struct, IVec<TVec> where TVec : struct
        {
            int ix = x * _stride - _left;
            int step = _stride * _pixelStride;
            int lastBlock = _channels - TOps.Count;
            for (int c = 0; ; c += TOps.Count)
            {
                if (c > lastBlock) c = lastBlock;
                TVec acc0 = TOps.Zero, acc1 = TOps.Zero, acc2 = TOps.Zero, acc3 = TOps.Zero;
                for (int ky = kyStart; ky < kyEnd; ky++)
                {
                    ref float inRow = ref Unsafe.Add(ref _input, (iy + ky) * _rowPitch + ix * _pixelStride + c);
                    ref float weightRow = ref Unsafe.Add(ref _weights, ky * _kernel * _tapStride + c);
                    for (int kx = 0; kx < _kernel; kx++)
                    {
                        TVec w = TOps.Load(ref Unsafe.Add(ref weightRow, kx * _tapStride));
                        ref float tap = ref Unsafe.Add(ref inRow, kx * _pixelStride);
                        acc0 = TOps.MultiplyAdd(TOps.Load(ref tap), w, acc0);
                        acc1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, step)), w, acc1);
                        acc2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 2 * step)), w, acc2);
                        acc3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref tap, 3 * step)), w, acc3);
                    }
                }
                store.Write<TOps, TVec>(acc0, y, x, c);
                store.Write<TOps, TVec>(acc1, y, x + 1, c);
                store.Write<TOps, TVec>(acc2, y, x + 2, c);
                store.Write<TOps, TVec>(acc3, y, x + 3, c);
                if (c == lastBlock) break;
            }
        }
    }

    /// <summary>The fused epilogue: + bias, + residual, activation, store.</summary>
    readonly ref struct Store(Epilogue epilogue, Span<float> output, Nhwc outputShape)
    {
        readonly ref float _output = ref MemoryMarshal.GetReference(output);
        readonly ref float _bias = ref MemoryMarshal.GetReference(epilogue.Bias);
        readonly ref float _residual = ref MemoryMarshal.GetReference(epilogue.Residual);
        readonly bool _hasBias = !epilogue.Bias.IsEmpty, _hasResidual = !epilogue.Residual.IsEmpty;
        readonly int _residualPixelStride = epilogue.ResidualPixelStride;
        readonly int _width = outputShape.Width, _pixelStride = outputShape.PixelStride;
        readonly Activation _activation = epilogue.Activation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Write<TOps, TVec>(TVec acc, int y, int x, int c) where TOps : struct, IVec<TVec> where TVec : struct
        {
            int pixel = y * _width + x;
            if (_hasBias) acc = TOps.Add(acc, TOps.Load(ref Unsafe.Add(ref _bias, c)));
            if (_hasResidual) acc = TOps.Add(acc, TOps.Load(ref Unsafe.Add(ref _residual, pixel * _residualPixelStride + c)));
            TOps.Store(Activations.Apply<TOps, TVec>(acc, _activation), ref Unsafe.Add(ref _output, pixel * _pixelStride + c));
        }
    }
}
