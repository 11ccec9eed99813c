using NanoPose.Weights;
using NanoPose.WeightsTools;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;
using NanoPose.WeightsTools.Ncnn;

// nanopose-weights: inspect a checkpoint or weight file; convert a checkpoint or an ncnn model into a .npw weight file.
string usage = $"""
    usage: nanopose-weights inspect <file.pth|file.npw>
           nanopose-weights convert <checkpoint.pth|model.param> [--arch <name>] -o <file.npw> [--fp16]
    an ncnn model.param is read with the model.bin beside it; --arch may be left out for checkpoints it can be
    recognised from (EfficientHRNet)
    architectures: {string.Join(", ", ModelConversion.Architectures.Keys)}
    """;
try
{
    switch (args)
    {
        case ["inspect", string file]:
            Inspect.Run(file, Console.Out);
            return 0;
        case ["convert", string source, .. var options]:
            string? arch = null, output = null;
            var storeAs = WeightDType.Float32;
            for (int i = 0; i < options.Length; i++)
            {
                switch (options[i])
                {
                    case "--arch" when i + 1 < options.Length: arch = options[++i]; break;
                    case "-o" when i + 1 < options.Length: output = options[++i]; break;
                    case "--fp16": storeAs = WeightDType.Float16; break;
                    default:
                        Console.Error.WriteLine($"error: unexpected argument '{options[i]}'\n{usage}");
                        return 2;
                }
            }
            if (output is null)
            {
                Console.Error.WriteLine($"error: convert needs -o\n{usage}");
                return 2;
            }
            if (arch is not null && !ModelConversion.Architectures.ContainsKey(arch))
            {
                Console.Error.WriteLine($"error: unknown architecture '{arch}'\n{usage}");
                return 2;
            }
            if (source.EndsWith(".param", StringComparison.OrdinalIgnoreCase))
            {
                if (arch is null)
                {
                    Console.Error.WriteLine($"error: an ncnn model needs --arch\n{usage}");
                    return 2;
                }
                File.WriteAllBytes(output, ModelConversion.ConvertNcnn(source, arch, storeAs));
            }
            else
            {
                var checkpoint = TorchCheckpoint.Load(source);
                arch ??= ModelConversion.Detect(checkpoint);
                if (arch is null)
                {
                    Console.Error.WriteLine($"error: the architecture of {source} is not recognised from its tensors; name it with --arch\n{usage}");
                    return 2;
                }
                File.WriteAllBytes(output, ModelConversion.Convert(checkpoint, arch, storeAs));
            }
            Console.WriteLine($"{output}: {arch}, weights {storeAs}");
            return 0;
        default:
            Console.Error.WriteLine(usage);
            return 2;
    }
}
catch (Exception e) when (e is CheckpointException or NcnnException or WeightFileException or ArgumentException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
