using NanoPose.Pipelines.TopDown;

namespace NanoPose;

/// <summary>
/// A person found by <see cref="PoseEstimator"/>: the 17 COCO keypoints (nose, eyes, ears, shoulders, elbows,
/// wrists, hips, knees, ankles; left before right) in image pixels with their confidences, and the person's score.
/// </summary>
/// <param name="Box">The box the person was found in (top-down models); null for bottom-up models.</param>
public sealed record EstimatedPerson(IReadOnlyList<Keypoint> Keypoints, float Score, PersonBox? Box);
