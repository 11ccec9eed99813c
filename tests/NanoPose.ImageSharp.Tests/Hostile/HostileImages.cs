using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NanoPose.ImageSharp.Tests.Hostile;

/// <summary>Hostile image files built byte by byte: PNGs carrying compressed text bombs, progressive JPEGs with any
/// number of scans.</summary>
internal static class HostileImages
{
    /// <summary>A <paramref name="width"/> × <paramref name="height"/> RGB PNG of a seeded pattern, with
    /// <paramref name="extraChunks"/> (type, data) placed before or after its image data.</summary>
    public static byte[] Png(int width, int height, IEnumerable<(string Type, byte[] Data)> extraChunks, bool extrasAfterImageData)
    {
        var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;   // bit depth
        header[9] = 2;   // RGB
        WriteChunk(file, "IHDR", header);
        if (!extrasAfterImageData) foreach (var (type, data) in extraChunks) WriteChunk(file, type, data);
        var rows = new byte[height * (1 + width * 3)];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width * 3; x++)
                rows[y * (1 + width * 3) + 1 + x] = Pattern(x / 3, y, x % 3);
        WriteChunk(file, "IDAT", Zlib(rows));
        if (extrasAfterImageData) foreach (var (type, data) in extraChunks) WriteChunk(file, type, data);
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>The value of channel <paramref name="c"/> of pixel (x, y) in <see cref="Png"/>'s images.</summary>
    public static byte Pattern(int x, int y, int c) => (byte)(x * 7 + y * 13 + c * 50);

    /// <summary>A zTXt chunk's data: keyword, method 0, then zlib data inflating to <paramref name="textBytes"/> letters.</summary>
    public static byte[] CompressedText(int textBytes) => [.. "Comment"u8, 0, 0, .. ZlibOfLetters(textBytes)];

    /// <summary>An iTXt chunk's data: keyword, compressed flag 1, method 0, empty language and translated keyword.</summary>
    public static byte[] InternationalText(int textBytes) => [.. "Description"u8, 0, 1, 0, 0, 0, .. ZlibOfLetters(textBytes)];

    private static readonly Dictionary<int, byte[]> LetterCache = [];

    private static byte[] ZlibOfLetters(int count)
    {
        lock (LetterCache)
        {
            if (!LetterCache.TryGetValue(count, out var compressed))
            {
                var letters = new byte[count];
                letters.AsSpan().Fill((byte)'a');
                LetterCache[count] = compressed = Zlib(letters);
            }
            return compressed;
        }
    }

    private static byte[] Zlib(byte[] data)
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(data);
        return output.ToArray();
    }

    private static void WriteChunk(Stream file, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        file.Write(word);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        file.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, HandMadeImages.PngCrc(typeAndData));
        file.Write(word);
    }

    /// <summary>
    /// A progressive grayscale JPEG of <paramref name="width"/> × <paramref name="height"/>: one DC scan, then
    /// <paramref name="acScans"/> AC scans that each cover every block with end-of-band runs (a few bytes a scan, yet
    /// the decoder visits every block in each), then the end-of-image marker. The image decodes to flat grey.
    /// </summary>
    public static byte[] ProgressiveJpeg(int width, int height, int acScans)
    {
        var file = new MemoryStream();
        file.Write([0xFF, 0xD8]);
        Segment(file, 0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);   // quantisation table 0: all ones
        Segment(file, 0xC2, [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0]);
        // DC table 0: one code, "0", for difference category 0.
        Segment(file, 0xC4, [0x00, 1, .. new byte[15], 0x00]);
        // AC table 0: fifteen 4-bit codes, the k-th for EOBk (an end-of-band run of 2^k … 2^(k+1) − 1 blocks).
        Segment(file, 0xC4, [0x10, 0, 0, 0, 15, .. new byte[12], .. Enumerable.Range(0, 15).Select(k => (byte)(k << 4))]);
        long blocks = (long)((width + 7) / 8) * ((height + 7) / 8);

        Segment(file, 0xDA, [1, 1, 0x00, 0, 0, 0x00]);   // DC first scan
        var bits = new BitWriter(file);
        for (long b = 0; b < blocks; b++) bits.Write(0, 1);
        bits.Flush();
        for (int s = 0; s < acScans; s++)
        {
            Segment(file, 0xDA, [1, 1, 0x00, 1, 63, 0x00]);   // AC first scan, bands 1–63
            for (long left = blocks; left > 0;)
            {
                int run = (int)Math.Min(left, 32767);
                int k = 31 - int.LeadingZeroCount(run);
                bits.Write(k, 4);
                bits.Write(run - (1 << k), k);
                left -= run;
            }
            bits.Flush();
        }
        file.Write([0xFF, 0xD9]);
        return file.ToArray();
    }

    private static void Segment(Stream file, byte marker, byte[] payload)
    {
        file.Write([0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
        file.Write(payload);
    }

    /// <summary>Entropy-coded bits, most significant first, with 0xFF stuffed as FF 00 and 1-padding at the end.</summary>
    private sealed class BitWriter(Stream output)
    {
        private int _byte, _count;

        public void Write(int value, int bitCount)
        {
            for (int i = bitCount - 1; i >= 0; i--)
            {
                _byte = (_byte << 1) | ((value >> i) & 1);
                if (++_count == 8) Emit();
            }
        }

        public void Flush()
        {
            while (_count != 0) Write(1, 1);
        }

        private void Emit()
        {
            output.WriteByte((byte)_byte);
            if (_byte == 0xFF) output.WriteByte(0);
            (_byte, _count) = (0, 0);
        }
    }
}
