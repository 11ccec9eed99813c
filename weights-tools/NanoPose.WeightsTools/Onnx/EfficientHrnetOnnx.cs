using NanoPose.Models.EfficientHrnet;

namespace NanoPose.WeightsTools.Onnx;

/// <summary>
/// EfficientHRNet H0 … H−4 as an ONNX graph, written from MODELS.md B: the scaled EfficientNet (B.3, static
/// asymmetric "same" padding, Swish, squeeze-excite), the transitions (B.4), the HRNet stages with the standard fuse
/// (B.5) and the heatmap network (B.6). Outputs: <c>heatmaps_and_tags</c> 1 × 34 × H/4 × W/4 and <c>heatmaps</c>
/// 1 × K × H/2 × W/2.
/// </summary>
internal static class EfficientHrnetOnnx
{
    /// <summary>The 0-based B0 stages whose last block feeds HRNet branches 1–4: stages 2, 3, 5 and 7 (strides 4 … 32).</summary>
    private static readonly int[] TapStages = [1, 2, 4, 6];

    public static void Build(OnnxGraph g, EfficientHrnetConfig config, int height, int width)
    {
        var image = g.Input("image", 3, height, width);
        var taps = Backbone(g, config, image);
        var c = config.BranchChannels;
        var x = new List<OnnxValue>();
        for (int s = 0; s < 3; s++)
        {
            // Stage s + 2 has s + 2 branches: the previous ones re-projected, and a new one from the next tap.
            var previous = x;
            x = [.. Enumerable.Range(0, s + 2).Select(k =>
            {
                var source = s == 0 ? taps[k] : k < previous.Count ? previous[k] : taps[s + 1];
                return g.Relu(g.Conv(source, $"trans{s + 1}_branch{k + 1}.0", c[k], kernel: 3));
            })];
            int modules = config.StageModules[s];
            for (int m = 0; m < modules; m++)
                x = HrnetModule(g, $"stage{s + 2}.{m}", x, outputs: s == 2 && m == modules - 1 ? 1 : x.Count);
        }

        var features = x[0];
        var quarter = g.Conv(features, "final_layers.0", EfficientHrnetConfig.HeatmapAndTagChannels);
        var y = g.Relu(g.ConvTranspose(g.Concat(features, quarter), "deconv_layers.0.0.0", config.DeconvChannels, kernel: 4, stride: 2, padding: 1));
        for (int b = 1; b <= 2; b++) y = BasicBlock(g, $"deconv_layers.0.{b}.0", y);
        g.Output(quarter, "heatmaps_and_tags");
        g.Output(g.Conv(y, "final_layers.1", config.FinalChannels), "heatmaps");
    }

    /// <summary>ZeroPad2d before an unpadded conv: total max(k − s, 0) per axis, the smaller half on top/left.</summary>
    private static ConvPadding Same(int kernel, int stride)
    {
        int total = Math.Max(kernel - stride, 0);
        return new ConvPadding(total / 2, total / 2, total - total / 2, total - total / 2);
    }

    private static OnnxValue[] Backbone(OnnxGraph g, EfficientHrnetConfig config, OnnxValue image)
    {
        var x = g.Silu(g.Conv(image, "features.0.1", config.StemChannels, kernel: 3, stride: 2, Same(3, 2)));
        var taps = new List<OnnxValue>();
        int block = 1;
        for (int stage = 0; stage < EfficientHrnetConfig.B0Stages.Count; stage++)
        {
            var (expand, _, _, firstStride, kernel) = EfficientHrnetConfig.B0Stages[stage];
            for (int r = 0; r < config.StageRepeats[stage]; r++)
                x = MBConv(g, $"features.{block++}.conv", x, config.StageChannels[stage], expand, kernel, r == 0 ? firstStride : 1);
            if (TapStages.Contains(stage)) taps.Add(x);
        }
        return [.. taps];
    }

    /// <summary>[1×1 expand + Swish] → k×k depthwise + Swish → squeeze-excite → 1×1 projection, plus the input when the
    /// block keeps width and resolution. Children of <c>.conv</c> are numbered in that order; a unit's conv is <c>.1</c>.</summary>
    private static OnnxValue MBConv(OnnxGraph g, string prefix, OnnxValue input, int outChannels, int expand, int kernel, int stride)
    {
        int index = 0, hidden = input.Channels * expand;
        var x = input;
        if (expand != 1) x = g.Silu(g.Conv(x, $"{prefix}.{index++}.1", hidden));
        x = g.Silu(g.Conv(x, $"{prefix}.{index++}.1", hidden, kernel, stride, Same(kernel, stride), groups: hidden));

        string se = $"{prefix}.{index++}.se";
        var squeezed = g.Silu(g.Conv(g.GlobalAveragePool(x), se + ".1", Math.Max(1, input.Channels / 4)));
        x = g.Mul(x, g.Sigmoid(g.Conv(squeezed, se + ".3", hidden)));

        x = g.Conv(x, $"{prefix}.{index}", outChannels);
        return input.Channels == outChannels && stride == 1 ? g.Add(x, input) : x;
    }

    /// <summary>relu(conv2(relu(conv1(x))) + x), 3×3 convs.</summary>
    private static OnnxValue BasicBlock(OnnxGraph g, string prefix, OnnxValue x)
    {
        var y = g.Relu(g.Conv(x, prefix + ".conv1", x.Channels, kernel: 3));
        return g.Relu(g.Add(g.Conv(y, prefix + ".conv2", x.Channels, kernel: 3), x));
    }

    /// <summary>Two BasicBlocks per branch, then y_i = relu(Σ_j F_ij(x_j)) for the first <paramref name="outputs"/> branches.</summary>
    private static List<OnnxValue> HrnetModule(OnnxGraph g, string prefix, List<OnnxValue> inputs, int outputs)
    {
        var x = inputs.Select((v, k) => BasicBlock(g, $"{prefix}.branches.{k}.1", BasicBlock(g, $"{prefix}.branches.{k}.0", v))).ToList();
        var fused = new List<OnnxValue>();
        for (int i = 0; i < outputs; i++)
        {
            OnnxValue? sum = null;
            for (int j = 0; j < x.Count; j++)
            {
                var term = j == i ? x[i] : FuseTerm(g, $"{prefix}.fuse_layers.{i}.{j}", i, j, x[j], x[i]);
                sum = sum is { } s ? g.Add(s, term) : term;
            }
            fused.Add(g.Relu(sum!.Value));
        }
        return fused;
    }

    /// <summary>F_ij (branch j brought to branch i's <paramref name="target"/>): for j &gt; i a 1×1 conv then nearest
    /// upsampling ×2^(j−i); for j &lt; i, i − j stride-2 3×3 convs, ReLU between them, the last changing the width.</summary>
    private static OnnxValue FuseTerm(OnnxGraph g, string prefix, int i, int j, OnnxValue x, OnnxValue target)
    {
        if (j > i) return g.ResizeNearest(g.Conv(x, prefix + ".0", target.Channels), target.Height, target.Width);
        for (int t = 0; t < i - j; t++)
        {
            bool last = t == i - j - 1;
            x = g.Conv(x, $"{prefix}.{t}.0", last ? target.Channels : x.Channels, kernel: 3, stride: 2);
            if (!last) x = g.Relu(x);
        }
        return x;
    }
}
