namespace NanoPose.Kernels.Resize;

/// <summary>
/// One axis of a bilinear resize: the two input indices and weights for an output index, bit-identical to PyTorch 1.13
/// on float tensors (ATen <c>area_pixel_compute_scale</c>, <c>area_pixel_compute_source_index</c>,
/// <c>compute_source_index_and_lambda</c>; checked against torch 1.13.1 for every in 1..13, out 1..29, both modes):
/// <list type="bullet">
/// <item>align_corners: scale = (float)(in − 1) / (out − 1) (0 when out = 1), source = scale · dst;</item>
/// <item>otherwise: scale = (float)in / out, source = max(scale · (dst + 0.5) − 0.5, 0);</item>
/// <item>i0 = floor(source), i1 = min(i0 + 1, in − 1), w1 = (float)(source − i0), w0 = 1 − w1 in float;
/// in = out copies (w0 = 1).</item>
/// </list>
/// The scale is float32 but the source index is double: 1.13 computes it in <c>acc_type&lt;float&gt;</c> = double. An all-float
/// source changes about half the weights by an ulp or more (align_corners, 9 → 15, dst 7: double gives w1 = 1.8e-7,
/// float 0); later PyTorch versions compute it in float (opmath), so their last bits differ from 1.13's.
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
        double source = alignCorners ? (double)scale * destination : Math.Max((double)scale * (destination + 0.5) - 0.5, 0.0);
        index0 = (int)Math.Floor(source);
        index1 = index0 < inputSize - 1 ? index0 + 1 : index0;
        weight1 = (float)(source - index0);
        weight0 = 1f - weight1;
    }
}
