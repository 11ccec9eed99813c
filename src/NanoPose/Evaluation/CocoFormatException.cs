using NanoPose.IO;

namespace NanoPose.Evaluation;

/// <summary>A COCO JSON file that cannot be used: names the file, the offending field (a JSON path such as
/// <c>annotations[3].keypoints</c>) and what is wrong with it, printable whatever the file holds.</summary>
public sealed class CocoFormatException(string file, string field, string problem, Exception? inner = null)
    : Exception(Printable.Text($"{file}: {field}: {problem}"), inner)
{
    public string File { get; } = file;
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}
