using NanoPose.Weights;
using NanoPose.WeightsTools;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;

// nanopose-weights: inspect a checkpoint or weight file; convert a checkpoint into a .npw weight file.
string usage = $"""
    usage: nanopose-weights inspect <file.pth|file.npw>
           nanopose-weights convert <checkpoint.pth> --arch <name> -o <file.npw> [--fp16]
    architectures: {string.Join(", ", ModelConversion.Architectures.Keys)}
    """;
try
{
    switch (args)
    {
        case ["inspect", string file]:
            Inspect.Run(file, Console.Out);
            return 0;
        case ["convert", string checkpoint, .. var options]:
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
            if (arch is null || output is null)
            {
                Console.Error.WriteLine($"error: convert needs --arch and -o\n{usage}");
                return 2;
            }
            if (!ModelConversion.Architectures.ContainsKey(arch))
            {
                Console.Error.WriteLine($"error: unknown architecture '{arch}'\n{usage}");
                return 2;
            }
            File.WriteAllBytes(output, ModelConversion.Convert(TorchCheckpoint.Load(checkpoint), arch, storeAs));
            Console.WriteLine($"{output}: {arch}, weights {storeAs}");
            return 0;
        default:
            Console.Error.WriteLine(usage);
            return 2;
    }
}
catch (Exception e) when (e is CheckpointException or WeightFileException or ArgumentException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
