using System.Globalization;
using NanoPose.Layers;
using NanoPose.WeightsTools.Checkpoints;

namespace NanoPose.WeightsTools.Conversion;

/// <summary>
/// Serves a network's convolution requests from a PyTorch state dict: reads <c>&lt;name&gt;.weight</c> (and
/// <c>.bias</c>), folds the named BatchNorm in, and remembers every tensor it used. Problems are collected, not
/// thrown one at a time, so <see cref="ThrowIfIncomplete"/> can name every missing, mis-shaped and unexpected
/// tensor at once. Key prefixes (<c>module.</c>, mmpose 1.x's <c>head.</c> for 0.x's <c>keypoint_head.</c>)
/// are resolved by <see cref="Resolve"/>.
/// </summary>
public sealed class CheckpointWeightSource(Checkpoint checkpoint) : IWeightSource
{
    private readonly HashSet<string> _used = [];
    private readonly List<string> _missing = [];
    private readonly List<string> _misshaped = [];
    private readonly List<string> _invalid = [];

    public ConvWeights Conv(ConvRequest request)
    {
        var weight = Take(request.Name + ".weight", request.WeightShape);
        var bias = request.HasBias ? Take(request.Name + ".bias", [request.OutChannels]) : [];
        if (request.BatchNorm is not string bn)
            return new ConvWeights(
                weight.Length == request.WeightLength ? weight : new float[request.WeightLength], // reported later
                bias.Length == 0 ? new float[request.OutChannels] : bias);
        var gamma = Take(bn + ".weight", [request.OutChannels]);
        var beta = Take(bn + ".bias", [request.OutChannels]);
        var mean = Take(bn + ".running_mean", [request.OutChannels]);
        var variance = Take(bn + ".running_var", [request.OutChannels]);
        // Folding divides by √(var + ε): a negative variance would make NaN weights.
        int negative = variance.AsSpan().IndexOfAnyInRange(float.NegativeInfinity, -float.Epsilon);
        if (negative >= 0)
        {
            _invalid.Add($"{bn}.running_var[{negative}] is {variance[negative].ToString(CultureInfo.InvariantCulture)}, a negative variance");
            variance = [];
        }
        Resolve(bn + ".num_batches_tracked"); // a training counter: consumed, unused
        // Any empty one was missing or mis-shaped. (Not a product of lengths: 768⁴ overflows int to exactly 0.)
        if (weight.Length != request.WeightLength || gamma.Length == 0 || beta.Length == 0 || mean.Length == 0 || variance.Length == 0)
            return new ConvWeights(new float[request.WeightLength], new float[request.OutChannels]); // reported later
        return BatchNormFolding.Fold(request, weight, bias, gamma, beta, mean, variance);
    }

    /// <summary>The shape of a checkpoint tensor under its canonical name or an alias (null if absent), without
    /// marking it used: lets a converter read a size the configuration leaves open, e.g. the keypoint count.</summary>
    public int[]? ShapeOf(string name)
    {
        foreach (var candidate in Aliases(name))
            if (checkpoint.TryGet(candidate, out var tensor)) return tensor.Shape;
        return null;
    }

    /// <summary>Throws naming every tensor the network needed and did not find or found mis-shaped, and every
    /// checkpoint tensor the network did not use.</summary>
    public void ThrowIfIncomplete()
    {
        var unexpected = checkpoint.Tensors.Select(t => t.Name).Where(n => !_used.Contains(n)).ToList();
        if (_missing.Count + _misshaped.Count + _invalid.Count + unexpected.Count == 0) return;
        var lines = new List<string>();
        if (_missing.Count > 0) lines.Add($"missing tensors ({_missing.Count}): {Names(_missing)}");
        if (_misshaped.Count > 0) lines.Add($"mis-shaped tensors ({_misshaped.Count}): {Names(_misshaped)}");
        if (_invalid.Count > 0) lines.Add($"tensors with values no network can use ({_invalid.Count}): {Names(_invalid)}");
        if (unexpected.Count > 0) lines.Add($"unexpected tensors ({unexpected.Count}): {Names(unexpected)}");
        throw new CheckpointException(checkpoint.Source, "does not match the architecture; " + string.Join("; ", lines));
    }

    static string Names(List<string> names) =>
        string.Join(", ", names.Take(20)) + (names.Count > 20 ? $", … ({names.Count - 20} more)" : "");

    float[] Take(string name, int[] shape)
    {
        if (Resolve(name) is not CheckpointTensor tensor)
        {
            _missing.Add(name);
            return [];
        }
        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
        {
            _misshaped.Add($"{tensor.Name} is [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}]");
            return [];
        }
        if (ModelConversion.FirstNonFinite(tensor.Data) is int at)
        {
            _invalid.Add($"{tensor.Name}[{at}] is {tensor.Data[at].ToString(CultureInfo.InvariantCulture)}");
            return [];
        }
        return tensor.Data;
    }

    /// <summary>Finds a tensor under its canonical name or a known alias, and marks it used.</summary>
    CheckpointTensor? Resolve(string name)
    {
        foreach (var candidate in Aliases(name))
            if (checkpoint.TryGet(candidate, out var tensor))
            {
                _used.Add(candidate);
                return tensor;
            }
        return null;
    }

    static IEnumerable<string> Aliases(string name)
    {
        yield return name;
        yield return "module." + name;
        const string mmpose0Head = "keypoint_head.";
        if (name.StartsWith(mmpose0Head, StringComparison.Ordinal))
        {
            string mmpose1 = "head." + name[mmpose0Head.Length..];
            yield return mmpose1;
            yield return "module." + mmpose1;
        }
    }
}
