namespace NanoPose.ImageSharp;

/// <summary>An image that cannot or may not be decoded; the message starts with the file it came from and is printable
/// whatever the file holds.</summary>
public sealed class ImageFileException(string source, string problem, Exception? inner = null)
    : Exception(NanoPose.IO.Printable.Text($"{source}: {problem}"), inner)
{
    /// <summary>The file (or the name the caller gave the data).</summary>
    public string File { get; } = source;
}
