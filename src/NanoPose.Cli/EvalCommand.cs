using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.IO;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli;

/// <summary>
/// <c>eval</c>: runs the model on every image of a COCO keypoints file and prints the ten statistics of
/// pycocotools' keypoint evaluation (writing them as JSON with <c>--json</c>). Top-down models take the boxes of the
/// ground truth (<c>--boxes gt</c>, the default: every non-crowd person with keypoints, score 1), of a detections file,
/// or of the person detector (<c>--boxes detector</c>: the whole pipeline, as <c>predict</c> runs it). Image file
/// names in the ground truth are relative to <c>--images</c> and may not lead out of it (no <c>..</c>, no absolute name).
/// </summary>
internal static class EvalCommand
{
    public const string GroundTruthBoxes = "gt";
    public const string DetectorBoxes = "detector";

    public static void Run(Options options, TextWriter output)
    {
        string annotations = options.Required("--annotations"), images = options.Required("--images");
        var estimatorOptions = PoseCommand.From(options);
        CocoGroundTruth groundTruth;
        using (var stream = InputFile.OpenRead(annotations, BoxFile.MaxJsonBytes, "annotation"))
            groundTruth = CocoJson.ReadGroundTruth(stream, annotations);
        if (!Directory.Exists(images))
            throw new DirectoryNotFoundException($"{Printable.Text(images)}: {(File.Exists(images) ? "is a file; --images needs the folder of the images" : "image folder not found")}");
        string boxes = options.Value("--boxes")!;

        string[] imagePaths = [.. groundTruth.Images.Select((image, i) => ImagePath(images, image.FileName, annotations, i))];   // all checked before any work
        string? json = options.Optional("--json");
        if (json is not null)
        {
            string?[] inputs = [annotations, options.Optional("--model"), boxes is GroundTruthBoxes or DetectorBoxes ? null : boxes,
                options.Optional("--detector") is "none" ? null : options.Optional("--detector"), .. imagePaths];
            OutputFiles.RefuseOverwrites(inputs.OfType<string>(), [("--json", json)]);
        }
        using var detector = boxes == DetectorBoxes ? BuiltInDetector.FromOptions(options, threads: 1) : null;
        using var estimator = PoseEstimator.Load(BuiltInModel.LoadOr(options.Optional("--model")), estimatorOptions, detector);
        using var statsFile = json is null ? null : ResultFile.Create(json, "--json");   // before the work: a folder that cannot take it fails now
        var stats = Evaluate(estimator, groundTruth, annotations, images, boxes);
        output.Write(stats.ToPycocotoolsText());
        if (statsFile is not null)
        {
            statsFile.Stream.Write(System.Text.Encoding.UTF8.GetBytes(stats.ToJson()));
            statsFile.Commit();
        }
    }

    /// <summary>Where image <paramref name="index"/> of the ground truth is: its file name under the image folder,
    /// which it may not leave.</summary>
    private static string ImagePath(string imageFolder, string? fileName, string annotationsSource, int index)
    {
        string field = $"images[{index}].file_name";
        if (fileName is null) throw new CocoFormatException(annotationsSource, field, "is missing");
        if (fileName.Length == 0 || fileName.Contains('\0')) throw new CocoFormatException(annotationsSource, field, "is empty or holds a NUL character");
        string folder = Path.GetFullPath(imageFolder);
        string path = Path.GetFullPath(Path.Combine(folder, fileName));
        bool inside = !Path.IsPathRooted(fileName) && !fileName.Split('/', '\\').Contains("..")
            && path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return inside ? Path.Combine(imageFolder, fileName)
            : throw new CocoFormatException(annotationsSource, field, $"'{Printable.Text(fileName)}' leads out of the image folder; file names must be relative to --images, without '..'");
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
            string path = ImagePath(imageFolder, image.FileName, annotationsSource, i);
            FilePaths.RequireRegularFile(path, "image");
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
