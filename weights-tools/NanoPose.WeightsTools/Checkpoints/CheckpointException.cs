namespace NanoPose.WeightsTools.Checkpoints;

/// <summary>A checkpoint that cannot be read (corrupt, truncated, or asking the unpickler for something it refuses).
/// The message starts with the file (and the part of it) and says what is wrong.</summary>
public sealed class CheckpointException(string source, string problem) : Exception($"{source}: {problem}")
{
    public string File { get; } = source;
    public string Problem { get; } = problem;
}
