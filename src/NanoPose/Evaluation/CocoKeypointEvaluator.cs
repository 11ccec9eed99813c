namespace NanoPose.Evaluation;

/// <summary>
/// COCO keypoint evaluation with exactly pycocotools' <c>COCOeval(iouType='keypoints')</c> semantics:
/// <c>loadRes</c> (detection areas), <c>computeOks</c>, <c>evaluateImg</c> per image × category × area range,
/// <c>accumulate</c> (precision envelope, 101 recall points, searchsorted 'left') and <c>summarizeKps</c>.
/// Images and categories are those of the ground truth; stateless and thread-safe.
/// </summary>
public static class CocoKeypointEvaluator
{
    public const int MaxDetections = 20;

    /// <summary>OKS thresholds, as numpy's <c>linspace(.5, 0.95, 10)</c> computes them (bit for bit: AP .75
    /// selects the threshold that compares equal to 0.75).</summary>
    public static IReadOnlyList<double> OksThresholds { get; } = Linspace(0.5, 0.95, 10);

    /// <summary>Recall points, numpy's <c>linspace(0, 1, 101)</c>.</summary>
    public static IReadOnlyList<double> RecallThresholds { get; } = Linspace(0.0, 1.0, 101);

    /// <summary>The area ranges all, medium, large (inclusive bounds), on the ground truth's annotated area.</summary>
    private static readonly (double Low, double High)[] s_areaRanges = [(0, 1e10), (32 * 32, 96 * 96), (96 * 96, 1e10)];
    private const int All = 0, Medium = 1, Large = 2;

    /// <summary>Evaluates detections against the ground truth and returns the ten summary statistics.</summary>
    /// <exception cref="ArgumentException">A detection names an image that is not in the ground truth (pycocotools
    /// refuses such results too), or has not 51 keypoint values, or only some detections have boxes.</exception>
    public static CocoKeypointStats Evaluate(CocoGroundTruth groundTruth, IReadOnlyList<CocoKeypointDetection> detections)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(detections);
        long[] imageIds = [.. groundTruth.Images.Select(i => i.Id).Distinct().Order()];
        int[] categoryIds = [.. groundTruth.Categories.Select(c => c.Id).Distinct().Order()];
        var imageIndex = new Dictionary<long, int>();
        for (int i = 0; i < imageIds.Length; i++) imageIndex[imageIds[i]] = i;
        var categoryIndex = new Dictionary<int, int>();
        for (int k = 0; k < categoryIds.Length; k++) categoryIndex[categoryIds[k]] = k;
        int cellCount = imageIds.Length * categoryIds.Length;

        var gtCells = new List<CocoKeypointAnnotation>?[cellCount];
        foreach (var a in groundTruth.Annotations)
        {
            if (a.Keypoints.Length != CocoKeypoints.ArrayLength)
                throw new ArgumentException($"annotation {a.Id} has {a.Keypoints.Length} keypoint values, expected {CocoKeypoints.ArrayLength}", nameof(groundTruth));
            // pycocotools' getAnnIds(imgIds, catIds) drops annotations of unknown images or categories.
            if (imageIndex.TryGetValue(a.ImageId, out int i) && categoryIndex.TryGetValue(a.CategoryId, out int k))
                (gtCells[i * categoryIds.Length + k] ??= []).Add(a);
        }

        // loadRes takes the box branch for every detection when the first one has a non-empty box.
        bool areaFromBoxes = detections.Count > 0 && detections[0].Bbox is not null;
        var dtCells = new List<(CocoKeypointDetection Detection, double Area)>?[cellCount];
        for (int d = 0; d < detections.Count; d++)
        {
            var dt = detections[d];
            if (dt.Keypoints.Length != CocoKeypoints.ArrayLength)
                throw new ArgumentException($"detections[{d}] has {dt.Keypoints.Length} keypoint values, expected {CocoKeypoints.ArrayLength}", nameof(detections));
            if (!imageIndex.TryGetValue(dt.ImageId, out int i))
                throw new ArgumentException($"detections[{d}]: image {dt.ImageId} is not an image of the ground truth", nameof(detections));
            if (areaFromBoxes && dt.Bbox is null)
                throw new ArgumentException($"detections[{d}] has no bbox although the first detection has one", nameof(detections));
            double area = areaFromBoxes ? dt.Bbox!.Value.Width * dt.Bbox.Value.Height : KeypointExtentArea(dt.Keypoints);
            if (categoryIndex.TryGetValue(dt.CategoryId, out int k)) // other categories are not evaluated
                (dtCells[i * categoryIds.Length + k] ??= []).Add((dt, area));
        }

        int thresholds = OksThresholds.Count, recalls = RecallThresholds.Count, areas = s_areaRanges.Length;
        var precision = new double[thresholds, recalls, categoryIds.Length, areas];
        var recall = new double[thresholds, categoryIds.Length, areas];
        // -1 marks "not measured" (no gt in that category and area range), as in pycocotools.
        for (int t = 0; t < thresholds; t++)
            for (int k = 0; k < categoryIds.Length; k++)
                for (int a = 0; a < areas; a++)
                {
                    recall[t, k, a] = -1;
                    for (int r = 0; r < recalls; r++) precision[t, r, k, a] = -1;
                }
        var perImage = new List<ImageEvaluation>(imageIds.Length);
        for (int k = 0; k < categoryIds.Length; k++)
        {
            var oks = new double[imageIds.Length][,];
            var sortedDts = new (CocoKeypointDetection Detection, double Area)[imageIds.Length][];
            for (int i = 0; i < imageIds.Length; i++)
            {
                int cell = i * categoryIds.Length + k;
                sortedDts[i] = TopByScore(dtCells[cell]);
                oks[i] = ComputeOks(gtCells[cell], sortedDts[i]);
            }
            for (int a = 0; a < areas; a++)
            {
                perImage.Clear();
                for (int i = 0; i < imageIds.Length; i++)
                    if (EvaluateImage(gtCells[i * categoryIds.Length + k], sortedDts[i], oks[i], s_areaRanges[a]) is { } e)
                        perImage.Add(e);
                Accumulate(perImage, precision, recall, k, a);
            }
        }

        int t50 = OksThresholdIndex(0.5), t75 = OksThresholdIndex(0.75);
        return new CocoKeypointStats(
            MeanPrecision(precision, All, -1), MeanPrecision(precision, All, t50), MeanPrecision(precision, All, t75),
            MeanPrecision(precision, Medium, -1), MeanPrecision(precision, Large, -1),
            MeanRecall(recall, All, -1), MeanRecall(recall, All, t50), MeanRecall(recall, All, t75),
            MeanRecall(recall, Medium, -1), MeanRecall(recall, Large, -1));
    }

    /// <summary>Object keypoint similarity of a detection to a ground-truth person (<c>computeOks</c>). With no
    /// labelled keypoint (all v = 0) the distance is to the gt box enlarged by its size on every side (0 inside)
    /// and the mean runs over all 17 keypoints.</summary>
    public static double Oks(CocoKeypointAnnotation gt, ReadOnlySpan<double> detectionKeypoints)
    {
        ReadOnlySpan<double> g = gt.Keypoints;
        int labelled = 0;
        for (int j = 0; j < CocoKeypoints.Count; j++) if (g[3 * j + 2] > 0) labelled++;
        var box = gt.Bbox;
        double x0 = box.X - box.Width, x1 = box.X + box.Width * 2, y0 = box.Y - box.Height, y1 = box.Y + box.Height * 2;
        double sum = 0;
        for (int j = 0; j < CocoKeypoints.Count; j++)
        {
            double xd = detectionKeypoints[3 * j], yd = detectionKeypoints[3 * j + 1], dx, dy;
            if (labelled > 0)
            {
                if (!(g[3 * j + 2] > 0)) continue;
                dx = xd - g[3 * j];
                dy = yd - g[3 * j + 1];
            }
            else
            {
                dx = Math.Max(0, x0 - xd) + Math.Max(0, xd - x1);
                dy = Math.Max(0, y0 - yd) + Math.Max(0, yd - y1);
            }
            double twoSigma = CocoKeypoints.Sigmas[j] * 2;
            // Same operation order as numpy: (dx² + dy²) / vars / (area + spacing(1)) / 2.
            double e = (dx * dx + dy * dy) / (twoSigma * twoSigma) / (gt.Area + Spacing1) / 2;
            sum += Math.Exp(-e);
        }
        return sum / (labelled > 0 ? labelled : CocoKeypoints.Count);
    }

    /// <summary>numpy's <c>np.spacing(1)</c>: the distance from 1.0 to the next double.</summary>
    private const double Spacing1 = 2.220446049250313e-16;

    private static double KeypointExtentArea(double[] keypoints)
    {
        double minX = double.PositiveInfinity, maxX = double.NegativeInfinity, minY = double.PositiveInfinity, maxY = double.NegativeInfinity;
        for (int j = 0; j < CocoKeypoints.Count; j++)
        {
            minX = Math.Min(minX, keypoints[3 * j]);
            maxX = Math.Max(maxX, keypoints[3 * j]);
            minY = Math.Min(minY, keypoints[3 * j + 1]);
            maxY = Math.Max(maxY, keypoints[3 * j + 1]);
        }
        return (maxX - minX) * (maxY - minY);
    }

    /// <summary>Detections by score, highest first, stable (numpy's mergesort on −score), cut to 20.</summary>
    private static (CocoKeypointDetection Detection, double Area)[] TopByScore(List<(CocoKeypointDetection Detection, double Area)>? dts)
    {
        if (dts is null) return [];
        int[] order = StableOrderByScoreDescending(dts.Count, i => dts[i].Detection.Score);
        var top = new (CocoKeypointDetection, double)[Math.Min(order.Length, MaxDetections)];
        for (int i = 0; i < top.Length; i++) top[i] = dts[order[i]];
        return top;
    }

    private static int[] StableOrderByScoreDescending(int count, Func<int, double> score)
    {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        Array.Sort(order, (p, q) => score(p) != score(q) ? score(q).CompareTo(score(p)) : p.CompareTo(q));
        return order;
    }

    /// <summary>OKS of each (top-20, sorted) detection with each gt in annotation order; empty when either is.</summary>
    private static double[,] ComputeOks(List<CocoKeypointAnnotation>? gts, (CocoKeypointDetection Detection, double Area)[] dts)
    {
        if (gts is null || dts.Length == 0) return new double[0, 0];
        var oks = new double[dts.Length, gts.Count];
        for (int d = 0; d < dts.Length; d++)
            for (int g = 0; g < gts.Count; g++)
                oks[d, g] = Oks(gts[g], dts[d].Detection.Keypoints);
        return oks;
    }

    /// <summary>One image's matches at every threshold for one category and area range (<c>evaluateImg</c>).</summary>
    /// <param name="Matched">[threshold, detection]: matched to a gt whose id is non-zero (pycocotools stores the
    /// gt id and tests its truth value, so a match with an annotation of id 0 counts as unmatched).</param>
    private sealed record ImageEvaluation(double[] Scores, bool[,] Matched, bool[,] Ignored, int NonIgnoredGts);

    private static ImageEvaluation? EvaluateImage(List<CocoKeypointAnnotation>? gtList, (CocoKeypointDetection Detection, double Area)[] dts,
        double[,] oks, (double Low, double High) range)
    {
        int gtCount = gtList?.Count ?? 0;
        if (gtCount == 0 && dts.Length == 0) return null;
        var gtIgnoredInOrder = new bool[gtCount];
        for (int g = 0; g < gtCount; g++)
        {
            var gt = gtList![g];
            gtIgnoredInOrder[g] = gt.IsCrowd || gt.NumKeypoints == 0 || gt.Area < range.Low || gt.Area > range.High;
        }
        // Non-ignored gts first, stable.
        int[] gtOrder = new int[gtCount];
        int next = 0;
        for (int g = 0; g < gtCount; g++) if (!gtIgnoredInOrder[g]) gtOrder[next++] = g;
        int nonIgnored = next;
        for (int g = 0; g < gtCount; g++) if (gtIgnoredInOrder[g]) gtOrder[next++] = g;

        int thresholds = OksThresholds.Count;
        var matched = new bool[thresholds, dts.Length];
        var ignored = new bool[thresholds, dts.Length];
        var gtTaken = new bool[dts.Length == 0 ? 0 : gtCount];
        for (int t = 0; t < thresholds; t++)
        {
            Array.Clear(gtTaken);
            for (int d = 0; d < dts.Length; d++)
            {
                double best = Math.Min(OksThresholds[t], 1 - 1e-10);
                int m = -1;
                for (int s = 0; s < gtCount; s++)
                {
                    int g = gtOrder[s];
                    if (gtTaken[g] && !gtList![g].IsCrowd) continue; // crowds can match many detections
                    if (m > -1 && !gtIgnoredInOrder[m] && gtIgnoredInOrder[g]) break; // have a real match; the rest are ignored gts
                    if (oks[d, g] < best) continue;
                    best = oks[d, g];
                    m = g;
                }
                if (m == -1) continue;
                ignored[t, d] = gtIgnoredInOrder[m];
                matched[t, d] = gtList![m].Id != 0;
                gtTaken[m] = true;
            }
            // Unmatched detections outside the area range are not counted.
            for (int d = 0; d < dts.Length; d++)
                if (!matched[t, d] && (dts[d].Area < range.Low || dts[d].Area > range.High)) ignored[t, d] = true;
        }
        var scores = new double[dts.Length];
        for (int d = 0; d < dts.Length; d++) scores[d] = dts[d].Detection.Score;
        return new ImageEvaluation(scores, matched, ignored, nonIgnored);
    }

    /// <summary>Precision at the 101 recall points and the final recall, for every threshold (<c>accumulate</c>).</summary>
    private static void Accumulate(List<ImageEvaluation> images, double[,,,] precision, double[,,] recall, int k, int a)
    {
        if (images.Count == 0) return;
        int nonIgnoredGts = 0, total = 0;
        foreach (var e in images) { nonIgnoredGts += e.NonIgnoredGts; total += e.Scores.Length; }
        if (nonIgnoredGts == 0) return;
        // Pool the images' detections in image order, then sort by score (stable), as np.concatenate + mergesort.
        var pool = new (ImageEvaluation Image, int Index)[total];
        int n = 0;
        foreach (var e in images) for (int d = 0; d < e.Scores.Length; d++) pool[n++] = (e, d);
        int[] order = StableOrderByScoreDescending(total, i => pool[i].Image.Scores[pool[i].Index]);

        var rc = new double[total];
        var pr = new double[total];
        for (int t = 0; t < OksThresholds.Count; t++)
        {
            double tp = 0, fp = 0;
            int nd = 0;
            foreach (int p in order)
            {
                var (image, d) = pool[p];
                // Ignored detections keep their place in the cumulative sums without counting either way.
                if (!image.Ignored[t, d])
                {
                    if (image.Matched[t, d]) tp++; else fp++;
                }
                rc[nd] = tp / nonIgnoredGts;
                pr[nd] = tp / (fp + tp + Spacing1);
                nd++;
            }
            recall[t, k, a] = nd > 0 ? rc[nd - 1] : 0;
            for (int i = nd - 1; i > 0; i--)
                if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
            // np.searchsorted(rc, recThrs, side='left'): the first index with rc >= r; 0 precision when none.
            int index = 0;
            for (int r = 0; r < RecallThresholds.Count; r++)
            {
                while (index < nd && rc[index] < RecallThresholds[r]) index++;
                precision[t, r, k, a] = index < nd ? pr[index] : 0;
            }
        }
    }

    private static double MeanPrecision(double[,,,] precision, int area, int threshold)
    {
        double sum = 0;
        int count = 0;
        for (int t = 0; t < precision.GetLength(0); t++)
        {
            if (threshold >= 0 && t != threshold) continue;
            for (int r = 0; r < precision.GetLength(1); r++)
                for (int k = 0; k < precision.GetLength(2); k++)
                    if (precision[t, r, k, area] > -1) { sum += precision[t, r, k, area]; count++; }
        }
        return count == 0 ? -1 : sum / count;
    }

    private static double MeanRecall(double[,,] recall, int area, int threshold)
    {
        double sum = 0;
        int count = 0;
        for (int t = 0; t < recall.GetLength(0); t++)
        {
            if (threshold >= 0 && t != threshold) continue;
            for (int k = 0; k < recall.GetLength(1); k++)
                if (recall[t, k, area] > -1) { sum += recall[t, k, area]; count++; }
        }
        return count == 0 ? -1 : sum / count;
    }

    /// <summary>pycocotools selects thresholds with <c>np.where(iouThr == p.iouThrs)</c>: exact equality.</summary>
    private static int OksThresholdIndex(double value)
    {
        for (int t = 0; t < OksThresholds.Count; t++) if (OksThresholds[t] == value) return t;
        throw new InvalidOperationException($"no OKS threshold equals {value}");
    }

    /// <summary>numpy's linspace: <c>arange(num) * ((stop - start) / (num - 1)) + start</c>, last value = stop.</summary>
    private static double[] Linspace(double start, double stop, int num)
    {
        double step = (stop - start) / (num - 1);
        var values = new double[num];
        for (int i = 0; i < num; i++) values[i] = i * step + start;
        values[^1] = stop;
        return values;
    }
}
