using NanoPose.Models.LiteHrnet;

namespace NanoPose.WeightsTools.Onnx;

/// <summary>
/// Lite-HRNet and (wider) Naive Lite-HRNet as an ONNX graph, written from MODELS.md A: stem (A.3), per stage a
/// transition (A.4) and modules of LITE (A.5) or NAIVE (A.6) blocks ending in the fuse layers with the reference's
/// branch-0 quirk (A.7), the iterative head (A.8) and the 1×1 final layer (A.9). Output: heatmaps 1 × K × H/4 × W/4.
/// </summary>
internal static class LiteHrnetOnnx
{
    public static void Build(OnnxGraph g, LiteHrnetConfig config, int height, int width)
    {
        var image = g.Input("image", 3, height, width);
        List<OnnxValue> branches = [Stem(g, config, image)];
        for (int s = 0; s < config.Stages.Count; s++)
        {
            var stage = config.Stages[s];
            branches = Transition(g, $"backbone.transition{s}", branches, stage.Channels);
            for (int m = 0; m < stage.Modules; m++)
            {
                string module = $"backbone.stage{s}.{m}";
                branches = config.ModuleType == LiteHrnetModuleType.Lite
                    ? LiteBlocks(g, module, branches, stage)
                    : NaiveBlocks(g, module, branches, stage);
                branches = Fuse(g, module + ".fuse_layers", branches);
            }
        }
        var features = IterativeHead(g, branches);
        g.Output(g.Conv(features, "keypoint_head.final_layer", config.HeadOutChannels), "heatmaps");
    }

    /// <summary>An mmcv ConvModule (conv + folded BN) named <c>prefix.conv</c>, optionally followed by ReLU.</summary>
    private static OnnxValue ConvModule(OnnxGraph g, OnnxValue x, string prefix, int outChannels, int kernel = 1, int stride = 1,
        bool depthwise = false, bool relu = false)
    {
        var y = g.Conv(x, prefix + ".conv", outChannels, kernel, stride, groups: depthwise ? x.Channels : 1);
        return relu ? g.Relu(y) : y;
    }

    private static OnnxValue Stem(OnnxGraph g, LiteHrnetConfig config, OnnxValue image)
    {
        const string p = "backbone.stem.";
        int channels = config.StemChannels, mid = (int)Math.Round(channels * config.StemExpandRatio);   // Python round: to even
        var x = ConvModule(g, image, p + "conv1", channels, kernel: 3, stride: 2, relu: true);
        var (first, second) = g.Halves(x);
        var left = ConvModule(g, first, p + "branch1.0", first.Channels, kernel: 3, stride: 2, depthwise: true);
        left = ConvModule(g, left, p + "branch1.1", first.Channels, relu: true);
        var right = ConvModule(g, second, p + "expand_conv", mid, relu: true);
        right = ConvModule(g, right, p + "depthwise_conv", mid, kernel: 3, stride: 2, depthwise: true);
        right = ConvModule(g, right, p + "linear_conv", config.StemOutChannels - first.Channels, relu: true);
        return g.ChannelShuffle(g.Concat(left, right));
    }

    /// <summary>One transition step, an nn.Sequential: <c>.0</c> dw 3×3 + BN, <c>.2</c> 1×1 + BN, ReLU.</summary>
    private static OnnxValue TransitionStep(OnnxGraph g, OnnxValue x, string prefix, int stride, int outChannels)
    {
        var y = g.Conv(x, prefix + ".0", x.Channels, kernel: 3, stride: stride, groups: x.Channels);
        return g.Relu(g.Conv(y, prefix + ".2", outChannels));
    }

    private static List<OnnxValue> Transition(OnnxGraph g, string prefix, List<OnnxValue> previous, int[] channels)
    {
        var outputs = new List<OnnxValue>();
        for (int k = 0; k < channels.Length; k++)
        {
            if (k < previous.Count)
            {
                outputs.Add(previous[k].Channels == channels[k] ? previous[k]
                    : TransitionStep(g, previous[k], $"{prefix}.{k}", stride: 1, channels[k]));
                continue;
            }
            // A new branch: stride-2 steps from the last previous branch, keeping its width until the last step.
            var x = previous[^1];
            int steps = k + 1 - previous.Count;
            for (int t = 0; t < steps; t++)
                x = TransitionStep(g, x, $"{prefix}.{k}.{t}", stride: 2, t == steps - 1 ? channels[k] : x.Channels);
            outputs.Add(x);
        }
        return outputs;
    }

    /// <summary>LITE: conditional channel weighting blocks over all branches at once (A.5).</summary>
    private static List<OnnxValue> LiteBlocks(OnnxGraph g, string module, List<OnnxValue> x, LiteHrnetStage stage)
    {
        for (int b = 0; b < stage.Blocks; b++)
        {
            string p = $"{module}.layers.{b}";
            var halves = x.Select(g.Halves).ToList();
            var weighted = halves.Select(h => h.Second).ToList();

            // Cross-resolution weighting: every second half pooled to the smallest branch's size, weighted jointly.
            var smallest = weighted[^1];
            var pooled = g.Concat([.. weighted.Select(v => g.AdaptiveAveragePool(v, smallest.Height, smallest.Width))]);
            int total = pooled.Channels;
            var mid = ConvModule(g, pooled, p + ".cross_resolution_weighting.conv1", total / stage.ReduceRatio, relu: true);
            var gates = g.Sigmoid(ConvModule(g, mid, p + ".cross_resolution_weighting.conv2", total));
            var perBranch = g.Split(gates, [.. weighted.Select(v => v.Channels)]);
            for (int k = 0; k < weighted.Count; k++)
                weighted[k] = g.Mul(weighted[k], g.ResizeNearest(perBranch[k], weighted[k].Height, weighted[k].Width));

            for (int k = 0; k < weighted.Count; k++)
                weighted[k] = ConvModule(g, weighted[k], $"{p}.depthwise_convs.{k}", weighted[k].Channels, kernel: 3, depthwise: true);

            // Spatial weighting: a gate per channel from the global mean (1×1 convs with bias, no BN; ratio 4).
            for (int k = 0; k < weighted.Count; k++)
            {
                string sw = $"{p}.spatial_weighting.{k}";
                int c = weighted[k].Channels;
                var s = g.Relu(g.Conv(g.GlobalAveragePool(weighted[k]), sw + ".conv1.conv", c / 4));
                weighted[k] = g.Mul(weighted[k], g.Sigmoid(g.Conv(s, sw + ".conv2.conv", c)));
            }
            x = [.. halves.Select((h, k) => g.ChannelShuffle(g.Concat(h.First, weighted[k])))];
        }
        return x;
    }

    /// <summary>NAIVE: stride-1 ShuffleNet v2 units on each branch (A.6).</summary>
    private static List<OnnxValue> NaiveBlocks(OnnxGraph g, string module, List<OnnxValue> x, LiteHrnetStage stage)
    {
        var outputs = new List<OnnxValue>();
        for (int k = 0; k < x.Count; k++)
        {
            var y = x[k];
            for (int u = 0; u < stage.Blocks; u++)
            {
                string p = $"{module}.layers.{k}.{u}.branch2";
                var (kept, changed) = g.Halves(y);
                changed = ConvModule(g, changed, p + ".0", changed.Channels, relu: true);
                changed = ConvModule(g, changed, p + ".1", changed.Channels, kernel: 3, depthwise: true);
                changed = ConvModule(g, changed, p + ".2", changed.Channels, relu: true);
                y = g.ChannelShuffle(g.Concat(kept, changed));
            }
            outputs.Add(y);
        }
        return outputs;
    }

    /// <summary>
    /// The fuse layers, as the reference computes them (A.7): output 0 starts from X0 and its loop adds X0 again, in
    /// place, so S0 = 2·X0 + Σ_{j≥1} F_0j(X_j); every other output adds F_i0(S0) twice (computed from the pre-ReLU S0),
    /// then X_i or F_ij(X_j) for j ≥ 1. Each output is ReLU'd.
    /// </summary>
    private static List<OnnxValue> Fuse(OnnxGraph g, string prefix, List<OnnxValue> x)
    {
        int n = x.Count;
        var fused = g.Add(x[0], x[0]);
        for (int j = 1; j < n; j++) fused = g.Add(fused, FuseTerm(g, $"{prefix}.0.{j}", 0, j, x[j], x[0]));
        var outputs = new List<OnnxValue> { g.Relu(fused) };
        for (int i = 1; i < n; i++)
        {
            var fromFused = FuseTerm(g, $"{prefix}.{i}.0", i, 0, fused, x[i]);
            var sum = g.Add(fromFused, fromFused);
            for (int j = 1; j < n; j++) sum = g.Add(sum, j == i ? x[i] : FuseTerm(g, $"{prefix}.{i}.{j}", i, j, x[j], x[i]));
            outputs.Add(g.Relu(sum));
        }
        return outputs;
    }

    /// <summary>
    /// F_ij, bringing <paramref name="x"/> (branch j) to branch i's <paramref name="target"/> shape: for j &gt; i a 1×1
    /// conv (<c>.0</c>) then nearest upsampling ×2^(j−i); for j &lt; i, i − j steps of dw 3×3 stride 2 (<c>.t.0</c>) and
    /// 1×1 (<c>.t.2</c>), ReLU between steps, the last step's 1×1 changing the width.
    /// </summary>
    private static OnnxValue FuseTerm(OnnxGraph g, string prefix, int i, int j, OnnxValue x, OnnxValue target)
    {
        if (j > i) return g.ResizeNearest(g.Conv(x, prefix + ".0", target.Channels), target.Height, target.Width);
        for (int t = 0; t < i - j; t++)
        {
            bool last = t == i - j - 1;
            var down = g.Conv(x, $"{prefix}.{t}.0", x.Channels, kernel: 3, stride: 2, groups: x.Channels);
            x = g.Conv(down, $"{prefix}.{t}.2", last ? target.Channels : x.Channels);
            if (!last) x = g.Relu(x);
        }
        return x;
    }

    /// <summary>From the smallest branch up: add the previous result resized bilinearly (align_corners) to the branch,
    /// then dw 3×3 + BN and 1×1 + BN + ReLU narrowing to the next branch's width (the last keeps its own) (A.8).</summary>
    private static OnnxValue IterativeHead(OnnxGraph g, List<OnnxValue> branches)
    {
        OnnxValue? previous = null;
        for (int p = 0; p < branches.Count; p++)
        {
            int r = branches.Count - 1 - p;
            var s = previous is { } prev ? g.Add(branches[r], g.ResizeBilinearAlignCorners(prev, branches[r].Height, branches[r].Width)) : branches[r];
            string prefix = $"backbone.head_layer.projects.{p}";
            s = ConvModule(g, s, prefix + ".depthwise_conv", s.Channels, kernel: 3, depthwise: true);
            previous = ConvModule(g, s, prefix + ".pointwise_conv", r > 0 ? branches[r - 1].Channels : s.Channels, relu: true);
        }
        return previous!.Value;
    }
}
