using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// A dense convolution with one output channel (PicoDet's 5×5 96→1 alignment conv in each head). The general kernel
/// (<see cref="ConvCore"/>) spreads output channels over the vector lanes, so here it would fill one lane in sixteen
/// (2.3 GFLOP/s, 11 % of the 320 detector); this one spreads the input channels instead: per output pixel, one dot
/// product over every tap's input pixel, two accumulators, the lanes summed in order at the end. Four neighbouring
/// pixels whose taps lie inside the row run together and share each weight load: one pixel alone kept only two
/// accumulator chains in flight (the detector's 5×5 96→1 layers: 0.34 → 0.19 ms per 320 run, same values).
/// Weights are packed tap-major, [kh·kw][Cin], so each tap's weights are one contiguous run like its input pixel.
/// </summary>
internal static class SingleOutputConv
{
    public static bool Applies(VectorWidth width, ConvGeometry geometry, int outChannels) =>
        width != VectorWidth.Scalar && outChannels == 1 && geometry.Groups == 1 && !geometry.IsPointwise;

    /// <summary>PyTorch weights [1, Cin, kh, kw] → [kh·kw][Cin].</summary>
    public static void Pack(ReadOnlySpan<float> weights, int inChannels, int taps, Span<float> packed)
    {
        for (int c = 0; c < inChannels; c++)
            for (int t = 0; t < taps; t++)
                packed[t * inChannels + c] = weights[c * taps + t];
    }

    public static void RunRows(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        switch (width)
        {
            case VectorWidth.V128: Run<V128, Vector128<float>>(input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd); break;
            case VectorWidth.V256: Run<V256, Vector256<float>>(input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd); break;
            case VectorWidth.V512: Run<V512, Vector512<float>>(input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "a vector width");
        }
    }

    private static void Run<TOps, TVec>(
        ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int cin = inputShape.Channels, n = TOps.Count, full = cin / n * n, tail = cin - full;
        int kh = geometry.KernelHeight, kw = geometry.KernelWidth;
        ref float x0 = ref MemoryMarshal.GetReference(input);
        ref float w0 = ref MemoryMarshal.GetReference(packedWeights);
        float bias = epilogue.Bias.IsEmpty ? 0f : epilogue.Bias[0];
        Span<float> lanes = stackalloc float[Vector512<float>.Count];
        int sx = geometry.StrideX;
        for (int oy = rowStart; oy < rowEnd; oy++)
            for (int ox = 0; ox < outputShape.Width; ox++)
            {
                // Four pixels whose taps are all inside the row share each weight load; each keeps its own two
                // accumulators, so its sum is the one-pixel path's, bit for bit.
                int firstX = ox * sx - geometry.Padding.Left;
                if (ox + 4 <= outputShape.Width && firstX >= 0 && firstX + 3 * sx + kw <= inputShape.Width)
                {
                    FourPixels<TOps, TVec>(ref x0, inputShape, ref w0, geometry, oy, firstX, full, tail, out var s0, out var s1, out var s2, out var s3);
                    Emit<TOps, TVec>(s0, lanes, bias, epilogue, output, outputShape, oy, ox);
                    Emit<TOps, TVec>(s1, lanes, bias, epilogue, output, outputShape, oy, ox + 1);
                    Emit<TOps, TVec>(s2, lanes, bias, epilogue, output, outputShape, oy, ox + 2);
                    Emit<TOps, TVec>(s3, lanes, bias, epilogue, output, outputShape, oy, ox + 3);
                    ox += 3;
                    continue;
                }
                TVec even = TOps.Zero, odd = TOps.Zero;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * geometry.StrideY - geometry.Padding.Top + ky;
                    if ((uint)iy >= (uint)inputShape.Height) continue;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int ix = firstX + kx;
                        if ((uint)ix >= (uint)inputShape.Width) continue;
                        ref float x = ref Unsafe.Add(ref x0, inputShape.Offset(iy, ix));
                        ref float w = ref Unsafe.Add(ref w0, (ky * kw + kx) * cin);
                        int c = 0;
                        for (; c + 2 * n <= full; c += 2 * n)
                        {
                            even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref x, c)), TOps.Load(ref Unsafe.Add(ref w, c)), even);
                            odd = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref x, c + n)), TOps.Load(ref Unsafe.Add(ref w, c + n)), odd);
                        }
                        if (c < full)
                        {
                            even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref x, c)), TOps.Load(ref Unsafe.Add(ref w, c)), even);
                            c += n;
                        }
                        if (tail > 0)
                            odd = TOps.MultiplyAdd(TOps.LoadFirst(ref Unsafe.Add(ref x, c), tail), TOps.LoadFirst(ref Unsafe.Add(ref w, c), tail), odd);
                    }
                }
                Emit<TOps, TVec>(TOps.Add(even, odd), lanes, bias, epilogue, output, outputShape, oy, ox);
            }
    }

    /// <summary>The lanes of <paramref name="sum"/> added in order, then bias, residual and activation, into (oy, ox).</summary>
    private static void Emit<TOps, TVec>(TVec sum, Span<float> lanes, float bias, in Epilogue epilogue, Span<float> output, Nhwc outputShape, int oy, int ox)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        TOps.Store(sum, ref lanes[0]);
        float total = 0f;
        for (int lane = 0; lane < TOps.Count; lane++) total += lanes[lane];
        total += bias;
        if (!epilogue.Residual.IsEmpty) total += epilogue.Residual[(oy * outputShape.Width + ox) * epilogue.ResidualPixelStride];
        output[outputShape.Offset(oy, ox)] = Activations.Apply(total, epilogue.Activation);
    }

    /// <summary>
    /// even + odd of output pixels (oy, ox … ox + 3) into <paramref name="s0"/> … <paramref name="s3"/>, each accumulated exactly as the
    /// one-pixel loop does; <paramref name="firstX"/> is pixel ox's first input column, every tap's column inside the row.
    /// </summary>
    private static void FourPixels<TOps, TVec>(ref float x0, Nhwc inputShape, ref float w0, ConvGeometry geometry, int oy, int firstX,
        int full, int tail, out TVec s0, out TVec s1, out TVec s2, out TVec s3)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int cin = inputShape.Channels, n = TOps.Count, kh = geometry.KernelHeight, kw = geometry.KernelWidth;
        nint step = (nint)geometry.StrideX * inputShape.PixelStride;
        TVec e0 = TOps.Zero, e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
        for (int ky = 0; ky < kh; ky++)
        {
            int iy = oy * geometry.StrideY - geometry.Padding.Top + ky;
            if ((uint)iy >= (uint)inputShape.Height) continue;
            for (int kx = 0; kx < kw; kx++)
            {
                ref float x = ref Unsafe.Add(ref x0, inputShape.Offset(iy, firstX + kx));
                ref float w = ref Unsafe.Add(ref w0, (ky * kw + kx) * cin);
                int c = 0;
                for (; c + 2 * n <= full; c += 2 * n)
                {
                    TVec wEven = TOps.Load(ref Unsafe.Add(ref w, c)), wOdd = TOps.Load(ref Unsafe.Add(ref w, c + n));
                    ref float xc = ref Unsafe.Add(ref x, c);
                    e0 = TOps.MultiplyAdd(TOps.Load(ref xc), wEven, e0);
                    o0 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, n)), wOdd, o0);
                    e1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, step)), wEven, e1);
                    o1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, step + n)), wOdd, o1);
                    e2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, 2 * step)), wEven, e2);
                    o2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, 2 * step + n)), wOdd, o2);
                    e3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, 3 * step)), wEven, e3);
                    o3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, 3 * step + n)), wOdd, o3);
                }
                if (c < full)
                {
                    TVec wEven = TOps.Load(ref Unsafe.Add(ref w, c));
                    ref float xc = ref Unsafe.Add(ref x, c);
                    e0 = TOps.MultiplyAdd(TOps.Load(ref xc), wEven, e0);
                    e1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, step)), wEven, e1);
                    e2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, 2 * step)), wEven, e2);
                    e3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref xc, 3 * step)), wEven, e3);
                    c += n;
                }
                if (tail > 0)
                {
                    TVec wOdd = TOps.LoadFirst(ref Unsafe.Add(ref w, c), tail);
                    ref float xc = ref Unsafe.Add(ref x, c);
                    o0 = TOps.MultiplyAdd(TOps.LoadFirst(ref xc, tail), wOdd, o0);
                    o1 = TOps.MultiplyAdd(TOps.LoadFirst(ref Unsafe.Add(ref xc, step), tail), wOdd, o1);
                    o2 = TOps.MultiplyAdd(TOps.LoadFirst(ref Unsafe.Add(ref xc, 2 * step), tail), wOdd, o2);
                    o3 = TOps.MultiplyAdd(TOps.LoadFirst(ref Unsafe.Add(ref xc, 3 * step), tail), wOdd, o3);
                }
            }
        }
        (s0, s1, s2, s3) = (TOps.Add(e0, o0), TOps.Add(e1, o1), TOps.Add(e2, o2), TOps.Add(e3, o3));
    }
}
