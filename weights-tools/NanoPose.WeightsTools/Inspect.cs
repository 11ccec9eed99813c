using System.Globalization;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;

namespace NanoPose.WeightsTools;

/// <summary><c>inspect &lt;file&gt;</c>: the tensors (name, dtype, shape) of a PyTorch checkpoint or .npw file and their counts.</summary>
internal static class Inspect
{
    public static void Run(string path, TextWriter output)
    {
        if (IsNpw(path)) InspectNpw(NpwFile.Load(path), output);
        else InspectCheckpoint(TorchCheckpoint.Load(path), output);
    }

    private static bool IsNpw(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> start = stackalloc byte[4];
        return stream.ReadAtLeast(start, 4, throwOnEndOfStream: false) == 4 && start.SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'N', (byte)'P', (byte)'W']);
    }

    private static void InspectNpw(NpwFile file, TextWriter output)
    {
        var architecture = file.Architecture;
        output.WriteLine($"{file.Source}: NanoPose weight file, {architecture.Family} / {architecture.Variant}");
        foreach (var (key, value) in architecture.Properties) output.WriteLine($"  {key} = {value}");
        foreach (var tensor in file.Tensors) WriteTensor(output, tensor.Name, tensor.DType.ToString(), tensor.Shape);
        long parameters = file.Tensors.Sum(t => t.ElementCount);
        output.WriteLine($"{file.Tensors.Count} tensors, {Format(parameters)} parameters");
    }

    private static void InspectCheckpoint(Checkpoint checkpoint, TextWriter output)
    {
        output.WriteLine($"{checkpoint.Source}: PyTorch checkpoint ({checkpoint.Format} format)");
        foreach (var tensor in checkpoint.Tensors) WriteTensor(output, tensor.Name, tensor.DType.ToString(), tensor.Shape);
        output.WriteLine($"{checkpoint.Tensors.Count} tensors, {Format(checkpoint.ElementCount)} elements, "
                         + $"{Format(checkpoint.ParameterCount)} parameters (without BatchNorm running statistics)");
    }

    private static void WriteTensor(TextWriter output, string name, string dtype, int[] shape)
        => output.WriteLine($"  {name}  {dtype}  [{string.Join(", ", shape)}]");

    private static string Format(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
