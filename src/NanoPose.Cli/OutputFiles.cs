using NanoPose.IO;
namespace NanoPose.Cli;

/// <summary>An output that cannot be written as asked: it would replace an input, its folder cannot be made or
/// written to, or two outputs name one file. An <see cref="IOException"/>, so the command exits with 2.</summary>
internal sealed class OutputException(string message) : IOException(message);

/// <summary>
/// The files and folders a command writes, checked before any work: none may be one of the command's inputs (a
/// drawing must never replace the photo it was drawn on), no two may be one file, and each folder is created and
/// proved writable up front, so a missing or read-only folder fails at once instead of after the batch.
/// </summary>
internal static class OutputFiles
{
    /// <summary>Refuses the command when an output would replace an input or another output (paths compared with
    /// links resolved).</summary>
    /// <param name="outputs">Each output file with the option that names it.</param>
    public static void RefuseOverwrites(IEnumerable<string> inputs, IEnumerable<(string Option, string Path)> outputs)
    {
        var inputsByResolved = new Dictionary<string, string>(FilePaths.Comparer);
        foreach (string input in inputs) inputsByResolved.TryAdd(FilePaths.Resolve(input), input);
        var outputsByResolved = new Dictionary<string, string>(FilePaths.Comparer);
        foreach (var (option, path) in outputs)
        {
            string resolved = FilePaths.Resolve(path);
            if (inputsByResolved.TryGetValue(resolved, out string? input))
                throw new OutputException($"{option} would write {Show(path)} over the input {Show(input)}; nothing was run: choose another {(option == "--draw" ? "folder" : "file")}");
            if (!outputsByResolved.TryAdd(resolved, option))
                throw new OutputException($"{outputsByResolved[resolved]} and {option} would both write {Show(path)}; nothing was run");
        }
    }

    /// <summary>Creates the folder (and its parents) if missing and checks a file can be created in it.</summary>
    public static void PrepareFolder(string folder, string option)
    {
        if (File.Exists(folder)) throw new OutputException($"{option} {Show(folder)}: is a file; {option} needs a folder");
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"{option} {Show(folder)}: cannot create the folder: {Reason(e)}");
        }
        using (ResultFile.Create(Path.Combine(folder, "write-check"), option)) { }   // created and deleted: the folder takes files
    }

    internal static string Show(string path) => Printable.Text(path);

    internal static string Reason(Exception e) => e is UnauthorizedAccessException ? "permission denied" : Printable.Text(e.Message);
}

/// <summary>
/// A result file written through a temporary file in the target's folder that is renamed over the target only by
/// <see cref="Commit"/>: a run that fails, is canceled or is killed leaves any earlier file intact, and the temporary
/// file is deleted on the way out (by <see cref="Dispose"/>, or by <see cref="OutputGuard"/> on a second Ctrl+C).
/// A link is written through (the file it names is replaced, the link stays); a target that exists and is no regular
/// file (a pipe, <c>/dev/stdout</c> on a terminal) is a stream, written directly.
/// </summary>
internal sealed class ResultFile : IDisposable
{
    private readonly string? _temporary, _target;
    private bool _done;

    private ResultFile(string path, string? temporary, string? target, Stream stream) =>
        (Path, _temporary, _target, Stream) = (path, temporary, target, stream);

    public string Path { get; }

    /// <summary>Where the content goes until <see cref="Commit"/>.</summary>
    public Stream Stream { get; }

    /// <summary>Checks the target (not a folder), creates its folder if missing, and opens the temporary file.</summary>
    /// <param name="option">The option naming the file, for messages.</param>
    public static ResultFile Create(string path, string option)
    {
        if (Directory.Exists(path)) throw new OutputException($"{option} {OutputFiles.Show(path)}: is a folder; {option} needs a file name");
        if (File.Exists(path) && !NanoPose.IO.InputFile.IsRegularFile(path))
            return new ResultFile(path, null, null, new FileStream(path, FileMode.Open, FileAccess.Write));
        string target = FilePaths.Resolve(path);
        string folder = System.IO.Path.GetDirectoryName(target)!;
        string temporary = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        using var writing = OutputGuard.Writing();
        try
        {
            Directory.CreateDirectory(folder);
            OutputGuard.Track(temporary);
            return new ResultFile(path, temporary, target, new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            OutputGuard.Forget(temporary);
            throw new OutputException($"{option} {OutputFiles.Show(path)}: cannot write in {OutputFiles.Show(folder)}: {OutputFiles.Reason(e)}");
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> through a temporary file.</summary>
    public static void Write(string path, string option, ReadOnlySpan<byte> bytes)
    {
        using var file = Create(path, option);
        file.Stream.Write(bytes);
        file.Commit();
    }

    /// <summary>Makes the content the target's: flushed to disk, then renamed over it in one step.</summary>
    public void Commit()
    {
        using var writing = OutputGuard.Writing();
        Stream.Flush();
        if (Stream is FileStream file && _temporary is not null) file.Flush(flushToDisk: true);
        Stream.Dispose();
        _done = true;
        if (_temporary is null) return;   // a stream: written in place
        File.Move(_temporary, _target!, overwrite: true);
        OutputGuard.Forget(_temporary);
    }

    public void Dispose()
    {
        if (_done) return;
        _done = true;
        Stream.Dispose();
        if (_temporary is null) return;
        File.Delete(_temporary);
        OutputGuard.Forget(_temporary);
    }
}

/// <summary>
/// Lets a second Ctrl+C end the process at once without leaving temporary files: every file write that makes or
/// renames a file runs under <see cref="Writing"/>; <see cref="StopWriting"/> waits for those in flight (a picture
/// being encoded, a result being renamed), blocks any new one, and deletes the temporary result files still open.
/// </summary>
internal static class OutputGuard
{
    private static readonly ReaderWriterLockSlim Lock = new(LockRecursionPolicy.SupportsRecursion);
    private static readonly HashSet<string> Temporary = [];

    public static IDisposable Writing()
    {
        Lock.EnterReadLock();
        return new Release();
    }

    public static void Track(string temporary)
    {
        lock (Temporary) Temporary.Add(temporary);
    }

    public static void Forget(string temporary)
    {
        lock (Temporary) Temporary.Remove(temporary);
    }

    /// <summary>For the process's last moments: no file is made or renamed after this returns, and none is left half-made.</summary>
    public static void StopWriting()
    {
        Lock.EnterWriteLock();   // never released: the process is ending
        lock (Temporary)
        {
            foreach (string path in Temporary)
            {
                try { File.Delete(path); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // nothing more can be done as the process ends
            }
            Temporary.Clear();
        }
    }

    private sealed class Release : IDisposable
    {
        private bool _released;

        public void Dispose()
        {
            if (_released) return;
            _released = true;
            Lock.ExitReadLock();
        }
    }
}
