namespace NanoPose.WeightsTools.OpenVino;

/// <summary>An OpenVINO IR (.xml/.bin) that cannot be read or does not fit the network. The message starts with where
/// the problem is (file, line, and the layer's type, name and id) and says what was expected and what was found.</summary>
public sealed class OpenVinoException(string location, string problem) : Exception($"{location}: {problem}")
{
    public string Location { get; } = location;
    public string Problem { get; } = problem;
}
