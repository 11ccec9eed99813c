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
/// Checked against torch 1.13.1 for every in 1..64, out 1..128. Float matters: 2f/82 rounds down, so destination 41
/// maps to 0 where double or exact arithmetic give 1 (177 such mismatches over that grid for a double scale).
/// </summary>
internal readonly struct LegacyNearestRule(int inputSize, int outputSize) : INearestRule
{
    readonly float scale = (float)inputSize / outputSize;

    public int Source(int destination) => Math.Min((int)MathF.Floor(destination * scale), inputSize - 1);
}
