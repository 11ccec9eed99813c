using NanoPose.IO;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;
using NanoPose.WeightsTools.Ncnn;
using NanoPose.WeightsTools.Onnx;
using NanoPose.WeightsTools.OpenVino;

namespace NanoPose.WeightsTools;

/// <summary>The <c>nanopose-weights</c> commands: inspect a checkpoint or weight file; convert a checkpoint, an ncnn
/// model or an OpenVINO IR into a .npw weight file; export a .npw as ONNX. A problem with the input (a bad option, a missing or broken
/// file) prints one line naming it and exits with 2, as <c>nanopose</c> does.</summary>
public static class CommandLine
{
    public static readonly string Usage = $"""
        usage: nanopose-weights inspect <file.pth|file.npw|model.xml>
               nanopose-weights convert <checkpoint.pth|model.param|model.xml> [--arch <name>] -o <file.npw> [--fp16]
               nanopose-weights export-onnx <file.npw> -o <file.onnx> [--input HxW]
        an ncnn model.param or OpenVINO IR model.xml is read with the model.bin beside it and needs --arch; --arch may
        be left out for checkpoints it can be recognised from (EfficientHRNet)
        architectures: {string.Join(", ", ModelConversion.Architectures.Keys)}
        export-onnx writes opset {OnnxGraph.Opset}, input "image" 1×3×H×W (default: the model's own input size)
        """;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            switch (args)
            {
                case ["inspect", string file]:
                    Inspect.Run(file, output);
                    return 0;
                case ["convert", string source, .. var options]:
                    return Convert(source, options, output, error);
                case ["export-onnx", string model, .. var options]:
                    return ExportOnnx(model, options, output, error);
                default:
                    error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (Exception e) when (e is CheckpointException or NcnnException or OpenVinoException or WeightFileException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {Printable.Text(e.Message, keepLineBreaks: true)}");
            return 2;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else is NanoPose's fault, not the file's: say so in one line instead of a crash with a stack trace.
            error.WriteLine($"error: internal error ({e.GetType().Name}): {Printable.Text(e.Message, keepLineBreaks: true)}");
            return 1;
        }
    }

    private static int Convert(string source, string[] options, TextWriter output, TextWriter error)
    {
        string? arch = null, target = null;
        var storeAs = WeightDType.Float32;
        for (int i = 0; i < options.Length; i++)
        {
            switch (options[i])
            {
                case "--arch" when i + 1 < options.Length: arch = options[++i]; break;
                case "-o" when i + 1 < options.Length: target = options[++i]; break;
                case "--fp16": storeAs = WeightDType.Float16; break;
                default: return Fail(error, $"unexpected argument '{options[i]}'");
            }
        }
        if (target is null) return Fail(error, "convert needs -o");
        if (arch is not null && !ModelConversion.Architectures.ContainsKey(arch)) return Fail(error, $"unknown architecture '{arch}'");
        if (source.EndsWith(".param", StringComparison.OrdinalIgnoreCase))
        {
            if (arch is null) return Fail(error, "an ncnn model needs --arch");
            File.WriteAllBytes(target, ModelConversion.ConvertNcnn(source, arch, storeAs));
        }
        else if (source.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
        {
            if (arch is null) return Fail(error, "an OpenVINO IR model needs --arch");
            File.WriteAllBytes(target, ModelConversion.ConvertOpenVino(source, arch, storeAs));
        }
        else
        {
            var checkpoint = TorchCheckpoint.Load(source);
            arch ??= ModelConversion.Detect(checkpoint);
            if (arch is null) return Fail(error, $"the architecture of {source} is not recognised from its tensors; name it with --arch");
            File.WriteAllBytes(target, ModelConversion.Convert(checkpoint, arch, storeAs));
        }
        output.WriteLine($"{target}: {arch}, weights {storeAs}");
        return 0;
    }

    private static int ExportOnnx(string model, string[] options, TextWriter output, TextWriter error)
    {
        string? target = null;
        (int Height, int Width)? size = null;
        for (int i = 0; i < options.Length; i++)
        {
            switch (options[i])
            {
                case "-o" when i + 1 < options.Length: target = options[++i]; break;
                case "--input" when i + 1 < options.Length: size = OnnxExport.ParseSize(options[++i]); break;
                default: return Fail(error, $"unexpected argument '{options[i]}'");
            }
        }
        if (target is null) return Fail(error, "export-onnx needs -o");
        var file = NpwFile.Parse(InputFile.ReadAllBytes(model, Array.MaxLength, "weight"), model);
        File.WriteAllBytes(target, OnnxExport.Export(file, size?.Height, size?.Width));
        output.WriteLine($"{target}: {file.Architecture.Variant}, ONNX opset {OnnxGraph.Opset}");
        return 0;
    }

    private static int Fail(TextWriter error, string problem)
    {
        error.WriteLine($"error: {Printable.Text(problem, keepLineBreaks: true)}\n{Usage}");
        return 2;
    }
}
