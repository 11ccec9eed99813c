namespace NanoPose.Layers;

/// <summary>
/// The activation buffers of one network instance, allocated while it is built and reused by every inference.
/// A buffer is named by its purpose and shape: asking twice for the same purpose and shape returns the same map,
/// so transient tensors of the same kind share memory across modules and stages. The caller keeps two tensors
/// that are alive at the same time under different purposes.
/// </summary>
public sealed class Workspace
{
    private readonly Dictionary<(string Purpose, int Height, int Width, int Channels), FeatureMap> _maps = [];

    public FeatureMap Map(string purpose, int height, int width, int channels)
    {
        var key = (purpose, height, width, channels);
        if (!_maps.TryGetValue(key, out var map)) _maps[key] = map = FeatureMap.Allocate(height, width, channels);
        return map;
    }

    /// <summary>Floats held by all buffers.</summary>
    public long Length => _maps.Values.Sum(m => (long)m.Buffer.Length);
}
