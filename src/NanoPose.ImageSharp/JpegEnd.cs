namespace NanoPose.ImageSharp;

/// <summary>
/// ImageSharp, like libjpeg, decodes a JPEG whose compressed data stops early and fills the rest with grey. A
/// complete file has an end-of-image marker (FF D9) after its last start-of-scan marker (FF DA): entropy-coded data
/// cannot hold either (a data byte FF is stuffed as FF 00), and markers inside an EXIF thumbnail come before the
/// main image's scans.
/// </summary>
internal static class JpegEnd
{
    public static bool HasEndAfterLastScan(Stream stream)
    {
        var buffer = new byte[64 * 1024];
        long position = 0, lastScan = -1, lastEnd = -1;
        bool afterFF = false;
        for (int read; (read = stream.Read(buffer)) > 0; position += read)
            for (int i = 0; i < read; i++)
            {
                byte b = buffer[i];
                if (afterFF && b == 0xDA) lastScan = position + i;
                else if (afterFF && b == 0xD9) lastEnd = position + i;
                afterFF = b == 0xFF;
            }
        return lastScan >= 0 && lastEnd > lastScan;
    }
}
