using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoPose.Kernels.DataMovement;

/// <summary>
/// Lane interleave (zip) for the channel shuffle. <see cref="Simd.IVec{TVec}"/> has no permutes, so this picks the
/// width by type; the JIT folds the <c>typeof</c> tests per instantiation. AVX takes two unpacks and two 128-bit lane swaps
/// per pair of output vectors; the other forms a duplicating shuffle (vpermps, tbl) of each input and a blend.
/// </summary>
internal static class Interleave
{
    /// <summary>lo = [a0, b0, a1, b1, …] (first half of a and b), hi = the same for the second half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip<TVec>(TVec a, TVec b, out TVec lo, out TVec hi) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector128<float>))
        {
            var (l, h) = Zip128(Unsafe.As<TVec, Vector128<float>>(ref a), Unsafe.As<TVec, Vector128<float>>(ref b));
            lo = Unsafe.As<Vector128<float>, TVec>(ref l);
            hi = Unsafe.As<Vector128<float>, TVec>(ref h);
        }
        else if (typeof(TVec) == typeof(Vector256<float>))
        {
            var (l, h) = Zip256(Unsafe.As<TVec, Vector256<float>>(ref a), Unsafe.As<TVec, Vector256<float>>(ref b));
            lo = Unsafe.As<Vector256<float>, TVec>(ref l);
            hi = Unsafe.As<Vector256<float>, TVec>(ref h);
        }
        else
        {
            throw new NotSupportedException(typeof(TVec).Name);
        }
    }

    // Each half: duplicate every lane of a and of b into pairs, then take a in even lanes and b in odd lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<float>, Vector128<float>) Zip128(Vector128<float> a, Vector128<float> b)
    {
        var odd = Vector128.Create(0, -1, 0, -1).AsSingle();
        var lo = Vector128.Create(0, 0, 1, 1);
        var hi = Vector128.Create(2, 2, 3, 3);
        return (Vector128.ConditionalSelect(odd, Vector128.Shuffle(b, lo), Vector128.Shuffle(a, lo)),
                Vector128.ConditionalSelect(odd, Vector128.Shuffle(b, hi), Vector128.Shuffle(a, hi)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float>, Vector256<float>) Zip256(Vector256<float> a, Vector256<float> b)
    {
        if (Avx.IsSupported)
        {
            // unpcklps/unpckhps zip within each 128-bit half: [a0 b0 a1 b1 | a4 b4 a5 b5] and [a2 b2 a3 b3 | a6 b6 a7 b7].
            Vector256<float> low = Avx.UnpackLow(a, b), high = Avx.UnpackHigh(a, b);
            return (Avx.Permute2x128(low, high, 0x20), Avx.Permute2x128(low, high, 0x31));
        }
        var odd = Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
        var lo = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
        var hi = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);
        return (Vector256.ConditionalSelect(odd, Vector256.Shuffle(b, lo), Vector256.Shuffle(a, lo)),
                Vector256.ConditionalSelect(odd, Vector256.Shuffle(b, hi), Vector256.Shuffle(a, hi)));
    }
}
