namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// mmpose 0.x <c>oks_nms</c> (no per-joint visibility filter, as <c>TopDownCocoDataset.evaluate</c> calls it): the
/// people of one image from the highest score down; each kept person removes the remaining ones whose object keypoint
/// similarity with it exceeds the threshold.
/// </summary>
public static class OksNms
{
    /// <summary>The COCO configs' <c>oks_thr</c>: people with OKS above it are duplicates.</summary>
    public const double DefaultThreshold = 0.9;

    /// <summary>numpy's <c>np.spacing(1)</c>, which mmpose adds to the mean area against division by zero.</summary>
    private const double SpacingOfOne = 2.220446049250313e-16;

    /// <summary>
    /// Indices of the people kept, in the order kept (descending score). Ties in score keep numpy's order for
    /// <c>argsort()[::-1]</c> on small arrays: the later person first.
    /// </summary>
    public static int[] Keep(IReadOnlyList<TopDownPerson> people, double threshold = DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(people);
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold is NaN");
        // A stable ascending sort, reversed: equal scores come out latest first.
        var order = Enumerable.Range(0, people.Count).OrderBy(i => people[i].Score).Reverse().ToList();
        var keep = new List<int>();
        while (order.Count > 0)
        {
            int best = order[0];
            keep.Add(best);
            order = order.Skip(1).Where(other => Similarity(people[best], people[other]) <= threshold).ToList();
        }
        return [.. keep];
    }

    /// <summary>
    /// mmpose <c>oks_iou</c> of two people: the mean over joints of exp(−d² / (2·(2σ)²·(a₁+a₂)/2)), with d the
    /// distance between corresponding keypoints and a the padded box areas; rounded to float32 like mmpose's result.
    /// </summary>
    public static float Similarity(TopDownPerson a, TopDownPerson b)
    {
        var sigmas = CocoKeypoints.Sigmas;
        if (a.Keypoints.Length != sigmas.Count || b.Keypoints.Length != sigmas.Count)
            throw new ArgumentException($"OKS needs {sigmas.Count} COCO keypoints per person, found {a.Keypoints.Length} and {b.Keypoints.Length}");
        double area = (a.Area + b.Area) / 2f + SpacingOfOne;
        double sum = 0;
        for (int j = 0; j < sigmas.Count; j++)
        {
            float dx = b.Keypoints[j].X - a.Keypoints[j].X, dy = b.Keypoints[j].Y - a.Keypoints[j].Y;
            double variance = 2 * sigmas[j] * (2 * sigmas[j]);
            sum += Math.Exp(-((dx * dx + dy * dy) / variance / area / 2));
        }
        return (float)(sum / sigmas.Count);
    }
}
