namespace NanoPose.ImageSharp.Tests;

public sealed class ImageFileEncoderTests : IDisposable
{
    private const int Width = 48, Height = 32, Stride = Width * 3 + 5;

    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-encoder-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A smooth gradient (JPEG keeps it well) with padding bytes between the rows.</summary>
    private static byte[] Pixels()
    {
        var rgb = new byte[Stride * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                (rgb[y * Stride + 3 * x], rgb[y * Stride + 3 * x + 1], rgb[y * Stride + 3 * x + 2]) = Pattern(x, y);
        return rgb;
    }

    private static (byte R, byte G, byte B) Pattern(int x, int y) => ((byte)(5 * x), (byte)(7 * y), (byte)(200 - 2 * x - 3 * y));

    private string[] FilesInFolder() => Directory.GetFileSystemEntries(_folder).Select(Path.GetFileName).ToArray()!;

    [Fact]
    public void PngRoundTripsExactly()
    {
        string path = Path.Combine(_folder, "out.png");
        File.WriteAllText(path, "an older file to replace");
        ImageFileEncoder.Save(path, Pixels(), Width, Height, Stride);
        var decoded = new ImageFileDecoder().Decode(path, TestContext.Current.CancellationToken);
        Assert.Equal((Width, Height), (decoded.Width, decoded.Height));
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int i = y * decoded.Stride + 3 * x;
                Assert.Equal(Pattern(x, y), (decoded.Pixels[i], decoded.Pixels[i + 1], decoded.Pixels[i + 2]));
            }
        Assert.Equal(["out.png"], FilesInFolder());   // no temporary file left
    }

    [Theory]
    [InlineData("out.jpg")]
    [InlineData("OUT.JPEG")]
    public void JpegRoundTripsClosely(string name)
    {
        string path = Path.Combine(_folder, name);
        ImageFileEncoder.Save(path, Pixels(), Width, Height, Stride);
        var decoded = new ImageFileDecoder().Decode(path, TestContext.Current.CancellationToken);
        Assert.Equal((Width, Height), (decoded.Width, decoded.Height));
        Assert.Equal([0xFF, 0xD8], File.ReadAllBytes(path)[..2]);   // a JPEG start-of-image marker, whatever the case of the name
        int worst = 0;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int i = y * decoded.Stride + 3 * x;
                var (r, g, b) = Pattern(x, y);
                worst = Math.Max(worst, new[] { decoded.Pixels[i] - r, decoded.Pixels[i + 1] - g, decoded.Pixels[i + 2] - b }.Max(Math.Abs));
            }
        Assert.InRange(worst, 0, 12);
    }

    [Theory]
    [InlineData("out.bmp", ".bmp")]
    [InlineData("out.gif", ".gif")]
    [InlineData("out", "")]
    public void OtherExtensionsAreRefusedNamingTheAllowedOnes(string name, string extension)
    {
        string path = Path.Combine(_folder, name);
        var error = Assert.Throws<ArgumentException>(() => ImageFileEncoder.Save(path, Pixels(), Width, Height, Stride));
        Assert.Contains($"unsupported extension '{extension}' (allowed: .png, .jpg, .jpeg)", error.Message);
        Assert.Empty(FilesInFolder());
    }

    [Fact]
    public void ShortBuffersAreRefusedBeforeWriting()
    {
        string path = Path.Combine(_folder, "out.png");
        var error = Assert.ThrowsAny<ArgumentException>(() => ImageFileEncoder.Save(path, Pixels()[..^10], Width, Height, Stride));
        Assert.Contains($"needs {Stride * (Height - 1) + Width * 3} bytes, found {Stride * Height - 10}", error.Message);
        error = Assert.ThrowsAny<ArgumentException>(() => ImageFileEncoder.Save(path, Pixels(), Width, Height, Width * 3 - 1));
        Assert.Contains($"at least {Width * 3} bytes", error.Message);
        Assert.Empty(FilesInFolder());
    }

    [Fact]
    public void AFailedWriteLeavesNothingBehind()
    {
        // The target is a folder: the image is encoded, but moving it into place fails.
        Directory.CreateDirectory(Path.Combine(_folder, "taken.png"));
        Assert.ThrowsAny<IOException>(() => ImageFileEncoder.Save(Path.Combine(_folder, "taken.png"), Pixels(), Width, Height, Stride));
        Assert.Equal(["taken.png"], FilesInFolder());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_folder, "taken.png")));
        // A missing folder: the error names it, and the original error is not masked by the clean-up.
        string missing = Path.Combine(_folder, "no-such-folder", "out.png");
        var error = Assert.Throws<DirectoryNotFoundException>(() => ImageFileEncoder.Save(missing, Pixels(), Width, Height, Stride));
        Assert.Contains(Path.Combine(_folder, "no-such-folder"), error.Message);
    }
}
