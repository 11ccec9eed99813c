using System.Buffers.Binary;

namespace NanoPose.ImageSharp.Tests;

/// <summary>Image file pieces written byte by byte, for headers no encoder would produce.</summary>
internal static class HandMadeImages
{
    /// <summary>A 24-bit BMP file header and BITMAPINFOHEADER claiming the given size, with no pixel data.</summary>
    public static byte[] BmpHeader(int width, int height)
    {
        var header = new byte[54];
        "BM"u8.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(2), header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(10), 54);   // pixel data offset
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(14), 40);   // info header size
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(26), 1);    // planes
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(28), 24);   // bits per pixel
        return header;
    }

    /// <summary>PNG's chunk CRC (CRC-32, polynomial 0xEDB88320).</summary>
    public static uint PngCrc(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
