using NanoPose.Kernels.Simd;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;

namespace NanoPose.WeightsTools.Conversion;

/// <summary>
/// Converts an official EfficientHRNet checkpoint (<c>final_state.pth</c>, or a <c>checkpoint.pth.tar</c> state dict)
/// to .npw: the variant is the one named, or recognised from the tensor shapes; the network is built once from the
/// checkpoint, which must hold exactly its tensors (every missing, mis-shaped or unexpected one is named).
/// </summary>
public static class EfficientHrnetConversion
{
    /// <summary>True for <c>efficienthrnet-h0</c> … <c>efficienthrnet-h-4</c>.</summary>
    public static bool IsVariant(string architecture) =>
        EfficientHrnetConfig.Scales.Any(s => string.Equals(architecture, EfficientHrnetConfig.VariantName(s), StringComparison.OrdinalIgnoreCase));

    /// <summary>The configuration of the checkpoint: from <paramref name="architecture"/> if given (the R/2 head width
    /// still read from the checkpoint), else detected; null when the tensors are not an EfficientHRNet's.</summary>
    public static EfficientHrnetConfig? Configure(Checkpoint checkpoint, string? architecture)
    {
        int[]? ShapeOf(string name) => checkpoint.TryGet(name, out var tensor) ? tensor.Shape : null;
        if (architecture is null) return EfficientHrnetConfig.Detect(ShapeOf);
        int finalChannels = ShapeOf("final_layers.1.weight") is [34, ..] ? 34 : 17;
        return EfficientHrnetConfig.FromVariant(architecture, finalChannels);
    }

    public static NpwWriter Convert(Checkpoint checkpoint, EfficientHrnetConfig config, WeightDType storeAs = WeightDType.Float32)
    {
        var checkpointSource = new CheckpointWeightSource(checkpoint);
        var recording = new RecordingWeightSource(checkpointSource);
        _ = new EfficientHrnetModel(config, recording, VectorWidth.Scalar); // the scalar layers just copy the weights
        checkpointSource.ThrowIfIncomplete();
        var writer = new NpwWriter(config.ToArchitecture());
        recording.WriteTo(writer, storeAs);
        return writer;
    }
}
