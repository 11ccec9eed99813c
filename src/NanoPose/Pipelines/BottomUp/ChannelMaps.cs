namespace NanoPose.Pipelines.BottomUp;

/// <summary>One network output for one image in NCHW order: <see cref="Channels"/> planes of <see cref="Height"/> × <see cref="Width"/>.</summary>
public sealed record ChannelMaps
{
    public ChannelMaps(float[] data, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (data.Length != (long)channels * height * width)
            throw new ArgumentException($"{channels}×{height}×{width} maps need {(long)channels * height * width} values, found {data.Length}", nameof(data));
        (Data, Channels, Height, Width) = (data, channels, height, width);
    }

    public float[] Data { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    public ReadOnlySpan<float> Plane(int channel) => Data.AsSpan(channel * Height * Width, Height * Width);
}

/// <summary>
/// EfficientHRNet's two outputs for one image (MODELS.md B.6): at a quarter of the input, joint heatmaps then one tag
/// map per joint; at half the input, joint heatmaps (possibly followed by tag maps, which testing ignores).
/// </summary>
public sealed record BottomUpOutputs(ChannelMaps Quarter, ChannelMaps Half);
