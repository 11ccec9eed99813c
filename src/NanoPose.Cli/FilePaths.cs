using System.Runtime.InteropServices;
using NanoPose.IO;

namespace NanoPose.Cli;

/// <summary>
/// What the CLI needs to know about the paths it is given: which file a path really names (links resolved), whether
/// a named input is a regular file it may open, and how to print a name that came from the file system or a file.
/// </summary>
internal static partial class FilePaths
{
    /// <summary>Compares resolved paths as the file system does (case matters on Linux only).</summary>
    public static StringComparer Comparer { get; } = OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    /// <summary>
    /// The absolute path with every symbolic link resolved, so two paths that reach one file give one string. For a
    /// path that does not exist yet (an output to be created), the longest existing folder above it is resolved and
    /// the rest kept as written.
    /// </summary>
    public static string Resolve(string path) => Resolve(path, linksLeft: 40);

    private static string Resolve(string path, int linksLeft)
    {
        string full = Path.GetFullPath(path);
        var missing = new Stack<string>();
        for (string? current = full; current is not null; current = Path.GetDirectoryName(current))
        {
            string? real = RealPath(current);
            // A link to something not there yet: a file written through it lands at the link's target.
            if (real is null && linksLeft > 0 && new FileInfo(current).LinkTarget is { } target)
                real = Resolve(Path.Combine(Path.GetDirectoryName(current)!, target), linksLeft - 1);
            if (real is not null)
            {
                foreach (string part in missing) real = Path.Combine(real, part);
                return real;
            }
            missing.Push(Path.GetFileName(current));
        }
        return full;
    }

    /// <summary>
    /// Refuses, naming it, an input that is not a regular file (a FIFO would block the read forever, a device never
    /// ends), a folder, a missing file, or a name the file system holds in bytes that are not UTF-8 (.NET shows those
    /// bytes as U+FFFD and then cannot open the file by that name). Cheap: it opens nothing but regular files.
    /// </summary>
    public static void RequireRegularFile(string path, string what)
    {
        if (path.Contains('\uFFFD') && !File.Exists(path) && !Directory.Exists(path))
            throw new InputFileException(path, $"the {what} file's name is not valid UTF-8 (shown with \uFFFD), so it cannot be opened by name; rename it");
        using (InputFile.OpenRead(path, long.MaxValue, what)) { }
    }

    /// <summary>The path with its links resolved, or null when it does not exist.</summary>
    private static string? RealPath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
            if (!info.Exists) return null;
            return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
        }
        IntPtr resolved = RealPath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { Free(resolved); }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);
}
