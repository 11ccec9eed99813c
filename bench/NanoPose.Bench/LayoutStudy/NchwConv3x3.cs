using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// Planar NCHW 3×3 convolution, stride 1, padding 1, then bias and ReLU: direct, vectorised over output width.
/// The input is first copied into a zero-bordered scratch ([Cin][H+2][W+2]) so every tap is a plain unaligned
/// load (the copy is timed: it is what this layout costs). A register tile is 4 output channels × 4 output
/// vectors (16 accumulators); the 4 vectors are the next 4 "vector positions" of the image in raster order, so
/// a tile may span two rows and no width is wasted (64×48 has 3 Vector512s per row). Tails repeat the last
/// position or channel. Needs width ≥ one vector. Kept over im2col + <see cref="NchwConv1x1"/>, which measured
/// about 2× slower on both study shapes with Vector512: im2col writes and re-reads 9× the input (18 MB for
/// 32 channels at 128×128).
/// </summary>
public static class NchwConv3x3
{
    public static int ScratchLength(int inChannels, int height, int width) => inChannels * (height + 2) * (width + 2);

    public static void Run<TOps, TVec>(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, Span<float> scratch, int inChannels, int outChannels, int height, int width)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int n = TOps.Count;
        Guard.Positive(inChannels, nameof(inChannels));
        Guard.Positive(outChannels, nameof(outChannels));
        Guard.Positive(height, nameof(height));
        Guard.AtLeast(width, n, nameof(width));
        int plane = height * width;
        Guard.Length(input, inChannels * plane, nameof(input));
        Guard.Length(weights, outChannels * inChannels * 9, nameof(weights));
        Guard.Length(bias, outChannels, nameof(bias));
        Guard.Length(output, outChannels * plane, nameof(output));
        Guard.Length(scratch, ScratchLength(inChannels, height, width), nameof(scratch));

        for (int ci = 0; ci < inChannels; ci++)
            PadPlane(input.Slice(ci * plane, plane), scratch.Slice(ci * (height + 2) * (width + 2)), height, width);

        var geometry = new Geometry(width, (width + 2) * (height + 2), plane, inChannels);
        ref float padRef = ref MemoryMarshal.GetReference(scratch);
        ref float wRef = ref MemoryMarshal.GetReference(weights);
        ref float bRef = ref MemoryMarshal.GetReference(bias);
        ref float outRef = ref MemoryMarshal.GetReference(output);
        int perRow = (width + n - 1) / n;
        int positions = height * perRow;
        for (int i = 0; i < positions; i += 4)
        {
            // Input offsets (top-left tap in the padded plane) and output offsets of the tile's 4 vectors.
            var (i0, o0) = Position(i, positions, perRow, width, n);
            var (i1, o1) = Position(i + 1, positions, perRow, width, n);
            var (i2, o2) = Position(i + 2, positions, perRow, width, n);
            var (i3, o3) = Position(i + 3, positions, perRow, width, n);
            for (int co = 0; co < outChannels; co += 4)
            {
                int c0 = Math.Min(co, outChannels - 1), c1 = Math.Min(co + 1, outChannels - 1);
                int c2 = Math.Min(co + 2, outChannels - 1), c3 = Math.Min(co + 3, outChannels - 1);
                Tile<TOps, TVec>(ref padRef, ref wRef, ref bRef, ref outRef, in geometry,
                    i0, i1, i2, i3, o0, o1, o2, o3, c0, c1, c2, c3);
            }
        }
    }

    /// <summary>Copies one plane into a (H+2)×(W+2) buffer with a zero border.</summary>
    internal static void PadPlane(ReadOnlySpan<float> plane, Span<float> padded, int height, int width)
    {
        int stride = width + 2;
        padded.Slice(0, stride).Clear();
        for (int y = 0; y < height; y++)
        {
            Span<float> row = padded.Slice((y + 1) * stride, stride);
            row[0] = 0f;
            plane.Slice(y * width, width).CopyTo(row.Slice(1));
            row[width + 1] = 0f;
        }
        padded.Slice((height + 1) * stride, stride).Clear();
    }

    static (nint Input, nint Output) Position(int index, int positions, int perRow, int width, int n)
    {
        index = Math.Min(index, positions - 1);
        int y = index / perRow;
        int x = Math.Min(index % perRow * n, width - n);
        return ((nint)y * (width + 2) + x, (nint)y * width + x);
    }

    readonly record struct Geometry(int Width, int PaddedPlane, int Plane, int InChannels);

    static void Tile<TOps, TVec>(ref float padded, ref float weights, ref float bias, ref float output, in Geometry g,
        nint i0, nint i1, nint i2, nint i3, nint o0, nint o1, nint o2, nint o3, int c0, int c1, int c2, int c3)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        TVec a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        a00 = a01 = a02 = a03 = TOps.Splat(Unsafe.Add(ref bias, c0));
        a10 = a11 = a12 = a13 = TOps.Splat(Unsafe.Add(ref bias, c1));
        a20 = a21 = a22 = a23 = TOps.Splat(Unsafe.Add(ref bias, c2));
        a30 = a31 = a32 = a33 = TOps.Splat(Unsafe.Add(ref bias, c3));
        nint filter = (nint)g.InChannels * 9;
        ref float w0 = ref Unsafe.Add(ref weights, c0 * filter);
        ref float w1 = ref Unsafe.Add(ref weights, c1 * filter);
        ref float w2 = ref Unsafe.Add(ref weights, c2 * filter);
        ref float w3 = ref Unsafe.Add(ref weights, c3 * filter);
        nint stride = g.Width + 2;
        ref float row = ref padded;
        for (int ci = 0; ci < g.InChannels; ci++)
        {
            for (int ky = 0; ky < 3; ky++)
            {
                for (nint kx = 0; kx < 3; kx++)
                {
                    TVec x0 = TOps.Load(ref Unsafe.Add(ref row, i0 + kx)), x1 = TOps.Load(ref Unsafe.Add(ref row, i1 + kx));
                    TVec x2 = TOps.Load(ref Unsafe.Add(ref row, i2 + kx)), x3 = TOps.Load(ref Unsafe.Add(ref row, i3 + kx));
                    TVec k = TOps.Splat(Unsafe.Add(ref w0, kx));
                    a00 = TOps.MultiplyAdd(k, x0, a00); a01 = TOps.MultiplyAdd(k, x1, a01); a02 = TOps.MultiplyAdd(k, x2, a02); a03 = TOps.MultiplyAdd(k, x3, a03);
                    k = TOps.Splat(Unsafe.Add(ref w1, kx));
                    a10 = TOps.MultiplyAdd(k, x0, a10); a11 = TOps.MultiplyAdd(k, x1, a11); a12 = TOps.MultiplyAdd(k, x2, a12); a13 = TOps.MultiplyAdd(k, x3, a13);
                    k = TOps.Splat(Unsafe.Add(ref w2, kx));
                    a20 = TOps.MultiplyAdd(k, x0, a20); a21 = TOps.MultiplyAdd(k, x1, a21); a22 = TOps.MultiplyAdd(k, x2, a22); a23 = TOps.MultiplyAdd(k, x3, a23);
                    k = TOps.Splat(Unsafe.Add(ref w3, kx));
                    a30 = TOps.MultiplyAdd(k, x0, a30); a31 = TOps.MultiplyAdd(k, x1, a31); a32 = TOps.MultiplyAdd(k, x2, a32); a33 = TOps.MultiplyAdd(k, x3, a33);
                }
                row = ref Unsafe.Add(ref row, stride);
                w0 = ref Unsafe.Add(ref w0, 3); w1 = ref Unsafe.Add(ref w1, 3);
                w2 = ref Unsafe.Add(ref w2, 3); w3 = ref Unsafe.Add(ref w3, 3);
            }
            // Three rows were consumed; skip the rest of this padded plane to the next input channel.
            row = ref Unsafe.Add(ref row, g.PaddedPlane - 3 * stride);
        }
        NchwConv1x1.Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c0 * g.Plane), o0, o1, o2, o3, a00, a01, a02, a03);
        NchwConv1x1.Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c1 * g.Plane), o0, o1, o2, o3, a10, a11, a12, a13);
        NchwConv1x1.Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c2 * g.Plane), o0, o1, o2, o3, a20, a21, a22, a23);
        NchwConv1x1.Store4<TOps, TVec>(ref Unsafe.Add(ref output, (nint)c3 * g.Plane), o0, o1, o2, o3, a30, a31, a32, a33);
    }
}
