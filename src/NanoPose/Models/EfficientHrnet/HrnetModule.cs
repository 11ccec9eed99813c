using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// One HRNet module (<c>stage{s}.{m}</c>, MODELS.md B.5): two BasicBlocks on every branch, then the standard fuse:
/// y_i = relu(Σ_j F_ij(x_j)) with F_ii = identity, F_ij for j &gt; i a 1×1 conv + BN then nearest upsampling
/// ×2^(j−i), and for j &lt; i a chain of i−j stride-2 3×3 convs + BN (ReLU between, not after the last).
/// The last module of the network outputs branch 0 only.
/// </summary>
internal sealed class HrnetModule
{
    private readonly BasicBlock[][] _branches;
    private readonly FuseTerm?[][] _fuse;   // [output i][branch j], null for j = i

    /// <summary>F_ij: the convs applied to branch j (one 1×1 when upsampling, i − j stride-2 3×3 when downsampling).</summary>
    private sealed record FuseTerm(ConvLayer[] Convs, int UpsampleFactor);

    public HrnetModule(LayerFactory layers, string prefix, int[] channels, bool multiScaleOutput)
    {
        int branches = channels.Length;
        _branches = new BasicBlock[branches][];
        for (int k = 0; k < branches; k++)
            _branches[k] = [.. Enumerable.Range(0, 2).Select(b => new BasicBlock(layers, $"{prefix}.branches.{k}.{b}", channels[k]))];

        _fuse = new FuseTerm?[multiScaleOutput ? branches : 1][];
        for (int i = 0; i < _fuse.Length; i++)
        {
            _fuse[i] = new FuseTerm?[branches];
            for (int j = 0; j < branches; j++)
            {
                string path = $"{prefix}.fuse_layers.{i}.{j}";
                if (j > i)
                    _fuse[i][j] = new FuseTerm(
                        [layers.Conv(path + ".0", channels[j], channels[i], ConvGeometry.Pointwise(), false, path + ".1", Activation.None)],
                        1 << (j - i));
                else if (j < i)
                    _fuse[i][j] = new FuseTerm([.. Enumerable.Range(0, i - j).Select(t =>
                    {
                        bool last = t == i - j - 1;
                        return layers.Conv3x3($"{path}.{t}.0", channels[j], last ? channels[i] : channels[j], false, $"{path}.{t}.1",
                            last ? Activation.None : Activation.ReLU, stride: 2);
                    })], 1);
            }
        }
    }

    public long MultiplyAccumulates(Nhwc[] inputs)
    {
        long macs = 0;
        for (int k = 0; k < _branches.Length; k++)
            macs += _branches[k].Sum(block => block.MultiplyAccumulates(inputs[k]));
        for (int i = 0; i < _fuse.Length; i++)
            for (int j = 0; j < _branches.Length; j++)
            {
                var shape = inputs[j];
                foreach (var conv in _fuse[i][j]?.Convs ?? [])
                {
                    macs += conv.MultiplyAccumulates(shape);
                    shape = conv.OutputShape(shape);
                }
            }
        return macs;
    }

    public FeatureMap[] Run(FeatureMap[] inputs, Executor ops)
    {
        var x = ops.Arena.MapList(_branches.Length);
        for (int k = 0; k < x.Length; k++)
        {
            x[k] = inputs[k];
            foreach (var block in _branches[k]) x[k] = block.Run(x[k], ops);
        }
        var outputs = ops.Arena.MapList(_fuse.Length);
        for (int i = 0; i < outputs.Length; i++) outputs[i] = Fuse(i, x, ops);
        return outputs;
    }

    /// <summary>Sums the terms in PyTorch's order j = 0, 1, …; a downsampling chain adds the sum so far in its last store.</summary>
    private FeatureMap Fuse(int i, FeatureMap[] x, Executor ops)
    {
        FeatureMap? sum = null;
        for (int j = 0; j < x.Length; j++)
        {
            var term = x[j];
            if (_fuse[i][j] is { } path)
            {
                var convs = path.Convs;
                for (int t = 0; t < convs.Length; t++)
                {
                    var next = ops.Arena.Allocate(convs[t].OutputShape(term.Shape));
                    bool addsSum = path.UpsampleFactor == 1 && t == convs.Length - 1;
                    ops.Conv(convs[t], term, next, addsSum ? sum : null);
                    term = next;
                }
                if (path.UpsampleFactor == 1)
                {
                    sum = term;   // the sum so far is already in it
                    continue;
                }
                if (sum is not null)
                {
                    // sum + upsample(term) in one pass: the upsampled map is never written out.
                    var added = Writable(sum);
                    ops.AddNearestUpsampled(sum, term, added, path.UpsampleFactor);
                    sum = added;
                    continue;
                }
                var upsampled = ops.Arena.Allocate(x[i].Shape);
                ops.UpsampleNearest(term, upsampled, path.UpsampleFactor);
                term = upsampled;
            }
            if (sum is null)
            {
                sum = term;
                continue;
            }
            var total = Writable(sum);
            ops.Add(sum, term, total);
            sum = total;
        }
        ops.Relu(sum!);
        return sum!;

        // Where a term adds onto the sum: in place, except that a branch's features are never written.
        FeatureMap Writable(FeatureMap sum) => ReferenceEquals(sum, x[i]) ? ops.Arena.Allocate(sum.Shape) : sum;
    }
}
