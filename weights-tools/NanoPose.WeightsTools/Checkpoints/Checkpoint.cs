namespace NanoPose.WeightsTools.Checkpoints;

/// <summary>One tensor of a state dict, C-contiguous, values widened to float32; <see cref="DType"/> is the stored type.</summary>
public sealed record CheckpointTensor(string Name, TorchDType DType, int[] Shape, float[] Data)
{
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}

public enum CheckpointFormat { Zip, Legacy }

/// <summary>The state dict of a PyTorch checkpoint: tensors by name, in the checkpoint's order.</summary>
public sealed class Checkpoint
{
    private readonly Dictionary<string, CheckpointTensor> _byName;

    internal Checkpoint(string source, CheckpointFormat format, List<CheckpointTensor> tensors)
    {
        (Source, Format, Tensors) = (source, format, tensors);
        _byName = tensors.ToDictionary(t => t.Name);
    }

    public string Source { get; }
    public CheckpointFormat Format { get; }
    public IReadOnlyList<CheckpointTensor> Tensors { get; }

    public bool TryGet(string name, out CheckpointTensor tensor) => _byName.TryGetValue(name, out tensor!);

    public CheckpointTensor this[string name]
        => _byName.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"{Source}: no tensor '{name}'");

    /// <summary>Every element of every tensor.</summary>
    public long ElementCount => Tensors.Sum(t => (long)t.Data.Length);

    /// <summary>Learnable parameters, as PyTorch's <c>sum(p.numel() for p in model.parameters())</c> counts them:
    /// every tensor except BatchNorm's buffers (running_mean, running_var, num_batches_tracked).</summary>
    public long ParameterCount => Tensors.Where(t => !IsBatchNormBuffer(t.Name)).Sum(t => (long)t.Data.Length);

    public static bool IsBatchNormBuffer(string name)
        => name.EndsWith(".running_mean", StringComparison.Ordinal)
           || name.EndsWith(".running_var", StringComparison.Ordinal)
           || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);
}
