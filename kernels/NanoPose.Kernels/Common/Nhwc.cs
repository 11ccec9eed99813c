namespace NanoPose.Kernels.Common;

/// <summary>
/// Shape of one image in the engine's activation layout: channel-last (NHWC, batch handled by the caller).
/// Element (y, x, c) lives at <c>(y·Width + x)·PixelStride + c</c>. A <see cref="PixelStride"/> larger than
/// <see cref="Channels"/> views a channel slice of a wider tensor, so split and concat need no copy.
/// </summary>
public readonly record struct Nhwc(int Height, int Width, int Channels, int PixelStride)
{
    public Nhwc(int height, int width, int channels) : this(height, width, channels, channels) { }

    public int Pixels => Height * Width;

    public int Offset(int y, int x) => (y * Width + x) * PixelStride;

    /// <summary>Smallest span length that holds every element of this view.</summary>
    public int RequiredLength => Pixels == 0 || Channels == 0 ? 0 : (Pixels - 1) * PixelStride + Channels;

    /// <summary>Throws unless the shape is well formed and <paramref name="length"/> covers it.</summary>
    public void Validate(int length, string name)
    {
        if (Height < 0 || Width < 0 || Channels < 0 || PixelStride < Channels)
            throw new ArgumentException($"{name}: invalid NHWC view {this}.", name);
        if (length < RequiredLength)
            throw new ArgumentException($"{name}: span of {length} floats is shorter than the {RequiredLength} the view {this} needs.", name);
    }
}
