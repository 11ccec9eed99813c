namespace NanoPose.Weights;

/// <summary>A weight file that cannot be used: names the file and exactly what is wrong with it.</summary>
public sealed class WeightFileException(string file, string problem)
    : Exception($"{file}: {problem}")
{
    public string File { get; } = file;
    public string Problem { get; } = problem;
}
