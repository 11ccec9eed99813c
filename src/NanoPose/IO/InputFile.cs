using System.Runtime.InteropServices;

namespace NanoPose.IO;

/// <summary>
/// Reads files that a user names as input (images, models, boxes, checkpoints) without trusting them: only regular
/// files are opened (a FIFO would block the open forever, a device such as /dev/zero never ends), and no more than a
/// stated number of bytes is read whatever the file system reports as the length (0 for pipes and devices).
/// </summary>
public static partial class InputFile
{
    /// <summary>Reads the whole file, refusing it by name when it is not a regular file or holds more than <paramref name="maxBytes"/>.</summary>
    /// <param name="what">What the file is to the caller ("image", "weight file"), for the message.</param>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        using var stream = OpenRead(path, maxBytes, what, out long reportedLength);
        var buffer = new MemoryStream((int)Math.Min(reportedLength, Math.Min(maxBytes, Array.MaxLength)));
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>
    /// Opens the file for reading through a stream that fails, naming the file and the limit, as soon as more than
    /// <paramref name="maxBytes"/> bytes have been read.
    /// </summary>
    public static Stream OpenRead(string path, long maxBytes, string what) => OpenRead(path, maxBytes, what, out _);

    static Stream OpenRead(string path, long maxBytes, string what, out long reportedLength)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (Directory.Exists(path)) throw new InputFileException(path, $"is a folder, not a{Article(what)} {what} file");
        if (!File.Exists(path)) throw new InputFileException(path, "does not exist");
        string? kind = NonRegularKind(path);
        if (kind is not null) throw new InputFileException(path, $"is a {kind}, not a regular {what} file");
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        reportedLength = file.Length;
        if (reportedLength > maxBytes)
        {
            file.Dispose();
            throw new InputFileException(path, $"holds {reportedLength} bytes; a {what} file may hold at most {maxBytes}");
        }
        return new CappedStream(file, path, maxBytes, what);
    }

    /// <summary>Whether the path names a regular file (after following links): what a folder listing should pick up.</summary>
    public static bool IsRegularFile(string path) => File.Exists(path) && NonRegularKind(path) is null;

    static string Article(string word) => word.Length > 0 && "aeiou".Contains(char.ToLowerInvariant(word[0])) ? "n" : "";

    // The file's type from statx(2), whose buffer has one layout on every Linux architecture. Elsewhere (Windows has no
    // FIFOs in the file system) every existing non-folder counts as regular; the byte cap still bounds the read.
    static string? NonRegularKind(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        Span<byte> buffer = stackalloc byte[256];
        const int AtCurrentDirectory = -100, StatxType = 0x1;
        try
        {
            if (Statx(AtCurrentDirectory, path, 0, StatxType, ref MemoryMarshal.GetReference(buffer)) != 0) return null;
        }
        catch (EntryPointNotFoundException) { return null; } // a libc older than glibc 2.28
        catch (DllNotFoundException) { return null; }
        int mode = BitConverter.ToUInt16(buffer[28..]) & 0xF000;
        return mode switch
        {
            0x8000 => null,
            0x1000 => "FIFO (named pipe)",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            0x4000 => "folder",
            _ => "special file",
        };
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);

    /// <summary>Passes reads through until the cap, then refuses: bounds files whose length the system misreports.</summary>
    sealed class CappedStream(Stream inner, string path, long maxBytes, string what) : Stream
    {
        long _read;

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer.Length > 0 ? buffer[..(int)Math.Min(buffer.Length, maxBytes - _read + 1)] : buffer);
            _read += n;
            if (_read > maxBytes) throw new InputFileException(path, $"holds more than {maxBytes} bytes, the most a {what} file may hold");
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>An input file that cannot be read as asked: not there, not a regular file, or larger than allowed.</summary>
public sealed class InputFileException(string path, string problem) : IOException(Printable.Text($"{path}: {problem}"))
{
    public string Path { get; } = path;
}
