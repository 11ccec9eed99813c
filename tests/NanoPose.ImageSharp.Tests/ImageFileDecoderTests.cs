using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace NanoPose.ImageSharp.Tests;

public class ImageFileDecoderTests
{
    private const int Width = 7, Height = 5;

    /// <summary>A small image whose every pixel differs, encoded by ImageSharp in the given format.</summary>
    private static byte[] Encode(Action<Image<Rgb24>, Stream> save, int width = Width, int height = Height)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = Pattern(x, y);
        var stream = new MemoryStream();
        save(image, stream);
        return stream.ToArray();
    }

    private static Rgb24 Pattern(int x, int y) => new((byte)(30 * x), (byte)(40 * y), (byte)(200 - 10 * x - 7 * y));

    private static DecodedImage Decode(byte[] bytes, string name = "test.img", long maxPixels = ImageFileDecoder.DefaultMaxPixels) =>
        new ImageFileDecoder(maxPixels).Decode(new MemoryStream(bytes), name);

    private static void AssertPixelsExact(DecodedImage decoded)
    {
        Assert.Equal((Width, Height, Width * 3), (decoded.Width, decoded.Height, decoded.Stride));
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                var expected = Pattern(x, y);
                int i = y * decoded.Stride + 3 * x;
                Assert.Equal((expected.R, expected.G, expected.B), (decoded.Pixels[i], decoded.Pixels[i + 1], decoded.Pixels[i + 2]));
            }
    }

    [Fact]
    public void PngDecodesToTheExactRgbPixels() => AssertPixelsExact(Decode(Encode((image, s) => image.SaveAsPng(s))));

    [Fact]
    public void BmpDecodesToTheExactRgbPixels() => AssertPixelsExact(Decode(Encode((image, s) => image.SaveAsBmp(s))));

    [Fact]
    public void JpegDecodesCloseToTheEncodedPixels()
    {
        var decoded = Decode(Encode((image, s) => image.SaveAsJpeg(s, new JpegEncoder { Quality = 100 }), 32, 24));
        Assert.Equal((32, 24, 96), (decoded.Width, decoded.Height, decoded.Stride));
        // Lossy (and chroma-subsampled): only near the original, and still in RGB order.
        var pixel = Pattern(10, 4);
        int i = 4 * decoded.Stride + 3 * 10;
        Assert.InRange(Math.Abs(decoded.Pixels[i] - pixel.R), 0, 12);
        Assert.InRange(Math.Abs(decoded.Pixels[i + 1] - pixel.G), 0, 12);
        Assert.InRange(Math.Abs(decoded.Pixels[i + 2] - pixel.B), 0, 12);
    }

    [Fact]
    public void ReadsFilesAndNonSeekableStreams()
    {
        byte[] png = Encode((image, s) => image.SaveAsPng(s));
        string path = Path.Combine(Path.GetTempPath(), $"nanopose-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, png);
        try { AssertPixelsExact(new ImageFileDecoder().Decode(path, TestContext.Current.CancellationToken)); }
        finally { File.Delete(path); }
        AssertPixelsExact(new ImageFileDecoder().Decode(new ForwardOnlyStream(png), "pipe", TestContext.Current.CancellationToken));
    }

    [Fact]
    public void TruncatedJpegIsRefusedNamingTheFile()
    {
        byte[] jpeg = Encode((image, s) => image.SaveAsJpeg(s), 64, 48);
        var error = Assert.Throws<ImageFileException>(() => Decode(jpeg[..(jpeg.Length / 2)], "cut.jpg"));
        Assert.Equal("cut.jpg: the JPEG data is truncated (no end-of-image marker after the last scan)", error.Message);
        Assert.Equal("cut.jpg", error.File);
    }

    [Fact]
    public void HeaderOnlyPngIsRefused()
    {
        byte[] png = Encode((image, s) => image.SaveAsPng(s));
        var error = Assert.Throws<ImageFileException>(() => Decode(png[..40], "short.png"));
        Assert.StartsWith("short.png: ", error.Message);
    }

    [Fact]
    public void GifAndTiffAreRefusedAsUnsupported()
    {
        foreach (var (name, bytes) in new[]
                 {
                     ("a.gif", Encode((image, s) => image.SaveAsGif(s))),
                     ("a.tiff", Encode((image, s) => image.SaveAsTiff(s))),
                     ("a.txt", "not an image"u8.ToArray()),
                     ("empty", Array.Empty<byte>()),
                 })
        {
            var error = Assert.Throws<ImageFileException>(() => Decode(bytes, name));
            Assert.Equal($"{name}: unsupported image format (JPEG, PNG and BMP are read)", error.Message);
        }
    }

    [Fact]
    public void HugeSizeInTheHeaderIsRefusedBeforeDecoding()
    {
        // 60000 × 60000 claimed by a 54-byte BMP: refused from the header, nothing allocated for the pixels.
        var error = Assert.Throws<ImageFileException>(() => Decode(HandMadeImages.BmpHeader(60_000, 60_000), "huge.bmp"));
        Assert.Equal("huge.bmp: the BMP header gives 60000×60000 = 3,600,000,000 pixels, over the limit of 50,000,000", error.Message);
        // Past what ImageSharp's BMP reader accepts at all (65535 a side): still refused naming the file.
        error = Assert.Throws<ImageFileException>(() => Decode(HandMadeImages.BmpHeader(100_000, 100_000), "huger.bmp"));
        Assert.StartsWith("huger.bmp: ", error.Message);
    }

    [Fact]
    public void HugeSizeInAPngHeaderIsRefused()
    {
        byte[] png = Encode((image, s) => image.SaveAsPng(s));
        // IHDR's data starts at byte 16: width, height (big-endian), then its CRC at 29 over bytes 12..28.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 60_000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 60_000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), HandMadeImages.PngCrc(png.AsSpan(12, 17)));
        var error = Assert.Throws<ImageFileException>(() => Decode(png, "huge.png"));
        Assert.Contains("60000×60000", error.Message);
        Assert.Contains("over the limit", error.Message);
    }

    [Fact]
    public void TheLimitIsConfigurable()
    {
        byte[] png = Encode((image, s) => image.SaveAsPng(s));
        AssertPixelsExact(Decode(png, maxPixels: Width * Height));
        var error = Assert.Throws<ImageFileException>(() => Decode(png, "small.png", maxPixels: Width * Height - 1));
        Assert.Equal("small.png: the PNG header gives 7×5 = 35 pixels, over the limit of 34", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageFileDecoder(0));
    }

    [Fact]
    public void ZeroSizeInTheHeaderIsRefused()
    {
        var error = Assert.Throws<ImageFileException>(() => Decode(HandMadeImages.BmpHeader(0, 10), "empty.bmp"));
        Assert.StartsWith("empty.bmp: ", error.Message);
    }

    /// <summary>Files found by ImageFuzzTests on which ImageSharp 2.1.13 fails with an internal exception.</summary>
    [Theory]
    [InlineData("jpeg.jpg", "/9j/4AAQSkZJRgABAQEAYABgAAADAg==", typeof(NullReferenceException))]
    [InlineData("png.png", "iVBORw0KGgoAAAANSUhEUgAAABAAAAAMCAIAAADkharWAAAACXBIWXMAAA7EAA==", typeof(ArgumentOutOfRangeException))]
    [InlineData("png.png", "iVBORw0KGgoAAAANSUhEUgAAABAAAAAMCAIAAADkharWAAAACXBIWXMAAA7EAAAOxA==", typeof(IndexOutOfRangeException))]
    [InlineData("bmp.bmp", "Qk12AgAAAAAAADYAAAAoAAAAEAAAAAwAAAABABj+AAAAAEACAADEDgAAxA4AAAAAAAAAAAAAANwAC9wPFtweIdwtLNw8N9xLQtxaTdxpWNx4Y9yHbtyWedylhNy0j9zDmtzSpdzhAMgACsgPFMgeHsgtKMg8MshLPMhaRv//AAAA", typeof(DivideByZeroException))]
    public void ImageSharpsInternalFailuresOnCorruptFilesAreReportedAsCorruptImages(string name, string base64, Type internalFailure)
    {
        var error = Assert.Throws<ImageFileException>(() => Decode(Convert.FromBase64String(base64), name));
        Assert.StartsWith($"{name}: ", error.Message);
        Assert.Contains($"the data is corrupt (ImageSharp failed with {internalFailure.Name}", error.Message);
        Assert.IsType(internalFailure, error.InnerException);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        var error = Assert.ThrowsAny<IOException>(() => new ImageFileDecoder().Decode("/nonexistent/x.jpg", TestContext.Current.CancellationToken));
        Assert.Contains("/nonexistent/x.jpg", error.Message);
    }

    /// <summary>A stream that cannot seek, like a pipe.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
