using NanoPose.IO;
using System.IO.Enumeration;

namespace NanoPose.Cli;

/// <summary>
/// The image files named on a command line: a file as given; a folder's JPEG, PNG and BMP files (not its
/// sub-folders); or a glob whose last part holds <c>*</c> or <c>?</c> (<c>photos/*.jpg</c>), or that has a
/// <c>**</c> part to search sub-folders too (<c>photos/**/*.jpg</c>). Folder and glob matches are sorted by path so
/// runs are repeatable. Each image file runs once: a file reached again (through a link, a second argument or a
/// linked folder) is left out, and a linked folder already searched is not searched again, so a link loop ends.
/// A folder or glob that matches no image, or a folder that cannot be read, is an error for that argument (its
/// other files still run), not for the batch.
/// </summary>
internal static class ImageInputs
{
    /// <summary>File extensions a folder or a bare <c>*</c> contributes (the formats the decoder reads).</summary>
    public static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp"];

    /// <summary>One argument's outcome: its files, and why it gave none or not all (null: no problem).</summary>
    public sealed record Expansion(string Argument, IReadOnlyList<string> Files, string? Error);

    public static List<Expansion> Expand(IEnumerable<string> arguments)
    {
        var taken = new HashSet<string>(FilePaths.Comparer);   // the resolved paths of the images so far
        var expansions = new List<Expansion>();
        foreach (string argument in arguments)
        {
            var (files, error) = ExpandOne(argument);
            expansions.Add(new(argument, [.. files.Where(file => taken.Add(FilePaths.Resolve(file)))], error));
        }
        return expansions;
    }

    private static (List<string> Files, string? Error) ExpandOne(string argument)
    {
        string shown = Printable.Text(argument);
        if (Directory.Exists(argument))
        {
            var (files, unreadable) = Search(argument, recursive: false, IsImage, new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false });
            return (files, unreadable is not null ? $"{shown}: {unreadable}" : (files.Count == 0 ? $"{shown}: the folder holds no .jpg, .jpeg, .png or .bmp file" : null));
        }
        if (!HasWildcard(argument)) return ([argument], null);   // a missing file is reported when it is read

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
            return ([], $"{shown}: wildcards are allowed in the file name and as one '**' folder part only");
        string folder = root.Length == 0 ? "." : root;
        if (!Directory.Exists(folder)) return ([], $"{shown}: folder '{Printable.Text(folder)}' not found");

        var (matches, error) = Search(folder, recursive >= 0,
            path => FileSystemName.MatchesSimpleExpression(pattern, Path.GetFileName(path), ignoreCase: !OperatingSystem.IsLinux())
                && (pattern != "*" || IsImage(path)),
            new EnumerationOptions { IgnoreInaccessible = false });
        var found = Sorted(matches.Select(path => root.Length == 0 && path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path));
        return (found, error is not null ? $"{shown}: {error}" : (found.Count == 0 ? $"{shown}: no file matches" : null));
    }

    /// <summary>
    /// The files under <paramref name="folder"/> (and its sub-folders when <paramref name="recursive"/>) that
    /// <paramref name="wanted"/> takes, sorted. Folders are searched once each by their resolved path, so a linked
    /// folder that leads back up (a loop) or to a folder already searched adds nothing. A folder that cannot be read
    /// is named in the error; the others are still searched.
    /// </summary>
    private static (List<string> Files, string? Error) Search(string folder, bool recursive, Func<string, bool> wanted, EnumerationOptions options)
    {
        var files = new List<string>();
        var problems = new List<string>();
        var searched = new HashSet<string>(FilePaths.Comparer);
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.TryPop(out string? current))
        {
            if (!searched.Add(FilePaths.Resolve(current))) continue;
            try
            {
                var entries = new FileSystemEnumerable<(string Path, bool IsFolder)>(current,
                    (ref FileSystemEntry entry) => (entry.ToSpecifiedFullPath(), entry.IsDirectory), options);
                foreach (var (path, isFolder) in entries)
                {
                    if (!isFolder) { if (wanted(path)) files.Add(path); }
                    else if (recursive) pending.Push(path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add($"cannot read the folder {Printable.Text(current)}: {(e is UnauthorizedAccessException ? "permission denied" : Printable.Text(e.Message))}");
            }
        }
        string? error = problems.Count == 0 ? null
            : $"{problems[0]}{(problems.Count > 1 ? $" (and {problems.Count - 1} more folders)" : "")}";
        return (Sorted(files), error);
    }

    private static bool HasWildcard(string text) => text.AsSpan().IndexOfAny('*', '?') >= 0;

    private static bool IsImage(string path) =>
        ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    private static List<string> Sorted(IEnumerable<string> paths) => [.. paths.Order(StringComparer.Ordinal)];
}
