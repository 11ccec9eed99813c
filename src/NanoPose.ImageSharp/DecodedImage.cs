namespace NanoPose.ImageSharp;

/// <summary>Decoded pixels: rows of 8-bit RGB triplets, <see cref="Stride"/> bytes apart, top row first.</summary>
public sealed class DecodedImage(byte[] pixels, int width, int height, int stride)
{
    /// <summary>The pixels: <see cref="Height"/> rows of <see cref="Width"/> (R, G, B) byte triplets.</summary>
    public byte[] Pixels { get; } = pixels;

    /// <summary>Pixels per row.</summary>
    public int Width { get; } = width;

    /// <summary>Rows.</summary>
    public int Height { get; } = height;

    /// <summary>Bytes from one row's start to the next's.</summary>
    public int Stride { get; } = stride;
}
