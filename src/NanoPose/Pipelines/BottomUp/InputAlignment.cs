using System.Globalization;

namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// How an image enters the bottom-up network and how coordinates come back (MODELS.md C.1, C.3 step 7; HigherHRNet
/// <c>get_multi_scale_size</c>, <c>resize_align_multi_scale</c>, <c>get_affine_transform</c>, <c>transform_preds</c>).
/// The shorter image side is resized to the input size and the longer one to the next multiple of 64, keeping the
/// image centred: a similarity that maps <see cref="CenterX"/>, <see cref="CenterY"/> to the middle of the
/// <see cref="Width"/> × <see cref="Height"/> input and a source width of <see cref="ScaleX"/>·200 pixels onto it.
/// </summary>
public sealed record InputAlignment(int Width, int Height, int CenterX, int CenterY, double ScaleX, double ScaleY)
{
    /// <summary>The network input for an image at one test scale (1 and 1 for single-scale testing), with Python's
    /// arithmetic: <c>int((s·S + 63) // 64 · 64)</c> and friends.</summary>
    public static InputAlignment For(int imageWidth, int imageHeight, int inputSize, double currentScale = 1, double minScale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        if (!(minScale > 0 && double.IsFinite(minScale))) throw new ArgumentOutOfRangeException(nameof(minScale), minScale, "must be positive");
        if (!(currentScale >= minScale && double.IsFinite(currentScale)))
            throw new ArgumentOutOfRangeException(nameof(currentScale), currentScale, $"must be at least the smallest scale {minScale}");

        int centerX = (int)(imageWidth / 2.0 + 0.5), centerY = (int)(imageHeight / 2.0 + 0.5);
        int minInputSize = (int)AlignTo64(minScale * inputSize);
        if (imageWidth < imageHeight)
        {
            int width = (int)(minInputSize * currentScale / minScale);
            int height = (int)((int)AlignTo64((double)minInputSize / imageWidth * imageHeight) * currentScale / minScale);
            return new(width, height, centerX, centerY, imageWidth / 200.0, (double)height / width * imageWidth / 200.0);
        }
        else
        {
            int height = (int)(minInputSize * currentScale / minScale);
            int width = (int)((int)AlignTo64((double)minInputSize / imageHeight * imageWidth) * currentScale / minScale);
            return new(width, height, centerX, centerY, (double)width / height * imageHeight / 200.0, imageHeight / 200.0);
        }
    }

    /// <summary>
    /// The most pixels of a bottom-up network input: 2^19 (524 288). The input's longer side follows the image's aspect
    /// ratio, and one call allocates about 320 bytes per input pixel (EfficientHRNet H−4: 329 MB at 2^20 pixels,
    /// measured by InputSizeHostileTests; a 20000×500 panorama asked for 15360×384 = 5.9 M pixels and 1.9 GB), so
    /// this bounds a call near 170 MB and a few seconds. Photos up to 2:1 (H0, 512-pixel shorter side) or 3.5:1
    /// (H−4, 384) are within it and run exactly as the reference does.
    /// </summary>
    public const long MaxInputPixels = 1L << 19;

    /// <summary>
    /// <see cref="For"/> at single scale, with the shorter side reduced in steps of 64 pixels from
    /// <paramref name="inputSize"/> when the input would have more than <paramref name="maxPixels"/> pixels (an image
    /// much wider than high, or the reverse): the people in it are then found at a lower resolution rather than not
    /// at all. An image too elongated even for a 64-pixel shorter side is refused, with the numbers.
    /// </summary>
    public static InputAlignment Limited(int imageWidth, int imageHeight, int inputSize, long maxPixels = MaxInputPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        double ratio = (double)Math.Max(imageWidth, imageHeight) / Math.Min(imageWidth, imageHeight);
        double pixels = 0;
        for (int size = inputSize; size > 0; size -= 64)
        {
            // The sizes For computes, in double first: an extreme aspect ratio would overflow an int.
            double shortSide = AlignTo64(size), longSide = AlignTo64(shortSide * ratio);
            pixels = shortSide * longSide;
            if (pixels <= maxPixels) return For(imageWidth, imageHeight, size);
        }
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"a {imageWidth}×{imageHeight} image is too elongated for the bottom-up network: even with its shorter side at 64 pixels the input would have {pixels:N0} pixels, over the limit of {maxPixels:N0}"));
    }

    /// <summary>Python's <c>(v + 63) // 64 * 64</c> on a float.</summary>
    private static double AlignTo64(double value) => Math.Floor((value + 63) / 64) * 64;

    /// <summary>
    /// Maps a point of a map of <paramref name="mapWidth"/> × <paramref name="mapHeight"/> covering the network input
    /// (the aggregated heatmaps: the input size itself) back to image pixels: the inverse of the alignment affine,
    /// built as the reference builds it from three float32 points (so the source half-width is a float32 difference),
    /// evaluated in double and rounded to float32 as its arrays are.
    /// </summary>
    public (float X, float Y) ToImage(double x, double y, int mapWidth, int mapHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mapWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mapHeight);
        // Source points: the centre and the point half a source width above it, both as float32.
        float top = (float)(CenterY + ScaleX * 200.0 * -0.5);
        float halfSourceWidth = CenterY - top;
        double pixelsPerMapUnit = halfSourceWidth / (mapWidth * 0.5);
        return ((float)(CenterX + (x - mapWidth * 0.5) * pixelsPerMapUnit),
                (float)(CenterY + (y - mapHeight * 0.5) * pixelsPerMapUnit));
    }
}
