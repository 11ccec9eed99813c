namespace NanoPose.Layers;

/// <summary>
/// Folds an inference-mode BatchNorm, y = (x − mean)/sqrt(var + eps)·gamma + beta, into the convolution before it:
/// w' = w·s, b' = (b − mean)·s + beta with s = gamma/sqrt(var + eps) per output channel. Done once at conversion.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>PyTorch's default BatchNorm epsilon, used by every BatchNorm of both model families.</summary>
    public const double Epsilon = 1e-5;

    public static ConvWeights Fold(ConvRequest request, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        double epsilon = Epsilon)
    {
        int outChannels = request.OutChannels;
        if (weight.Length != request.WeightLength) throw new ArgumentException($"{request.Name}: weight has {weight.Length} values, expected {request.WeightLength}");
        foreach (var (name, length) in new[] { ("gamma", gamma.Length), ("beta", beta.Length), ("mean", mean.Length), ("variance", variance.Length) })
            if (length != outChannels) throw new ArgumentException($"{request.BatchNorm}: {name} has {length} values, expected {outChannels}");
        if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException($"{request.Name}: bias has {bias.Length} values, expected {outChannels}");

        var folded = weight.ToArray();
        var foldedBias = new float[outChannels];
        int inner = request.KernelHeight * request.KernelWidth;
        for (int o = 0; o < outChannels; o++)
        {
            // Folding in double keeps the folded weights within an ulp of the exact product.
            double scale = gamma[o] / Math.Sqrt(variance[o] + epsilon);
            foldedBias[o] = (float)(((bias.IsEmpty ? 0.0 : bias[o]) - mean[o]) * scale + beta[o]);
            for (int i = 0; i < request.InChannelsPerGroup; i++)
            {
                // [out, in, kh, kw] or, transposed, [in, out, kh, kw].
                int start = request.Transposed ? (i * outChannels + o) * inner : (o * request.InChannelsPerGroup + i) * inner;
                for (int k = 0; k < inner; k++) folded[start + k] = (float)(folded[start + k] * scale);
            }
        }
        return new ConvWeights(folded, foldedBias);
    }
}
