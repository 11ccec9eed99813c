namespace NanoPose.Pipelines.Detection;

/// <summary>
/// One detector box, corners (<see cref="X1"/>, <see cref="Y1"/>) – (<see cref="X2"/>, <see cref="Y2"/>) in pixels
/// (of the network input or of the image, whichever the caller fed in), and its score. Nothing is validated: the
/// detector's boxes are not clipped and may even be inverted.
/// </summary>
public readonly record struct DetectedBox(float X1, float Y1, float X2, float Y2, float Score);
