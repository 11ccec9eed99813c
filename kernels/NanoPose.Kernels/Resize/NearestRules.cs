namespace NanoPose.Kernels.Resize;

/// <summary>Maps an output index on one axis to the input index a nearest-neighbour resize copies from.</summary>
internal interface INearestRule
{
    int Source(int destination);
}

/// <summary>Upsampling by an integer factor: source = destination / factor, exact in integers.</summary>
internal readonly struct IntegerFactorRule(int factor) : INearestRule
{
    public int Source(int destination) => destination / factor;
}

/// <summary>
/// PyTorch's legacy <c>mode='nearest'</c> for an explicit output size (ATen <c>nearest_neighbor_compute_source_index</c>):
/// scale = (float)in / out in float32, source = min(floor(destination · scale), in − 1), the product also in float32.
/// Float, not double, because that is what PyTorch computes for float tensors; in double a few sizes pick a different
/// pixel (e.g. in = 3, out = 9: 3f/9 rounds up, so destination 3 maps to 1 as in exact arithmetic).
/// </summary>
internal readonly struct LegacyNearestRule(int inputSize, int outputSize) : INearestRule
{
    readonly float scale = (float)inputSize / outputSize;

    public int Source(int destination) => Math.Min((int)MathF.Floor(destination * scale), inputSize - 1);
}
