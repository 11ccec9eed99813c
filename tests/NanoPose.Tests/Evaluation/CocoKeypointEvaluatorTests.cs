using NanoPose.Evaluation;
using static NanoPose.Tests.Evaluation.CocoCases;

namespace NanoPose.Tests.Evaluation;

/// <summary>Hand-made cases whose statistics follow from pycocotools' algorithm by hand (derivations in comments).
/// Ground-truth areas are 10000 (a "large" person, outside "medium" [1024, 9216]) unless said otherwise.</summary>
public class CocoKeypointEvaluatorTests
{
    private const double Tolerance = 1e-12;

    private static void AssertStats(CocoKeypointStats actual, double ap, double ap50, double ap75, double apM, double apL,
        double ar, double ar50, double ar75, double arM, double arL)
    {
        double[] expected = [ap, ap50, ap75, apM, apL, ar, ar50, ar75, arM, arL];
        double[] found = actual.ToArray();
        for (int s = 0; s < expected.Length; s++)
            Assert.True(Math.Abs(found[s] - expected[s]) <= Tolerance, $"statistic {s}: expected {expected[s]:R}, found {found[s]:R}");
    }

    [Fact]
    public void ExactDetectionsScorePerfectly()
    {
        var a = Skeleton(10, 10, 80, 120);
        var stats = CocoKeypointEvaluator.Evaluate(GroundTruth([1], Person(1, 1, a)), [Detection(1, a, 0.9)]);
        // No gt is medium: those statistics are -1 ("not measured").
        AssertStats(stats, 1, 1, 1, -1, 1, 1, 1, 1, -1, 1);
    }

    [Fact]
    public void ImageWithoutDetectionsHalvesRecall()
    {
        var a = Skeleton(10, 10, 80, 120);
        var b = Skeleton(200, 10, 80, 120);
        var stats = CocoKeypointEvaluator.Evaluate(GroundTruth([1, 2], Person(1, 1, a), Person(2, 2, b)), [Detection(1, a, 0.9)]);
        // Two gts, one true positive at every threshold: rc = [0.5], pr = [1]. Recall points 0, .01, ..., .50
        // (51 of 101) find precision 1, the other 50 none (0): AP = 51/101. Recall 0.5.
        const double ap = 51.0 / 101;
        AssertStats(stats, ap, ap, ap, -1, ap, 0.5, 0.5, 0.5, -1, 0.5);
    }

    [Fact]
    public void DetectionOnImageWithoutPeopleIsFalsePositiveExceptOutsideTheAreaRange()
    {
        var a = Skeleton(10, 10, 80, 120);
        var stray = Skeleton(300, 300, 50, 50); // extent 50 x 50: area 2500, a "medium" detection
        var gt = GroundTruth([1, 2], Person(1, 1, a));
        var stats = CocoKeypointEvaluator.Evaluate(gt, [Detection(1, a, 0.5), Detection(2, stray, 0.9)]);
        // all: by score FP (0.9) then TP: tp = [0, 1], fp = [1, 1], rc = [0, 1], pr = [0, 0.5]; the envelope makes
        // pr = [0.5, 0.5], so every recall point gets 0.5: AP = 0.5, recall 1.
        // large: the unmatched detection's area 2500 is outside [9216, 1e10], so it is ignored: AP(L) = 1.
        // medium: the only gt (area 10000) is outside the range, no gt counts: -1.
        AssertStats(stats, 0.5, 0.5, 0.5, -1, 1, 1, 1, 1, -1, 1);

        // With a box on the first detection, loadRes takes every detection's area from its box: 200 x 200 =
        // 40000 is "large", so the stray detection counts as a false positive there too.
        var boxed = CocoKeypointEvaluator.Evaluate(gt,
            [Detection(1, a, 0.5, new CocoBox(10, 10, 80, 120)), Detection(2, stray, 0.9, new CocoBox(300, 300, 200, 200))]);
        AssertStats(boxed, 0.5, 0.5, 0.5, -1, 0.5, 1, 1, 1, -1, 1);
    }

    [Fact]
    public void DetectionOnImageOutsideTheGroundTruthIsRefused()
    {
        var a = Skeleton(10, 10, 80, 120);
        var e = Assert.Throws<ArgumentException>(() => CocoKeypointEvaluator.Evaluate(GroundTruth([1], Person(1, 1, a)), [Detection(7, a, 0.5)]));
        Assert.Contains("image 7", e.Message);
    }

    [Fact]
    public void CrowdMatchesManyDetectionsAndIsIgnored()
    {
        var a = Skeleton(10, 10, 80, 120);
        var c = Skeleton(300, 200, 80, 120); // far from a: OKS between them is ~0
        CocoKeypointDetection[] detections = [Detection(1, c, 0.95), Detection(1, c, 0.9), Detection(1, a, 0.5)];
        var crowd = CocoKeypointEvaluator.Evaluate(GroundTruth([1], Person(1, 1, a), Person(2, 1, c, crowd: true)), detections);
        // Both detections on the crowd match it (a crowd can be matched again) and inherit its ignore flag; the
        // one true positive is then the only counted detection: AP = 1, recall 1.
        AssertStats(crowd, 1, 1, 1, -1, 1, 1, 1, 1, -1, 1);

        var notCrowd = CocoKeypointEvaluator.Evaluate(GroundTruth([1], Person(1, 1, a), Person(2, 1, c)), detections);
        // As a plain person the second detection on c is a false positive: tp = [1, 1, 2], fp = [0, 1, 1],
        // rc = [.5, .5, 1], pr = [1, .5, 2/3], envelope [1, 2/3, 2/3]. Points 0..0.50 (51) get 1, the 50 above
        // get 2/3: AP = (51 + 50 * 2/3) / 101. Recall 1.
        const double ap = (51 + 50 * 2.0 / 3) / 101;
        AssertStats(notCrowd, ap, ap, ap, -1, ap, 1, 1, 1, -1, 1);
    }

    [Fact]
    public void PersonWithoutVisibleKeypointsAbsorbsDetectionsInsideItsEnlargedBox()
    {
        var a = Skeleton(10, 10, 80, 120);
        // num_keypoints 0: ignored. Box (300, 300, 10, 20): OKS measures distances to [290, 320] x [280, 340].
        var hidden = Person(2, 1, new double[CocoKeypoints.ArrayLength], area: 150, numKeypoints: 0, box: new CocoBox(300, 300, 10, 20));
        var gt = GroundTruth([1], Person(1, 1, a), hidden);

        // All points inside the enlarged box: distance 0, OKS 1 with the ignored person, so the detection is
        // ignored and the true positive alone counts: AP = 1.
        var inside = CocoKeypointEvaluator.Evaluate(gt, [Detection(1, AllAt(295, 290), 0.9), Detection(1, a, 0.5)]);
        AssertStats(inside, 1, 1, 1, -1, 1, 1, 1, 1, -1, 1);

        // Far away it matches nothing and is a false positive ranked first (as in the stray-detection case):
        // AP = 0.5. Its point extent is 0, outside "large", so AP(L) stays 1.
        var far = CocoKeypointEvaluator.Evaluate(gt, [Detection(1, AllAt(1000, 1000), 0.9), Detection(1, a, 0.5)]);
        AssertStats(far, 0.5, 0.5, 0.5, -1, 1, 1, 1, 1, -1, 1);
    }

    [Fact]
    public void OksWithoutVisibleKeypointsUsesDistanceToTheEnlargedBoxOverAll17Points()
    {
        var hidden = Person(2, 1, new double[CocoKeypoints.ArrayLength], area: 150, numKeypoints: 0, box: new CocoBox(300, 300, 10, 20));
        Assert.Equal(1.0, CocoKeypointEvaluator.Oks(hidden, AllAt(290, 340))); // on the corner of [290, 320] x [280, 340]
        // 5 px left of the box: e_j = 5² / (2 σ_j)² / (150 + eps) / 2, OKS = mean over all 17 of exp(-e_j).
        double[] sigmas = [.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107, .087, .087, .089, .089];
        double expected = sigmas.Average(s => Math.Exp(-25 / (4 * s * s) / 150 / 2));
        Assert.Equal(expected, CocoKeypointEvaluator.Oks(hidden, AllAt(285, 300)), 1e-12);
    }

    [Fact]
    public void OksAveragesOnlyLabelledKeypoints()
    {
        // Only the nose is labelled (v = 1 counts as labelled too), at (10, 10); the detected nose is 0.5 px off
        // (0.3, 0.4). e = 0.25 / (2 * 0.026)² / 100 / 2 = 0.4622781..., OKS = exp(-e) = 0.6298...; the other 16
        // detected points are far away but do not count.
        var keypoints = new double[CocoKeypoints.ArrayLength];
        (keypoints[0], keypoints[1], keypoints[2]) = (10, 10, 1);
        var gt = Person(1, 1, keypoints, area: 100, numKeypoints: 1);
        var detected = AllAt(500, 500);
        (detected[0], detected[1]) = (10.3, 10.4);
        Assert.Equal(Math.Exp(-0.25 / (0.052 * 0.052) / 100 / 2), CocoKeypointEvaluator.Oks(gt, detected), 1e-12);
        Assert.Equal(0.62983, CocoKeypointEvaluator.Oks(gt, detected), 4);
    }

    [Fact]
    public void OnlyTheTwentyBestDetectionsOfAnImageCount()
    {
        var a = Skeleton(10, 10, 80, 120);
        var gt = GroundTruth([1], Person(1, 1, a));
        var strays = Enumerable.Range(0, 20).Select(i => Detection(1, Skeleton(300 + i, 300, 80, 120), 0.9 - i * 0.01)).ToList();
        // 20 false positives outrank the true positive, which is the 21st and cut: nothing found.
        AssertStats(CocoKeypointEvaluator.Evaluate(gt, [.. strays, Detection(1, a, 0.1)]), 0, 0, 0, -1, 0, 0, 0, 0, -1, 0);
        // With 19 strays the true positive is 20th: pr ends at 1/20 and the envelope spreads it to every point.
        AssertStats(CocoKeypointEvaluator.Evaluate(gt, [.. strays.Take(19), Detection(1, a, 0.1)]), 0.05, 0.05, 0.05, -1, 0.05, 1, 1, 1, -1, 1);
    }

    [Fact]
    public void EqualScoresAcrossImagesRankInImageIdOrder()
    {
        var a = Skeleton(10, 10, 80, 120);
        var stray = Skeleton(300, 300, 200, 200);
        // Detections pool image by image in ascending image id, then a stable sort by score: with equal scores the
        // detection of image 1 ranks first whatever the file order. FP first: AP = 0.5 (as above); TP first: 1.
        var fpFirst = CocoKeypointEvaluator.Evaluate(GroundTruth([1, 2], Person(1, 2, a)), [Detection(2, a, 0.5), Detection(1, stray, 0.5)]);
        Assert.Equal(0.5, fpFirst.AP, Tolerance);
        var tpFirst = CocoKeypointEvaluator.Evaluate(GroundTruth([1, 2], Person(1, 1, a)), [Detection(2, stray, 0.5), Detection(1, a, 0.5)]);
        Assert.Equal(1, tpFirst.AP, Tolerance);
    }

    [Fact]
    public void AnnotationIdZeroNeverCountsAsMatched()
    {
        // pycocotools records a match as the gt's id and tests its truth value: a match with id 0 is counted as a
        // false positive (the gt is still taken). One FP, no TP: AP = 0, recall 0.
        var a = Skeleton(10, 10, 80, 120);
        AssertStats(CocoKeypointEvaluator.Evaluate(GroundTruth([1], Person(0, 1, a)), [Detection(1, a, 0.9)]), 0, 0, 0, -1, 0, 0, 0, 0, -1, 0);
    }

    [Fact]
    public void NothingToMeasureGivesMinusOne()
    {
        var stats = CocoKeypointEvaluator.Evaluate(GroundTruth([1]), [Detection(1, Skeleton(0, 0, 50, 50), 0.5)]);
        Assert.All(stats.ToArray(), s => Assert.Equal(-1, s));
        Assert.EndsWith("maxDets= 20 ] = -1.000", stats.ToPycocotoolsText().Split('\n')[0]);
    }

    [Fact]
    public void ThresholdsAreNumpyLinspace()
    {
        Assert.Equal(10, CocoKeypointEvaluator.OksThresholds.Count);
        Assert.Equal(0.5, CocoKeypointEvaluator.OksThresholds[0]);
        Assert.Equal(0.75, CocoKeypointEvaluator.OksThresholds[5]);
        Assert.Equal(0.95, CocoKeypointEvaluator.OksThresholds[9]);
        Assert.Equal(101, CocoKeypointEvaluator.RecallThresholds.Count);
        Assert.Equal(0.5, CocoKeypointEvaluator.RecallThresholds[50]);
        Assert.Equal(1.0, CocoKeypointEvaluator.RecallThresholds[100]);
    }
}
