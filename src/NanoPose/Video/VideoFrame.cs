namespace NanoPose.Video;

/// <summary>A frame rate as a fraction (30000:1001 for NTSC's 29.97), as Y4M headers state it.</summary>
public readonly record struct FrameRate(int Numerator, int Denominator)
{
    /// <summary>The rate assumed for sources that declare none (a folder of images, raw frames): 30 frames per second.</summary>
    public static readonly FrameRate Default = new(30, 1);

    public double FramesPerSecond => (double)Numerator / Denominator;

    /// <summary>Seconds from the stream's start to frame <paramref name="index"/>.</summary>
    public double TimeOf(long index) => index * (double)Denominator / Numerator;
}

/// <summary>
/// One decoded frame: <see cref="Height"/> rows of <see cref="Width"/> pixels in <see cref="Format"/>,
/// <see cref="Stride"/> bytes apart. A source may reuse the pixel buffer: the pixels are valid until the source's
/// next frame is read (copy them to keep them).
/// </summary>
public sealed class VideoFrame(byte[] pixels, int width, int height, int stride, PixelFormat format, long index, double time)
{
    public byte[] Pixels { get; } = pixels;
    public int Width { get; } = width;
    public int Height { get; } = height;
    public int Stride { get; } = stride;
    public PixelFormat Format { get; } = format;

    /// <summary>The frame's position in its source, from 0.</summary>
    public long Index { get; } = index;

    /// <summary>Seconds from the source's start: the index over the source's frame rate.</summary>
    public double Time { get; } = time;
}

/// <summary>
/// A source of frames read one at a time (a Y4M stream, raw RGB frames, a folder of images). Memory is bounded by a
/// frame or two whatever the stream's length.
/// </summary>
public interface IFrameSource : IDisposable
{
    /// <summary>What the frames come from (a path, "stdin"), for messages.</summary>
    string Name { get; }

    /// <summary>The source's frame rate: as declared, else <see cref="FrameRate.Default"/>.</summary>
    FrameRate Rate { get; }

    /// <summary>The next frame, or null at the end. A broken stream (a truncated frame, a bad frame header) throws
    /// <see cref="VideoFormatException"/> naming the source and the frame.</summary>
    VideoFrame? ReadFrame(CancellationToken cancellationToken = default);
}

/// <summary>A video stream or frame that cannot be read: the message starts with the source's name and says what is wrong.</summary>
public sealed class VideoFormatException(string source, string problem) : IOException($"{source}: {problem}")
{
    public string StreamName { get; } = source;
}
