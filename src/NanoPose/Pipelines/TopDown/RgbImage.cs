namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// An 8-bit RGB image held by the caller: <see cref="Height"/> rows of <see cref="Width"/> pixels (R, G, B), row r
/// starting at byte r·<see cref="Stride"/>. The engine has no image decoder; callers pass decoded pixels.
/// </summary>
public readonly ref struct RgbImage
{
    public RgbImage(ReadOnlySpan<byte> pixels, int width, int height, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (stride < width * 3L) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"a row of {width} RGB pixels needs a stride of at least {width * 3L} bytes");
        long needed = (long)(height - 1) * stride + width * 3L;
        if (pixels.Length < needed)
            throw new ArgumentException($"a {width}×{height} RGB image with stride {stride} needs {needed} bytes, found {pixels.Length}", nameof(pixels));
        Pixels = pixels;
        (Width, Height, Stride) = (width, height, stride);
    }

    /// <summary>A tightly packed image (stride = 3·width).</summary>
    public RgbImage(ReadOnlySpan<byte> pixels, int width, int height) : this(pixels, width, height, width * 3) { }

    public ReadOnlySpan<byte> Pixels { get; }
    public int Width { get; }
    public int Height { get; }
    public int Stride { get; }
}
