using NanoPose.IO;

namespace NanoPose.Weights;

/// <summary>A weight file that cannot be used: names the file and exactly what is wrong with it. The message is
/// printable whatever the file holds (<see cref="IO.Printable"/>).</summary>
public sealed class WeightFileException(string file, string problem)
    : Exception(Printable.Text($"{file}: {problem}"))
{
    public string File { get; } = file;
    public string Problem { get; } = problem;
}
