using System.IO.Enumeration;

namespace NanoPose.Cli;

/// <summary>
/// The image files named on a command line: a file as given; a folder's JPEG, PNG and BMP files (not its
/// sub-folders); or a glob whose last part holds <c>*</c> or <c>?</c> (<c>photos/*.jpg</c>), or that has a
/// <c>**</c> part to search sub-folders too (<c>photos/**/*.jpg</c>). Folder and glob matches are sorted by path so
/// runs are repeatable. A folder or glob that matches no image is an error for that argument, not for the batch.
/// </summary>
internal static class ImageInputs
{
    /// <summary>File extensions a folder or a bare <c>*</c> contributes (the formats the decoder reads).</summary>
    public static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp"];

    /// <summary>One argument's outcome: its files, or why it gave none.</summary>
    public sealed record Expansion(string Argument, IReadOnlyList<string> Files, string? Error);

    public static List<Expansion> Expand(IEnumerable<string> arguments) => [.. arguments.Select(ExpandOne)];

    private static Expansion ExpandOne(string argument)
    {
        if (Directory.Exists(argument))
        {
            var files = Sorted(Directory.EnumerateFiles(argument).Where(IsImage));
            return new(argument, files, files.Count == 0 ? $"{argument}: the folder holds no .jpg, .jpeg, .png or .bmp file" : null);
        }
        if (!HasWildcard(argument)) return new(argument, [argument], null);   // a missing file is reported when it is read

        string normalized = argument.Replace('\\', '/');
        int recursive = normalized.IndexOf("**", StringComparison.Ordinal);
        string root, pattern;
        if (recursive >= 0)
        {
            // photos/**/x*.jpg: every file under photos whose name matches x*.jpg.
            root = normalized[..recursive];
            pattern = normalized[(recursive + 2)..].TrimStart('/');
            if (pattern.Length == 0) pattern = "*";
        }
        else
        {
            int slash = normalized.LastIndexOf('/');
            (root, pattern) = slash < 0 ? ("", normalized) : (normalized[..(slash + 1)], normalized[(slash + 1)..]);
        }
        if (HasWildcard(root) || pattern.Contains('/'))
            return new(argument, [], $"{argument}: wildcards are allowed in the file name and as one '**' folder part only");
        string folder = root.Length == 0 ? "." : root;
        if (!Directory.Exists(folder)) return new(argument, [], $"{argument}: folder '{folder}' not found");

        var search = new EnumerationOptions { RecurseSubdirectories = recursive >= 0, IgnoreInaccessible = true };
        var matches = Directory.EnumerateFiles(folder, "*", search)
            .Where(path => FileSystemName.MatchesSimpleExpression(pattern, Path.GetFileName(path), ignoreCase: !OperatingSystem.IsLinux()))
            .Where(path => pattern != "*" || IsImage(path))
            .Select(path => root.Length == 0 && path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path);
        var found = Sorted(matches);
        return new(argument, found, found.Count == 0 ? $"{argument}: no file matches" : null);
    }

    private static bool HasWildcard(string text) => text.AsSpan().IndexOfAny('*', '?') >= 0;

    private static bool IsImage(string path) =>
        ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    private static List<string> Sorted(IEnumerable<string> paths) => [.. paths.Order(StringComparer.Ordinal)];
}
