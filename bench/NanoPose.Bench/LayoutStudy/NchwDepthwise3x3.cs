using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// Planar NCHW depthwise 3×3, stride 1, padding 1, plus bias: each channel plane is copied into a zero-bordered
/// scratch (timed: the price of borders in this layout, as in ncnn's copy_make_border) and then swept with
/// vectors along the width, the 9 weights held in registers, three independent row sums per output vector.
/// Planes narrower than a vector (8×6 at Vector256/512) are swept along the flattened padded plane instead, into
/// a second scratch area whose rows are then copied out (the pad columns it also computes are discarded).
/// </summary>
public static class NchwDepthwise3x3
{
    /// <summary>Slack past each scratch area for the flattened sweep's last (partial) vector; covers Vector512.</summary>
    const int Slack = 64;

    public static int ScratchLength(int height, int width) => (height + 2) * (width + 2) + height * (width + 2) + 2 * Slack;

    public static void Run<TOps, TVec>(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, Span<float> scratch, int channels, int height, int width)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        Guard.Positive(channels, nameof(channels));
        Guard.Positive(height, nameof(height));
        Guard.Positive(width, nameof(width));
        int plane = height * width;
        Guard.Length(input, channels * plane, nameof(input));
        Guard.Length(weights, channels * 9, nameof(weights));
        Guard.Length(bias, channels, nameof(bias));
        Guard.Length(output, channels * plane, nameof(output));
        Guard.Length(scratch, ScratchLength(height, width), nameof(scratch));

        int stride = width + 2;
        Span<float> padded = scratch.Slice(0, (height + 2) * stride + Slack);
        Span<float> flat = scratch.Slice(padded.Length);
        for (int c = 0; c < channels; c++)
        {
            NchwConv3x3.PadPlane(input.Slice(c * plane, plane), padded, height, width);
            var k = new Kernel<TOps, TVec>(weights.Slice(c * 9, 9), bias[c]);
            if (width >= TOps.Count)
                SweepRows<TOps, TVec>(padded, output.Slice(c * plane, plane), k, height, width);
            else
                SweepFlat<TOps, TVec>(padded, flat, output.Slice(c * plane, plane), k, height, width);
        }
    }

    /// <summary>One channel's 9 weights and bias, broadcast once per plane.</summary>
    readonly struct Kernel<TOps, TVec> where TOps : struct, IVec<TVec> where TVec : struct
    {
        public readonly TVec W0, W1, W2, W3, W4, W5, W6, W7, W8, Bias;

        public Kernel(ReadOnlySpan<float> w, float bias)
        {
            W0 = TOps.Splat(w[0]); W1 = TOps.Splat(w[1]); W2 = TOps.Splat(w[2]);
            W3 = TOps.Splat(w[3]); W4 = TOps.Splat(w[4]); W5 = TOps.Splat(w[5]);
            W6 = TOps.Splat(w[6]); W7 = TOps.Splat(w[7]); W8 = TOps.Splat(w[8]);
            Bias = TOps.Splat(bias);
        }
    }

    static void SweepRows<TOps, TVec>(ReadOnlySpan<float> padded, Span<float> output, Kernel<TOps, TVec> k, int height, int width)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int n = TOps.Count, stride = width + 2;
        ref float src = ref MemoryMarshal.GetReference(padded);
        ref float dst = ref MemoryMarshal.GetReference(output);
        for (int y = 0; y < height; y++)
            for (int x = 0; ; x += n)
            {
                int x0 = Math.Min(x, width - n);
                // Centre tap of output (y, x0) sits at padded (y+1, x0+1).
                TOps.Store(Window<TOps, TVec>(ref Unsafe.Add(ref src, (nint)(y + 1) * stride + x0 + 1), stride, in k),
                    ref Unsafe.Add(ref dst, (nint)y * width + x0));
                if (x0 == width - n) break;
            }
    }

    static void SweepFlat<TOps, TVec>(ReadOnlySpan<float> padded, Span<float> flat, Span<float> output, Kernel<TOps, TVec> k, int height, int width)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int n = TOps.Count, stride = width + 2;
        // Padded positions from output (0,0) to output (H-1,W-1), pad columns included.
        int first = stride + 1, count = (height - 1) * stride + width;
        ref float src = ref MemoryMarshal.GetReference(padded);
        ref float dst = ref MemoryMarshal.GetReference(flat);
        for (int i = 0; i < count; i += n)
            TOps.Store(Window<TOps, TVec>(ref Unsafe.Add(ref src, first + i), stride, in k), ref Unsafe.Add(ref dst, i));
        for (int y = 0; y < height; y++)
            flat.Slice(y * stride, width).CopyTo(output.Slice(y * width, width));
    }

    /// <summary>The 3×3 window around <paramref name="centre"/> as three independent row sums (short FMA chains).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec Window<TOps, TVec>(ref float centre, nint stride, in Kernel<TOps, TVec> k)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        ref float up = ref Unsafe.Subtract(ref centre, stride);
        ref float down = ref Unsafe.Add(ref centre, stride);
        TVec top = TOps.MultiplyAdd(k.W0, TOps.Load(ref Unsafe.Subtract(ref up, 1)), k.Bias);
        TVec mid = TOps.Multiply(k.W3, TOps.Load(ref Unsafe.Subtract(ref centre, 1)));
        TVec bot = TOps.Multiply(k.W6, TOps.Load(ref Unsafe.Subtract(ref down, 1)));
        top = TOps.MultiplyAdd(k.W1, TOps.Load(ref up), top);
        mid = TOps.MultiplyAdd(k.W4, TOps.Load(ref centre), mid);
        bot = TOps.MultiplyAdd(k.W7, TOps.Load(ref down), bot);
        top = TOps.MultiplyAdd(k.W2, TOps.Load(ref Unsafe.Add(ref up, 1)), top);
        mid = TOps.MultiplyAdd(k.W5, TOps.Load(ref Unsafe.Add(ref centre, 1)), mid);
        bot = TOps.MultiplyAdd(k.W8, TOps.Load(ref Unsafe.Add(ref down, 1)), bot);
        return TOps.Add(TOps.Add(top, mid), bot);
    }
}
