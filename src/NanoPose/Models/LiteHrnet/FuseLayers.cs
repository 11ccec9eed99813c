using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// The fuse layers that end every module (MODELS.md A.7, keys <c>…fuse_layers.{i}.{j}</c>), with the reference's
/// branch-0 quirk reproduced exactly:
/// <code>
///   S0  = 2·X0 + Σ_{j≥1} F_0j(X_j)            output 0 = ReLU(S0)
///   Y_i = ReLU(2·F_i0(S0) + Σ_{j≥1} T_ij)      T_ii = X_i, otherwise T_ij = F_ij(X_j)
/// </code>
/// (the reference sums output 0 in place on X0 and adds its branch-0 term twice, so the other outputs see the
/// pre-ReLU S0 twice). F_ij for j &gt; i: 1×1 conv + BN at branch j's size, then nearest upsampling ×2^(j−i);
/// for j &lt; i: (i − j) stride-2 steps of dw 3×3 + BN, 1×1 + BN, ReLU between steps but not after the last.
/// Terms are added in the reference's order, except that X_i is added to 2·F_i0 first (one rounding apart).
/// </summary>
internal sealed class FuseLayers
{
    /// <summary>F_ij for j &lt; i; the last 1×1 adds <c>residual</c> in its epilogue.</summary>
    private sealed class Downsample((ConvLayer Depthwise, FeatureMap DepthwiseOut, ConvLayer Pointwise, FeatureMap? Out)[] steps)
    {
        public void Run(Executor ops, FeatureMap x, FeatureMap output, FeatureMap? residual)
        {
            foreach (var step in steps)
            {
                ops.Conv(step.Depthwise, x, step.DepthwiseOut);
                if (step.Out is null) ops.Conv(step.Pointwise, step.DepthwiseOut, output, residual);
                else ops.Conv(step.Pointwise, step.DepthwiseOut, x = step.Out);
            }
        }
    }

    /// <summary>
    /// One output's terms. The downsampling terms j &lt; i run first as one chain: the first (2·F_i0, its ×2 folded
    /// into its last 1×1's weights, exact) adds X_i in its epilogue, each next one the sum so far, writing alternately
    /// into <see cref="Scratch"/> and <see cref="Result"/> so that the last lands in Result. Then one pass adds every
    /// upsampled term (F_ij for j &gt; i: the 1×1 convs at branch j's size into <see cref="Low"/>) and applies the ReLU;
    /// an output without upsampled terms (the last) takes the ReLU in its last downsampling conv instead.
    /// </summary>
    private sealed record Output(Downsample[] Down, ConvLayer[] UpConvs, FeatureMap[] Low, FeatureMap Scratch, FeatureMap Result);

    private readonly LayerFactory _f;
    private readonly IReadOnlyList<FeatureMap> _inputs;
    private readonly Output[] _outputs;
    private readonly FeatureMap _fusedSum;   // S0 before its ReLU, which the other outputs read

    public FuseLayers(LayerFactory f, ReadmeFlops readmeFlops, string prefix, IReadOnlyList<FeatureMap> inputs)
    {
        (_f, _inputs) = (f, inputs);
        int n = inputs.Count;
        _outputs = new Output[n];
        for (int i = 0; i < n; i++)
        {
            var upConvs = new List<ConvLayer>();
            var down = new Downsample[i];
            for (int j = 0; j < n; j++)
            {
                string name = $"{prefix}.fuse_layers.{i}.{j}";
                if (j > i)
                {
                    upConvs.Add(f.SequentialConv(name, 0, inputs[j].Shape, inputs[i].ChannelCount));
                    readmeFlops.Count((long)inputs[i].Height * inputs[i].Width); // torchstat: nn.Upsample counts H·W
                }
                else if (j < i)
                {
                    // The term from the fused branch 0 counts twice; the last output's last term ends in its ReLU.
                    down[j] = MakeDownsample(f, name, inputs[j].Shape, steps: i - j, inputs[i].ChannelCount,
                        scale: j == 0 ? 2f : 1f, activation: i == n - 1 && j == i - 1 ? Activation.ReLU : Activation.None);
                }
            }
            var low = upConvs.Select((conv, k) => f.Map(conv.OutputShape(inputs[i + 1 + k].Shape))).ToArray();
            _outputs[i] = new Output(down, [.. upConvs], low, Scratch: i >= 2 ? f.Map(inputs[i].Shape) : null!, Result: f.Map(inputs[i].Shape));
        }
        _fusedSum = n > 1 ? f.Map(inputs[0].Shape) : null!;
        // One ReLU module serves every output; torchstat keeps only its last call, the last output's. With more than one
        // branch that ReLU is the last conv's activation here, which the factory's convs already count.
        if (n == 1) readmeFlops.Count((long)inputs[^1].Height * inputs[^1].Width * inputs[^1].ChannelCount);
        Outputs = [.. _outputs.Select(o => o.Result)];
    }

    private static Downsample MakeDownsample(LayerFactory f, string name, Nhwc input, int steps, int outChannels, float scale, Activation activation)
    {
        var list = new (ConvLayer, FeatureMap, ConvLayer, FeatureMap?)[steps];
        for (int t = 0; t < steps; t++)
        {
            bool last = t == steps - 1;
            var depthwise = f.SequentialConv($"{name}.{t}", 0, input, input.Channels, kernel: 3, stride: 2, depthwise: true);
            var down = depthwise.OutputShape(input);
            var pointwise = last
                ? f.SequentialConv($"{name}.{t}", 2, down, outChannels, activation: activation, scale: scale)
                : f.SequentialConv($"{name}.{t}", 2, down, input.Channels, activation: Activation.ReLU);
            var output = pointwise.OutputShape(down);
            list[t] = (depthwise, f.Map(down), pointwise, last ? null : f.Map(output));   // the last step writes the caller's map
            input = output;
        }
        return new Downsample(list);
    }

    public FeatureMap[] Outputs { get; }

    public FeatureMap[] Run()
    {
        var (x, ops) = (_inputs, _f.Ops);
        int n = _outputs.Length;
        for (int i = 0; i < n; i++)
        {
            var o = _outputs[i];
            for (int k = 0; k < o.UpConvs.Length; k++) ops.Conv(o.UpConvs[k], x[i + 1 + k], o.Low[k]);
            if (i == 0)
            {
                // S0 = 2·X0 + Σ upsampled terms, and output 0 = ReLU(S0), in one pass.
                ops.AddNearestUpsampled(x[0], o.Low, o.Result, doubleInput: true, Activation.ReLU, preActivation: n > 1 ? _fusedSum : null);
                continue;
            }
            var sum = x[i];
            for (int j = 0; j < i; j++)
            {
                var target = (i - 1 - j) % 2 == 0 ? o.Result : o.Scratch;
                o.Down[j].Run(ops, j == 0 ? _fusedSum : x[j], target, residual: sum);
                sum = target;
            }
            if (o.Low.Length > 0) ops.AddNearestUpsampled(o.Result, o.Low, o.Result, activation: Activation.ReLU);
        }
        return Outputs;
    }
}
