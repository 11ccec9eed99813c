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
/// Terms are added in the reference's order.
/// </summary>
internal sealed class FuseLayers
{
    /// <summary>F_ij for j &gt; i, added to a sum: the upsampled map is never written out.</summary>
    private sealed class Upsample(ConvLayer conv, FeatureMap low, int factor)
    {
        /// <summary>output = sum + F_ij(x); with <paramref name="doubleSum"/>, (sum + sum) + F_ij(x).</summary>
        public void AddTo(Executor ops, FeatureMap x, FeatureMap sum, FeatureMap output, bool doubleSum = false)
        {
            ops.Conv(conv, x, low);
            ops.AddNearestUpsampled(sum, low, output, factor, doubleSum);
        }
    }

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
    /// One output's terms and its two sum buffers. Each term writes "sum + term" into the buffer not holding the sum
    /// (a downsampling term through its last conv's residual epilogue) and the two swap; <see cref="First"/> is
    /// chosen so that the last term lands in <see cref="Result"/>.
    /// </summary>
    private sealed record Output(Downsample? FromFused, Upsample?[] Up, Downsample?[] Down, FeatureMap First, FeatureMap Second, FeatureMap Result);

    private readonly LayerFactory _f;
    private readonly IReadOnlyList<FeatureMap> _inputs;
    private readonly Output[] _outputs;

    public FuseLayers(LayerFactory f, ReadmeFlops readmeFlops, string prefix, IReadOnlyList<FeatureMap> inputs)
    {
        (_f, _inputs) = (f, inputs);
        int n = inputs.Count;
        _outputs = new Output[n];
        for (int i = 0; i < n; i++)
        {
            var up = new Upsample?[n];
            var down = new Downsample?[n];
            for (int j = 0; j < n; j++)
            {
                string name = $"{prefix}.fuse_layers.{i}.{j}";
                if (j > i)
                {
                    var conv = f.SequentialConv(name, 0, inputs[j].Shape, inputs[i].ChannelCount);
                    up[j] = new Upsample(conv, f.Map(conv.OutputShape(inputs[j].Shape)), 1 << (j - i));
                    readmeFlops.Count((long)inputs[i].Height * inputs[i].Width); // torchstat: nn.Upsample counts H·W
                }
                else if (j < i) down[j] = MakeDownsample(f, name, inputs[j].Shape, steps: i - j, inputs[i].ChannelCount);
            }
            var result = f.Map(inputs[i].Shape);
            var scratch = f.Map(inputs[i].Shape);
            bool evenTerms = (n - 1) % 2 == 0;
            _outputs[i] = new Output(down[0], up, down, evenTerms ? result : scratch, evenTerms ? scratch : result, result);
        }
        // One ReLU module serves every output; torchstat keeps only its last call.
        readmeFlops.Count((long)inputs[^1].Height * inputs[^1].Width * inputs[^1].ChannelCount);
        Outputs = [.. _outputs.Select(o => o.Result)];
    }

    private static Downsample MakeDownsample(LayerFactory f, string name, Nhwc input, int steps, int outChannels)
    {
        var list = new (ConvLayer, FeatureMap, ConvLayer, FeatureMap?)[steps];
        for (int t = 0; t < steps; t++)
        {
            bool last = t == steps - 1;
            var depthwise = f.SequentialConv($"{name}.{t}", 0, input, input.Channels, kernel: 3, stride: 2, depthwise: true);
            var down = depthwise.OutputShape(input);
            var pointwise = f.SequentialConv($"{name}.{t}", 2, down, last ? outChannels : input.Channels,
                activation: last ? Activation.None : Activation.ReLU);
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
        var fused = _outputs[0].Result; // S0, read by the other outputs before its ReLU
        for (int i = 0; i < _outputs.Length; i++)
        {
            var o = _outputs[i];
            var (sum, spare) = (o.First, o.Second);
            int j = 1;
            // The branch-0 term, twice: for output 0 added in the same pass as term 1 (one write fewer, so that sum
            // starts in Second, where it lands in Result after the other writes as it would have from First).
            if (i == 0 && _outputs.Length > 1)
            {
                o.Up[1]!.AddTo(ops, x[1], x[0], spare, doubleSum: true);
                (sum, spare) = (spare, sum);
                j = 2;
            }
            else if (i == 0) ops.Add(x[0], x[0], sum);
            else
            {
                o.FromFused!.Run(ops, fused, sum, residual: null);
                ops.Add(sum, sum, sum);
            }
            for (; j < _outputs.Length; j++)
            {
                if (j == i) ops.Add(sum, x[i], spare);
                else if (j > i) o.Up[j]!.AddTo(ops, x[j], sum, spare);
                else o.Down[j]!.Run(ops, x[j], spare, residual: sum);
                (sum, spare) = (spare, sum);
            }
            if (i > 0) ops.Relu(sum);
        }
        ops.Relu(fused);
        return Outputs;
    }
}
