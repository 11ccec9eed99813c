using System.Globalization;
using NanoPose.IO;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.OpenVino;

namespace NanoPose.WeightsTools;

/// <summary><c>inspect &lt;file&gt;</c>: the tensors (name, dtype, shape) of a PyTorch checkpoint or .npw file and their counts, or the convolutions of an OpenVINO IR.</summary>
internal static class Inspect
{
    /// <summary>Prints what <paramref name="path"/> holds. Names and values from the file are printed through
    /// <see cref="Printable"/>, so a file cannot write escape sequences to the terminal.</summary>
    public static void Run(string path, TextWriter output)
    {
        if (path.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
        {
            InspectOpenVino(OpenVinoIrFile.Load(path), output);
            return;
        }
        // Read once, as a regular file with a cap (a FIFO or /dev/zero is refused by name), then told apart by its start.
        byte[] bytes = InputFile.ReadAllBytes(path, Array.MaxLength, "weight or checkpoint");
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'N', (byte)'P', (byte)'W'])) InspectNpw(NpwFile.Parse(bytes, path), output);
        else InspectCheckpoint(TorchCheckpoint.Parse(bytes, path), output);
    }

    private static void InspectNpw(NpwFile file, TextWriter output)
    {
        var architecture = file.Architecture;
        output.WriteLine(Printable.Text($"{file.Source}: NanoPose weight file, {architecture.Family} / {architecture.Variant}"));
        foreach (var (key, value) in architecture.Properties) output.WriteLine(Printable.Text($"  {key} = {value}"));
        foreach (var tensor in file.Tensors) WriteTensor(output, tensor.Name, tensor.DType.ToString(), tensor.Shape);
        long parameters = file.Tensors.Sum(t => t.ElementCount);
        output.WriteLine($"{file.Tensors.Count} tensors, {Format(parameters)} parameters");
    }

    private static void InspectCheckpoint(Checkpoint checkpoint, TextWriter output)
    {
        output.WriteLine(Printable.Text($"{checkpoint.Source}: PyTorch checkpoint ({checkpoint.Format} format)"));
        foreach (var tensor in checkpoint.Tensors) WriteTensor(output, tensor.Name, tensor.DType.ToString(), tensor.Shape);
        output.WriteLine($"{checkpoint.Tensors.Count} tensors, {Format(checkpoint.ElementCount)} elements, "
                         + $"{Format(checkpoint.ParameterCount)} parameters (without BatchNorm running statistics)");
    }

    /// <summary>An IR's convolutions in xml order: their weights are what a conversion takes from it.</summary>
    private static void InspectOpenVino(OpenVinoIrFile ir, TextWriter output)
    {
        output.WriteLine(Printable.Text($"{ir.Source}: OpenVINO IR, {ir.Layers.Count} layers, {ir.Edges.Count} edges, .bin {Format(ir.BinLength)} bytes"));
        int count = 0;
        long parameters = 0;
        foreach (var layer in ir.Layers.Where(l => l.Type is "Convolution" or "GroupConvolution"))
        {
            var weight = layer.InputPort(1)!.Dims;
            output.WriteLine(Printable.Text($"  {layer.Name}  {layer.Type}  [{string.Join(", ", weight)}]"));
            count++;
            parameters += weight.Aggregate(1L, (a, b) => a * b);
        }
        output.WriteLine($"{count} convolutions, {Format(parameters)} weights (without biases)");
    }

    private static void WriteTensor(TextWriter output, string name, string dtype, int[] shape)
        => output.WriteLine(Printable.Text($"  {name}  {dtype}  [{string.Join(", ", shape)}]"));

    private static string Format(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
