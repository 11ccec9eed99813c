using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// <c>cv2.warpAffine(image, M, (width, height), flags=INTER_LINEAR, borderMode=BORDER_CONSTANT, borderValue=0)</c> on
/// an 8-bit RGB image, with OpenCV's fixed-point arithmetic: the inverse map is evaluated in steps of 1/1024 pixel
/// and rounded to 1/32 pixel, and the bilinear weights are integers summing to 2^15, so results agree with OpenCV's
/// to the rounding of those steps (golden crops: within ±1).
/// </summary>
public static class AffineWarp
{
    private const int AbBits = 10;               // OpenCV AB_BITS: the map is stepped in 1/1024 pixel
    private const int InterBits = 5;             // INTER_BITS: sub-pixel positions in 1/32 pixel
    private const int InterTabSize = 1 << InterBits;
    private const int CoefBits = 15;             // INTER_REMAP_COEF_BITS: bilinear weights sum to 2^15
    private const int RoundDelta = (1 << AbBits) / InterTabSize / 2;

    /// <summary>
    /// Warps <paramref name="image"/> by <paramref name="imageToCrop"/> (image pixels → crop pixels, as
    /// mmpose's <c>get_affine_transform</c> returns it) into <paramref name="crop"/>, a tightly packed RGB
    /// <paramref name="cropWidth"/>×<paramref name="cropHeight"/> image. Pixels outside the image read as 0.
    /// </summary>
    public static void WarpBilinear(RgbImage image, AffineTransform imageToCrop, Span<byte> crop, int cropWidth, int cropHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cropWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cropHeight);
        if (crop.Length != cropWidth * cropHeight * 3)
            throw new ArgumentException($"a {cropWidth}×{cropHeight} RGB crop needs {cropWidth * cropHeight * 3} bytes, found {crop.Length}", nameof(crop));
        var m = imageToCrop.Invert();

        // OpenCV steps along x with precomputed integer increments and adds a per-row integer origin.
        Span<long> xStepX = cropWidth <= 512 ? stackalloc long[cropWidth] : new long[cropWidth];
        Span<long> xStepY = cropWidth <= 512 ? stackalloc long[cropWidth] : new long[cropWidth];
        for (int x = 0; x < cropWidth; x++)
        {
            xStepX[x] = SaturateInt(m.M00 * x * (1 << AbBits));
            xStepY[x] = SaturateInt(m.M10 * x * (1 << AbBits));
        }

        var pixels = image.Pixels;
        ref byte first = ref MemoryMarshal.GetReference(pixels);
        // The vector path adds the steps in 32-bit lanes: only where no sum can leave the int range.
        bool stepsFitInt = Avx2.IsSupported && cropWidth >= 8;
        for (int x = 0; x < cropWidth && stepsFitInt; x++) stepsFitInt = Math.Abs(xStepX[x]) < 1 << 30 && Math.Abs(xStepY[x]) < 1 << 30;
        Span<int> stepX32 = stepsFitInt ? cropWidth <= 512 ? stackalloc int[cropWidth] : new int[cropWidth] : default;
        Span<int> stepY32 = stepsFitInt ? cropWidth <= 512 ? stackalloc int[cropWidth] : new int[cropWidth] : default;
        for (int x = 0; x < stepX32.Length; x++) (stepX32[x], stepY32[x]) = ((int)xStepX[x], (int)xStepY[x]);
        for (int y = 0; y < cropHeight; y++)
        {
            long rowX = SaturateInt((m.M01 * y + m.M02) * (1 << AbBits)) + RoundDelta;
            long rowY = SaturateInt((m.M11 * y + m.M12) * (1 << AbBits)) + RoundDelta;
            var outRow = crop.Slice(y * cropWidth * 3, cropWidth * 3);
            ref byte outFirst = ref MemoryMarshal.GetReference(outRow);
            bool vectors = stepsFitInt && Math.Abs(rowX) < 1 << 30 && Math.Abs(rowY) < 1 << 30;
            int nextBlock = vectors ? 0 : cropWidth;   // where to try eight pixels at once next: not again for eight after a miss
            for (int x = 0; x < cropWidth; x++)
            {
                if (x == nextBlock && x + 8 <= cropWidth)
                {
                    nextBlock = x + 8;
                    if (EightInside(image, ref first, (int)rowX, (int)rowY, stepX32[x..], stepY32[x..], ref Unsafe.Add(ref outFirst, x * 3)))
                    {
                        x += 7;
                        continue;
                    }
                }
                long fixedX = (rowX + xStepX[x]) >> (AbBits - InterBits);
                long fixedY = (rowY + xStepY[x]) >> (AbBits - InterBits);
                int sx = SaturateShort(fixedX >> InterBits), sy = SaturateShort(fixedY >> InterBits);
                int fx = (int)(fixedX & (InterTabSize - 1)), fy = (int)(fixedY & (InterTabSize - 1));
                // OpenCV's table weights (1 − a)(1 − b)·2^15 etc. are exact integers for a, b in 1/32 steps.
                int w00 = (InterTabSize - fy) * (InterTabSize - fx) * 32, w01 = (InterTabSize - fy) * fx * 32;
                int w10 = fy * (InterTabSize - fx) * 32, w11 = fy * fx * 32;
                if ((uint)sx < (uint)(image.Width - 1) && (uint)sy < (uint)(image.Height - 1))
                {
                    // All four neighbours inside the image (most of a crop): read straight from the two rows, which
                    // the check above keeps inside the pixels (unchecked reads: the checked ones were half the time).
                    ref byte top = ref Unsafe.Add(ref first, sy * image.Stride + sx * 3);
                    ref byte bottom = ref Unsafe.Add(ref top, image.Stride);
                    ref byte output = ref Unsafe.Add(ref outFirst, x * 3);
                    for (int c = 0; c < 3; c++)
                        Unsafe.Add(ref output, c) = Blend(w00, w01, w10, w11, Unsafe.Add(ref top, c), Unsafe.Add(ref top, c + 3),
                            Unsafe.Add(ref bottom, c), Unsafe.Add(ref bottom, c + 3));
                    continue;
                }
                if ((uint)(sx + 1) > (uint)image.Width || (uint)(sy + 1) > (uint)image.Height)
                {
                    // All four neighbours outside (the padding around a box at the image's edge): the border value.
                    outRow.Slice(x * 3, 3).Clear();
                    continue;
                }
                for (int c = 0; c < 3; c++)
                    outRow[x * 3 + c] = Blend(w00, w01, w10, w11, Sample(image, pixels, sx, sy, c), Sample(image, pixels, sx + 1, sy, c),
                        Sample(image, pixels, sx, sy + 1, c), Sample(image, pixels, sx + 1, sy + 1, c));
            }
        }
    }

    /// <summary>
    /// Crop pixels [x, x + 8) of one row with AVX2 when all their four neighbours lie inside the image (false, nothing
    /// written, otherwise): the same fixed-point positions, weights and sums as the scalar path, eight lanes at a time,
    /// each neighbour pair (6 bytes) read by two 4-byte gathers (a 192×256 crop inside the image: 3× as fast, bench/README.md).
    /// </summary>
    private static bool EightInside(RgbImage image, ref byte pixels, int rowX, int rowY, ReadOnlySpan<int> stepX, ReadOnlySpan<int> stepY, ref byte output)
    {
        var fixedX = Avx2.ShiftRightArithmetic(Vector256.Create(rowX) + Vector256.Create(stepX), AbBits - InterBits);
        var fixedY = Avx2.ShiftRightArithmetic(Vector256.Create(rowY) + Vector256.Create(stepY), AbBits - InterBits);
        // Clamped to the short range as OpenCV (and the scalar path) do, which matters only for images wider than 32767.
        var shortMin = Vector256.Create((int)short.MinValue);
        var shortMax = Vector256.Create((int)short.MaxValue);
        var sx = Vector256.Min(Vector256.Max(Avx2.ShiftRightArithmetic(fixedX, InterBits), shortMin), shortMax);
        var sy = Vector256.Min(Vector256.Max(Avx2.ShiftRightArithmetic(fixedY, InterBits), shortMin), shortMax);
        var inside = Vector256.LessThan(sx.AsUInt32(), Vector256.Create((uint)(image.Width - 1)))
            & Vector256.LessThan(sy.AsUInt32(), Vector256.Create((uint)(image.Height - 1)));
        if (inside != Vector256<uint>.AllBitsSet) return false;

        var mask = Vector256.Create(InterTabSize - 1);
        var fx = fixedX & mask;
        var fy = fixedY & mask;
        var tab = Vector256.Create(InterTabSize);
        var w00 = (tab - fy) * (tab - fx) * 32;
        var w01 = (tab - fy) * fx * 32;
        var w10 = fy * (tab - fx) * 32;
        var w11 = fy * fx * 32;

        var offsets = sy * image.Stride + sx * 3;
        Vector256<int> top, topShifted, bottom, bottomShifted;
        unsafe
        {
            fixed (byte* p = &pixels)
            {
                top = Avx2.GatherVector256((int*)p, offsets, 1);                                      // R0 G0 B0 R1
                topShifted = Avx2.GatherVector256((int*)(p + 2), offsets, 1);                         // B0 R1 G1 B1
                bottom = Avx2.GatherVector256((int*)(p + image.Stride), offsets, 1);
                bottomShifted = Avx2.GatherVector256((int*)(p + image.Stride + 2), offsets, 1);
            }
        }
        var bytes = Vector256.Create(0xFF);
        var round = Vector256.Create(1 << (CoefBits - 1));
        Vector256<int> Channel(Vector256<int> v00, Vector256<int> v01, Vector256<int> v10, Vector256<int> v11) =>
            Avx2.ShiftRightArithmetic(w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11 + round, CoefBits);
        var red = Channel(top & bytes, Avx2.ShiftRightLogical(top, 24), bottom & bytes, Avx2.ShiftRightLogical(bottom, 24));
        var green = Channel(Avx2.ShiftRightLogical(top, 8) & bytes, Avx2.ShiftRightLogical(topShifted, 16) & bytes,
            Avx2.ShiftRightLogical(bottom, 8) & bytes, Avx2.ShiftRightLogical(bottomShifted, 16) & bytes);
        var blue = Channel(Avx2.ShiftRightLogical(top, 16) & bytes, Avx2.ShiftRightLogical(topShifted, 24),
            Avx2.ShiftRightLogical(bottom, 16) & bytes, Avx2.ShiftRightLogical(bottomShifted, 24));
        // R | G << 8 | B << 16 per lane, the three bytes of each lane packed together (in each 128-bit half, then across
        // them), stored as 16 + 8 bytes: exactly the eight pixels, nothing past them.
        var rgb = red | Avx2.ShiftLeftLogical(green, 8) | Avx2.ShiftLeftLogical(blue, 16);
        var halves = Avx2.Shuffle(rgb.AsByte(), Vector256.Create(
            (byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0x80, 0x80, 0x80, 0x80, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0x80, 0x80, 0x80, 0x80));
        var packed = Avx2.PermuteVar8x32(halves.AsInt32(), Vector256.Create(0, 1, 2, 4, 5, 6, 3, 7));
        Unsafe.WriteUnaligned(ref output, packed.GetLower());
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref output, 16), packed.GetUpper().AsUInt64().ToScalar());
        return true;
    }

    /// <summary>One channel of the bilinear blend of four neighbours, in OpenCV's fixed point.</summary>
    private static byte Blend(int w00, int w01, int w10, int w11, int v00, int v01, int v10, int v11) =>
        (byte)((w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11 + (1 << (CoefBits - 1))) >> CoefBits);

    private static int Sample(RgbImage image, ReadOnlySpan<byte> pixels, int x, int y, int channel) =>
        (uint)x < (uint)image.Width && (uint)y < (uint)image.Height ? pixels[y * image.Stride + x * 3 + channel] : 0;

    /// <summary>OpenCV <c>saturate_cast&lt;int&gt;(double)</c>: round half to even, clamp to the int range.</summary>
    private static long SaturateInt(double value) =>
        double.IsNaN(value) ? int.MinValue : (long)Math.Clamp(Math.Round(value, MidpointRounding.ToEven), int.MinValue, int.MaxValue);

    private static int SaturateShort(long value) => (int)Math.Clamp(value, short.MinValue, short.MaxValue);
}
