namespace NanoPose.Evaluation;

/// <summary>The 17 COCO body keypoints: order, names and the per-keypoint OKS sigmas.</summary>
public static class CocoKeypoints
{
    public const int Count = 17;

    /// <summary>Values per person in a COCO keypoints array: (x, y, v) per keypoint.</summary>
    public const int ArrayLength = 3 * Count;

    public static IReadOnlyList<string> Names { get; } =
    [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ];

    /// <summary>OKS sigmas, computed as pycocotools does (<c>np.array([.26, .25, ...]) / 10.0</c>), so the
    /// doubles are bit-identical to its values rather than to the literals .026, .025, ...</summary>
    public static IReadOnlyList<double> Sigmas { get; } =
    [
        .26 / 10.0, .25 / 10.0, .25 / 10.0, .35 / 10.0, .35 / 10.0, .79 / 10.0, .79 / 10.0, .72 / 10.0, .72 / 10.0,
        .62 / 10.0, .62 / 10.0, 1.07 / 10.0, 1.07 / 10.0, .87 / 10.0, .87 / 10.0, .89 / 10.0, .89 / 10.0,
    ];
}

/// <summary>A COCO box: top-left corner and size, in pixels.</summary>
public readonly record struct CocoBox(double X, double Y, double Width, double Height);

/// <summary>An entry of a COCO file's <c>images</c> list.</summary>
public sealed record CocoImage(long Id, string? FileName, int Width, int Height);

/// <summary>An entry of a COCO file's <c>categories</c> list.</summary>
public sealed record CocoCategory(int Id, string? Name);

/// <summary>A ground-truth person of a COCO keypoints file.</summary>
/// <param name="Keypoints">17 × (x, y, v); v = 0 not labelled, 1 labelled but hidden, 2 visible.</param>
/// <param name="NumKeypoints">The file's <c>num_keypoints</c>; pycocotools ignores a person whose value is 0
/// (it is trusted as given, not recounted from v).</param>
/// <param name="Area">The segment area (the file's <c>area</c>), which scales OKS and decides the area range.</param>
public sealed record CocoKeypointAnnotation(
    long Id, long ImageId, int CategoryId, double[] Keypoints, int NumKeypoints, double Area, CocoBox Bbox, bool IsCrowd);

/// <summary>A ground-truth keypoints data set (the parts of a COCO file that evaluation uses).</summary>
public sealed record CocoGroundTruth(
    IReadOnlyList<CocoImage> Images, IReadOnlyList<CocoCategory> Categories, IReadOnlyList<CocoKeypointAnnotation> Annotations);

/// <summary>A detected person in COCO results format.</summary>
/// <param name="Keypoints">17 × (x, y, score); evaluation uses only x and y.</param>
/// <param name="Bbox">Optional. As in pycocotools' <c>loadRes</c>, when the first detection of a result set has a
/// box, every detection's area is its box area; otherwise the area is that of the extent of all 17 points.</param>
public sealed record CocoKeypointDetection(long ImageId, int CategoryId, double[] Keypoints, double Score, CocoBox? Bbox = null);
