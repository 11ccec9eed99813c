namespace NanoPose.Video;

/// <summary>
/// Writes RGB (or BGR) frames as a Y4M stream: 8-bit 4:2:0 (<c>C420jpeg</c>, chroma the mean of each 2×2 block) or
/// 4:4:4, BT.601, in the range chosen (limited by default, declared as ffmpeg does with <c>XCOLORRANGE</c>), so any
/// player or <c>ffmpeg -i out.y4m out.mp4</c> reads it. Every frame must have the size of the first.
/// </summary>
public sealed class Y4mWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly YuvConversion _conversion;
    private readonly byte[] _planes;
    private readonly int _stepX, _stepY, _chromaBytes;

    public Y4mWriter(Stream stream, int width, int height, FrameRate rate, Y4mChroma chroma = Y4mChroma.Yuv420,
        YuvRange range = YuvRange.Limited, bool ownsStream = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (chroma is not (Y4mChroma.Yuv420 or Y4mChroma.Yuv444)) throw new ArgumentOutOfRangeException(nameof(chroma), chroma, "the writer writes 4:2:0 or 4:4:4");
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        (_stream, _ownsStream, Width, Height) = (stream, ownsStream, width, height);
        (_stepX, _stepY) = chroma == Y4mChroma.Yuv420 ? (2, 2) : (1, 1);
        _chromaBytes = (width + _stepX - 1) / _stepX * ((height + _stepY - 1) / _stepY);
        _planes = new byte[width * height + 2 * _chromaBytes];
        _conversion = new YuvConversion(YuvMatrix.Bt601, range);
        string colourSpace = chroma == Y4mChroma.Yuv420 ? "C420jpeg XYSCSS=420JPEG" : "C444 XYSCSS=444";
        string header = $"YUV4MPEG2 W{width} H{height} F{rate.Numerator}:{rate.Denominator} Ip A1:1 {colourSpace} XCOLORRANGE={(range == YuvRange.Full ? "FULL" : "LIMITED")}\n";
        _stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
    }

    public int Width { get; }
    public int Height { get; }

    public void Write(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format = PixelFormat.Rgb24)
    {
        if (width != Width || height != Height)
            throw new ArgumentException($"a {width}×{height} frame in a {Width}×{Height} Y4M stream: every frame must have the first one's size", nameof(width));
        if (stride < 3 * width || pixels.Length < (long)stride * (height - 1) + 3 * width)
            throw new ArgumentException($"{pixels.Length} bytes with stride {stride} do not hold a {width}×{height} RGB frame", nameof(pixels));
        int luma = width * height;
        _conversion.FromRgb(pixels, width, height, stride, format == PixelFormat.Bgr24, _stepX, _stepY,
            _planes.AsSpan(0, luma), _planes.AsSpan(luma, _chromaBytes), _planes.AsSpan(luma + _chromaBytes, _chromaBytes));
        _stream.Write("FRAME\n"u8);
        _stream.Write(_planes);
    }

    public void Write(VideoFrame frame) => Write(frame.Pixels, frame.Width, frame.Height, frame.Stride, frame.Format);

    /// <summary>Pushes the frames written so far to the stream's reader (a pipe to a player).</summary>
    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        _stream.Flush();
        if (_ownsStream) _stream.Dispose();
    }
}
