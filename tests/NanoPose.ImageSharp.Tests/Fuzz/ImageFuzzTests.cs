using System.Buffers.Binary;
using NanoPose.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace NanoPose.ImageSharp.Tests.Fuzz;

/// <summary>
/// Corrupt and hostile images through <see cref="ImageFileDecoder"/>: random mutations of small valid JPEG, PNG
/// and BMP files, truncation at every byte, headers claiming 100000×100000 or nothing, and formats that are not
/// enabled. Each case ends in a decoded image of the size its header gives or an <see cref="ImageFileException"/>
/// naming the file. Decoding legitimately expands the file (compression), so allocation is bounded by the decoder's
/// pixel limit instead: see <see cref="AllowedAllocation"/>.
/// </summary>
public class ImageFuzzTests
{
    private const int Seed = 9_081_726;
    private const int RandomCases = 10_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>The fuzzed decoder refuses headers over 64×64 pixels, so a mutated size field cannot make it allocate
    /// megabytes (the default 50-megapixel limit is tested in ImageFileDecoderTests).</summary>
    private const long MaxPixels = 64 * 64;

    private static readonly ImageFileDecoder Decoder = new(MaxPixels);

    /// <summary>ImageSharp's frame (4 bytes a pixel at most while decoding), its decoder state and our RGB copy: a
    /// fixed budget per allowed pixel on top of 16× the file and ImageSharp's per-call setup (Huffman and
    /// quantisation tables, zlib inflater, pooled buffers of its memory allocator on first use).</summary>
    private static long AllowedAllocation(long length) => 16 * length + 64 * MaxPixels + (2 << 20);

    private static byte[] Encode(Action<Image<Rgb24>, Stream> save, int width = 16, int height = 12)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)(15 * x), (byte)(20 * y), (byte)(x * y));
        var stream = new MemoryStream();
        save(image, stream);
        return stream.ToArray();
    }

    public static TheoryData<string> Formats => ["jpeg", "jpeg-420", "png", "bmp"];

    private static byte[] Sample(string format) => format switch
    {
        "jpeg" => Encode((image, s) => image.SaveAsJpeg(s, new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio444 })),
        "jpeg-420" => Encode((image, s) => image.SaveAsJpeg(s, new JpegEncoder { Quality = 75, ColorType = JpegColorType.YCbCrRatio420 })),
        "png" => Encode((image, s) => image.SaveAsPng(s)),
        _ => Encode((image, s) => image.SaveAsBmp(s)),
    };

    private static void Decode(byte[] bytes)
    {
        var image = Decoder.Decode(new MemoryStream(bytes, writable: false), FuzzFamily.Source);
        Assert.InRange((long)image.Width * image.Height, 1, MaxPixels);
        Assert.Equal(image.Height * image.Stride, image.Pixels.Length);
    }

    private static FuzzFamily Family(string name, int seed) =>
        new(name, seed, typeof(ImageFileException)) { AllowedAllocation = AllowedAllocation };

    [Theory]
    [MemberData(nameof(Formats))]
    public void RandomMutationsOfASmallValidImage(string format)
    {
        byte[] sample = Sample(format);
        Decode(sample);
        var family = Family($"{format} random mutations", Seed + format.Length);
        for (int i = 0; i < RandomCases; i++)
            family.Run($"{i}", Mutations.Mutate(sample, Mutations.CaseRandom(family.Seed, i)), Decode);
        family.Finish(RandomCases, Bound);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TruncationAtEveryByte(string format)
    {
        byte[] sample = Sample(format);
        var family = Family($"{format} truncations", Seed);
        // A cut JPEG loses its end-of-image marker: always refused. A PNG cut inside its final 12-byte IEND chunk
        // still holds every pixel and decodes; a cut before it is refused. A BMP has no end marker: ImageSharp fills
        // the missing rows, and only cuts inside the headers are refused.
        int mustRefuseBelow = format switch { "bmp" => 0, "png" => sample.Length - 12, _ => sample.Length };
        foreach (byte[] prefix in Mutations.Truncations(sample))
            family.Run($"cut at {prefix.Length}", prefix, bytes =>
            {
                if (bytes.Length < mustRefuseBelow) throw Assert.Throws<ImageFileException>(() => Decode(bytes));
                Decode(bytes);
            });
        family.Finish(sample.Length, Bound);
    }

    public static IEnumerable<(string Case, byte[] File, string Refusal)> HostileImages()
    {
        byte[] png = Sample("png");
        yield return ("PNG claiming 100000×100000", PngWithSize(png, 100_000, 100_000), "100000×100000 = 10,000,000,000 pixels, over the limit");
        yield return ("PNG claiming 0×12", PngWithSize(png, 0, 12), "");
        yield return ("PNG claiming 2^31−1 × 1", PngWithSize(png, int.MaxValue, 1), "");
        yield return ("BMP claiming 100000×100000", HandMadeImages.BmpHeader(100_000, 100_000), "");
        yield return ("BMP claiming 0×10", HandMadeImages.BmpHeader(0, 10), "");
        yield return ("BMP claiming −10×10", HandMadeImages.BmpHeader(-10, 10), "");
        byte[] jpeg = Sample("jpeg");
        yield return ("JPEG claiming 65535×65535", JpegWithSize(jpeg, 65535, 65535), "65535×65535 = 4,294,836,225 pixels, over the limit");
        yield return ("JPEG claiming 0×0", JpegWithSize(jpeg, 0, 0), "");
        yield return ("GIF", Encode((image, s) => image.SaveAsGif(s)), "unsupported image format");
        yield return ("TIFF", Encode((image, s) => image.SaveAsTiff(s)), "unsupported image format");
        yield return ("WebP signature", "RIFF\0\0\0\0WEBPVP8 "u8.ToArray(), "unsupported image format");
        yield return ("empty file", [], "unsupported image format");
        yield return ("JPEG markers only", [0xFF, 0xD8, 0xFF, 0xDA, 0xFF, 0xD9], "");
    }

    [Fact]
    public void HostileImagesAreRefusedNamingTheProblem()
    {
        var family = Family("hostile images", Seed);
        var wrong = new List<string>();
        foreach (var (name, file, refusal) in HostileImages())
            family.Run(name, file, bytes =>
            {
                var error = Assert.Throws<ImageFileException>(() => Decode(bytes));
                if (!error.Message.Contains(refusal, StringComparison.Ordinal)) wrong.Add($"{name}: '{error.Message}' does not say '{refusal}'");
                throw error;
            });
        family.Finish(10, Bound);
        Assert.Empty(wrong);
    }

    /// <summary>The PNG with its IHDR width and height replaced (and the chunk's CRC fixed).</summary>
    private static byte[] PngWithSize(byte[] png, int width, int height)
    {
        byte[] bytes = (byte[])png.Clone();
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), HandMadeImages.PngCrc(bytes.AsSpan(12, 17)));
        return bytes;
    }

    /// <summary>The JPEG with the size in its start-of-frame segment (FF C0/C2: length, precision, height, width) replaced.</summary>
    private static byte[] JpegWithSize(byte[] jpeg, int width, int height)
    {
        byte[] bytes = (byte[])jpeg.Clone();
        for (int i = 2; i + 9 < bytes.Length; i++)
            if (bytes[i] == 0xFF && bytes[i + 1] is 0xC0 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 7), (ushort)width);
                return bytes;
            }
        throw new InvalidOperationException("no start-of-frame marker");
    }
}
