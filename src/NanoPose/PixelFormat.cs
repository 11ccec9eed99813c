namespace NanoPose;

/// <summary>How the bytes of one pixel are laid out in the images given to <see cref="PoseEstimator"/>.</summary>
public enum PixelFormat
{
    /// <summary>Three bytes per pixel: red, green, blue.</summary>
    Rgb24,

    /// <summary>Three bytes per pixel: blue, green, red (OpenCV's order).</summary>
    Bgr24,
}
