namespace NanoPose.Video;

/// <summary>
/// Raw frames of a known size with no header, as <c>ffmpeg … -f rawvideo -pix_fmt rgb24 -</c> writes them: width × height
/// pixels of 3 bytes (RGB or BGR) per frame, one after another. A stream ending partway through a frame is reported.
/// Memory: one frame, reused (allocated as the first frame's bytes arrive).
/// </summary>
public sealed class RawFrameSource : IFrameSource
{
    private readonly Stream _stream;
    private byte[] _pixels = [];
    private readonly int _width, _height;
    private readonly PixelFormat _format;
    private long _next;

    /// <param name="rate">The rate timestamps are computed at; null: <see cref="FrameRate.Default"/>.</param>
    public RawFrameSource(Stream stream, string name, int width, int height, PixelFormat format, FrameRate? rate = null,
        long maxPixels = Y4mFrameSource.DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (format is not (PixelFormat.Rgb24 or PixelFormat.Bgr24)) throw new ArgumentOutOfRangeException(nameof(format), format, "expected Rgb24 or Bgr24");
        StreamFrames.CheckSize(width, height, maxPixels, name);
        (_stream, Name, _width, _height, _format, Rate) = (stream, name, width, height, format, rate ?? FrameRate.Default);
    }

    public string Name { get; }
    public FrameRate Rate { get; }

    public VideoFrame? ReadFrame(CancellationToken cancellationToken = default)
    {
        if (!StreamFrames.ReadWhole(_stream, ref _pixels, 3 * _width * _height, Name, $"frame {_next}", cancellationToken)) return null;
        long index = _next++;
        return new VideoFrame(_pixels, _width, _height, 3 * _width, _format, index, Rate.TimeOf(index));
    }

    public void Dispose() => _stream.Dispose();
}
