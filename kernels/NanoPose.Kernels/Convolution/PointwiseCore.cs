using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

internal readonly struct Tile8x3 : ITile { public static int Rows => 8; public static int Vectors => 3; }
internal readonly struct Tile4x3 : ITile { public static int Rows => 4; public static int Vectors => 3; }
internal readonly struct Tile4x2 : ITile { public static int Rows => 4; public static int Vectors => 2; }
internal readonly struct Tile4x1 : ITile { public static int Rows => 4; public static int Vectors => 1; }
internal readonly struct Tile1x3 : ITile { public static int Rows => 1; public static int Vectors => 3; }

/// <summary>
/// The 1×1 GEMM behind <see cref="Pointwise"/> when a group's output channels fill at least one vector, over the
/// weight panel <c>[Cin][Cout]</c> (<see cref="ConvPacking.PackPointwisePanel"/>). A tile is 8 pixels (4 with 16
/// registers) × up to 3 vectors of output channels accumulated in registers over all input channels and finished
/// straight from the registers: bias, residual, ReLU and full-vector stores, no tile buffer. The last vector
/// of the channels ends at Cout and overlaps the one before it (C = 20 with 16 lanes: channels 0–15, then 4–19),
/// so the channel tail needs neither padding lanes in memory nor a lane-by-lane copy; the overlapping lanes are
/// computed identically twice. The per-tile overhead this removes dominated Lite-HRNet's 20→20 and 40→40 layers.
/// </summary>
internal static class PointwiseCore
{
    static readonly bool WideRegisterFile = Avx512F.IsSupported || AdvSimd.Arm64.IsSupported;

    /// <summary>Whether the panel path runs a group of <paramref name="groupOutChannels"/> outputs at <paramref name="width"/>.</summary>
    public static bool Handles(VectorWidth width, int groupOutChannels) => groupOutChannels >= ConvPacking.Lanes(width);

    /// <summary>Pixels [0, OutputWidth) of the single-row plane <paramref name="p"/> (a flat run of pixels).</summary>
    public static void Run(VectorWidth width, scoped ref ConvPlane p)
    {
        switch (width)
        {
            case VectorWidth.V128: Run<V128, Vector128<float>>(ref p); break;
            case VectorWidth.V256: Run<V256, Vector256<float>>(ref p); break;
            case VectorWidth.V512: Run<V512, Vector512<float>>(ref p); break;
            default: throw new ArgumentException($"width: expected a vector width, found {width}.", nameof(width));
        }
    }

    static void Run<TOps, TVec>(scoped ref ConvPlane p) where TOps : struct, IVec<TVec> where TVec : struct
    {
        if (WideRegisterFile) Pixels<TOps, TVec, Tile8x1, Tile8x2, Tile8x3>(ref p);
        else Pixels<TOps, TVec, Tile4x1, Tile4x2, Tile4x3>(ref p);
    }

    /// <summary>
    /// Pixel tiles outside, vector blocks inside: a tile's input pixels stay in L1 for every block and the whole
    /// panel is re-read per tile (Cin·Cout floats: L1 for these layers). The vectors are spread evenly over the
    /// blocks (4 → 2 + 2, not 3 + 1), each block a register tile.
    /// </summary>
    static void Pixels<TOps, TVec, T1, T2, T3>(scoped ref ConvPlane p)
        where TOps : struct, IVec<TVec> where TVec : struct where T1 : ITile where T2 : ITile where T3 : ITile
    {
        int rows = T1.Rows, pixels = p.OutputWidth;
        int vectors = ConvArguments.CeilDiv(p.OutputChannels, TOps.Count), blocks = ConvArguments.CeilDiv(vectors, 3);
        if (pixels < 4)
        {
            // A map of 1–3 pixels (squeeze-excite and channel weightings on pooled maps): one-pixel tiles, so no
            // register rows are spent repeating the last pixel.
            OnePixelTiles<TOps, TVec>(ref p, pixels, vectors, blocks);
            return;
        }
        for (int x = 0; x < pixels; x += rows)
        {
            int valid = Math.Min(rows, pixels - x);
            for (int block = 0, first = 0; block < blocks; block++)
            {
                int count = (vectors - first) / (blocks - block);
                if (count == 3) Tile<TOps, TVec, T3>(ref p, x, valid, first);
                else if (count == 2) Tile<TOps, TVec, T2>(ref p, x, valid, first);
                else Tile<TOps, TVec, T1>(ref p, x, valid, first);
                first += count;
            }
            if (p.Activation is not (Activation.None or Activation.ReLU)) ApplyActivation<TOps, TVec>(ref p, x, valid);
        }
    }

    static void OnePixelTiles<TOps, TVec>(scoped ref ConvPlane p, int pixels, int vectors, int blocks)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        for (int x = 0; x < pixels; x++)
        {
            for (int block = 0, first = 0; block < blocks; block++)
            {
                int count = (vectors - first) / (blocks - block);
                if (count == 3) Tile<TOps, TVec, Tile1x3>(ref p, x, 1, first);
                else if (count == 2) Tile<TOps, TVec, Tile1x2>(ref p, x, 1, first);
                else Tile<TOps, TVec, Tile1x1>(ref p, x, 1, first);
                first += count;
            }
            if (p.Activation is not (Activation.None or Activation.ReLU)) ApplyActivation<TOps, TVec>(ref p, x, 1);
        }
    }

    /// <summary>
    /// Output pixels [x, x + valid) (rows past <paramref name="valid"/> repeat the last pixel and are not stored)
    /// × the vectors <paramref name="firstVector"/>… of output channels, vector j starting at channel
    /// min(j·lanes, Cout − lanes).
    /// </summary>
    static void Tile<TOps, TVec, TTile>(scoped ref ConvPlane p, int x, int valid, int firstVector)
        where TOps : struct, IVec<TVec> where TVec : struct where TTile : ITile
    {
        int cin = p.InputChannels, cout = p.OutputChannels, lastOffset = cout - TOps.Count;
        nint o0 = Math.Min(firstVector * TOps.Count, lastOffset);
        nint o1 = Math.Min((firstVector + 1) * TOps.Count, lastOffset);
        nint o2 = Math.Min((firstVector + 2) * TOps.Count, lastOffset);
        nint ps = p.InputPixelStride;
        nint d1 = Math.Min(1, valid - 1) * ps, d2 = Math.Min(2, valid - 1) * ps, d3 = Math.Min(3, valid - 1) * ps;
        nint d4 = Math.Min(4, valid - 1) * ps, d5 = Math.Min(5, valid - 1) * ps, d6 = Math.Min(6, valid - 1) * ps;
        nint d7 = Math.Min(7, valid - 1) * ps;
        ref float a0 = ref Unsafe.Add(ref p.Input, x * ps);
        ref float a1 = ref Unsafe.Add(ref a0, d1);
        ref float a2 = ref Unsafe.Add(ref a0, d2);
        ref float a3 = ref Unsafe.Add(ref a0, d3);
        ref float a4 = ref Unsafe.Add(ref a0, d4);
        ref float a5 = ref Unsafe.Add(ref a0, d5);
        ref float a6 = ref Unsafe.Add(ref a0, d6);
        ref float a7 = ref Unsafe.Add(ref a0, d7);

        // From zero: the bias is added in Finish, after the products, as the reference does (see ConvCore.Tile).
        TVec c00 = TOps.Zero, c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00, c60 = c00, c70 = c00;
        TVec c01 = c00, c11 = c00, c21 = c00, c31 = c00, c41 = c00, c51 = c00, c61 = c00, c71 = c00;
        TVec c02 = c00, c12 = c00, c22 = c00, c32 = c00, c42 = c00, c52 = c00, c62 = c00, c72 = c00;

        ref float w = ref p.Weights;
        for (int k = 0; k < cin; k++)
        {
            TVec w0 = TOps.Load(ref Unsafe.Add(ref w, o0));
            TVec w1 = TTile.Vectors > 1 ? TOps.Load(ref Unsafe.Add(ref w, o1)) : TOps.Zero;
            TVec w2 = TTile.Vectors > 2 ? TOps.Load(ref Unsafe.Add(ref w, o2)) : TOps.Zero;
            w = ref Unsafe.Add(ref w, cout);
            TVec a = TOps.Splat(Unsafe.Add(ref a0, k));
            c00 = TOps.MultiplyAdd(a, w0, c00);
            if (TTile.Vectors > 1) c01 = TOps.MultiplyAdd(a, w1, c01);
            if (TTile.Vectors > 2) c02 = TOps.MultiplyAdd(a, w2, c02);
            if (TTile.Rows == 1) continue;
            a = TOps.Splat(Unsafe.Add(ref a1, k));
            c10 = TOps.MultiplyAdd(a, w0, c10);
            if (TTile.Vectors > 1) c11 = TOps.MultiplyAdd(a, w1, c11);
            if (TTile.Vectors > 2) c12 = TOps.MultiplyAdd(a, w2, c12);
            a = TOps.Splat(Unsafe.Add(ref a2, k));
            c20 = TOps.MultiplyAdd(a, w0, c20);
            if (TTile.Vectors > 1) c21 = TOps.MultiplyAdd(a, w1, c21);
            if (TTile.Vectors > 2) c22 = TOps.MultiplyAdd(a, w2, c22);
            a = TOps.Splat(Unsafe.Add(ref a3, k));
            c30 = TOps.MultiplyAdd(a, w0, c30);
            if (TTile.Vectors > 1) c31 = TOps.MultiplyAdd(a, w1, c31);
            if (TTile.Vectors > 2) c32 = TOps.MultiplyAdd(a, w2, c32);
            if (TTile.Rows > 4)
            {
                a = TOps.Splat(Unsafe.Add(ref a4, k));
                c40 = TOps.MultiplyAdd(a, w0, c40);
                if (TTile.Vectors > 1) c41 = TOps.MultiplyAdd(a, w1, c41);
                if (TTile.Vectors > 2) c42 = TOps.MultiplyAdd(a, w2, c42);
                a = TOps.Splat(Unsafe.Add(ref a5, k));
                c50 = TOps.MultiplyAdd(a, w0, c50);
                if (TTile.Vectors > 1) c51 = TOps.MultiplyAdd(a, w1, c51);
                if (TTile.Vectors > 2) c52 = TOps.MultiplyAdd(a, w2, c52);
                a = TOps.Splat(Unsafe.Add(ref a6, k));
                c60 = TOps.MultiplyAdd(a, w0, c60);
                if (TTile.Vectors > 1) c61 = TOps.MultiplyAdd(a, w1, c61);
                if (TTile.Vectors > 2) c62 = TOps.MultiplyAdd(a, w2, c62);
                a = TOps.Splat(Unsafe.Add(ref a7, k));
                c70 = TOps.MultiplyAdd(a, w0, c70);
                if (TTile.Vectors > 1) c71 = TOps.MultiplyAdd(a, w1, c71);
                if (TTile.Vectors > 2) c72 = TOps.MultiplyAdd(a, w2, c72);
            }
        }

        bool hasResidual = !Unsafe.IsNullRef(ref p.Residual);
        nint outStep = p.OutputPixelStride, resStep = hasResidual ? p.ResidualPixelStride : 0;
        ref float output = ref Unsafe.Add(ref p.Output, x * outStep);
        ref float residual = ref hasResidual ? ref Unsafe.Add(ref p.Residual, x * resStep) : ref p.Residual;
        bool relu = p.Activation == Activation.ReLU, hasBias = !p.Bias.IsEmpty;
        ref float bias = ref MemoryMarshal.GetReference(p.Bias);
        Finish<TOps, TVec, TTile>(c00, c01, c02, ref output, ref residual, hasResidual, ref bias, hasBias, o0, o1, o2, relu);
        if (valid > 1) Finish<TOps, TVec, TTile>(c10, c11, c12, ref Unsafe.Add(ref output, outStep), ref Unsafe.Add(ref residual, resStep), hasResidual, ref bias, hasBias, o0, o1, o2, relu);
        if (valid > 2) Finish<TOps, TVec, TTile>(c20, c21, c22, ref Unsafe.Add(ref output, 2 * outStep), ref Unsafe.Add(ref residual, 2 * resStep), hasResidual, ref bias, hasBias, o0, o1, o2, relu);
        if (valid > 3) Finish<TOps, TVec, TTile>(c30, c31, c32, ref Unsafe.Add(ref output, 3 * outStep), ref Unsafe.Add(ref residual, 3 * resStep), hasResidual, ref bias, hasBias, o0, o1, o2, relu);
        if (TTile.Rows > 4)
        {
            if (valid > 4) Finish<TOps, TVec, TTile>(c40, c41, c42, ref Unsafe.Add(ref output, 4 * outStep), ref Unsafe.Add(ref residual, 4 * resStep), hasResidual, ref bias, hasBias, o0, o1, o2, relu);
            if (valid > 5) Finish<TOps, TVec, TTile>(c50, c51, c52, ref Unsafe.Add(ref output, 5 * outStep), ref Unsafe.Add(ref residual, 5 * resStep), hasResidual, ref bias, hasBias, o0, o1, o2, relu);
            if (valid > 6) Finish<TOps, TVec, TTile>(c60, c61, c62, ref Unsafe.Add(ref output, 6 * outStep), ref Unsafe.Add(ref residual, 6 * resStep), hasResidual, ref bias, hasBias, o0, o1, o2, relu);
            if (valid > 7) Finish<TOps, TVec, TTile>(c70, c71, c72, ref Unsafe.Add(ref output, 7 * outStep), ref Unsafe.Add(ref residual, 7 * resStep), hasResidual, ref bias, hasBias, o0, o1, o2, relu);
        }
    }

    /// <summary>
    /// One pixel's epilogue up to ReLU (bias, residual, ReLU): every residual vector is loaded before any store, so overlapping vectors
    /// never read a lane this pixel has already written. Sigmoid and SiLU follow in <see cref="ApplyActivation"/>:
    /// their exp next to the live accumulators would make the JIT spill them inside the hot loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Finish<TOps, TVec, TTile>(TVec x0, TVec x1, TVec x2, ref float output, ref float residual, bool hasResidual,
        ref float bias, bool hasBias, nint o0, nint o1, nint o2, bool relu)
        where TOps : struct, IVec<TVec> where TVec : struct where TTile : ITile
    {
        if (hasBias)
        {
            x0 = TOps.Add(x0, TOps.Load(ref Unsafe.Add(ref bias, o0)));
            if (TTile.Vectors > 1) x1 = TOps.Add(x1, TOps.Load(ref Unsafe.Add(ref bias, o1)));
            if (TTile.Vectors > 2) x2 = TOps.Add(x2, TOps.Load(ref Unsafe.Add(ref bias, o2)));
        }
        if (hasResidual)
        {
            TVec r0 = TOps.Load(ref Unsafe.Add(ref residual, o0));
            TVec r1 = TTile.Vectors > 1 ? TOps.Load(ref Unsafe.Add(ref residual, o1)) : TOps.Zero;
            TVec r2 = TTile.Vectors > 2 ? TOps.Load(ref Unsafe.Add(ref residual, o2)) : TOps.Zero;
            x0 = TOps.Add(x0, r0);
            if (TTile.Vectors > 1) x1 = TOps.Add(x1, r1);
            if (TTile.Vectors > 2) x2 = TOps.Add(x2, r2);
        }
        if (relu)
        {
            x0 = TOps.Max(x0, TOps.Zero);
            if (TTile.Vectors > 1) x1 = TOps.Max(x1, TOps.Zero);
            if (TTile.Vectors > 2) x2 = TOps.Max(x2, TOps.Zero);
        }
        TOps.Store(x0, ref Unsafe.Add(ref output, o0));
        if (TTile.Vectors > 1) TOps.Store(x1, ref Unsafe.Add(ref output, o1));
        if (TTile.Vectors > 2) TOps.Store(x2, ref Unsafe.Add(ref output, o2));
    }

    /// <summary>
    /// Sigmoid or SiLU over pixels [x, x + valid), in place while they are in L1. The overlapping tail vector is
    /// loaded before the vectors it overlaps are rewritten, so no lane is activated twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ApplyActivation<TOps, TVec>(scoped ref ConvPlane p, int x, int valid)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int cout = p.OutputChannels, lastOffset = cout - TOps.Count;
        for (int r = 0; r < valid; r++)
        {
            ref float output = ref Unsafe.Add(ref p.Output, (nint)(x + r) * p.OutputPixelStride);
            TVec tail = TOps.Load(ref Unsafe.Add(ref output, lastOffset));
            int c = 0;
            for (; c + TOps.Count <= cout; c += TOps.Count)
                TOps.Store(Activations.Apply<TOps, TVec>(TOps.Load(ref Unsafe.Add(ref output, c)), p.Activation), ref Unsafe.Add(ref output, c));
            if (c < cout) TOps.Store(Activations.Apply<TOps, TVec>(tail, p.Activation), ref Unsafe.Add(ref output, lastOffset));
        }
    }
}
