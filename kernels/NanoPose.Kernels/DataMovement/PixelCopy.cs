using System.Runtime.CompilerServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.DataMovement;

/// <summary>
/// The copy loop every data-movement kernel is built from: <c>channels</c> floats of each of <c>pixels</c> pixels,
/// source and destination with their own pixel strides. Source and destination must not overlap.
/// </summary>
internal static class PixelCopy
{
    public static void Run<TOps, TVec>(ref float source, int sourceStride, ref float destination, int destinationStride, int pixels, int channels)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        if (sourceStride == channels && destinationStride == channels)
        {
            // Both sides dense: the pixels form one block.
            channels *= pixels;
            pixels = 1;
        }
        for (int p = 0; p < pixels; p++)
            Channels<TOps, TVec>(ref Unsafe.Add(ref source, (nint)p * sourceStride), ref Unsafe.Add(ref destination, (nint)p * destinationStride), channels);
    }

    /// <summary>Copies one pixel's channels: whole vectors, then one vector overlapping the previous one for the tail
    /// (rewrites a few floats with the same values, cheaper than a scalar loop); scalar only when fewer channels than lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Channels<TOps, TVec>(ref float source, ref float destination, int channels)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int lanes = TOps.Count;
        if (channels < lanes)
        {
            for (int c = 0; c < channels; c++) Unsafe.Add(ref destination, c) = Unsafe.Add(ref source, c);
            return;
        }
        int last = channels - lanes;
        for (int c = 0; c < last; c += lanes)
            TOps.Store(TOps.Load(ref Unsafe.Add(ref source, c)), ref Unsafe.Add(ref destination, c));
        TOps.Store(TOps.Load(ref Unsafe.Add(ref source, last)), ref Unsafe.Add(ref destination, last));
    }
}
