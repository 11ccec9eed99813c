namespace NanoPose;

/// <summary>The 17 COCO person keypoints: order and names, left/right partners for flipping, and the OKS sigmas.</summary>
public static class CocoKeypoints
{
    /// <summary>Keypoints per person: 17 (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).</summary>
    public const int Count = 17;

    /// <summary>Values per person in a COCO keypoints array: (x, y, v) per keypoint.</summary>
    public const int ArrayLength = 3 * Count;

    /// <summary>nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles (left before right).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ];

    /// <summary>The joint each joint becomes in a horizontally mirrored image (pairs (1,2) … (15,16); the nose stays).</summary>
    public static IReadOnlyList<int> FlipPartner { get; } = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15];

    /// <summary>The limbs drawn between joints: COCO's <c>skeleton</c> (legs, torso, arms, face), here 0-based.</summary>
    public static IReadOnlyList<(int From, int To)> Skeleton { get; } =
    [
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
        (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ];

    /// <summary>OKS sigmas, computed as pycocotools and mmpose do (<c>np.array([.26, .25, ...]) / 10.0</c>), so the
    /// doubles are bit-identical to theirs rather than to the literals .026, .025, ...</summary>
    public static IReadOnlyList<double> Sigmas { get; } =
    [
        .26 / 10.0, .25 / 10.0, .25 / 10.0, .35 / 10.0, .35 / 10.0, .79 / 10.0, .79 / 10.0, .72 / 10.0, .72 / 10.0,
        .62 / 10.0, .62 / 10.0, 1.07 / 10.0, 1.07 / 10.0, .87 / 10.0, .87 / 10.0, .89 / 10.0, .89 / 10.0,
    ];
}
