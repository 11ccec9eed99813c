using NanoPose.Kernels.Common;

namespace NanoPose.Layers;

/// <summary>
/// One activation tensor of a network in the engine's layout (NHWC, one image): a buffer, an offset into it and
/// an <see cref="Nhwc"/> view. A channel slice (<see cref="Channels"/>) shares the buffer, so split and concat
/// cost nothing: a layer writes straight into its slice of the concatenated tensor.
/// </summary>
public sealed class FeatureMap
{
    public FeatureMap(float[] buffer, int offset, Nhwc shape)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0 || offset > buffer.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        shape.Validate(buffer.Length - offset, nameof(shape));
        (Buffer, Offset, Shape) = (buffer, offset, shape);
    }

    public float[] Buffer { get; }
    public int Offset { get; }
    public Nhwc Shape { get; }
    public int Height => Shape.Height;
    public int Width => Shape.Width;
    public int ChannelCount => Shape.Channels;

    public Span<float> Span => Buffer.AsSpan(Offset, Shape.RequiredLength);

    public static FeatureMap Allocate(int height, int width, int channels) =>
        new(new float[height * width * channels], 0, new Nhwc(height, width, channels));

    /// <summary>Channels [start, start + count) of this map, sharing its memory.</summary>
    public FeatureMap Channels(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Shape.Channels)
            throw new ArgumentOutOfRangeException(nameof(count), $"channels [{start}, {start + count}) are outside the map's {Shape.Channels}");
        return new FeatureMap(Buffer, Offset + start, Shape with { Channels = count });
    }

    /// <summary>Copies an NCHW image (the layout of .npy arrays and PyTorch) into this map.</summary>
    public void CopyFromNchw(ReadOnlySpan<float> nchw)
    {
        int plane = Height * Width;
        if (nchw.Length != plane * ChannelCount)
            throw new ArgumentException($"expected {ChannelCount}×{Height}×{Width} = {plane * ChannelCount} values, found {nchw.Length}", nameof(nchw));
        var span = Span;
        for (int c = 0; c < ChannelCount; c++)
            for (int p = 0; p < plane; p++)
                span[p * Shape.PixelStride + c] = nchw[c * plane + p];
    }

    /// <summary>This map in NCHW order (for .npy output and comparison with PyTorch).</summary>
    public float[] ToNchw()
    {
        int plane = Height * Width;
        var result = new float[plane * ChannelCount];
        var span = Span;
        for (int c = 0; c < ChannelCount; c++)
            for (int p = 0; p < plane; p++)
                result[c * plane + p] = span[p * Shape.PixelStride + c];
        return result;
    }
}
