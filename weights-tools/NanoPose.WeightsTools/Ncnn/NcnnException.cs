namespace NanoPose.WeightsTools.Ncnn;

/// <summary>An ncnn .param/.bin pair that cannot be read or does not fit the network. The message starts with where
/// the problem is (file, line, layer) and says what was expected and what was found.</summary>
public sealed class NcnnException(string location, string problem) : Exception($"{location}: {problem}")
{
    public string Location { get; } = location;
    public string Problem { get; } = problem;
}
