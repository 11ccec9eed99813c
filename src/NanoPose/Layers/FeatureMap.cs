using NanoPose.Kernels.Common;

namespace NanoPose.Layers;

/// <summary>
/// One activation tensor of a network in the engine's layout (NHWC, one image): a buffer, an offset into it and
/// an <see cref="Nhwc"/> view. A channel slice (<see cref="Channels"/>) shares the buffer, so split and concat
/// cost nothing: a layer writes straight into its slice of the concatenated tensor. A map of an
/// <see cref="ActivationArena"/> gets its place in the arena's buffer once the arena has planned its memory.
/// </summary>
public sealed class FeatureMap
{
    private readonly TensorStorage _storage;
    private readonly int _offsetInStorage;

    public FeatureMap(float[] buffer, int offset, Nhwc shape)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0 || offset > buffer.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        shape.Validate(buffer.Length - offset, nameof(shape));
        (_storage, _offsetInStorage, Shape) = (new TensorStorage(null, buffer.Length - offset) { Buffer = buffer, Offset = offset }, 0, shape);
    }

    internal FeatureMap(TensorStorage storage, int offsetInStorage, Nhwc shape) =>
        (_storage, _offsetInStorage, Shape) = (storage, offsetInStorage, shape);

    public float[] Buffer => _storage.Buffer;
    public int Offset => _storage.Offset + _offsetInStorage;
    public Nhwc Shape { get; }

    /// <summary>The whole tensor this map views (a channel slice shares its parent's).</summary>
    internal TensorStorage Storage => _storage;
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
        return new FeatureMap(_storage, _offsetInStorage + start, Shape with { Channels = count });
    }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="end"/>) of this map (a part of a split operation).</summary>
    public Span<float> RowSpan(int start, int end, out Nhwc shape)
    {
        shape = Shape with { Height = end - start };
        return Buffer.AsSpan(Offset + start * Shape.Width * Shape.PixelStride, shape.RequiredLength);
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
        var result = new float[Height * Width * ChannelCount];
        CopyToNchw(result);
        return result;
    }

    /// <summary>Writes this map in NCHW order into <paramref name="nchw"/> (C × H × W floats).</summary>
    public void CopyToNchw(Span<float> nchw)
    {
        int plane = Height * Width;
        if (nchw.Length != plane * ChannelCount)
            throw new ArgumentException($"expected {ChannelCount}×{Height}×{Width} = {plane * ChannelCount} values, found {nchw.Length}", nameof(nchw));
        var span = Span;
        for (int c = 0; c < ChannelCount; c++)
            for (int p = 0; p < plane; p++)
                nchw[c * plane + p] = span[p * Shape.PixelStride + c];
    }
}

/// <summary>
/// The memory of one whole tensor: where it lives (<see cref="Buffer"/> from <see cref="Offset"/>, <see cref="Length"/>
/// floats) and, for a tensor of an <see cref="ActivationArena"/>, its first and last use in forward order.
/// </summary>
internal sealed class TensorStorage(ActivationArena? owner, int length)
{
    public ActivationArena? Owner { get; } = owner;
    public int Length { get; } = length;
    public float[] Buffer { get; set; } = [];
    public int Offset { get; set; }
    public int FirstUse { get; set; } = -1;
    public int LastUse { get; set; } = -1;
}
