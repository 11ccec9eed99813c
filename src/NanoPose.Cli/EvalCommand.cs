using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli;

/// <summary>
/// <c>eval</c>: runs the model on every image of a COCO keypoints file and prints the ten statistics of
/// pycocotools' keypoint evaluation (writing them as JSON with <c>--json</c>). Top-down models take the boxes of the
/// ground truth (<c>--boxes gt</c>, the default: every non-crowd person with keypoints, score 1), of a detections file,
/// or of the person detector (<c>--boxes detector</c>: the whole pipeline, as <c>predict</c> runs it).
/// </summary>
internal static class EvalCommand
{
    public const string GroundTruthBoxes = "gt";
    public const string DetectorBoxes = "detector";

    public static void Run(string[] args, TextWriter output)
    {
        var options = Options.Parse(args, ["--model", "--annotations", "--images", "--boxes", "--decode", "--json", .. BuiltInDetector.OptionNames], ["--flip"]);
        string annotations = options.Required("--annotations"), images = options.Required("--images");
        var estimatorOptions = PoseCommand.From(options);
        var groundTruth = CocoJson.ReadGroundTruth(annotations);
        if (!Directory.Exists(images)) throw new DirectoryNotFoundException($"{images}: image folder not found");
        string boxes = options.Optional("--boxes") ?? GroundTruthBoxes;

        using var detector = boxes == DetectorBoxes ? BuiltInDetector.FromOptions(options, threads: 1) : null;
        using var estimator = PoseEstimator.Load(BuiltInModel.LoadOr(options.Optional("--model")), estimatorOptions, detector);
        var stats = Evaluate(estimator, groundTruth, annotations, images, boxes);
        output.Write(stats.ToPycocotoolsText());
        if (options.Optional("--json") is { } json) File.WriteAllText(json, stats.ToJson());
    }

    /// <param name="annotationsSource">Names the ground-truth file in error messages.</param>
    /// <param name="boxes"><see cref="GroundTruthBoxes"/> or the path of a COCO results file with boxes.</param>
    public static CocoKeypointStats Evaluate(PoseEstimator estimator, CocoGroundTruth groundTruth, string annotationsSource,
        string imageFolder, string boxes)
    {
        bool fromGroundTruth = boxes == GroundTruthBoxes, fromDetector = boxes == DetectorBoxes;
        var boxesByImage = fromDetector ? [] : fromGroundTruth ? GroundTruthBoxesByImage(groundTruth) : BoxFile.Read(boxes);
        var decoder = new ImageFileDecoder();
        var detections = new List<CocoKeypointDetection>();
        for (int i = 0; i < groundTruth.Images.Count; i++)
        {
            var image = groundTruth.Images[i];
            string fileName = image.FileName ?? throw new CocoFormatException(annotationsSource, $"images[{i}].file_name", "is missing");
            string path = Path.Combine(imageFolder, fileName);
            var pixels = decoder.Decode(path);
            IReadOnlyList<PersonBox>? imageBoxes = fromDetector ? null : boxesByImage.GetValueOrDefault(image.Id) ?? [];
            foreach (var person in PoseCommand.Estimate(estimator, pixels, path, imageBoxes, fromGroundTruth ? annotationsSource : boxes))
                detections.Add(PoseCommand.ToDetection(image.Id, person));
        }
        return CocoKeypointEvaluator.Evaluate(groundTruth, detections);
    }

    /// <summary>mmpose's ground-truth boxes: people (category 1) with at least one labelled keypoint, not crowds.</summary>
    private static Dictionary<long, List<PersonBox>> GroundTruthBoxesByImage(CocoGroundTruth groundTruth)
    {
        var boxes = new Dictionary<long, List<PersonBox>>();
        foreach (var a in groundTruth.Annotations)
        {
            if (a.CategoryId != 1 || a.IsCrowd || a.NumKeypoints == 0) continue;
            if (!boxes.TryGetValue(a.ImageId, out var list)) boxes[a.ImageId] = list = [];
            list.Add(new PersonBox(a.Bbox.X, a.Bbox.Y, a.Bbox.Width, a.Bbox.Height));
        }
        return boxes;
    }
}
