namespace NanoPose.Pipelines.TopDown;

/// <summary>The 17 COCO person keypoints: left/right pairs for flipping and the OKS sigmas (mmpose coco.py).</summary>
public static class CocoKeypoints
{
    public const int Count = 17;

    /// <summary>nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles (left before right).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
        "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ];

    /// <summary>The joint each joint becomes in a horizontally mirrored image (pairs (1,2) … (15,16); the nose stays).</summary>
    public static IReadOnlyList<int> FlipPartner { get; } = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15];

    /// <summary>Per-keypoint OKS sigmas (pycocotools / mmpose), in units of the object scale.</summary>
    public static IReadOnlyList<double> Sigmas { get; } =
        [.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107, .087, .087, .089, .089];
}
