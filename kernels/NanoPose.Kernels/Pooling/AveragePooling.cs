using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Pooling;

/// <summary>
/// Average pooling of NHWC views: global (H×W×C → C, <c>nn.AdaptiveAvgPool2d(1)</c>, squeeze-excite and Lite-HRNet
/// spatial weighting) and adaptive to any output size (<c>F.adaptive_avg_pool2d</c>, Lite-HRNet cross-resolution
/// weighting, e.g. 64×48 → 8×6). The output view may be a channel slice of a wider tensor, so the pooled branches
/// of the cross-resolution weighting land straight in their concat.
/// <para>
/// Bins are PyTorch's: output cell i of n over an input length L covers [floor(i·L/n), ceil((i+1)·L/n)); bins
/// overlap when n does not divide L. Each cell is PyTorch 1.13's CPU arithmetic (checked bit for bit against torch
/// 1.13.1): a float sum in row-major order, then sum / kh / kw (two divisions). The vector bodies keep that order per
/// lane, so every width is bit-identical to the reference. Exception: PyTorch computes a 1×1 output as
/// <c>mean()</c>, whose cascaded sum differs from this one in the last bits.
/// </para>
/// </summary>
public static class AveragePooling
{
    /// <summary>output[c] = mean over all pixels of input[·, ·, c].</summary>
    public static void Global(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, VectorWidth width) =>
        Adaptive(input, inputView, output, new Nhwc(1, 1, inputView.Channels), width);

    /// <summary>output[i, j, c] = mean of input[c] over the rows of bin i and the columns of bin j.</summary>
    public static void Adaptive(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, VectorWidth width)
    {
        inputView.Validate(input.Length, nameof(input));
        outputView.Validate(output.Length, nameof(output));
        RequirePoolable(inputView, outputView);
        if (outputView.Channels == 0) return;
        switch (width)
        {
            case VectorWidth.Scalar: AdaptiveReference(input, inputView, output, outputView); break;
            case VectorWidth.V128: Body<V128, Vector128<float>>(input, inputView, output, outputView); break;
            case VectorWidth.V256: Body<V256, Vector256<float>>(input, inputView, output, outputView); break;
            case VectorWidth.V512: Body<V512, Vector512<float>>(input, inputView, output, outputView); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    /// <summary>
    /// output[c] = the mean of an H×W map from its per-row channel sums (<paramref name="rowSums"/>: H × C floats, as
    /// <see cref="Depthwise.DepthwiseConv2d.RunRows"/> leaves them): (Σ_y rowSums[y, c]) / H / W, rows in order. Rounds
    /// like <see cref="Global"/> up to the grouping of the sum (by rows, then over rows).
    /// </summary>
    public static void MeanOfRowSums(ReadOnlySpan<float> rowSums, int height, int width, Span<float> output, VectorWidth vectorWidth)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"pooling needs sizes of at least 1x1, found {height}x{width}.", nameof(height));
        int channels = output.Length;
        if (rowSums.Length != height * channels)
            throw new ArgumentException($"{nameof(rowSums)}: expected {height}×{channels} = {height * channels} floats, found {rowSums.Length}.", nameof(rowSums));
        if (channels == 0) return;
        // The row sums as an H×1 map pooled to one cell: sum / H, then divided by W where a column bin divides by 1.
        var view = new Nhwc(height, 1, channels);
        var cell = new Nhwc(1, 1, channels);
        switch (vectorWidth)
        {
            case VectorWidth.Scalar: MeanOfRowSumsReference(rowSums, height, width, output); break;
            case VectorWidth.V128: Body<V128, Vector128<float>>(rowSums, view, output, cell, columnDivisor: width); break;
            case VectorWidth.V256: Body<V256, Vector256<float>>(rowSums, view, output, cell, columnDivisor: width); break;
            case VectorWidth.V512: Body<V512, Vector512<float>>(rowSums, view, output, cell, columnDivisor: width); break;
            default: throw new ArgumentOutOfRangeException(nameof(vectorWidth), vectorWidth, "unknown vector width");
        }
    }

    /// <summary>The definition of <see cref="MeanOfRowSums"/>.</summary>
    public static void MeanOfRowSumsReference(ReadOnlySpan<float> rowSums, int height, int width, Span<float> output)
    {
        for (int c = 0; c < output.Length; c++)
        {
            float sum = 0f;
            for (int y = 0; y < height; y++) sum += rowSums[y * output.Length + c];
            output[c] = sum / height / width;
        }
    }

    /// <summary>The global mean: the adaptive reference with one cell.</summary>
    public static void GlobalReference(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output) =>
        AdaptiveReference(input, inputView, output, new Nhwc(1, 1, inputView.Channels));

    /// <summary>The definition: each bin's float sum in row-major order, divided by its height, then by its width.</summary>
    public static void AdaptiveReference(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView)
    {
        for (int i = 0; i < outputView.Height; i++)
        {
            int y0 = BinStart(i, inputView.Height, outputView.Height), y1 = BinEnd(i, inputView.Height, outputView.Height);
            for (int j = 0; j < outputView.Width; j++)
            {
                int x0 = BinStart(j, inputView.Width, outputView.Width), x1 = BinEnd(j, inputView.Width, outputView.Width);
                for (int c = 0; c < outputView.Channels; c++)
                {
                    float sum = 0;
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++)
                            sum += input[inputView.Offset(y, x) + c];
                    output[outputView.Offset(i, j) + c] = sum / (y1 - y0) / (x1 - x0);
                }
            }
        }
    }

    /// <summary>First input index of output bin <paramref name="index"/>: floor(index·input/output).</summary>
    internal static int BinStart(int index, int inputSize, int outputSize) => (int)((long)index * inputSize / outputSize);

    /// <summary>One past the last input index of the bin: ceil((index+1)·input/output).</summary>
    internal static int BinEnd(int index, int inputSize, int outputSize) =>
        (int)(((long)(index + 1) * inputSize + outputSize - 1) / outputSize);

    static void RequirePoolable(Nhwc inputView, Nhwc outputView)
    {
        if (inputView.Height < 1 || inputView.Width < 1 || outputView.Height < 1 || outputView.Width < 1)
            throw new ArgumentException($"pooling needs sizes of at least 1x1, found {inputView} -> {outputView}.", nameof(outputView));
        if (inputView.Channels != outputView.Channels)
            throw new ArgumentException($"{nameof(outputView)}: has {outputView.Channels} channels, expected {inputView.Channels}.", nameof(outputView));
    }

    /// <param name="columnDivisor">When positive, each cell's second divisor instead of its bin's width (see
    /// <see cref="MeanOfRowSums"/>, whose input's columns are already sums of W pixels).</param>
    static void Body<TOps, TVec>(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, int columnDivisor = 0)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int channels = outputView.Channels, lanes = TOps.Count;
        if (channels < lanes)
        {
            if (columnDivisor > 0) MeanOfRowSumsReference(input, inputView.Height, columnDivisor, output[..channels]);
            else AdaptiveReference(input, inputView, output, outputView);
            return;
        }
        ref float source = ref MemoryMarshal.GetReference(input);
        ref float destination = ref MemoryMarshal.GetReference(output);
        int last = channels - lanes, stride = inputView.PixelStride;
        for (int i = 0; i < outputView.Height; i++)
        {
            int y0 = BinStart(i, inputView.Height, outputView.Height), y1 = BinEnd(i, inputView.Height, outputView.Height);
            for (int j = 0; j < outputView.Width; j++)
            {
                int x0 = BinStart(j, inputView.Width, outputView.Width), x1 = BinEnd(j, inputView.Width, outputView.Width);
                TVec rows = TOps.Splat(y1 - y0), columns = TOps.Splat(columnDivisor > 0 ? columnDivisor : x1 - x0);
                ref float cell = ref Unsafe.Add(ref destination, outputView.Offset(i, j));
                // Two channel vectors per pass over the bin (two independent add chains); the last pair may repeat a
                // vector or overlap the previous one for the tail, which rewrites equal values.
                for (int c = 0; ; c += 2 * lanes)
                {
                    int c0 = Math.Min(c, last), c1 = Math.Min(c + lanes, last);
                    TVec sum0 = TOps.Zero, sum1 = TOps.Zero;
                    for (int y = y0; y < y1; y++)
                    {
                        ref float pixel = ref Unsafe.Add(ref source, inputView.Offset(y, x0));
                        for (int x = x0; x < x1; x++)
                        {
                            sum0 = TOps.Add(sum0, TOps.Load(ref Unsafe.Add(ref pixel, c0)));
                            sum1 = TOps.Add(sum1, TOps.Load(ref Unsafe.Add(ref pixel, c1)));
                            pixel = ref Unsafe.Add(ref pixel, stride);
                        }
                    }
                    TOps.Store(TOps.Divide(TOps.Divide(sum0, rows), columns), ref Unsafe.Add(ref cell, c0));
                    TOps.Store(TOps.Divide(TOps.Divide(sum1, rows), columns), ref Unsafe.Add(ref cell, c1));
                    if (c1 == last) break;
                }
            }
        }
    }
}
