namespace NanoPose.Evaluation;

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
/// <param name="FileName">Optional, not part of COCO results (pycocotools ignores it): the image file the person was
/// found in, for results of images that have no COCO id.</param>
public sealed record CocoKeypointDetection(long ImageId, int CategoryId, double[] Keypoints, double Score, CocoBox? Bbox = null,
    string? FileName = null, double? BoxScore = null);
