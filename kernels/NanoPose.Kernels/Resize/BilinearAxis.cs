namespace NanoPose.Kernels.Resize;

/// <summary>
/// One axis of a bilinear resize: the two input indices and weights for an output index, as PyTorch computes them
/// for float tensors (ATen <c>area_pixel_compute_scale</c>, <c>area_pixel_compute_source_index</c>,
/// <c>compute_source_index_and_lambda</c>), all in float32 so the indices and weights are bit-identical to PyTorch's:
/// <list type="bullet">
/// <item>align_corners: scale = (float)(in − 1) / (out − 1) (0 when out = 1), source = scale · dst;</item>
/// <item>otherwise: scale = (float)in / out, source = max(scale · (dst + 0.5) − 0.5, 0);</item>
/// <item>i0 = floor(source), i1 = min(i0 + 1, in − 1), w1 = source − i0, w0 = 1 − w1; in = out copies (w0 = 1).</item>
/// </list>
/// i0 never passes in − 1: with align_corners the last source is in − 1 up to one rounding, otherwise it is below in − ½.
/// </summary>
internal readonly struct BilinearAxis
{
    readonly int inputSize;
    readonly bool identity, alignCorners;
    readonly float scale;

    public BilinearAxis(int inputSize, int outputSize, bool alignCorners)
    {
        this.inputSize = inputSize;
        this.alignCorners = alignCorners;
        identity = inputSize == outputSize;
        scale = !alignCorners ? (float)inputSize / outputSize
            : outputSize > 1 ? (float)(inputSize - 1) / (outputSize - 1)
            : 0f;
    }

    public void Source(int destination, out int index0, out int index1, out float weight0, out float weight1)
    {
        if (identity)
        {
            index0 = index1 = destination;
            weight0 = 1f;
            weight1 = 0f;
            return;
        }
        float source = alignCorners ? scale * destination : MathF.Max(scale * (destination + 0.5f) - 0.5f, 0f);
        index0 = (int)MathF.Floor(source);
        index1 = index0 < inputSize - 1 ? index0 + 1 : index0;
        weight1 = source - index0;
        weight0 = 1f - weight1;
    }
}
