namespace NanoPose.ImageSharp;

/// <summary>Decoded pixels: rows of 8-bit RGB triplets, <see cref="Stride"/> bytes apart, top row first.</summary>
public sealed class DecodedImage(byte[] pixels, int width, int height, int stride)
{
    public byte[] Pixels { get; } = pixels;
    public int Width { get; } = width;
    public int Height { get; } = height;
    public int Stride { get; } = stride;
}
