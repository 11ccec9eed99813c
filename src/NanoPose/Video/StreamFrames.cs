namespace NanoPose.Video;

/// <summary>Reading helpers for frame streams: whole frames that tell a clean end from a truncated frame.</summary>
internal static class StreamFrames
{
    /// <summary>
    /// Fills <paramref name="buffer"/> from the stream. Returns false when the stream ended before its first byte (a
    /// clean end between frames); throws <see cref="VideoFormatException"/> when it ends partway.
    /// </summary>
    public static bool ReadWhole(Stream stream, Span<byte> buffer, string source, string what, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = stream.Read(buffer[filled..]);
            if (n == 0)
            {
                if (filled == 0) return false;
                throw new VideoFormatException(source, $"{what} is truncated: the stream ended after {filled} of its {buffer.Length} bytes");
            }
            filled += n;
        }
        return true;
    }

    /// <summary>Refuses frame sizes beyond <paramref name="maxPixels"/> before any buffer is allocated.</summary>
    public static void CheckSize(long width, long height, long maxPixels, string source)
    {
        if (width < 1 || height < 1) throw new VideoFormatException(source, $"frame size {width}×{height}: width and height must be at least 1");
        if (width * height > maxPixels)
            throw new VideoFormatException(source, $"frame size {width}×{height} is {width * height} pixels; at most {maxPixels} are read (8K UHD is 33,177,600)");
    }
}
