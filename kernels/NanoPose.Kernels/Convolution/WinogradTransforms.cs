using System.Runtime.CompilerServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>Which Winograd algorithm F(m×m, 3×3) runs a 3×3 stride-1 convolution: m × m outputs per tile.</summary>
public enum WinogradTile
{
    /// <summary>F(2×2, 3×3): 4×4 input tiles, 16 multiplies for 36 (2.25× fewer).</summary>
    F2x2 = 2,
    /// <summary>F(4×4, 3×3): 6×6 input tiles, 36 multiplies for 144 (4× fewer).</summary>
    F4x4 = 4,
}

/// <summary>
/// The transform matrices of F(m, 3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
/// Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A over a (m + 2)² input tile d and the 3×3 filter g. <see cref="WinogradReference"/>
/// runs them as matrices; the vector bodies run the same products written out (<see cref="IWinogradTransform"/>).
/// </summary>
internal static class WinogradMatrices
{
    public static int TileSide(WinogradTile tile) => (int)tile + 2;

    public static (double[,] G, float[,] BT, float[,] AT) For(WinogradTile tile) => tile switch
    {
        WinogradTile.F2x2 => (G2, BT2, AT2),
        WinogradTile.F4x4 => (G4, BT4, AT4),
        _ => throw new ArgumentException($"tile: expected F2x2 or F4x4, found {tile}.", nameof(tile)),
    };

    // F(2, 3), interpolation points 0, 1, −1, ∞.
    static readonly double[,] G2 = { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } };
    static readonly float[,] BT2 = { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, 1, 0, -1 } };
    static readonly float[,] AT2 = { { 1, 1, 1, 0 }, { 0, 1, -1, -1 } };

    // F(4, 3), interpolation points 0, 1, −1, 2, −2, ∞.
    static readonly double[,] G4 =
    {
        { 1.0 / 4, 0, 0 },
        { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
        { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
        { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
        { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
        { 0, 0, 1 },
    };
    static readonly float[,] BT4 =
    {
        { 4, 0, -5, 0, 1, 0 },
        { 0, -4, -4, 1, 1, 0 },
        { 0, 4, -4, -1, 1, 0 },
        { 0, -2, -1, 2, 1, 0 },
        { 0, 2, -1, -2, 1, 0 },
        { 0, 4, 0, -5, 0, 1 },
    };
    static readonly float[,] AT4 =
    {
        { 1, 1, 1, 1, 1, 0 },
        { 0, 1, -1, 2, -2, 0 },
        { 0, 1, 1, 4, 4, 0 },
        { 0, 1, -1, 8, -8, 1 },
    };
}

/// <summary>
/// One-dimensional Bᵀ and Aᵀ products of a Winograd variant on vectors of channels: t = m + 2 vectors
/// <c>source[k·sourceStride]</c> in, t (input transform) or m (output transform) vectors
/// <c>destination[k·destinationStride]</c> out. A 2-D transform is one pass along rows, then one along columns.
/// </summary>
internal interface IWinogradTransform
{
    static abstract int M { get; }
    static abstract void Input<TOps, TVec>(ref float source, nint sourceStride, ref float destination, nint destinationStride)
        where TOps : struct, IVec<TVec> where TVec : struct;
    static abstract void Output<TOps, TVec>(ref float source, nint sourceStride, ref float destination, nint destinationStride)
        where TOps : struct, IVec<TVec> where TVec : struct;
}

internal readonly struct WinogradF2 : IWinogradTransform
{
    public static int M => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input<TOps, TVec>(ref float s, nint ss, ref float d, nint ds) where TOps : struct, IVec<TVec> where TVec : struct
    {
        TVec d0 = TOps.Load(ref s), d1 = TOps.Load(ref Unsafe.Add(ref s, ss));
        TVec d2 = TOps.Load(ref Unsafe.Add(ref s, 2 * ss)), d3 = TOps.Load(ref Unsafe.Add(ref s, 3 * ss));
        TOps.Store(TOps.Subtract(d0, d2), ref d);
        TOps.Store(TOps.Add(d1, d2), ref Unsafe.Add(ref d, ds));
        TOps.Store(TOps.Subtract(d2, d1), ref Unsafe.Add(ref d, 2 * ds));
        TOps.Store(TOps.Subtract(d1, d3), ref Unsafe.Add(ref d, 3 * ds));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output<TOps, TVec>(ref float s, nint ss, ref float d, nint ds) where TOps : struct, IVec<TVec> where TVec : struct
    {
        TVec m0 = TOps.Load(ref s), m1 = TOps.Load(ref Unsafe.Add(ref s, ss));
        TVec m2 = TOps.Load(ref Unsafe.Add(ref s, 2 * ss)), m3 = TOps.Load(ref Unsafe.Add(ref s, 3 * ss));
        TOps.Store(TOps.Add(TOps.Add(m0, m1), m2), ref d);
        TOps.Store(TOps.Subtract(TOps.Subtract(m1, m2), m3), ref Unsafe.Add(ref d, ds));
    }
}

internal readonly struct WinogradF4 : IWinogradTransform
{
    public static int M => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input<TOps, TVec>(ref float s, nint ss, ref float d, nint ds) where TOps : struct, IVec<TVec> where TVec : struct
    {
        TVec d0 = TOps.Load(ref s), d1 = TOps.Load(ref Unsafe.Add(ref s, ss)), d2 = TOps.Load(ref Unsafe.Add(ref s, 2 * ss));
        TVec d3 = TOps.Load(ref Unsafe.Add(ref s, 3 * ss)), d4 = TOps.Load(ref Unsafe.Add(ref s, 4 * ss)), d5 = TOps.Load(ref Unsafe.Add(ref s, 5 * ss));
        TVec four = TOps.Splat(4f), minusFive = TOps.Splat(-5f);
        TVec p = TOps.MultiplyAdd(TOps.Splat(-4f), d2, d4);                     // d4 − 4·d2
        TVec w = TOps.MultiplyAdd(four, d1, TOps.Subtract(TOps.Zero, d3));      // 4·d1 − d3
        TVec r = TOps.Subtract(d4, d2);
        TVec u = TOps.Multiply(TOps.Splat(2f), TOps.Subtract(d3, d1));          // 2·(d3 − d1)
        TOps.Store(TOps.MultiplyAdd(four, d0, TOps.MultiplyAdd(minusFive, d2, d4)), ref d);
        TOps.Store(TOps.Subtract(p, w), ref Unsafe.Add(ref d, ds));
        TOps.Store(TOps.Add(p, w), ref Unsafe.Add(ref d, 2 * ds));
        TOps.Store(TOps.Add(r, u), ref Unsafe.Add(ref d, 3 * ds));
        TOps.Store(TOps.Subtract(r, u), ref Unsafe.Add(ref d, 4 * ds));
        TOps.Store(TOps.MultiplyAdd(four, d1, TOps.MultiplyAdd(minusFive, d3, d5)), ref Unsafe.Add(ref d, 5 * ds));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output<TOps, TVec>(ref float s, nint ss, ref float d, nint ds) where TOps : struct, IVec<TVec> where TVec : struct
    {
        TVec m0 = TOps.Load(ref s), m1 = TOps.Load(ref Unsafe.Add(ref s, ss)), m2 = TOps.Load(ref Unsafe.Add(ref s, 2 * ss));
        TVec m3 = TOps.Load(ref Unsafe.Add(ref s, 3 * ss)), m4 = TOps.Load(ref Unsafe.Add(ref s, 4 * ss)), m5 = TOps.Load(ref Unsafe.Add(ref s, 5 * ss));
        TVec sum12 = TOps.Add(m1, m2), diff12 = TOps.Subtract(m1, m2);
        TVec sum34 = TOps.Add(m3, m4), diff34 = TOps.Subtract(m3, m4);
        TOps.Store(TOps.Add(TOps.Add(m0, sum12), sum34), ref d);
        TOps.Store(TOps.MultiplyAdd(TOps.Splat(2f), diff34, diff12), ref Unsafe.Add(ref d, ds));
        TOps.Store(TOps.MultiplyAdd(TOps.Splat(4f), sum34, sum12), ref Unsafe.Add(ref d, 2 * ds));
        TOps.Store(TOps.Add(TOps.MultiplyAdd(TOps.Splat(8f), diff34, diff12), m5), ref Unsafe.Add(ref d, 3 * ds));
    }
}
