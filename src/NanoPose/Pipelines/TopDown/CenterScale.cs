namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// mmpose 0.x's box representation: the box centre in image pixels and its size in units of 200 pixels
/// (mmpose's "pixel_std"), already widened to the model's aspect ratio and padded. float32 like mmpose.
/// </summary>
public readonly record struct CenterScale(float CenterX, float CenterY, float ScaleX, float ScaleY)
{
    /// <summary>mmpose's "pixel_std": scale 1 is 200 pixels.</summary>
    public const float PixelStd = 200f;

    /// <summary>The padding mmpose's COCO top-down configs use (25% context around the box).</summary>
    public const double DefaultPadding = 1.25;

    /// <summary>The padded box area in pixels², as mmpose stores it for OKS-NMS (<c>prod(scale × 200)</c>).</summary>
    public float Area => ScaleX * PixelStd * (ScaleY * PixelStd);

    /// <summary>The smallest crop side in pixels: a box smaller than this (a detector's or a file's degenerate box,
    /// 1e-7 pixels wide) is cropped at this size around its centre.</summary>
    public const double MinCropSide = 1;

    /// <summary>
    /// mmpose 0.x <c>_xywh2cs</c> at test time: centre = box centre; the box is widened (or heightened) to the
    /// input's aspect ratio <c>inputWidth / inputHeight</c>; scale = size / 200 × <paramref name="padding"/>.
    /// The box is validated first (<see cref="PersonBox.Validate"/>); a crop under <see cref="MinCropSide"/> (or too
    /// small for float32 at the box's centre) is enlarged to it, keeping its centre and aspect ratio.
    /// </summary>
    public static CenterScale FromBox(PersonBox box, int imageWidth, int imageHeight, int inputWidth, int inputHeight, double padding = DefaultPadding)
    {
        box.Validate(imageWidth, imageHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputHeight);
        if (!double.IsFinite(padding) || padding <= 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be positive");

        double aspect = (double)inputWidth / inputHeight;
        double w = box.Width, h = box.Height;
        if (w > aspect * h) h = w / aspect;
        else if (w < aspect * h) w = h * aspect;
        // A crop under a pixel has nothing in it to find, and under float32's resolution at the box's centre the
        // crop's corners coincide and no transform exists: such a box is cropped at that size instead.
        double smallest = Math.Max(MinCropSide, Math.Max(Math.Abs(box.X + box.Width * 0.5), Math.Abs(box.Y + box.Height * 0.5)) / 4096);
        if (w < smallest || h < smallest)
        {
            double grow = Math.Max(smallest / w, smallest / h);
            (w, h) = (w * grow, h * grow);
        }
        // numpy: center and scale are float32 arrays; the padding multiplies in float32.
        var result = new CenterScale(
            (float)(box.X + box.Width * 0.5), (float)(box.Y + box.Height * 0.5),
            (float)(w / 200.0) * (float)padding, (float)(h / 200.0) * (float)padding);
        if (!float.IsFinite(result.CenterX) || !float.IsFinite(result.CenterY) || !float.IsFinite(result.Area) || result.ScaleX == 0 || result.ScaleY == 0)
            throw new ArgumentException($"person box {box} is out of float32 range", nameof(box));
        return result;
    }
}
