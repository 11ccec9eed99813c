namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// One person found in a box: the 17 COCO keypoints in image pixels with their heatmap scores, the instance score
/// (<see cref="PersonScoring.InstanceScore"/>), the box it came from and that box's padded centre/scale.
/// </summary>
public sealed record TopDownPerson(Keypoint[] Keypoints, float Score, PersonBox Box, CenterScale CenterScale)
{
    /// <summary>The padded box area mmpose's OKS-NMS uses.</summary>
    public float Area => CenterScale.Area;
}
