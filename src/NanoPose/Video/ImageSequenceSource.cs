namespace NanoPose.Video;

/// <summary>The pixels of one decoded image file (rows <paramref name="Stride"/> bytes apart, 3 bytes a pixel).</summary>
public readonly record struct DecodedPixels(byte[] Pixels, int Width, int Height, int Stride, PixelFormat Format);

/// <summary>
/// A folder's images as frames, in natural order (<see cref="NaturalOrder"/>: frame2 before frame10), each decoded
/// when it is read by the decoder given (the engine decodes no image files: the CLI passes its ImageSharp adapter).
/// Frames may differ in size. An image that cannot be decoded ends the stream with the decoder's error.
/// </summary>
public sealed class ImageSequenceSource(IReadOnlyList<string> paths, Func<string, DecodedPixels> decode, FrameRate? rate = null, string name = "frames")
    : IFrameSource
{
    private readonly string[] _paths = [.. paths.Order(NaturalOrder.Comparer)];
    private int _next;

    public string Name { get; } = name;
    public FrameRate Rate { get; } = rate ?? FrameRate.Default;

    /// <summary>The files in the order they are read.</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>The file of the frame last read.</summary>
    public string? CurrentPath => _next == 0 ? null : _paths[_next - 1];

    public VideoFrame? ReadFrame(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_next >= _paths.Length) return null;
        int index = _next++;
        var image = decode(_paths[index]);
        return new VideoFrame(image.Pixels, image.Width, image.Height, image.Stride, image.Format, index, Rate.TimeOf(index));
    }

    public void Dispose() { }
}

/// <summary>Orders names as people count: runs of digits compare by value (frame2 &lt; frame10), the rest ordinally.</summary>
public sealed class NaturalOrder : IComparer<string>
{
    public static readonly NaturalOrder Comparer = new();

    public int Compare(string? a, string? b)
    {
        if (a is null || b is null) return a is null ? (b is null ? 0 : -1) : 1;
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                int startA = i, startB = j;
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                var digitsA = a.AsSpan(startA, i - startA).TrimStart('0');
                var digitsB = b.AsSpan(startB, j - startB).TrimStart('0');
                // More significant digits is a larger number; equal lengths compare digit by digit.
                int order = digitsA.Length != digitsB.Length ? digitsA.Length.CompareTo(digitsB.Length) : digitsA.SequenceCompareTo(digitsB);
                if (order != 0) return order;
            }
            else
            {
                int order = a[i].CompareTo(b[j]);
                if (order != 0) return order;
                i++;
                j++;
            }
        }
        int rest = (a.Length - i).CompareTo(b.Length - j);
        return rest != 0 ? rest : string.CompareOrdinal(a, b);   // frame01 and frame1: a fixed order still
    }
}
