namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// A person box in image pixels, COCO style: top-left corner (<see cref="X"/>, <see cref="Y"/>), width and height,
/// and the detector's score (1 for ground-truth boxes). Coordinates are doubles because mmpose computes the box
/// centre from the JSON values in double before rounding to float32.
/// </summary>
public readonly record struct PersonBox(double X, double Y, double Width, double Height, float Score = 1f)
{
    /// <summary>
    /// Refuses a box that cannot be cropped: a non-finite coordinate or score, a width or height that is zero or
    /// negative, or a box that does not overlap the image <c>[0, imageWidth] × [0, imageHeight]</c> at all.
    /// The rule for boxes partly outside the image is mmpose's: they are used unchanged (no clipping) and the part
    /// outside the image reads as black (the warp's constant-0 border), so results match mmpose for every box it accepts.
    /// </summary>
    public void Validate(int imageWidth, int imageHeight, string paramName = "box")
    {
        if (!double.IsFinite(X) || !double.IsFinite(Y) || !double.IsFinite(Width) || !double.IsFinite(Height) || !float.IsFinite(Score))
            throw new ArgumentException($"person box {this} has a non-finite value", paramName);
        if (!(Width > 0) || !(Height > 0))
            throw new ArgumentException($"person box {this} must have a positive width and height", paramName);
        if (X >= imageWidth || Y >= imageHeight || X + Width <= 0 || Y + Height <= 0)
            throw new ArgumentException($"person box {this} lies entirely outside the {imageWidth}×{imageHeight} image", paramName);
    }
}
