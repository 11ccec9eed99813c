namespace NanoPose.TestSupport;

/// <summary>
/// Locates the shared data folder (golden arrays, checkpoints): $NANOPOSE_SHARED, else ../shared next to the
/// repository root (the folder holding NanoPose.sln). Tests that need it skip with a plain message when it is
/// absent, except under CI (env var CI set), where a missing folder is a failure.
/// </summary>
public static class SharedData
{
    public static string Root { get; } = Locate();

    /// <summary>The repository's root folder (the one holding NanoPose.sln), for files the project ships.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot()
        ?? throw new InvalidOperationException($"no NanoPose.sln above {AppContext.BaseDirectory}");

    /// <summary>The full path of a file under the shared folder; skips (or fails under CI) when it is not there.</summary>
    public static string File(string relativePath)
    {
        string path = Path.Combine(Root, relativePath);
        if (System.IO.File.Exists(path)) return path;
        string message = $"shared data file {path} not found (set NANOPOSE_SHARED to the shared folder)";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) Assert.Fail(message + "; CI is set, so this is a failure");
        Assert.Skip(message + "; skipping");
        return path;
    }

    private static string Locate()
    {
        string? configured = Environment.GetEnvironmentVariable("NANOPOSE_SHARED");
        if (!string.IsNullOrEmpty(configured)) return Path.GetFullPath(configured);
        return FindRepositoryRoot() is { } repository ? Path.GetFullPath(Path.Combine(repository, "..", "shared")) : Path.GetFullPath("shared");
    }

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "NanoPose.sln"))) return dir.FullName;
        return null;
    }
}
