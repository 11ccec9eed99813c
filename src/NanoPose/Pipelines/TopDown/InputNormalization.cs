namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// mmpose 0.x's <c>ToTensor</c> then <c>NormalizeTensor</c>: each 8-bit value v becomes (v/255 − mean)/std, channel
/// by channel, laid out as the network's NCHW input. Rounding as the golden inputs were made (v/255 in float32, the
/// rest in double, then float32), which reproduces them bit for bit; torchvision's all-float32 arithmetic differs from
/// it by at most one ulp.
/// </summary>
public sealed class InputNormalization
{
    /// <summary>ImageNet mean and std (RGB), as every COCO top-down config uses (MODELS.md A.12).</summary>
    public static InputNormalization ImageNet { get; } = new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);

    // One 256-entry table per channel: the float32 result of each byte, computed once.
    private readonly float[][] _tables;

    public InputNormalization(ReadOnlySpan<double> mean, ReadOnlySpan<double> std)
    {
        if (mean.Length != 3 || std.Length != 3) throw new ArgumentException($"expected 3 means and 3 stds (RGB), found {mean.Length} and {std.Length}");
        _tables = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            if (!(std[c] > 0) || !double.IsFinite(std[c]) || !double.IsFinite(mean[c])) throw new ArgumentException($"channel {c}: mean {mean[c]}, std {std[c]} (std must be positive)");
            _tables[c] = new float[256];
            for (int v = 0; v < 256; v++) _tables[c][v] = (float)((v / 255f - mean[c]) / std[c]);
        }
    }

    /// <summary>Normalises a tightly packed RGB image (height × width × 3 bytes) into 3 × height × width floats.</summary>
    public void ToNchw(ReadOnlySpan<byte> rgb, int width, int height, Span<float> nchw)
    {
        int plane = width * height;
        if (rgb.Length != plane * 3) throw new ArgumentException($"a {width}×{height} RGB image has {plane * 3} bytes, found {rgb.Length}", nameof(rgb));
        if (nchw.Length != plane * 3) throw new ArgumentException($"the 3×{height}×{width} tensor has {plane * 3} values, found {nchw.Length}", nameof(nchw));
        for (int c = 0; c < 3; c++)
        {
            var table = _tables[c];
            var output = nchw.Slice(c * plane, plane);
            for (int p = 0; p < plane; p++) output[p] = table[rgb[p * 3 + c]];
        }
    }
}
