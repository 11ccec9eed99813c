using NanoPose.Models.PicoDet;

namespace NanoPose.WeightsTools.Onnx;

/// <summary>
/// PicoDet-S LCNet as an ONNX graph, written from MODELS.md G: the PP-LCNet backbone (G.3), the LCPAN neck (G.4) and
/// PicoHeadV2 up to its logits (G.5). Outputs, level by level (strides 8, 16, 32, 64): <c>cls_logit_s{s}</c>
/// 1 × 1 × H/s × W/s, <c>align_logit_s{s}</c> 1 × 1 × H/s × W/s and <c>reg_s{s}</c> 1 × 4·bins × H/s × W/s — the raw
/// maps the engine's network gives; the decoding (G.6) and NMS stay with the caller, as in the engine.
/// </summary>
internal static class PicoDetOnnx
{
    /// <summary>The IR's hard-sigmoid slope, fp16 of 1/6 (G.2), and its offset.</summary>
    private const float HardSigmoidAlpha = 0.1666259765625f, HardSigmoidBeta = 0.5f;

    public static void Build(OnnxGraph g, PicoDetConfig config, int height, int width)
    {
        var image = g.Input("image", 3, height, width);
        var x = g.HardSwish(g.Conv(image, "backbone.conv1", config.StemChannels, kernel: 3, stride: 2));
        var features = new Dictionary<string, OnnxValue>();
        foreach (var block in config.BackboneBlocks)
        {
            x = DepthwiseSeparable(g, x, block.Name, block.OutChannels, block.Kernel, block.Stride, block.SqueezeExcite);
            features[block.Name] = x;
        }
        var c = PicoDetConfig.FeatureBlocks.Select(name => features[name]).ToArray();

        var p = Neck(g, config.NeckChannels, c);
        for (int level = 0; level < p.Length; level++)
        {
            var (cls, align, reg) = Head(g, $"head.{level}.", p[level], config.RegressionBins);
            int stride = 8 << level;
            g.Output(cls, $"cls_logit_s{stride}");
            g.Output(align, $"align_logit_s{stride}");
            g.Output(reg, $"reg_s{stride}");
        }
    }

    /// <summary>DS(k, s): depthwise k×k + bias + hard-swish, [squeeze-excite: mean, 1×1 C → C/4 + ReLU, 1×1 C/4 → C +
    /// hard-sigmoid, scale], 1×1 + bias + hard-swish. Convolutions <c>.dw</c>, <c>.se.conv1</c>, <c>.se.conv2</c>, <c>.pw</c>.</summary>
    private static OnnxValue DepthwiseSeparable(OnnxGraph g, OnnxValue x, string name, int outChannels, int kernel, int stride, bool squeezeExcite = false)
    {
        var y = g.HardSwish(g.Conv(x, name + ".dw", x.Channels, kernel, stride, groups: x.Channels));
        if (squeezeExcite)
        {
            var s = g.Relu(g.Conv(g.GlobalAveragePool(y), name + ".se.conv1", y.Channels / 4));
            y = g.Mul(y, g.HardSigmoid(g.Conv(s, name + ".se.conv2", y.Channels), HardSigmoidAlpha, HardSigmoidBeta));
        }
        return g.HardSwish(g.Conv(y, name + ".pw", outChannels));
    }

    /// <summary>LCPAN: P3, P4, P5 and the stride-64 P6 (G.4).</summary>
    private static OnnxValue[] Neck(OnnxGraph g, int width, OnnxValue[] c)
    {
        var l = c.Select((v, i) => g.HardSwish(g.Conv(v, $"neck.lateral.{i}", width))).ToArray();
        OnnxValue Pair(string name, OnnxValue first, OnnxValue second)
        {
            var y = DepthwiseSeparable(g, g.Concat(first, second), name + ".0", 2 * width, 5, 1);
            return DepthwiseSeparable(g, y, name + ".1", width, 5, 1);
        }
        OnnxValue Up(OnnxValue v) => g.ResizeNearest(v, 2 * v.Height, 2 * v.Width);

        var t4 = Pair("neck.top_down.0", Up(l[2]), l[1]);
        var p3 = Pair("neck.top_down.1", Up(t4), l[0]);
        var p4 = Pair("neck.bottom_up.0", DepthwiseSeparable(g, p3, "neck.down.0", width, 5, 2), t4);
        var p5 = Pair("neck.bottom_up.1", DepthwiseSeparable(g, p4, "neck.down.1", width, 5, 2), l[2]);
        var p6 = g.Add(DepthwiseSeparable(g, l[2], "neck.extra_from_lateral", width, 5, 2),
            DepthwiseSeparable(g, p5, "neck.extra_from_output", width, 5, 2));
        return [p3, p4, p5, p6];
    }

    /// <summary>One level of PicoHeadV2: a tower of two DS(5, 1) gives F; E = hard-swish(1×1(F · sigmoid(1×1(mean F))));
    /// class and box logits are 1×1s of E; the alignment logit is a 1×1 (1 → 1) of hard-swish(dense 5×5 of F).</summary>
    private static (OnnxValue Class, OnnxValue Alignment, OnnxValue Box) Head(OnnxGraph g, string p, OnnxValue input, int bins)
    {
        int channels = input.Channels;
        var f = DepthwiseSeparable(g, DepthwiseSeparable(g, input, p + "tower.0", channels, 5, 1), p + "tower.1", channels, 5, 1);
        var gate = g.Sigmoid(g.Conv(g.GlobalAveragePool(f), p + "se.fc", channels));
        var e = g.HardSwish(g.Conv(g.Mul(f, gate), p + "se.conv", channels));
        var cls = g.Conv(e, p + "cls", 1);
        var reg = g.Conv(e, p + "reg", 4 * bins);
        var align = g.Conv(g.HardSwish(g.Conv(f, p + "align.conv", 1, kernel: 5)), p + "align.scale", 1);
        return (cls, align, reg);
    }
}
