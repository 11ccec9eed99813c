using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace NanoPose.ImageSharp;

/// <summary>
/// Writes RGB8 pixels to a PNG or JPEG file (chosen by the extension) with ImageSharp. The image goes to a temporary
/// file in the same folder that is then renamed over the target, so a failed write leaves no partial file behind.
/// </summary>
public static class ImageFileEncoder
{
    /// <summary>The quality JPEG files are written at (0–100).</summary>
    public const int JpegQuality = 90;

    /// <summary>Writes the pixels to <paramref name="path"/>, a PNG or JPEG file by its extension.</summary>
    /// <param name="path">The file written: <c>.png</c>, <c>.jpg</c> or <c>.jpeg</c>.</param>
    /// <param name="width">Pixels per row.</param>
    /// <param name="height">Rows.</param>
    /// <param name="stride">Bytes from one row's start to the next's (at least 3 × <paramref name="width"/>).</param>
    /// <param name="rgb"><paramref name="height"/> rows of <paramref name="width"/> (R, G, B) pixels,
    /// <paramref name="stride"/> bytes apart.</param>
    public static void Save(string path, ReadOnlySpan<byte> rgb, int width, int height, int stride)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var encoder = EncoderFor(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int rowBytes = checked(width * 3);
        if (stride < rowBytes) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"a row of {width} RGB pixels needs a stride of at least {rowBytes} bytes");
        long needed = (long)(height - 1) * stride + rowBytes;
        if (rgb.Length < needed)
            throw new ArgumentException($"a {width}×{height} RGB image with stride {stride} needs {needed} bytes, found {rgb.Length}", nameof(rgb));

        using var image = Image.LoadPixelData<Rgb24>(Packed(rgb, height, stride, rowBytes), width, height);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                image.Save(stream, encoder);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);   // the write or the move failed
        }
    }

    private static IImageEncoder EncoderFor(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => new PngEncoder(),
        ".jpg" or ".jpeg" => new JpegEncoder { Quality = JpegQuality },
        var extension => throw new ArgumentException(
            $"cannot write '{path}': unsupported extension '{extension}' (allowed: .png, .jpg, .jpeg)", nameof(path)),
    };

    /// <summary>The rows without the padding between them (ImageSharp takes tightly packed pixels).</summary>
    private static ReadOnlySpan<byte> Packed(ReadOnlySpan<byte> rgb, int height, int stride, int rowBytes)
    {
        if (stride == rowBytes) return rgb[..(height * rowBytes)];
        var packed = new byte[checked(height * rowBytes)];
        for (int y = 0; y < height; y++)
            rgb.Slice(y * stride, rowBytes).CopyTo(packed.AsSpan(y * rowBytes));
        return packed;
    }
}
