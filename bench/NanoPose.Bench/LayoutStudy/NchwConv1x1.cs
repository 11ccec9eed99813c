using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// Planar NCHW 1×1 convolution as a GEMM, out[Cout, P] = W[Cout, Cin]·in[Cin, P], then bias and ReLU.
/// Vectorised over pixels; a register tile is 4 output channels × 4 pixel vectors (16 accumulators), fed by
/// one broadcast weight per channel and one load per pixel vector. Pixel blocks are the outer loop so the
/// Cin×4-vector input panel stays in L1 while every output channel sweeps it. Edges cost no scalar code: the
/// last pixel vector is shifted back to end at the last pixel, and a short tile repeats its last pixel vector
/// or output channel (recomputing the same values), so 8×6 = 48 pixels is 3 Vector512s in one tile of 4.
/// Needs pixels ≥ one vector.
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
        int vectors = (pixels + n - 1) / n;
        for (int v = 0; v < vectors; v += Vectors)
        {
            nint p0 = Offset(v, vectors, pixels, n), p1 = Offset(v + 1, vectors, pixels, n);
            nint p2 = Offset(v + 2, vectors, pixels, n), p3 = Offset(v + 3, vectors, pixels, n);
            for (int co = 0; co < outChannels; co += Rows)
            {
                // Channel tail: repeat the last channel in the unused rows (same value stored twice).
                int c0 = Math.Min(co, outChannels - 1), c1 = Math.Min(co + 1, outChannels - 1);
                int c2 = Math.Min(co + 2, outChannels - 1), c3 = Math.Min(co + 3, outChannels - 1);
                Tile<TOps, TVec>(ref inRef, ref wRef, ref bRef, ref outRef, inChannels, pixels, p0, p1, p2, p3, c0, c1, c2, c3);
            }
        }
    }

    /// <summary>Start of pixel vector <paramref name="index"/>; past the end it repeats the last, which ends at the last pixel.</summary>
    static nint Offset(int index, int vectors, int pixels, int n) => Math.Min(Math.Min(index, vectors - 1) * n, pixels - n);

    static void Tile<TOps, TVec>(ref float input, ref float weights, ref float bias, ref float output,
        int inChannels, int pixels, nint p0, nint p1, nint p2, nint p3, int c0, int c1, int c2, int c3)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        TVec a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        a00 = a01 = a02 = a03 = TOps.Splat(Unsafe.Add(ref bias, c0));
        a10 = a11 = a12 = a13 = TOps.Splat(Unsafe.Add(ref bias, c1));
        a20 = a21 = a22 = a23 = TOps.Splat(Unsafe.Add(ref bias, c2));
        a30 = a31 = a32 = a33 = TOps.Splat(Unsafe.Add(ref bias, c3));
        ref float w0 = ref Unsafe.Add(ref weights, (nint)c0 * inChannels);
        ref float w1 = ref Unsafe.Add(ref weights, (nint)c1 * inChannels);
        ref float w2 = ref Unsafe.Add(ref weights, (nint)c2 * inChannels);
        ref float w3 = ref Unsafe.Add(ref weights, (nint)c3 * inChannels);
        ref float x = ref input;
        for (nint ci = 0; ci < inChannels; ci++)
        {
            TVec x0 = TOps.Load(ref Unsafe.Add(ref x, p0)), x1 = TOps.Load(ref Unsafe.Add(ref x, p1));
            TVec x2 = TOps.Load(ref Unsafe.Add(ref x, p2)), x3 = TOps.Load(ref Unsafe.Add(ref x, p3));
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
        Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c0 * pixels), p0, p1, p2, p3, a00, a01, a02, a03);
        Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c1 * pixels), p0, p1, p2, p3, a10, a11, a12, a13);
        Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c2 * pixels), p0, p1, p2, p3, a20, a21, a22, a23);
        Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c3 * pixels), p0, p1, p2, p3, a30, a31, a32, a33);
    }

    /// <summary>ReLU and store of four vectors at the given offsets of one output plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store4<TOps, TVec>(ref float plane, nint o0, nint o1, nint o2, nint o3, TVec v0, TVec v1, TVec v2, TVec v3)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        TOps.Store(TOps.Max(v0, TOps.Zero), ref Unsafe.Add(ref plane, o0));
        TOps.Store(TOps.Max(v1, TOps.Zero), ref Unsafe.Add(ref plane, o1));
        TOps.Store(TOps.Max(v2, TOps.Zero), ref Unsafe.Add(ref plane, o2));
        TOps.Store(TOps.Max(v3, TOps.Zero), ref Unsafe.Add(ref plane, o3));
    }
}
