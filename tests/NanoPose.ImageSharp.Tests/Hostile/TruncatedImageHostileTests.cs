using NanoPose.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace NanoPose.ImageSharp.Tests.Hostile;

/// <summary>
/// Issue 15, class 18: a cut file is refused the same way in every format the adapter reads. ImageSharp decodes a
/// PNG or BMP that stops early with the missing rows filled in; the adapter must refuse every cut of seeded images
/// in many encodings (PNG colour types, bit depths and interlacing; BMP depths; baseline JPEGs) with an
/// <see cref="ImageFileException"/> naming the file.
/// </summary>
public class TruncatedImageHostileTests
{
    private const int Seed = 15_018;
    private const int CutsPerImage = 24;

    private static readonly (string Name, IImageEncoder Encoder)[] Encoders =
    [
        ("PNG RGB", new PngEncoder { ColorType = PngColorType.Rgb }),
        ("PNG RGBA 16-bit", new PngEncoder { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit16 }),
        ("PNG grey", new PngEncoder { ColorType = PngColorType.Grayscale }),
        ("PNG palette", new PngEncoder { ColorType = PngColorType.Palette }),
        ("PNG interlaced", new PngEncoder { ColorType = PngColorType.Rgb, InterlaceMethod = PngInterlaceMode.Adam7 }),
        ("BMP 24-bit", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }),
        ("BMP 32-bit", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel32 }),
        ("BMP 8-bit palette", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel8 }),
        ("BMP 16-bit", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel16 }),
        ("JPEG 4:2:0", new JpegEncoder { Quality = 80, ColorType = JpegColorType.YCbCrRatio420 }),
        ("JPEG 4:4:4", new JpegEncoder { Quality = 95, ColorType = JpegColorType.YCbCrRatio444 }),
    ];

    [Fact]
    public void EveryCutOfAnImageIsRefused()
    {
        var random = new Random(Seed);
        var decoder = new ImageFileDecoder(64 * 64);
        var family = new FuzzFamily("truncated images", Seed, typeof(ImageFileException))
        {
            AllowedAllocation = length => 16 * length + (4 << 20),
        };
        foreach (var (name, encoder) in Encoders)
            for (int sample = 0; sample < 3; sample++)
            {
                int width = 4 + random.Next(60), height = 4 + random.Next(60);
                byte[] whole = Encode(width, height, encoder, random.Next());
                Assert.Equal(width, decoder.Decode(new MemoryStream(whole), "whole", TestContext.Current.CancellationToken).Width);   // the uncut file is valid
                for (int c = 0; c < CutsPerImage; c++)
                {
                    // Half the cuts near the end, where a lenient decoder loses only the last rows.
                    int length = c % 2 == 0 ? random.Next(1, whole.Length) : whole.Length - 1 - random.Next(Math.Min(64, whole.Length - 1));
                    family.Run($"{name} {width}×{height} cut to {length} of {whole.Length} bytes", whole[..length],
                        bytes => decoder.Decode(new MemoryStream(bytes, writable: false), FuzzFamily.Source));
                }
            }
        family.Finish(Encoders.Length * 3 * CutsPerImage, TimeSpan.FromSeconds(10));
        Assert.Equal(family.Cases, family.Outcomes.GetValueOrDefault(nameof(ImageFileException)));
    }

    private static byte[] Encode(int width, int height, IImageEncoder encoder, int seed)
    {
        var random = new Random(seed);
        using var image = new Image<Rgba32>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgba32((byte)random.Next(256), (byte)(x * 4), (byte)(y * 4), (byte)(128 + random.Next(128)));
        var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
