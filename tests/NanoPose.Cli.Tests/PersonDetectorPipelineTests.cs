using NanoPose.Evaluation;
using NanoPose.Models;
using NanoPose.Models.PicoDet;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.Cli.Tests;

/// <summary>The built-in person detector and the multi-person pipeline <c>predict</c> runs by default.</summary>
public sealed class PersonDetectorPipelineTests
{
    private static string CocoMini => SharedData.File("data/coco-mini/test_coco.json");

    [Theory]
    [InlineData(192)]
    [InlineData(320)]
    public void EachShippedDetectorIsByteForByteAFreshConversionOfTheSharedIr(int size)
    {
        byte[] fresh = ModelConversion.ConvertOpenVino(SharedData.File($"models/picodet/picodet_s_{size}_lcnet_pedestrian.xml"),
            PicoDetConfig.DefaultVariant, WeightDType.Float16);
        byte[] shipped = BuiltInModels.PersonDetectorModelBytes(size);   // src/NanoPose.Models/picodet-s-{size}.npw
        Assert.True(shipped.AsSpan().SequenceEqual(fresh), $"the embedded {size} detector differs from a fresh conversion");
        Assert.Equal(size, NpwFile.Parse(shipped, "shipped").Architecture["input_height"].AsInt);
    }

    /// <summary>predict with no options on the coco-mini photos: exactly one person per annotated person with keypoints,
    /// each annotated person covered by a predicted box (IoU ≥ 0.5), each with its box and detector score, and COCO
    /// keypoint AP of that output at least the 0.80 (measured 0.822).</summary>
    [Fact]
    public void PredictWithNoOptionsFindsEveryAnnotatedPersonOfCocoMini()
    {
        string folder = Path.GetDirectoryName(CocoMini)!;
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["predict", folder], output, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
        var people = CocoJson.ReadDetectionsJsonLines(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(output.ToString())), "stdout");
        var truth = CocoJson.ReadGroundTruth(CocoMini).Annotations.Where(a => a.CategoryId == 1 && !a.IsCrowd && a.NumKeypoints > 0).ToList();

        Assert.Equal(truth.Count, people.Count);
        Assert.All(people, p => Assert.True(p.Bbox is not null && p.BoxScore is >= 0.5 and <= 1, "a person without its detector box and score"));
        foreach (var annotated in truth)
        {
            double best = people.Where(p => p.ImageId == annotated.ImageId).Select(p => Iou(p.Bbox!.Value, annotated.Bbox)).DefaultIfEmpty(0).Max();
            TestContext.Current.TestOutputHelper?.WriteLine($"image {annotated.ImageId}: best box IoU {best:F3}");
            Assert.True(best >= 0.5, $"the person of image {annotated.ImageId} at {annotated.Bbox} has no predicted box (best IoU {best:F3})");
        }
        double ap = CocoKeypointEvaluator.Evaluate(CocoJson.ReadGroundTruth(CocoMini), people).AP;
        TestContext.Current.TestOutputHelper?.WriteLine($"predict's output: AP {ap:F3}");
        Assert.True(ap >= 0.80, $"COCO AP of predict's output is {ap:F3}, below 0.80");
    }

    /// <summary>
    /// COCO keypoint AP of the whole pipeline on coco-mini (default options: DARK decoding, no flip) at least the
    /// issue's 0.80 with either detector: measured 0.802 at 192 and 0.822 at 320, against 0.832 with ground-truth boxes.
    /// </summary>
    [Theory]
    [InlineData(192, 0.80)]
    [InlineData(320, 0.80)]
    public void EvalWithDetectorBoxesScoresNearTheGroundTruthBoxes(int size, double floor)
    {
        var output = new StringWriter();
        string folder = Path.GetDirectoryName(CocoMini)!;
        Assert.Equal(0, CommandLine.Run(["eval", "--annotations", CocoMini, "--images", folder, "--boxes", "detector", "--det-size", $"{size}"],
            output, new StringWriter(), cancel: TestContext.Current.CancellationToken));
        string line = output.ToString().Split('\n').First(l => l.Contains("(AP) @[ IoU=0.50:0.95 | area=   all", StringComparison.Ordinal));
        double ap = double.Parse(line[(line.LastIndexOf('=') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        TestContext.Current.TestOutputHelper?.WriteLine($"detector {size}: AP {ap:F3}");
        Assert.True(ap >= floor, $"AP {ap:F3} with the {size} detector's boxes, below {floor}");
    }

    private static double Iou(CocoBox a, CocoBox b)
    {
        double w = Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X), h = Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y);
        double inter = w > 0 && h > 0 ? w * h : 0;
        return inter / (a.Width * a.Height + b.Width * b.Height - inter);
    }
}
