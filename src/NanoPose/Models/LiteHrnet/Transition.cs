using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// <c>backbone.transition{s}</c> (MODELS.md A.4): turns the previous stage's branches into this stage's. A branch
/// whose width stays passes through; one whose width changes (only the stem's) goes through dw 3×3 + 1×1; each
/// new branch is made from the previous stage's last branch by stride-2 steps of dw 3×3 + 1×1. Every 1×1 is
/// followed by BatchNorm and ReLU, every dw by BatchNorm only.
/// </summary>
internal sealed class Transition
{
    private sealed record Step(ConvLayer Depthwise, FeatureMap DepthwiseOut, ConvLayer Pointwise, FeatureMap Out);

    /// <summary>Per branch: the previous branch it starts from and its steps (none: passed through).</summary>
    private readonly (int Source, Step[] Steps)[] _branches;
    private readonly FeatureMap[] _outputs;
    private readonly Executor _ops;

    public Transition(LayerFactory f, int stage, IReadOnlyList<FeatureMap> previous, IReadOnlyList<int> channels)
    {
        string prefix = $"backbone.transition{stage}";
        _ops = f.Ops;
        _branches = new (int, Step[])[channels.Count];
        _outputs = new FeatureMap[channels.Count];
        for (int k = 0; k < channels.Count; k++)
        {
            if (k < previous.Count)
            {
                var input = previous[k];
                _branches[k] = input.ChannelCount == channels[k]
                    ? (k, [])
                    : (k, [MakeStep(f, $"{prefix}.{k}", input.Shape, stride: 1, channels[k])]);
            }
            else
            {
                // New branch: (k + 1 − previous branches) stride-2 steps from the last previous branch; all keep its
                // width except the last (torch keys transition{s}.{k}.{step}.{0..3}).
                int steps = k + 1 - previous.Count, width = previous[^1].ChannelCount;
                var list = new Step[steps];
                var shape = previous[^1].Shape;
                for (int t = 0; t < steps; t++)
                {
                    bool last = t == steps - 1;
                    list[t] = MakeStep(f, $"{prefix}.{k}.{t}", shape, stride: 2, last ? channels[k] : width);
                    shape = list[t].Out.Shape;
                }
                _branches[k] = (previous.Count - 1, list);
            }
            _outputs[k] = _branches[k].Steps.Length == 0 ? previous[k] : _branches[k].Steps[^1].Out;
        }
    }

    private static Step MakeStep(LayerFactory f, string prefix, Nhwc input, int stride, int outChannels)
    {
        var depthwise = f.SequentialConv(prefix, 0, input, input.Channels, kernel: 3, stride: stride, depthwise: true);
        var down = depthwise.OutputShape(input);
        var pointwise = f.SequentialConv(prefix, 2, down, outChannels, activation: Activation.ReLU);
        var outShape = pointwise.OutputShape(down);
        var output = f.Map(outShape);
        return new Step(depthwise, f.Map(down), pointwise, output);
    }

    /// <summary>The maps this stage's branches start in (passed-through branches are the previous maps themselves).</summary>
    public FeatureMap[] Outputs => _outputs;

    public FeatureMap[] Run(IReadOnlyList<FeatureMap> previous)
    {
        var ops = _ops;
        foreach (var (source, steps) in _branches)
        {
            var x = previous[source];
            foreach (var step in steps)
            {
                ops.Conv(step.Depthwise, x, step.DepthwiseOut);
                ops.Conv(step.Pointwise, step.DepthwiseOut, step.Out);
                x = step.Out;
            }
        }
        return _outputs;
    }
}
