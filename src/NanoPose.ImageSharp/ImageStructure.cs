using System.Buffers.Binary;
using System.Text;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;

namespace NanoPose.ImageSharp;

/// <summary>
/// Checks, before decoding, that an image file is whole and within the adapter's limits by walking its container
/// (markers, chunks, rows), never its pixels. ImageSharp, like libjpeg and libpng in their lenient modes, decodes a
/// file that stops early and fills the rest with grey or black; NanoPose refuses it instead, the same way for every
/// format, so a cut download is an error and not a picture with people missing.
/// </summary>
internal static class ImageStructure
{
    /// <summary>What is wrong with the file (starting "truncated" for a cut file), or null when it is whole.</summary>
    public static string? FindProblem(IImageFormat format, Stream stream, int maxJpegScans)
    {
        var reader = new ByteReader(stream);
        return format switch
        {
            JpegFormat => JpegProblem(reader, maxJpegScans),
            PngFormat => PngProblem(reader),
            BmpFormat => BmpProblem(reader),
            _ => null,
        };
    }

    /// <summary>
    /// Walks the JPEG's segments: each marker segment is skipped by its length, each scan's entropy-coded data byte by
    /// byte to the next marker (a data byte FF is stuffed as FF 00, restart markers FF D0–D7 belong to the scan).
    /// Markers inside an EXIF thumbnail are inside an APP segment and so skipped with it.
    /// </summary>
    private static string? JpegProblem(ByteReader reader, int maxScans)
    {
        const string Truncated = "the JPEG data is truncated (no end-of-image marker after the last scan)";
        if (reader.ReadByte() != 0xFF || reader.ReadByte() != 0xD8) return "not a JPEG file (no start-of-image marker)";
        int scans = 0;
        int marker = NextMarker(reader);
        while (true)
        {
            switch (marker)
            {
                case -1: return Truncated;
                case 0xD9: return null;   // end of image
                case 0x01 or (>= 0xD0 and <= 0xD7): marker = NextMarker(reader); continue;   // no length
            }
            int high = reader.ReadByte(), low = reader.ReadByte();
            if (low < 0) return Truncated;
            int length = high << 8 | low;
            if (length < 2) return $"the JPEG marker FF{marker:X2} at byte {reader.Position - 4} has an impossible length {length}";
            if (!reader.Skip(length - 2)) return Truncated;
            if (marker != 0xDA)
            {
                marker = NextMarker(reader);
                continue;
            }
            if (++scans > maxScans)
                return $"the JPEG has more than {maxScans} scans, the most allowed (each scan of a progressive JPEG revisits the whole image)";
            marker = EndOfEntropyData(reader);
        }
    }

    /// <summary>The next marker's code after optional fill bytes (FF FF …), or -1 at the end of the file.</summary>
    private static int NextMarker(ByteReader reader)
    {
        int b;
        do b = reader.ReadByte(); while (b is not (0xFF or -1));   // bytes outside a segment: skipped as decoders do
        while (b == 0xFF) b = reader.ReadByte();
        return b;
    }

    /// <summary>Reads entropy-coded data up to the marker that ends it; returns that marker's code, or -1 at the end.</summary>
    private static int EndOfEntropyData(ByteReader reader)
    {
        while (true)
        {
            int b = reader.ReadByte();
            if (b != 0xFF) { if (b < 0) return -1; continue; }
            do b = reader.ReadByte(); while (b == 0xFF);
            if (b is 0x00 or (>= 0xD0 and <= 0xD7)) continue;   // a stuffed data byte, or a restart marker
            return b;
        }
    }

    /// <summary>Walks the PNG's chunks by their lengths up to IEND.</summary>
    private static string? PngProblem(ByteReader reader)
    {
        if (!reader.Skip(8)) return "truncated: the PNG signature is incomplete";
        Span<byte> header = stackalloc byte[8];
        string previous = "signature";
        while (true)
        {
            long at = reader.Position;
            if (!reader.Read(header)) return $"truncated: the PNG file ends after its {previous}, before the IEND chunk";
            uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
            string type = ChunkType(header[4..]);
            if (length > int.MaxValue) return $"the PNG chunk {type} at byte {at} declares {length} bytes, more than PNG allows";
            if (type == "IEND") return reader.Skip(4) ? null : "truncated: the PNG file ends inside its IEND chunk";
            if (!reader.Skip(length + 4L)) return $"truncated: the PNG file ends inside the {type} chunk at byte {at} ({length} bytes of data declared)";
            previous = $"{type} chunk";
        }
    }

    private static string ChunkType(ReadOnlySpan<byte> type)
    {
        foreach (byte b in type)
            if (b is not ((>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z'))) return $"0x{Convert.ToHexString(type)}";
        return Encoding.ASCII.GetString(type);
    }

    /// <summary>
    /// A BMP must hold all its rows: for uncompressed pixels, the data offset plus |height| rows of the padded row size;
    /// for run-length encoded pixels, codes up to the end-of-bitmap marker or the last row.
    /// </summary>
    private static string? BmpProblem(ByteReader reader)
    {
        Span<byte> header = stackalloc byte[34];
        if (!reader.Read(header)) return "truncated: the BMP headers are incomplete";
        long dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[10..]);
        uint infoSize = BinaryPrimitives.ReadUInt32LittleEndian(header[14..]);
        long width, height;
        int bitsPerPixel;
        uint compression;
        if (infoSize == 12)   // OS/2 1.x BITMAPCOREHEADER
        {
            (width, height) = (BinaryPrimitives.ReadUInt16LittleEndian(header[18..]), BinaryPrimitives.ReadUInt16LittleEndian(header[20..]));
            (bitsPerPixel, compression) = (BinaryPrimitives.ReadUInt16LittleEndian(header[24..]), 0);
        }
        else
        {
            (width, height) = (BinaryPrimitives.ReadInt32LittleEndian(header[18..]), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(header[22..])));
            (bitsPerPixel, compression) = (BinaryPrimitives.ReadUInt16LittleEndian(header[28..]), BinaryPrimitives.ReadUInt32LittleEndian(header[30..]));
        }
        if (!reader.Skip(dataOffset - header.Length)) return $"truncated: the BMP file ends before its pixel data at byte {dataOffset}";
        const uint Rgb = 0, Rle8 = 1, Rle4 = 2, BitFields = 3, Rle24 = 4, AlphaBitFields = 6;
        switch (compression)
        {
            case Rgb or BitFields or AlphaBitFields when bitsPerPixel is 1 or 2 or 4 or 8 or 16 or 24 or 32:
                long rowBytes = (width * bitsPerPixel + 31) / 32 * 4;
                long needed = rowBytes * height;
                return reader.Skip(needed) ? null
                    : $"truncated: the BMP's {width}×{height} pixels at {bitsPerPixel} bits need {needed} bytes from byte {dataOffset}, the file ends first";
            case Rle8 or Rle4:
            case Rle24 when bitsPerPixel == 24:
                return RunLengthProblem(reader, height, compression switch { Rle8 => 8, Rle4 => 4, _ => 24 });
            default:
                return null;   // embedded JPEG/PNG, impossible bit depths and the rest: ImageSharp refuses them itself
        }
    }

    /// <summary>Walks BMP run-length codes: (count, value) runs, 00 00 end of line, 00 01 end of bitmap, 00 02 delta,
    /// 00 n an absolute run of n pixels padded to an even byte count.</summary>
    private static string? RunLengthProblem(ByteReader reader, long height, int bitsPerPixel)
    {
        const string Truncated = "truncated: the BMP's run-length data ends before its end-of-bitmap marker and before its last row";
        int valueBytes = bitsPerPixel == 24 ? 3 : 1;
        for (long rows = 0; rows < height;)
        {
            int count = reader.ReadByte();
            if (count < 0) return Truncated;
            if (count > 0)
            {
                if (!reader.Skip(valueBytes)) return Truncated;
                continue;
            }
            int code = reader.ReadByte();
            switch (code)
            {
                case -1: return Truncated;
                case 0: rows++; break;
                case 1: return null;
                case 2:
                    if (!reader.Skip(1)) return Truncated;
                    int down = reader.ReadByte();
                    if (down < 0) return Truncated;
                    rows += down;
                    break;
                default:
                    long bytes = bitsPerPixel switch { 4 => (code + 1) / 2, 8 => code, _ => 3L * code };
                    if (!reader.Skip(bytes + (bytes & 1))) return Truncated;
                    break;
            }
        }
        return null;
    }

    /// <summary>Buffered forward reading that knows its position.</summary>
    private sealed class ByteReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _next, _end;
        private readonly long _start = stream.Position;
        private long _consumed;   // bytes before _buffer[0]

        public long Position => _consumed + _next;

        public int ReadByte()
        {
            if (_next == _end && !Fill()) return -1;
            return _buffer[_next++];
        }

        public bool Read(Span<byte> destination)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                int b = ReadByte();
                if (b < 0) return false;
                destination[i] = (byte)b;
            }
            return true;
        }

        /// <summary>Skips <paramref name="count"/> bytes; false when the data ends first (or the count is negative).</summary>
        public bool Skip(long count)
        {
            if (count < 0) return false;
            long inBuffer = _end - _next;
            if (count <= inBuffer)
            {
                _next += (int)count;
                return true;
            }
            long target = Position + count;
            if (target > stream.Length - _start) return false;
            stream.Position = _start + target;
            (_consumed, _next, _end) = (target, 0, 0);
            return true;
        }

        private bool Fill()
        {
            _consumed += _end;
            (_next, _end) = (0, stream.Read(_buffer));
            return _end > 0;
        }
    }
}
