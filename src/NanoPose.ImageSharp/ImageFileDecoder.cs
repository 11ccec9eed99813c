using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace NanoPose.ImageSharp;

/// <summary>
/// Decodes JPEG, PNG and BMP files to RGB8 pixels with ImageSharp; no other format is registered. The header is
/// read first and an image whose width × height is zero or over <see cref="MaxPixels"/> is refused before any pixel
/// memory is allocated; a JPEG must be complete (see <see cref="JpegEnd"/>). Every refusal is an <see cref="ImageFileException"/> naming the file. Thread-safe: an
/// instance holds only its limit.
/// </summary>
public sealed class ImageFileDecoder
{
    /// <summary>50 megapixels: well above any camera photo, and 150 MB of RGB bytes.</summary>
    public const long DefaultMaxPixels = 50_000_000;

    private static readonly Configuration Formats =
        new(new JpegConfigurationModule(), new PngConfigurationModule(), new BmpConfigurationModule());

    public ImageFileDecoder(long maxPixels = DefaultMaxPixels)
    {
        // The RGB bytes go into one array.
        long largest = Array.MaxLength / 3;
        if (maxPixels <= 0 || maxPixels > largest)
            throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, $"expected 1..{largest} pixels");
        MaxPixels = maxPixels;
    }

    public long MaxPixels { get; }

    public DecodedImage Decode(string path)
    {
        using var stream = File.OpenRead(path);
        return Decode(stream, path);
    }

    /// <param name="source">Names the data in error messages (usually the file path).</param>
    public DecodedImage Decode(Stream stream, string source)
    {
        if (!stream.CanSeek)
        {
            // Identify reads the header, then decoding starts over.
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        long start = stream.Position;
        var (width, height, format) = ReadHeader(stream, source);
        stream.Position = start;
        if (format == JpegFormat.Instance.Name)
        {
            if (!JpegEnd.HasEndAfterLastScan(stream))
                throw new ImageFileException(source, "the JPEG data is truncated (no end-of-image marker after the last scan)");
            stream.Position = start;
        }
        Image<Rgb24> image;
        try
        {
            image = Image.Load<Rgb24>(Formats, stream);
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            throw new ImageFileException(source, $"cannot decode the {format} image: {Describe(e)}", e);
        }
        using (image)
        {
            if (image.Width != width || image.Height != height)
                throw new ImageFileException(source, $"the {format} header says {width}×{height} but the image decodes to {image.Width}×{image.Height}");
            var pixels = new byte[checked(width * height * 3)];
            image.CopyPixelDataTo(pixels);
            return new DecodedImage(pixels, width, height, width * 3);
        }
    }

    private (int Width, int Height, string Format) ReadHeader(Stream stream, string source)
    {
        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(Formats, stream, out format);
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            throw new ImageFileException(source, $"cannot read the image header: {Describe(e)}", e);
        }
        if (info is null || format is null)
            throw new ImageFileException(source, "unsupported image format (JPEG, PNG and BMP are read)");
        long pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageFileException(source, $"the {format.Name} header gives an empty image ({info.Width}×{info.Height})");
        if (pixels > MaxPixels)
            throw new ImageFileException(source, string.Create(CultureInfo.InvariantCulture,
                $"the {format.Name} header gives {info.Width}×{info.Height} = {pixels:N0} pixels, over the limit of {MaxPixels:N0}"));
        return (info.Width, info.Height, format.Name);
    }

    /// <summary>
    /// Whether an exception thrown by ImageSharp's Identify or Load — the only code inside those try blocks — means
    /// the data is bad. ImageSharp reports most bad data as ImageFormatException, a BMP over 65535 pixels a side as
    /// InvalidOperationException, but on some corrupt files version 2.1.13 also fails with NullReferenceException,
    /// IndexOutOfRangeException, DivideByZeroException or ArgumentException (all found by fuzzing it, see
    /// ImageFuzzTests). So everything but running out of memory is a corrupt image; the original is the inner exception.
    /// </summary>
    private static bool IsDecodingFailure(Exception e) => e is not OutOfMemoryException;

    /// <summary>ImageSharp's own reports by their message; an internal failure names its type, since its message
    /// ("Object reference not set …") says nothing about the file.</summary>
    private static string Describe(Exception e) =>
        e is ImageFormatException or NotSupportedException or EndOfStreamException or InvalidDataException or InvalidOperationException
            ? e.Message
            : $"the data is corrupt (ImageSharp failed with {e.GetType().Name}: {e.Message})";
}
