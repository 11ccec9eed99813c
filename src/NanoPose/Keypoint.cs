namespace NanoPose;

/// <summary>A keypoint: position (heatmap, input or image pixels, as its producer says) and its confidence score
/// (the heatmap value); a joint that was not found is all zero.</summary>
public readonly record struct Keypoint(float X, float Y, float Score);
