namespace NanoPose.Pipelines.BottomUp;

/// <summary>A grouped person: one keypoint per joint, in joint-index order, and the person score (the mean joint
/// value before refinement, MODELS.md C.3 step 5).</summary>
public sealed record BottomUpPerson(Keypoint[] Keypoints, float Score);
