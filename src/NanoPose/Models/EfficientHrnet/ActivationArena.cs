using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// The activation buffers of one model. A run asks for its maps in the same order every time, so the arena hands
/// out the buffers of the previous run again, in order: after the first run at an input size nothing large is
/// allocated (fresh large arrays cost page faults and gen-2 collections, more than half of H0's run time). Every
/// map of a run gets its own buffer; buffers are not zeroed, as each map is written in full before it is read.
/// </summary>
internal sealed class ActivationArena
{
    private readonly List<float[]> _buffers = [];
    private int _next;

    /// <summary>Starts a run: the next request gets the first buffer again.</summary>
    public void Rewind() => _next = 0;

    public FeatureMap Allocate(Nhwc shape)
    {
        int length = shape.Height * shape.Width * shape.Channels;
        if (_next == _buffers.Count) _buffers.Add(GC.AllocateUninitializedArray<float>(length));
        else if (_buffers[_next].Length != length) _buffers[_next] = GC.AllocateUninitializedArray<float>(length);   // another input size
        return new FeatureMap(_buffers[_next++], 0, new Nhwc(shape.Height, shape.Width, shape.Channels));
    }
}
