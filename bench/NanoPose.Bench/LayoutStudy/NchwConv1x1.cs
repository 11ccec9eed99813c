using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// Planar NCHW 1×1 convolution as a GEMM, out[Cout, P] = W[Cout, Cin]·in[Cin, P], then bias and ReLU.
/// Vectorised over pixels; a register tile is 4 output channels × 4 pixel vectors (16 accumulators), fed by
/// one broadcast weight per channel and one load per pixel vector. Pixel blocks are the outer loop so the
/// Cin×4-vector input panel stays in L1 while every output channel sweeps it. Edges cost no scalar code:
/// the last pixel block and the last channel group are shifted back to overlap the previous one (recomputing
/// a few outputs), which needs pixels ≥ one vector and outChannels ≥ 1.
/// </summary>
public static class NchwConv1x1
{
    const int Rows = 4;
    const int Vectors = 4;

    public static void Run<TOps, TVec>(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, int inChannels, int outChannels, int pixels)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int n = TOps.Count;
        Guard.Positive(inChannels, nameof(inChannels));
        Guard.Positive(outChannels, nameof(outChannels));
        Guard.AtLeast(pixels, n, nameof(pixels));
        Guard.Length(input, inChannels * pixels, nameof(input));
        Guard.Length(weights, outChannels * inChannels, nameof(weights));
        Guard.Length(bias, outChannels, nameof(bias));
        Guard.Length(output, outChannels * pixels, nameof(output));

        ref float inRef = ref MemoryMarshal.GetReference(input);
        ref float wRef = ref MemoryMarshal.GetReference(weights);
        ref float bRef = ref MemoryMarshal.GetReference(bias);
        ref float outRef = ref MemoryMarshal.GetReference(output);
        // Wide blocks when the image has enough pixels, single vectors otherwise (8×6 = 48 pixels = 3 Vector512s).
        int block = pixels >= Vectors * n ? Vectors * n : n;
        for (int p = 0; ; p += block)
        {
            int p0 = Math.Min(p, pixels - block);
            for (int co = 0; co < outChannels; co += Rows)
            {
                // Channel tail: repeat the last channel in the unused rows (same value stored twice).
                int c0 = Math.Min(co, outChannels - 1), c1 = Math.Min(co + 1, outChannels - 1);
                int c2 = Math.Min(co + 2, outChannels - 1), c3 = Math.Min(co + 3, outChannels - 1);
                if (block == n)
                    Tile4x1<TOps, TVec>(ref inRef, ref wRef, ref bRef, ref outRef, inChannels, pixels, p0, c0, c1, c2, c3);
                else
                    Tile4x4<TOps, TVec>(ref inRef, ref wRef, ref bRef, ref outRef, inChannels, pixels, p0, c0, c1, c2, c3);
            }
            if (p0 == pixels - block) break;
        }
    }

    static void Tile4x4<TOps, TVec>(ref float input, ref float weights, ref float bias, ref float output,
        int inChannels, int pixels, int p0, int c0, int c1, int c2, int c3)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        nint n = TOps.Count;
        TVec a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        a00 = a01 = a02 = a03 = TOps.Splat(Unsafe.Add(ref bias, c0));
        a10 = a11 = a12 = a13 = TOps.Splat(Unsafe.Add(ref bias, c1));
        a20 = a21 = a22 = a23 = TOps.Splat(Unsafe.Add(ref bias, c2));
        a30 = a31 = a32 = a33 = TOps.Splat(Unsafe.Add(ref bias, c3));
        ref float w0 = ref Unsafe.Add(ref weights, (nint)c0 * inChannels);
        ref float w1 = ref Unsafe.Add(ref weights, (nint)c1 * inChannels);
        ref float w2 = ref Unsafe.Add(ref weights, (nint)c2 * inChannels);
        ref float w3 = ref Unsafe.Add(ref weights, (nint)c3 * inChannels);
        ref float x = ref Unsafe.Add(ref input, p0);
        for (nint ci = 0; ci < inChannels; ci++)
        {
            TVec x0 = TOps.Load(ref x), x1 = TOps.Load(ref Unsafe.Add(ref x, n));
            TVec x2 = TOps.Load(ref Unsafe.Add(ref x, 2 * n)), x3 = TOps.Load(ref Unsafe.Add(ref x, 3 * n));
            TVec g = TOps.Splat(Unsafe.Add(ref w0, ci));
            a00 = TOps.MultiplyAdd(g, x0, a00); a01 = TOps.MultiplyAdd(g, x1, a01); a02 = TOps.MultiplyAdd(g, x2, a02); a03 = TOps.MultiplyAdd(g, x3, a03);
            g = TOps.Splat(Unsafe.Add(ref w1, ci));
            a10 = TOps.MultiplyAdd(g, x0, a10); a11 = TOps.MultiplyAdd(g, x1, a11); a12 = TOps.MultiplyAdd(g, x2, a12); a13 = TOps.MultiplyAdd(g, x3, a13);
            g = TOps.Splat(Unsafe.Add(ref w2, ci));
            a20 = TOps.MultiplyAdd(g, x0, a20); a21 = TOps.MultiplyAdd(g, x1, a21); a22 = TOps.MultiplyAdd(g, x2, a22); a23 = TOps.MultiplyAdd(g, x3, a23);
            g = TOps.Splat(Unsafe.Add(ref w3, ci));
            a30 = TOps.MultiplyAdd(g, x0, a30); a31 = TOps.MultiplyAdd(g, x1, a31); a32 = TOps.MultiplyAdd(g, x2, a32); a33 = TOps.MultiplyAdd(g, x3, a33);
            x = ref Unsafe.Add(ref x, pixels);
        }
        StoreRow<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c0 * pixels + p0), n, a00, a01, a02, a03);
        StoreRow<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c1 * pixels + p0), n, a10, a11, a12, a13);
        StoreRow<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c2 * pixels + p0), n, a20, a21, a22, a23);
        StoreRow<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c3 * pixels + p0), n, a30, a31, a32, a33);
    }

    static void Tile4x1<TOps, TVec>(ref float input, ref float weights, ref float bias, ref float output,
        int inChannels, int pixels, int p0, int c0, int c1, int c2, int c3)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        TVec a0 = TOps.Splat(Unsafe.Add(ref bias, c0)), a1 = TOps.Splat(Unsafe.Add(ref bias, c1));
        TVec a2 = TOps.Splat(Unsafe.Add(ref bias, c2)), a3 = TOps.Splat(Unsafe.Add(ref bias, c3));
        ref float w0 = ref Unsafe.Add(ref weights, (nint)c0 * inChannels);
        ref float w1 = ref Unsafe.Add(ref weights, (nint)c1 * inChannels);
        ref float w2 = ref Unsafe.Add(ref weights, (nint)c2 * inChannels);
        ref float w3 = ref Unsafe.Add(ref weights, (nint)c3 * inChannels);
        ref float x = ref Unsafe.Add(ref input, p0);
        for (nint ci = 0; ci < inChannels; ci++)
        {
            TVec x0 = TOps.Load(ref x);
            a0 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref w0, ci)), x0, a0);
            a1 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref w1, ci)), x0, a1);
            a2 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref w2, ci)), x0, a2);
            a3 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref w3, ci)), x0, a3);
            x = ref Unsafe.Add(ref x, pixels);
        }
        TOps.Store(TOps.Max(a0, TOps.Zero), ref Unsafe.Add(ref output, (nint)c0 * pixels + p0));
        TOps.Store(TOps.Max(a1, TOps.Zero), ref Unsafe.Add(ref output, (nint)c1 * pixels + p0));
        TOps.Store(TOps.Max(a2, TOps.Zero), ref Unsafe.Add(ref output, (nint)c2 * pixels + p0));
        TOps.Store(TOps.Max(a3, TOps.Zero), ref Unsafe.Add(ref output, (nint)c3 * pixels + p0));
    }

    /// <summary>ReLU and store of four consecutive pixel vectors of one output channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow<TOps, TVec>(ref float destination, nint n, TVec v0, TVec v1, TVec v2, TVec v3)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        TOps.Store(TOps.Max(v0, TOps.Zero), ref destination);
        TOps.Store(TOps.Max(v1, TOps.Zero), ref Unsafe.Add(ref destination, n));
        TOps.Store(TOps.Max(v2, TOps.Zero), ref Unsafe.Add(ref destination, 2 * n));
        TOps.Store(TOps.Max(v3, TOps.Zero), ref Unsafe.Add(ref destination, 3 * n));
    }
}
