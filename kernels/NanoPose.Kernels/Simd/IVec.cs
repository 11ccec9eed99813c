using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoPose.Kernels.Simd;

/// <summary>
/// The one SIMD vocabulary every kernel is written in. A kernel body is generic over
/// <c>TOps : IVec&lt;TVec&gt;</c>; the JIT (and NativeAOT) specialises it per struct, so
/// <see cref="V128"/>, <see cref="V256"/> and <see cref="V512"/> get their own machine code from one source.
/// </summary>
public interface IVec<TVec> where TVec : struct
{
    /// <summary>Float lanes per vector.</summary>
    static abstract int Count { get; }
    static abstract bool IsAccelerated { get; }
    static abstract VectorWidth Width { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Splat(float value);
    static abstract TVec Load(ref float source);
    static abstract void Store(TVec value, ref float destination);
    /// <summary>Lanes [0, <paramref name="count"/>) of <paramref name="source"/>, the others zero; memory past them is
    /// not read (a masked load where the ISA has one, AVX and AVX-512, else lane by lane).</summary>
    static abstract TVec LoadFirst(ref float source, int count);
    /// <summary>Stores lanes [0, <paramref name="count"/>) of <paramref name="value"/>; memory past them is not touched
    /// (a masked store where the ISA has one, else lane by lane): a channel tail without padding lanes.</summary>
    static abstract void StoreFirst(TVec value, ref float destination, int count);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Subtract(TVec a, TVec b);
    static abstract TVec Multiply(TVec a, TVec b);
    /// <summary>a·b + c, fused where the ISA has FMA (AVX2+FMA, AVX-512, AdvSimd), else multiply then add.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);
    /// <summary>Lane-wise maximum in the ISA's native form (one vmaxps/fmax): which operand a NaN yields is
    /// platform-defined. Kernels use it for ReLU; NaN inputs are refused at the pipeline boundary.</summary>
    static abstract TVec Max(TVec a, TVec b);
    /// <summary>Lane-wise minimum in the ISA's native form (one vminps/fmin), NaN as for <see cref="Max"/>.</summary>
    static abstract TVec Min(TVec a, TVec b);
    /// <summary>e^x to within 1.2e-7 relative (<see cref="FastExp"/>); the sigmoid and SiLU epilogues spend most of their time here.</summary>
    static abstract TVec Exp(TVec x);
    static abstract TVec Divide(TVec a, TVec b);
}

public readonly struct V128 : IVec<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static bool IsAccelerated => Vector128.IsHardwareAccelerated;
    public static VectorWidth Width => VectorWidth.V128;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<float> LoadFirst(ref float source, int count)
    {
        if (!Avx.IsSupported) return Lanes.LoadFirst<V128, Vector128<float>>(ref source, count);
        fixed (float* p = &source) return Avx.MaskLoad(p, FirstLanes128(count));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreFirst(Vector128<float> value, ref float destination, int count)
    {
        if (!Avx.IsSupported)
        {
            Lanes.StoreFirst<V128, Vector128<float>>(value, ref destination, count);
            return;
        }
        fixed (float* p = &destination) Avx.MaskStore(p, FirstLanes128(count), value);
    }

    /// <summary>All bits set in lanes [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> FirstLanes128(int count) => Vector128.LessThan(Vector128<int>.Indices, Vector128.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Exp(Vector128<float> x) => FastExp.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;
}

public readonly struct V256 : IVec<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;
    public static VectorWidth Width => VectorWidth.V256;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> LoadFirst(ref float source, int count)
    {
        if (!Avx.IsSupported) return Lanes.LoadFirst<V256, Vector256<float>>(ref source, count);
        fixed (float* p = &source) return Avx.MaskLoad(p, FirstLanes256(count));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreFirst(Vector256<float> value, ref float destination, int count)
    {
        if (!Avx.IsSupported)
        {
            Lanes.StoreFirst<V256, Vector256<float>>(value, ref destination, count);
            return;
        }
        fixed (float* p = &destination) Avx.MaskStore(p, FirstLanes256(count), value);
    }

    /// <summary>All bits set in lanes [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FirstLanes256(int count) => Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exp(Vector256<float> x) => FastExp.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
}

public readonly struct V512 : IVec<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated;
    public static VectorWidth Width => VectorWidth.V512;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> LoadFirst(ref float source, int count)
    {
        if (!Avx512F.IsSupported) return Lanes.LoadFirst<V512, Vector512<float>>(ref source, count);
        fixed (float* p = &source) return Avx512F.MaskLoad(p, FirstLanes512(count), Vector512<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreFirst(Vector512<float> value, ref float destination, int count)
    {
        if (!Avx512F.IsSupported)
        {
            Lanes.StoreFirst<V512, Vector512<float>>(value, ref destination, count);
            return;
        }
        fixed (float* p = &destination) Avx512F.MaskStore(p, FirstLanes512(count), value);
    }

    /// <summary>All bits set in lanes [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FirstLanes512(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exp(Vector512<float> x) => FastExp.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
}

/// <summary>The lane-by-lane forms of <see cref="IVec{TVec}.LoadFirst"/> and <see cref="IVec{TVec}.StoreFirst"/>, for
/// ISAs without masked memory operations (SSE, AdvSimd, software vectors).</summary>
internal static class Lanes
{
    public static TVec LoadFirst<TOps, TVec>(ref float source, int count) where TOps : struct, IVec<TVec> where TVec : struct
    {
        Span<float> lanes = stackalloc float[TOps.Count];
        lanes.Clear();
        for (int i = 0; i < count; i++) lanes[i] = Unsafe.Add(ref source, i);
        return TOps.Load(ref lanes[0]);
    }

    public static void StoreFirst<TOps, TVec>(TVec value, ref float destination, int count) where TOps : struct, IVec<TVec> where TVec : struct
    {
        Span<float> lanes = stackalloc float[TOps.Count];
        TOps.Store(value, ref lanes[0]);
        for (int i = 0; i < count; i++) Unsafe.Add(ref destination, i) = lanes[i];
    }
}

/// <summary>
/// e^x for the activation epilogues, about 2.6 times as fast as Vector512.Exp on Zen 5 (a Stopwatch loop of SiLU over
/// an L1-resident buffer, one thread, best of 20: 8.5 → 3.2 ns per 16 lanes; the 1×1 16→96 conv with SiLU at 256×256,
/// which spent two thirds of its time in Vector512.Exp, went from 3.41 to 2.32 ms). x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two parts so that n·ln 2 is exact), e^r by
/// Cephes' expf polynomial (S. L. Moshier), times 2^n built in the exponent bits. x is first clamped to
/// [<see cref="Lowest"/>, <see cref="Highest"/>] so 2^n stays a normal float: below, the result is the smallest normal
/// 1.2e-38 instead of a denormal or 0; above, 2.2e38 instead of infinity; neither changes a sigmoid or SiLU by more
/// than 1e-38. Relative error below 1.2e-7 over the clamped range (<c>FastExpTests</c>).
/// </summary>
public static class FastExp
{
    public const float Lowest = -87.3f, Highest = 88.3f;
    const float Log2E = 1.44269504088896341f, Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
    const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
        P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(Lowest)), Vector128.Create(Highest));
        var n = Vector128.Round(x * Vector128.Create(Log2E));
        var r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-Ln2High), x);
        r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-Ln2Low), r);
        var p = Vector128.MultiplyAddEstimate(Vector128.Create(P0), r, Vector128.Create(P1));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P2));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P3));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P4));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P5));
        p = Vector128.MultiplyAddEstimate(p, r * r, r + Vector128<float>.One);
        return p * Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Lowest)), Vector256.Create(Highest));
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.MultiplyAddEstimate(n, Vector256.Create(-Ln2High), x);
        r = Vector256.MultiplyAddEstimate(n, Vector256.Create(-Ln2Low), r);
        var p = Vector256.MultiplyAddEstimate(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P2));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P3));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P4));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P5));
        p = Vector256.MultiplyAddEstimate(p, r * r, r + Vector256<float>.One);
        return p * Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Lowest)), Vector512.Create(Highest));
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-Ln2High), x);
        r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-Ln2Low), r);
        var p = Vector512.MultiplyAddEstimate(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P2));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P3));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P4));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P5));
        p = Vector512.MultiplyAddEstimate(p, r * r, r + Vector512<float>.One);
        return p * Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
    }
}
