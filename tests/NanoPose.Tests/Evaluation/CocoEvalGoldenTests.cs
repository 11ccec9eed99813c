using System.Globalization;
using System.Text.Json;
using NanoPose.Evaluation;
using NanoPose.TestSupport;

namespace NanoPose.Tests.Evaluation;

/// <summary>The evaluator against pycocotools' own numbers on coco-mini.</summary>
public class CocoEvalGoldenTests(ITestOutputHelper output)
{
    private static CocoGroundTruth GroundTruth() => CocoJson.ReadGroundTruth(SharedData.File("data/coco-mini/test_coco.json"));

    [Fact]
    public void EveryCocoevalCaseMatchesAllTenStatistics()
    {
        var groundTruth = GroundTruth();
        string casesPath = SharedData.File("golden/cocoeval/cocoeval_cases.json");
        using var cases = JsonDocument.Parse(File.ReadAllText(casesPath));
        double maxDifference = 0;
        int count = 0;
        foreach (var c in cases.RootElement.GetProperty("cases").EnumerateArray())
        {
            string detectionsFile = c.GetProperty("detections").GetString()!;
            var expected = CocoKeypointStats.FromJson(c.GetProperty("stats").GetRawText(), casesPath).ToArray();
            var detections = CocoJson.ReadDetections(Path.Combine(Path.GetDirectoryName(casesPath)!, detectionsFile));
            var actual = CocoKeypointEvaluator.Evaluate(groundTruth, detections).ToArray();
            for (int s = 0; s < expected.Length; s++)
            {
                double difference = Math.Abs(actual[s] - expected[s]);
                maxDifference = Math.Max(maxDifference, difference);
                Assert.True(difference <= 1e-6, $"{detectionsFile} statistic {s}: expected {expected[s]:R}, found {actual[s]:R}");
            }
            output.WriteLine($"{detectionsFile}: AP {actual[0]:F6} AP50 {actual[1]:F6} AR {actual[5]:F6}");
            count++;
        }
        Assert.Equal(5, count);
        output.WriteLine($"max |difference| over {count} cases x 10 statistics: {maxDifference:E3}");
    }

    /// <summary>Each golden tinypose result set against its pycocotools printout: every number within the printed
    /// precision, and the summary lines character for character.</summary>
    [Fact]
    public void TinyPoseDetectionsReproducePycocotoolsPrintout()
    {
        var groundTruth = GroundTruth();
        string folder = Path.GetDirectoryName(SharedData.File("golden/tinypose/tinypose_cases.json"))!;
        string[] printouts = Directory.GetFiles(folder, "dets_*_cocoeval.txt");
        Assert.NotEmpty(printouts);
        foreach (string printout in printouts)
        {
            string detectionsPath = printout.Replace("_cocoeval.txt", ".json");
            var stats = CocoKeypointEvaluator.Evaluate(groundTruth, CocoJson.ReadDetections(detectionsPath));
            string[] expectedLines = [.. File.ReadAllLines(printout).Where(l => l.StartsWith(" Average ", StringComparison.Ordinal))];
            Assert.Equal(10, expectedLines.Length);
            double[] printed = [.. expectedLines.Select(l => double.Parse(l[(l.LastIndexOf('=') + 1)..], CultureInfo.InvariantCulture))];
            double[] actual = stats.ToArray();
            for (int s = 0; s < 10; s++)
                Assert.True(Math.Abs(actual[s] - printed[s]) <= 0.0005 + 1e-12, $"{Path.GetFileName(printout)} statistic {s}: printed {printed[s]}, found {actual[s]:R}");
            Assert.Equal(expectedLines, stats.ToPycocotoolsText().TrimEnd('\n').Split('\n'));
            output.WriteLine($"{Path.GetFileName(detectionsPath)}: AP {stats.AP:F4} AP50 {stats.AP50:F4}");
        }
    }
}
