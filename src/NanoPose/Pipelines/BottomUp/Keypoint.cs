namespace NanoPose.Pipelines.BottomUp;

/// <summary>A joint: position (map or image pixels, by context) and heatmap value; a missing joint is all zero.</summary>
public readonly record struct Keypoint(float X, float Y, float Score);

/// <summary>A grouped person: one keypoint per joint, in joint-index order, and the person score (the mean joint
/// value before refinement, MODELS.md C.3 step 5).</summary>
public sealed record BottomUpPerson(Keypoint[] Keypoints, float Score);
