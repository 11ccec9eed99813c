using System.Globalization;
using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli;

/// <summary>
/// <c>predict</c>: people in each image, in COCO results format — a JSON array, or one person per line with
/// <c>--jsonl</c> — written to <c>--json</c> or to standard output. Top-down models use the boxes of
/// <c>--boxes</c> for the image (none: no people), or the whole image as one box without <c>--boxes</c>.
/// The image id is the number a COCO file name holds (000000000785.jpg → 785), else the image's position (1, 2, ...).
/// </summary>
internal static class PredictCommand
{
    public static void Run(string[] args, TextWriter output)
    {
        var options = Options.Parse(args, ["--model", "--boxes", "--decode", "--json"], ["--flip", "--jsonl"], positionals: true);
        string model = options.Required("--model");
        if (options.Positionals.Count == 0) throw new UsageException("predict needs at least one image");
        var estimatorOptions = PoseCommand.From(options);
        string? boxPath = options.Optional("--boxes");
        var boxes = boxPath is null ? null : BoxFile.Read(boxPath);

        using var estimator = PoseEstimator.Load(model, estimatorOptions);
        var decoder = new ImageFileDecoder();
        var detections = new List<CocoKeypointDetection>();
        for (int i = 0; i < options.Positionals.Count; i++)
        {
            string path = options.Positionals[i];
            long imageId = ImageId(path, i + 1, boxes is not null);
            var image = decoder.Decode(path);
            IReadOnlyList<PersonBox>? imageBoxes = boxes is null ? null : boxes.GetValueOrDefault(imageId) ?? [];
            foreach (var person in PoseCommand.Estimate(estimator, image, path, imageBoxes, boxPath))
                detections.Add(PoseCommand.ToDetection(imageId, person));
        }
        Write(detections, options.Optional("--json"), options.Flag("--jsonl"), output);
    }

    private static long ImageId(string path, int position, bool needed)
    {
        if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long id)) return id;
        if (needed) throw new UsageException($"{path}: with --boxes, image file names must be COCO image ids (e.g. 000000000785.jpg)");
        return position;
    }

    private static void Write(List<CocoKeypointDetection> detections, string? path, bool jsonLines, TextWriter output)
    {
        using Stream stream = path is null ? new MemoryStream() : File.Create(path);
        if (jsonLines)
        {
            using var writer = new CocoJsonLinesWriter(stream, leaveOpen: true);
            foreach (var detection in detections) writer.Write(detection);
        }
        else CocoJson.WriteDetections(stream, detections);
        if (path is null) output.WriteLine(System.Text.Encoding.UTF8.GetString(((MemoryStream)stream).ToArray()).TrimEnd('\n'));
    }
}
