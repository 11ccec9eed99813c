using System.Text.Json;
using NanoPose.Evaluation;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>
/// PP-TinyPose 256×192 through the <c>eval</c> code (ImageSharp decoding, ground-truth boxes, top-down pipeline,
/// COCO evaluation) on ../shared/data/coco-mini reproduces the AP of ../shared/golden/tinypose within 0.01, with and
/// without the flip test, with the golden's decoding (mmpose's default, not the estimator's DARK default). The golden decoded JPEGs with OpenCV, so heatmaps are not expected to match exactly.
/// </summary>
public class TinyPoseAccuracyTests(ITestOutputHelper output)
{
    private const double Tolerance = 0.01;

    [Theory]
    [InlineData(false, "256x192_noflip")]
    [InlineData(true, "256x192_flip")]
    public void ApWithGroundTruthBoxesMatchesTheGolden(bool flip, string goldenCase)
    {
        string annotations = SharedData.File("data/coco-mini/test_coco.json");
        var groundTruth = CocoJson.ReadGroundTruth(annotations);
        using var estimator = PoseEstimator.Load(TinyPoseModel.Npw, new PoseEstimatorOptions { FlipTest = flip, Decoding = Pipelines.TopDown.HeatmapDecoding.Default });

        var stats = EvalCommand.Evaluate(estimator, groundTruth, annotations, Path.GetDirectoryName(annotations)!, EvalCommand.GroundTruthBoxes);

        var expected = GoldenStats(goldenCase);
        output.WriteLine($"PP-TinyPose 256x192 {goldenCase}: AP {stats.AP:F4} (golden {expected.AP:F4}), AP50 {stats.AP50:F4} (golden {expected.AP50:F4})");
        output.WriteLine(stats.ToPycocotoolsText());
        Assert.True(Math.Abs(stats.AP - expected.AP) <= Tolerance, $"AP {stats.AP:F4}, golden {expected.AP:F4}");
        Assert.True(Math.Abs(stats.AP50 - expected.AP50) <= Tolerance, $"AP50 {stats.AP50:F4}, golden {expected.AP50:F4}");
    }

    /// <summary>pycocotools' statistics for the golden detections, from tinypose_cases.json.</summary>
    private static CocoKeypointStats GoldenStats(string goldenCase)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(SharedData.File("golden/tinypose/tinypose_cases.json")));
        string stats = index.RootElement.GetProperty("ap_stats").GetProperty(goldenCase).GetProperty("stats").GetRawText();
        return CocoKeypointStats.FromJson(stats, "tinypose_cases.json");
    }
}
