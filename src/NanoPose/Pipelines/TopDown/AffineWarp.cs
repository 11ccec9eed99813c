using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
        for (int y = 0; y < cropHeight; y++)
        {
            long rowX = SaturateInt((m.M01 * y + m.M02) * (1 << AbBits)) + RoundDelta;
            long rowY = SaturateInt((m.M11 * y + m.M12) * (1 << AbBits)) + RoundDelta;
            var outRow = crop.Slice(y * cropWidth * 3, cropWidth * 3);
            ref byte outFirst = ref MemoryMarshal.GetReference(outRow);
            for (int x = 0; x < cropWidth; x++)
            {
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
                for (int c = 0; c < 3; c++)
                    outRow[x * 3 + c] = Blend(w00, w01, w10, w11, Sample(image, pixels, sx, sy, c), Sample(image, pixels, sx + 1, sy, c),
                        Sample(image, pixels, sx, sy + 1, c), Sample(image, pixels, sx + 1, sy + 1, c));
            }
        }
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
