namespace NanoPose.Video;

/// <summary>Which of the 8-bit code ranges the luma and chroma samples use.</summary>
public enum YuvRange
{
    /// <summary>Studio (TV, MPEG) range: luma 16–235, chroma 16–240. What video files hold, and what ffmpeg's
    /// yuv4mpegpipe declares as <c>XCOLORRANGE=LIMITED</c>; assumed when a stream declares nothing.</summary>
    Limited,

    /// <summary>Full (JPEG, PC) range 0–255: <c>XCOLORRANGE=FULL</c>.</summary>
    Full,
}

/// <summary>Which primaries' luma weights turn Y′CbCr into R′G′B′.</summary>
public enum YuvMatrix
{
    /// <summary>BT.601 (Kr 0.299, Kb 0.114): standard-definition video and JPEG, and the Y4M default (Y4M declares no matrix).</summary>
    Bt601,

    /// <summary>BT.709 (Kr 0.2126, Kb 0.0722): HD video.</summary>
    Bt709,
}

/// <summary>
/// Y′CbCr ⇄ R′G′B′ for 8-bit samples, with the matrix's luma weights and the range's scaling, in 16.16 fixed point.
/// Chroma planes subsampled by 2 are read nearest-sample (each chroma sample covers its 2×2 or 2×1 luma block), and
/// written as the mean of the block.
/// </summary>
internal sealed class YuvConversion
{
    private const int Shift = 16;
    private const int Half = 1 << (Shift - 1);
    private readonly int _luma, _crToR, _cbToG, _crToG, _cbToB, _lumaOffset;
    private readonly double _kr, _kb;
    private readonly YuvRange _range;

    public YuvConversion(YuvMatrix matrix, YuvRange range)
    {
        (_kr, _kb) = matrix == YuvMatrix.Bt709 ? (0.2126, 0.0722) : (0.299, 0.114);
        _range = range;
        double kg = 1 - _kr - _kb;
        // Limited range stretches luma 219 codes and chroma 224 codes over 255.
        double lumaScale = range == YuvRange.Limited ? 255.0 / 219 : 1, chromaScale = range == YuvRange.Limited ? 255.0 / 224 : 1;
        _lumaOffset = range == YuvRange.Limited ? 16 : 0;
        _luma = Fixed(lumaScale);
        _crToR = Fixed(2 * (1 - _kr) * chromaScale);
        _cbToB = Fixed(2 * (1 - _kb) * chromaScale);
        _cbToG = Fixed(2 * _kb * (1 - _kb) / kg * chromaScale);
        _crToG = Fixed(2 * _kr * (1 - _kr) / kg * chromaScale);
    }

    private static int Fixed(double value) => (int)Math.Round(value * (1 << Shift));

    /// <summary>
    /// Planes to packed RGB: luma <paramref name="width"/> × <paramref name="height"/>, chroma planes
    /// <paramref name="chromaWidth"/> wide, each chroma sample covering <paramref name="stepX"/> × <paramref name="stepY"/>
    /// luma samples; empty chroma (monochrome) reads as 128.
    /// </summary>
    public void ToRgb(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, int width, int height,
        int chromaWidth, int stepX, int stepY, Span<byte> rgb)
    {
        bool mono = cb.IsEmpty;
        for (int row = 0; row < height; row++)
        {
            var lumaRow = y.Slice(row * width, width);
            var output = rgb.Slice(row * width * 3, width * 3);
            var cbRow = mono ? default : cb.Slice(row / stepY * chromaWidth, chromaWidth);
            var crRow = mono ? default : cr.Slice(row / stepY * chromaWidth, chromaWidth);
            // Each chroma sample's share of R, G and B once, for the stepX pixels it covers.
            for (int x0 = 0, c = 0; x0 < width; x0 += stepX, c++)
            {
                int u = mono ? 0 : cbRow[c] - 128, v = mono ? 0 : crRow[c] - 128;
                int toR = _crToR * v + Half, toG = Half - _cbToG * u - _crToG * v, toB = _cbToB * u + Half;
                for (int x = x0; x < Math.Min(width, x0 + stepX); x++)
                {
                    int l = (lumaRow[x] - _lumaOffset) * _luma;
                    output[3 * x] = Clamp(l + toR);
                    output[3 * x + 1] = Clamp(l + toG);
                    output[3 * x + 2] = Clamp(l + toB);
                }
            }
        }
    }

    private static byte Clamp(int value)
    {
        int scaled = value >> Shift;
        return (uint)scaled <= 255 ? (byte)scaled : scaled < 0 ? (byte)0 : (byte)255;
    }

    /// <summary>Packed RGB (or BGR) to planes, the inverse of <see cref="ToRgb"/>: chroma is the mean over each block.</summary>
    public void FromRgb(ReadOnlySpan<byte> rgb, int width, int height, int stride, bool bgr, int stepX, int stepY,
        Span<byte> y, Span<byte> cb, Span<byte> cr)
    {
        double kg = 1 - _kr - _kb;
        bool limited = _range == YuvRange.Limited;
        double lumaScale = limited ? 219.0 / 255 : 1, chromaScale = limited ? 224.0 / 255 : 1;
        int chromaWidth = (width + stepX - 1) / stepX, chromaHeight = (height + stepY - 1) / stepY;
        for (int cy = 0; cy < chromaHeight; cy++)
            for (int cx = 0; cx < chromaWidth; cx++)
            {
                double sumU = 0, sumV = 0;
                int count = 0;
                for (int row = cy * stepY; row < Math.Min(height, (cy + 1) * stepY); row++)
                    for (int x = cx * stepX; x < Math.Min(width, (cx + 1) * stepX); x++)
                    {
                        int at = row * stride + 3 * x;
                        double r = rgb[at + (bgr ? 2 : 0)], g = rgb[at + 1], b = rgb[at + (bgr ? 0 : 2)];
                        double luma = _kr * r + kg * g + _kb * b;
                        y[row * width + x] = ToByte(luma * lumaScale + _lumaOffset);
                        sumU += (b - luma) / (2 * (1 - _kb));
                        sumV += (r - luma) / (2 * (1 - _kr));
                        count++;
                    }
                cb[cy * chromaWidth + cx] = ToByte(sumU / count * chromaScale + 128);
                cr[cy * chromaWidth + cx] = ToByte(sumV / count * chromaScale + 128);
            }
    }

    private static byte ToByte(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
