using NanoPose.Evaluation;

namespace NanoPose.Tests.Evaluation;

/// <summary>Builders for small hand-made evaluation cases (one category: person, id 1).</summary>
internal static class CocoCases
{
    /// <summary>17 labelled (v = 2) points spread over the box (x, y, w, h), all distinct.</summary>
    public static double[] Skeleton(double x, double y, double w, double h)
    {
        var keypoints = new double[CocoKeypoints.ArrayLength];
        for (int j = 0; j < CocoKeypoints.Count; j++)
        {
            keypoints[3 * j] = x + w * (j * 7 % 17) / 16.0;
            keypoints[3 * j + 1] = y + h * j / 16.0;
            keypoints[3 * j + 2] = 2;
        }
        return keypoints;
    }

    /// <summary>All 17 points at one place.</summary>
    public static double[] AllAt(double x, double y)
    {
        var keypoints = new double[CocoKeypoints.ArrayLength];
        for (int j = 0; j < CocoKeypoints.Count; j++) (keypoints[3 * j], keypoints[3 * j + 1]) = (x, y);
        return keypoints;
    }

    public static CocoKeypointAnnotation Person(long id, long imageId, double[] keypoints, double area = 10000, bool crowd = false,
        int? numKeypoints = null, CocoBox? box = null) =>
        new(id, imageId, 1, keypoints, numKeypoints ?? CocoKeypoints.Count, area, box ?? new CocoBox(0, 0, 100, 100), crowd);

    public static CocoGroundTruth GroundTruth(long[] imageIds, params CocoKeypointAnnotation[] annotations) =>
        new([.. imageIds.Select(id => new CocoImage(id, null, 640, 480))], [new CocoCategory(1, "person")], annotations);

    public static CocoKeypointDetection Detection(long imageId, double[] keypoints, double score, CocoBox? box = null) =>
        new(imageId, 1, keypoints, score, box);
}
