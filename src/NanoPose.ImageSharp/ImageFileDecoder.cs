using System.Globalization;
using NanoPose.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace NanoPose.ImageSharp;

/// <summary>
/// Decodes JPEG, PNG and BMP files to RGB8 pixels with ImageSharp; no other format is registered. Nothing in a file
/// is trusted:
/// <list type="bullet">
/// <item>only a regular file of at most <see cref="MaxFileBytes"/> is read (a FIFO, a device or a folder is refused by
/// name with an <see cref="InputFileException"/>);</item>
/// <item>the header is read first and an image whose width × height is zero or over <see cref="MaxPixels"/> is refused
/// before any pixel memory is allocated;</item>
/// <item>the file must be complete (<see cref="ImageStructure"/>: a JPEG ends after its last scan, a PNG reaches its
/// IEND chunk, a BMP holds every row), since ImageSharp fills the missing part of a cut file with grey or black;</item>
/// <item>a JPEG may have at most <see cref="MaxJpegScans"/> scans, since every scan of a progressive JPEG revisits the
/// whole image;</item>
/// <item>metadata (EXIF, ICC, XMP, PNG text) is never decoded: a few hundred kilobytes of compressed PNG text can
/// inflate to gigabytes;</item>
/// <item>decoding stops soon after its <see cref="CancellationToken"/> fires.</item>
/// </list>
/// Every refusal is an <see cref="ImageFileException"/> naming the file. Thread-safe: an instance holds only its limits.
/// </summary>
public sealed class ImageFileDecoder
{
    /// <summary>
    /// 50 megapixels: well above any camera photo. Decoding one at the limit holds its 150 MB of RGB bytes twice
    /// (ImageSharp's frame and the returned copy), and a JPEG's coefficients besides (2 bytes per sample): at most
    /// about 600 MB.
    /// </summary>
    public const long DefaultMaxPixels = 50_000_000;

    /// <summary>The largest image file read: 256 MiB, above a 50-megapixel uncompressed 24-bit BMP (150 MB).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>
    /// The most scans a JPEG may have. A baseline JPEG has one per component, libjpeg's progressive script 10, and
    /// the most any common encoder writes is under 20; a progressive decoder visits every block in every scan
    /// (about 1 ms a scan at 16 megapixels), so thousands of tiny scans made a 1.5 MB file take 23 s.
    /// </summary>
    public const int MaxJpegScans = 64;

    private static readonly Configuration Formats = CreateConfiguration();

    private static Configuration CreateConfiguration()
    {
        var configuration = new Configuration(new JpegConfigurationModule(), new PngConfigurationModule(), new BmpConfigurationModule());
        // Metadata is of no use here and is where the bombs are: ImageSharp 2.1.13 inflates every zTXt/iTXt chunk
        // unless told to ignore metadata.
        configuration.ImageFormatsManager.SetDecoder(JpegFormat.Instance, new JpegDecoder { IgnoreMetadata = true });
        configuration.ImageFormatsManager.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        return configuration;
    }

    /// <summary>A decoder that refuses images of more than <paramref name="maxPixels"/> pixels.</summary>
    public ImageFileDecoder(long maxPixels = DefaultMaxPixels)
    {
        // The RGB bytes go into one array.
        long largest = Array.MaxLength / 3;
        if (maxPixels <= 0 || maxPixels > largest)
            throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, $"expected 1..{largest} pixels");
        MaxPixels = maxPixels;
    }

    /// <summary>The largest image decoded (width × height); a larger one is refused from its header.</summary>
    public long MaxPixels { get; }

    /// <summary>Decodes the image file at <paramref name="path"/> to RGB8 pixels.</summary>
    /// <exception cref="InputFileException">The file cannot be read, is not a regular file, or is too large.</exception>
    /// <exception cref="ImageFileException">The file is not a whole JPEG, PNG or BMP within the limits.</exception>
    public DecodedImage Decode(string path, CancellationToken cancellationToken = default)
    {
        using var stream = InputFile.OpenRead(path, MaxFileBytes, "image");
        return Decode(stream, path, cancellationToken);
    }

    /// <summary>Decodes an image file's bytes, read from <paramref name="stream"/>, to RGB8 pixels.</summary>
    /// <param name="stream">The file's bytes (copied to memory first when the stream cannot seek).</param>
    /// <param name="source">Names the data in error messages (usually the file path).</param>
    /// <param name="cancellationToken">Stops the decoding soon after it fires.</param>
    /// <exception cref="ImageFileException">The data is not a whole JPEG, PNG or BMP within the limits.</exception>
    public DecodedImage Decode(Stream stream, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) stream = CopyToMemory(stream, source);   // the header and the structure are read before decoding
        cancellationToken.ThrowIfCancellationRequested();
        long start = stream.Position;
        var (width, height, format, decoder) = ReadHeader(stream, source, cancellationToken);
        stream.Position = start;
        string? problem = ImageStructure.FindProblem(format, stream, MaxJpegScans);
        if (problem is not null) throw new ImageFileException(source, problem);
        stream.Position = start;

        Image<Rgb24> image;
        try
        {
            image = DecodeCancellably(decoder, stream, cancellationToken);
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            throw new ImageFileException(source, $"cannot decode the {format.Name} image: {Describe(e)}", e);
        }
        using (image)
        {
            if (image.Width != width || image.Height != height)
                throw new ImageFileException(source, $"the {format.Name} header says {width}×{height} but the image decodes to {image.Width}×{image.Height}");
            var pixels = new byte[checked(width * height * 3)];
            image.CopyPixelDataTo(pixels);
            return new DecodedImage(pixels, width, height, width * 3);
        }
    }

    /// <summary>
    /// ImageSharp 2.1.13 takes a cancellation token but does not look at it while it decodes a JPEG's scans or turns
    /// its coefficients into pixels (a 50-megapixel progressive JPEG kept going for seconds after cancellation). So a
    /// cancellable decode runs on a pool thread and the caller stops waiting as soon as the token fires; the abandoned
    /// decode is bounded by the limits above, stops at its next read once the caller disposes the stream, and its
    /// image (if it finishes) is disposed.
    /// </summary>
    private static Image<Rgb24> DecodeCancellably(IImageDecoder decoder, Stream stream, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return decoder.Decode<Rgb24>(Formats, stream, cancellationToken);
        // A thread of its own (a busy thread pool must not delay it), and a wait on handles: Task.Wait would run a
        // task that has not started yet inline, on the waiting thread, where cancellation could not interrupt it.
        var decoding = Task.Factory.StartNew(() => decoder.Decode<Rgb24>(Formats, stream, cancellationToken),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        WaitHandle.WaitAny([((IAsyncResult)decoding).AsyncWaitHandle, cancellationToken.WaitHandle]);
        if (!decoding.IsCompleted)
        {
            decoding.ContinueWith(abandoned =>
            {
                if (abandoned.IsCompletedSuccessfully) abandoned.Result.Dispose();
                else _ = abandoned.Exception;   // observed: the caller has gone
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new OperationCanceledException(cancellationToken);
        }
        return decoding.GetAwaiter().GetResult();   // the decoder's own exception, not an AggregateException
    }

    /// <summary>A forward-only stream's bytes, up to <see cref="MaxFileBytes"/>.</summary>
    private static MemoryStream CopyToMemory(Stream stream, string source)
    {
        var copy = new MemoryStream();
        var buffer = new byte[1 << 16];
        for (int read; (read = stream.Read(buffer)) > 0;)
        {
            if (copy.Length + read > MaxFileBytes)
                throw new ImageFileException(source, $"holds more than {MaxFileBytes} bytes, the most an image file may hold");
            copy.Write(buffer, 0, read);
        }
        copy.Position = 0;
        return copy;
    }

    private (int Width, int Height, IImageFormat Format, IImageDecoder Decoder) ReadHeader(Stream stream, string source, CancellationToken cancellationToken)
    {
        IImageInfo? info;
        IImageFormat? format;
        IImageDecoder? decoder;
        try
        {
            long start = stream.Position;
            format = Image.DetectFormat(Formats, stream);
            stream.Position = start;
            decoder = format is null ? null : Formats.ImageFormatsManager.FindDecoder(format);
            info = decoder is IImageInfoDetector detector ? detector.Identify(Formats, stream, cancellationToken) : null;
        }
        catch (Exception e) when (IsDecodingFailure(e))
        {
            throw new ImageFileException(source, $"cannot read the image header: {Describe(e)}", e);
        }
        if (info is null || format is null || decoder is null)
            throw new ImageFileException(source, "unsupported image format (JPEG, PNG and BMP are read)");
        long pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageFileException(source, $"the {format.Name} header gives an empty image ({info.Width}×{info.Height})");
        if (pixels > MaxPixels)
            throw new ImageFileException(source, string.Create(CultureInfo.InvariantCulture,
                $"the {format.Name} header gives {info.Width}×{info.Height} = {pixels:N0} pixels, over the limit of {MaxPixels:N0}"));
        return (info.Width, info.Height, format, decoder);
    }

    /// <summary>
    /// Whether an exception thrown by ImageSharp's Identify or Decode — the only code inside those try blocks — means
    /// the data is bad. ImageSharp reports most bad data as ImageFormatException, a BMP over 65535 pixels a side as
    /// InvalidOperationException, but on some corrupt files version 2.1.13 also fails with NullReferenceException,
    /// IndexOutOfRangeException, DivideByZeroException or ArgumentException (all found by fuzzing it, see
    /// ImageFuzzTests). So everything but running out of memory and cancellation is a corrupt image; the original is
    /// the inner exception.
    /// </summary>
    private static bool IsDecodingFailure(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    /// <summary>ImageSharp's own reports by their message; an internal failure names its type, since its message
    /// ("Object reference not set …") says nothing about the file.</summary>
    private static string Describe(Exception e) =>
        e is ImageFormatException or NotSupportedException or EndOfStreamException or InvalidDataException or InvalidOperationException
            ? e.Message
            : $"the data is corrupt (ImageSharp failed with {e.GetType().Name}: {e.Message})";
}
