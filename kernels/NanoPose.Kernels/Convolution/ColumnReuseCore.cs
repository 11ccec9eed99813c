using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// Convolutions three taps wide at stride 1 in x whose output channels fit one vector (EfficientHRNet H−4's 3×3 14→14
/// at 96×96 and 192×192). <see cref="ConvCore"/>'s tiles broadcast one input scalar per multiply-add here, and the
/// broadcast loads, not the FMA pipes, set the pace (about half of peak on Zen 5). In a row of output pixels, one
/// input column feeds three neighbours through the three horizontal taps, so this kernel broadcasts each input
/// value once for all three: a tile of 16 pixels per kernel row and input channel takes 18 broadcasts and 3 weight
/// vectors for 48 multiply-adds.
/// <para>
/// The broadcasts must come from fixed offsets, so each input row is first transposed to channel-major
/// (<c>[c][x + PadLeft]</c>, zeros in the padding and past the row's end) into a ring of KernelHeight rows on the
/// stack; each input row is transposed once per call however many output rows read it. The sum runs in another order
/// than the reference's, so results are close to it, not identical.
/// </para>
/// </summary>
internal static class ColumnReuseCore
{
    /// <summary>Output pixels per tile: 16 accumulators, 3 weight vectors and a broadcast in 32 vector registers.</summary>
    const int Pixels = 16;

    /// <summary>The ring of transposed rows lives on the stack; beyond 64 KB the layer runs <see cref="ConvCore"/>.</summary>
    const int MaxRingFloats = 16 * 1024;

    /// <summary>Whether <paramref name="p"/> has the shape this kernel handles, on a machine with 32 vector registers.</summary>
    public static bool Applies(scoped ref ConvPlane p, int lanes, bool wideRegisterFile) =>
        wideRegisterFile && p.OutputChannels <= lanes && p.KernelWidth == 3 && p.StrideX == 1
        && p.OutputWidth >= Pixels / 2 && (long)p.KernelHeight * p.InputChannels * RowSpan(p.OutputWidth) <= MaxRingFloats;

    /// <summary>Floats of one transposed channel row: every tile's 16 pixels and the two taps past them.</summary>
    static int RowSpan(int outputWidth) => ConvArguments.CeilDiv(outputWidth, Pixels) * Pixels + 2;

    public static void Run<TOps, TVec>(scoped ref ConvPlane p, int rowStart, int rowEnd)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int cin = p.InputChannels, kh = p.KernelHeight, span = RowSpan(p.OutputWidth);
        Span<float> ring = stackalloc float[kh * cin * span];
        Span<int> ringRow = stackalloc int[kh];
        ring.Clear();
        ringRow.Fill(-1);
        Span<float> bias = stackalloc float[TOps.Count];
        bias.Clear();
        if (!p.Bias.IsEmpty) p.Bias[..p.OutputChannels].CopyTo(bias);
        Span<float> tile = stackalloc float[Pixels * TOps.Count];
        bool hasResidual = !Unsafe.IsNullRef(ref p.Residual);

        for (int oy = rowStart; oy < rowEnd; oy++)
        {
            int iy = oy * p.StrideY - p.PadTop;
            int ky0 = Math.Max(0, -iy), ky1 = Math.Min(kh, p.InputHeight - iy);
            for (int ky = ky0; ky < ky1; ky++)
            {
                int slot = (iy + ky) % kh;
                if (ringRow[slot] != iy + ky)
                {
                    Transpose(ref p, iy + ky, ring.Slice(slot * cin * span, cin * span), span);
                    ringRow[slot] = iy + ky;
                }
            }
            ref float outputRow = ref Unsafe.Add(ref p.Output, (nint)oy * p.OutputRowStride);
            ref float residualRow = ref hasResidual ? ref Unsafe.Add(ref p.Residual, (nint)oy * p.ResidualRowStride) : ref p.Residual;
            for (int x0 = 0; x0 < p.OutputWidth; x0 += Pixels)
            {
                Tile<TOps, TVec>(ref p, ref MemoryMarshal.GetReference(ring), ring.Length / kh, span, iy, ky0, ky1, x0,
                    ref MemoryMarshal.GetReference(tile));
                ConvCore.EmitTile<TOps, TVec, Tile16x1>(ref p, ref MemoryMarshal.GetReference(tile), ref MemoryMarshal.GetReference(bias),
                    ref Unsafe.Add(ref outputRow, (nint)x0 * p.OutputPixelStride),
                    ref hasResidual ? ref Unsafe.Add(ref residualRow, (nint)x0 * p.ResidualPixelStride) : ref residualRow,
                    hasResidual, p.OutputChannels, Math.Min(Pixels, p.OutputWidth - x0));
            }
        }
    }

    /// <summary>Input row <paramref name="iy"/> as <c>[c][PadLeft + x]</c>; the padding columns stay zero from the clear.</summary>
    static void Transpose(scoped ref ConvPlane p, int iy, scoped Span<float> destination, int span)
    {
        int cin = p.InputChannels, width = Math.Min(p.InputWidth, span - p.PadLeft);
        ref float row = ref Unsafe.Add(ref p.Input, (nint)iy * p.InputRowStride);
        ref float target = ref MemoryMarshal.GetReference(destination);
        // 4×4 blocks (pixels × channels) transposed in registers where SSE has the unpacks; the rest one float at a time.
        nint stride = p.InputPixelStride;
        int x4 = Sse.IsSupported ? width & ~3 : 0, c4 = cin & ~3;
        for (int x = 0; x < x4; x += 4)
        {
            ref float pixel = ref Unsafe.Add(ref row, x * stride);
            for (int c = 0; c < c4; c += 4)
            {
                var p0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref pixel, c));
                var p1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref pixel, stride + c));
                var p2 = Vector128.LoadUnsafe(ref Unsafe.Add(ref pixel, 2 * stride + c));
                var p3 = Vector128.LoadUnsafe(ref Unsafe.Add(ref pixel, 3 * stride + c));
                Vector128<float> low01 = Sse.UnpackLow(p0, p1), low23 = Sse.UnpackLow(p2, p3);
                Vector128<float> high01 = Sse.UnpackHigh(p0, p1), high23 = Sse.UnpackHigh(p2, p3);
                ref float column = ref Unsafe.Add(ref target, c * span + p.PadLeft + x);
                Sse.MoveLowToHigh(low01, low23).StoreUnsafe(ref column);
                Sse.MoveHighToLow(low23, low01).StoreUnsafe(ref Unsafe.Add(ref column, span));
                Sse.MoveLowToHigh(high01, high23).StoreUnsafe(ref Unsafe.Add(ref column, 2 * span));
                Sse.MoveHighToLow(high23, high01).StoreUnsafe(ref Unsafe.Add(ref column, 3 * span));
            }
            for (int c = c4; c < cin; c++)
                for (int k = 0; k < 4; k++)
                    Unsafe.Add(ref target, c * span + p.PadLeft + x + k) = Unsafe.Add(ref pixel, k * stride + c);
        }
        for (int c = 0; c < cin; c++)
            for (int x = x4; x < width; x++)
                Unsafe.Add(ref target, c * span + p.PadLeft + x) = Unsafe.Add(ref row, x * stride + c);
    }

    /// <summary>16 output pixels from <paramref name="x0"/> over kernel rows [ky0, ky1), into <paramref name="accumulators"/>.</summary>
    static void Tile<TOps, TVec>(scoped ref ConvPlane p, ref float ring, int slotFloats, int span, int iy, int ky0, int ky1, int x0,
        ref float accumulators)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int cin = p.InputChannels, kh = p.KernelHeight;
        nint nr = TOps.Count, tapStride = cin * nr;
        TVec c0 = TOps.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        TVec c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (int ky = ky0; ky < ky1; ky++)
        {
            ref float q = ref Unsafe.Add(ref ring, (nint)((iy + ky) % kh) * slotFloats + x0);
            ref float w = ref Unsafe.Add(ref p.Weights, ky * 3 * tapStride);
            for (int c = 0; c < cin; c++)
            {
                // Taps kx = 0, 1, 2 of channel c; input column m feeds output pixels m − 2 … m.
                TVec w0 = TOps.Load(ref w), w1 = TOps.Load(ref Unsafe.Add(ref w, tapStride)), w2 = TOps.Load(ref Unsafe.Add(ref w, 2 * tapStride));
                TVec x = TOps.Splat(q);
                c0 = TOps.MultiplyAdd(x, w0, c0);
                x = TOps.Splat(Unsafe.Add(ref q, 1));
                c0 = TOps.MultiplyAdd(x, w1, c0); c1 = TOps.MultiplyAdd(x, w0, c1);
                x = TOps.Splat(Unsafe.Add(ref q, 2));
                c0 = TOps.MultiplyAdd(x, w2, c0); c1 = TOps.MultiplyAdd(x, w1, c1); c2 = TOps.MultiplyAdd(x, w0, c2);
                x = TOps.Splat(Unsafe.Add(ref q, 3));
                c1 = TOps.MultiplyAdd(x, w2, c1); c2 = TOps.MultiplyAdd(x, w1, c2); c3 = TOps.MultiplyAdd(x, w0, c3);
                x = TOps.Splat(Unsafe.Add(ref q, 4));
                c2 = TOps.MultiplyAdd(x, w2, c2); c3 = TOps.MultiplyAdd(x, w1, c3); c4 = TOps.MultiplyAdd(x, w0, c4);
                x = TOps.Splat(Unsafe.Add(ref q, 5));
                c3 = TOps.MultiplyAdd(x, w2, c3); c4 = TOps.MultiplyAdd(x, w1, c4); c5 = TOps.MultiplyAdd(x, w0, c5);
                x = TOps.Splat(Unsafe.Add(ref q, 6));
                c4 = TOps.MultiplyAdd(x, w2, c4); c5 = TOps.MultiplyAdd(x, w1, c5); c6 = TOps.MultiplyAdd(x, w0, c6);
                x = TOps.Splat(Unsafe.Add(ref q, 7));
                c5 = TOps.MultiplyAdd(x, w2, c5); c6 = TOps.MultiplyAdd(x, w1, c6); c7 = TOps.MultiplyAdd(x, w0, c7);
                x = TOps.Splat(Unsafe.Add(ref q, 8));
                c6 = TOps.MultiplyAdd(x, w2, c6); c7 = TOps.MultiplyAdd(x, w1, c7); c8 = TOps.MultiplyAdd(x, w0, c8);
                x = TOps.Splat(Unsafe.Add(ref q, 9));
                c7 = TOps.MultiplyAdd(x, w2, c7); c8 = TOps.MultiplyAdd(x, w1, c8); c9 = TOps.MultiplyAdd(x, w0, c9);
                x = TOps.Splat(Unsafe.Add(ref q, 10));
                c8 = TOps.MultiplyAdd(x, w2, c8); c9 = TOps.MultiplyAdd(x, w1, c9); c10 = TOps.MultiplyAdd(x, w0, c10);
                x = TOps.Splat(Unsafe.Add(ref q, 11));
                c9 = TOps.MultiplyAdd(x, w2, c9); c10 = TOps.MultiplyAdd(x, w1, c10); c11 = TOps.MultiplyAdd(x, w0, c11);
                x = TOps.Splat(Unsafe.Add(ref q, 12));
                c10 = TOps.MultiplyAdd(x, w2, c10); c11 = TOps.MultiplyAdd(x, w1, c11); c12 = TOps.MultiplyAdd(x, w0, c12);
                x = TOps.Splat(Unsafe.Add(ref q, 13));
                c11 = TOps.MultiplyAdd(x, w2, c11); c12 = TOps.MultiplyAdd(x, w1, c12); c13 = TOps.MultiplyAdd(x, w0, c13);
                x = TOps.Splat(Unsafe.Add(ref q, 14));
                c12 = TOps.MultiplyAdd(x, w2, c12); c13 = TOps.MultiplyAdd(x, w1, c13); c14 = TOps.MultiplyAdd(x, w0, c14);
                x = TOps.Splat(Unsafe.Add(ref q, 15));
                c13 = TOps.MultiplyAdd(x, w2, c13); c14 = TOps.MultiplyAdd(x, w1, c14); c15 = TOps.MultiplyAdd(x, w0, c15);
                x = TOps.Splat(Unsafe.Add(ref q, 16));
                c14 = TOps.MultiplyAdd(x, w2, c14); c15 = TOps.MultiplyAdd(x, w1, c15);
                x = TOps.Splat(Unsafe.Add(ref q, 17));
                c15 = TOps.MultiplyAdd(x, w2, c15);
                q = ref Unsafe.Add(ref q, span);
                w = ref Unsafe.Add(ref w, nr);
            }
        }
        nint n = TOps.Count;
        ref float t = ref accumulators;
        TOps.Store(c0, ref t); TOps.Store(c1, ref Unsafe.Add(ref t, n)); TOps.Store(c2, ref Unsafe.Add(ref t, 2 * n));
        TOps.Store(c3, ref Unsafe.Add(ref t, 3 * n)); TOps.Store(c4, ref Unsafe.Add(ref t, 4 * n)); TOps.Store(c5, ref Unsafe.Add(ref t, 5 * n));
        TOps.Store(c6, ref Unsafe.Add(ref t, 6 * n)); TOps.Store(c7, ref Unsafe.Add(ref t, 7 * n)); TOps.Store(c8, ref Unsafe.Add(ref t, 8 * n));
        TOps.Store(c9, ref Unsafe.Add(ref t, 9 * n)); TOps.Store(c10, ref Unsafe.Add(ref t, 10 * n)); TOps.Store(c11, ref Unsafe.Add(ref t, 11 * n));
        TOps.Store(c12, ref Unsafe.Add(ref t, 12 * n)); TOps.Store(c13, ref Unsafe.Add(ref t, 13 * n)); TOps.Store(c14, ref Unsafe.Add(ref t, 14 * n));
        TOps.Store(c15, ref Unsafe.Add(ref t, 15 * n));
    }
}
