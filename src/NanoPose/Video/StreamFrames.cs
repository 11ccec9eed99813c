namespace NanoPose.Video;

/// <summary>Reading helpers for frame streams: whole frames that tell a clean end from a truncated frame.</summary>
internal static class StreamFrames
{
    /// <summary>
    /// Reads <paramref name="length"/> bytes into <paramref name="buffer"/>, growing it (doubling from 64 KiB) as the
    /// bytes arrive rather than all at once, so a stream that declares a large frame and then ends costs memory in
    /// proportion to what it sent. Returns false when the stream ended before the first byte (a clean end between
    /// frames); throws <see cref="VideoFormatException"/> when it ends partway.
    /// </summary>
    public static bool ReadWhole(Stream stream, ref byte[] buffer, int length, string source, string what, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(length, Math.Max(1 << 16, 2L * buffer.Length)));
            int n = stream.Read(buffer.AsSpan(filled, Math.Min(buffer.Length, length) - filled));
            if (n == 0)
            {
                if (filled == 0) return false;
                throw new VideoFormatException(source, $"{what} is truncated: the stream ended after {filled} of its {length} bytes");
            }
            filled += n;
        }
        return true;
    }

    /// <summary>Refuses frame sizes beyond <paramref name="maxPixels"/> before any buffer is allocated.</summary>
    public static void CheckSize(long width, long height, long maxPixels, string source)
    {
        // A frame's RGB pixels must fit one array.
        if (maxPixels < 1 || maxPixels > Array.MaxLength / 3) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, $"from 1 to {Array.MaxLength / 3}");
        if (width < 1 || height < 1) throw new VideoFormatException(source, $"frame size {width}×{height}: width and height must be at least 1");
        if (width * height > maxPixels)
            throw new VideoFormatException(source, $"frame size {width}×{height} is {width * height} pixels; at most {maxPixels} are read (by default 7680×4320, 8K UHD)");
    }
}
