using System.Globalization;
using System.Text;

namespace NanoPose.Video;

/// <summary>How a Y4M stream's chroma is sampled.</summary>
public enum Y4mChroma
{
    /// <summary>4:2:0 (<c>C420jpeg</c>, <c>C420mpeg2</c>, <c>C420paldv</c>, <c>C420</c>; the default): one chroma sample per 2×2 luma.</summary>
    Yuv420,
    /// <summary>4:2:2 (<c>C422</c>): one chroma sample per 2×1 luma.</summary>
    Yuv422,
    /// <summary>4:4:4 (<c>C444</c>): a chroma sample per pixel.</summary>
    Yuv444,
    /// <summary>Luma only (<c>Cmono</c>).</summary>
    Mono,
}

/// <summary>
/// A YUV4MPEG2 (Y4M) stream, as <c>ffmpeg … -f yuv4mpegpipe -</c> writes it: a header line
/// <c>YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED</c>, then per frame a line starting
/// <c>FRAME</c> and the Y, Cb and Cr planes. 8-bit 4:2:0, 4:2:2, 4:4:4 and mono are read; chroma siting variants are
/// read alike (nearest sample). The colour matrix is BT.601 (Y4M declares none; <see cref="YuvMatrix.Bt709"/> on request)
/// and the range is the one <c>XCOLORRANGE</c> declares, limited by default. Interlaced streams are read as whole frames.
/// <para>
/// Memory: one frame's planes and its RGB pixels, reused for every frame (the planes' buffer grows as the first
/// frame's bytes arrive, so a header declaring a huge frame costs nothing until the bytes come); a frame of more than
/// <c>maxPixels</c> (default <see cref="DefaultMaxPixels"/>, 8K UHD) is refused from the header. Header
/// lines are at most <see cref="MaxHeaderBytes"/> bytes and frame lines <see cref="MaxFrameLineBytes"/>. A stream that
/// ends between frames ends the video; one that ends inside a frame throws <see cref="VideoFormatException"/> naming the
/// frame and how many of its bytes arrived.
/// </para>
/// </summary>
public sealed class Y4mFrameSource : IFrameSource
{
    /// <summary>7680 × 4320 (8K UHD): 50 MB of 4:2:0 planes and 100 MB of RGB per frame at most.</summary>
    public const long DefaultMaxPixels = 7680L * 4320;
    public const int MaxHeaderBytes = 4096;
    public const int MaxFrameLineBytes = 1024;

    private const string Magic = "YUV4MPEG2";

    private readonly Stream _stream;
    private byte[] _planes = [], _rgb = [];
    private readonly YuvConversion _conversion;
    private readonly int _chromaWidth, _chromaHeight, _stepX, _stepY;
    private long _next;

    public Y4mFrameSource(Stream stream, string name, YuvMatrix matrix = YuvMatrix.Bt601, long maxPixels = DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(stream);
        (_stream, Name) = (stream, name);
        string header = ReadLine(MaxHeaderBytes, "the header") ?? throw new VideoFormatException(name, "the stream is empty: expected a Y4M header (YUV4MPEG2 …)");
        ParseHeader(header, maxPixels);
        (_stepX, _stepY) = Chroma switch { Y4mChroma.Yuv420 => (2, 2), Y4mChroma.Yuv422 => (2, 1), _ => (1, 1) };
        (_chromaWidth, _chromaHeight) = Chroma == Y4mChroma.Mono ? (0, 0) : ((Width + _stepX - 1) / _stepX, (Height + _stepY - 1) / _stepY);
        FrameBytes = Width * Height + 2 * _chromaWidth * _chromaHeight;
        _conversion = new YuvConversion(matrix, Range);
    }

    public string Name { get; }
    public FrameRate Rate { get; private set; } = FrameRate.Default;
    public int Width { get; private set; }
    public int Height { get; private set; }
    public Y4mChroma Chroma { get; private set; } = Y4mChroma.Yuv420;
    public YuvRange Range { get; private set; } = YuvRange.Limited;

    /// <summary>Whether the header declared the frame rate (else <see cref="Rate"/> is the default).</summary>
    public bool RateDeclared { get; private set; }

    /// <summary>Bytes of one frame's planes.</summary>
    public int FrameBytes { get; }

    public VideoFrame? ReadFrame(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string what = $"frame {_next}";
        string? line = ReadLine(MaxFrameLineBytes, $"the header of {what}");
        if (line is null) return null;
        if (!(line == "FRAME" || line.StartsWith("FRAME ", StringComparison.Ordinal)))
            throw new VideoFormatException(Name, $"{what}: expected a line starting FRAME, found '{Printable(line)}'");
        if (!StreamFrames.ReadWhole(_stream, ref _planes, FrameBytes, Name, what, cancellationToken))
            throw new VideoFormatException(Name, $"{what} is truncated: the stream ended after its FRAME line, before its {FrameBytes} bytes");
        if (_rgb.Length == 0) _rgb = new byte[3 * Width * Height];
        int lumaBytes = Width * Height, chromaBytes = _chromaWidth * _chromaHeight;
        _conversion.ToRgb(_planes.AsSpan(0, lumaBytes), _planes.AsSpan(lumaBytes, chromaBytes), _planes.AsSpan(lumaBytes + chromaBytes, chromaBytes),
            Width, Height, _chromaWidth, _stepX, _stepY, _rgb);
        long index = _next++;
        return new VideoFrame(_rgb, Width, Height, 3 * Width, PixelFormat.Rgb24, index, Rate.TimeOf(index));
    }

    public void Dispose() => _stream.Dispose();

    private void ParseHeader(string header, long maxPixels)
    {
        if (!(header == Magic || header.StartsWith(Magic + " ", StringComparison.Ordinal)))
            throw new VideoFormatException(Name, $"not a Y4M stream: the header must start with '{Magic} ', found '{Printable(header[..Math.Min(header.Length, 40)])}'");
        long width = 0, height = 0;
        foreach (string token in header[Magic.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string value = token[1..];
            switch (token[0])
            {
                case 'W': width = Number(value, "width (W)"); break;
                case 'H': height = Number(value, "height (H)"); break;
                case 'F':
                {
                    var parts = value.Split(':');
                    if (parts.Length != 2) throw new VideoFormatException(Name, $"frame rate '{Printable(token)}' is not F<numerator>:<denominator>");
                    long numerator = Number(parts[0], "frame rate numerator"), denominator = Number(parts[1], "frame rate denominator");
                    if (numerator == 0 || denominator == 0 || numerator > int.MaxValue || denominator > int.MaxValue)
                        throw new VideoFormatException(Name, $"frame rate {numerator}:{denominator}: both parts must be from 1 to {int.MaxValue}");
                    Rate = new FrameRate((int)numerator, (int)denominator);
                    RateDeclared = true;
                    break;
                }
                case 'C':
                    Chroma = value switch
                    {
                        "420jpeg" or "420mpeg2" or "420paldv" or "420" => Y4mChroma.Yuv420,
                        "422" => Y4mChroma.Yuv422,
                        "444" => Y4mChroma.Yuv444,
                        "mono" => Y4mChroma.Mono,
                        _ => throw new VideoFormatException(Name,
                            $"colour space 'C{Printable(value)}' is not read (8-bit 420jpeg, 420mpeg2, 420paldv, 420, 422, 444 and mono are); convert with ffmpeg -pix_fmt yuv420p"),
                    };
                    break;
                case 'X' when value.StartsWith("COLORRANGE=", StringComparison.Ordinal):
                    Range = value["COLORRANGE=".Length..] switch
                    {
                        "LIMITED" => YuvRange.Limited,
                        "FULL" => YuvRange.Full,
                        var other => throw new VideoFormatException(Name, $"XCOLORRANGE={Printable(other)}: expected LIMITED or FULL"),
                    };
                    break;
                default: break;   // I (interlacing), A (aspect), other X extensions: nothing to do for pose estimation
            }
        }
        if (width == 0 || height == 0) throw new VideoFormatException(Name, $"the header declares no {(width == 0 ? "width (W)" : "height (H)")}");
        StreamFrames.CheckSize(width, height, maxPixels, Name);
        (Width, Height) = ((int)width, (int)height);
    }

    /// <summary>A decimal count from 1 up (at most 10 digits, so it cannot overflow a long).</summary>
    private long Number(string text, string what) =>
        text.Length is > 0 and <= 10 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0
            ? value
            : throw new VideoFormatException(Name, $"{what} '{Printable(text)}' is not a whole number from 1 to 9999999999");

    /// <summary>
    /// The next line without its newline, read a byte at a time so that no frame byte is consumed; null when the stream
    /// ends before the line's first byte. A longer line or one cut off by the stream's end is an error.
    /// </summary>
    private string? ReadLine(int maxBytes, string what)
    {
        Span<byte> line = stackalloc byte[maxBytes];
        int length = 0;
        while (true)
        {
            int b = _stream.ReadByte();
            if (b < 0)
            {
                if (length == 0) return null;
                throw new VideoFormatException(Name, $"{what} is truncated: the stream ended after {length} bytes, before its newline");
            }
            if (b == '\n') return Encoding.ASCII.GetString(line[..length]);
            if (length == maxBytes) throw new VideoFormatException(Name, $"{what} has no newline within {maxBytes} bytes");
            line[length++] = (byte)b;
        }
    }

    /// <summary>Text from the stream made safe to print in a message (control and non-ASCII bytes as '?').</summary>
    private static string Printable(string text) =>
        string.Create(Math.Min(text.Length, 60), text, (span, t) => { for (int i = 0; i < span.Length; i++) span[i] = t[i] is >= ' ' and <= '~' ? t[i] : '?'; });
}
