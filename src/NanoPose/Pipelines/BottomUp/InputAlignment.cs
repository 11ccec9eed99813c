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
