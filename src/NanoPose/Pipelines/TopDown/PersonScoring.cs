namespace NanoPose.Pipelines.TopDown;

/// <summary>mmpose 0.x's rescoring of a top-down person (<c>TopDownCocoDataset.evaluate</c>, MODELS.md A.13 step 6).</summary>
public static class PersonScoring
{
    /// <summary>The joint-score threshold of the COCO configs (<c>vis_thr</c>).</summary>
    public const float DefaultVisibilityThreshold = 0.2f;

    /// <summary>
    /// The box score times the mean of the joint scores above <paramref name="visibilityThreshold"/>
    /// (0 when none is); float32 like mmpose.
    /// </summary>
    public static float InstanceScore(ReadOnlySpan<Keypoint> keypoints, float boxScore, float visibilityThreshold = DefaultVisibilityThreshold)
    {
        float sum = 0;
        int count = 0;
        foreach (var k in keypoints)
            if (k.Score > visibilityThreshold) { sum += k.Score; count++; }
        return (count == 0 ? 0f : sum / count) * boxScore;
    }
}
