using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Weights;

const string Usage = """
    usage: nanopose isa
           nanopose info --model <file.npw>
           nanopose forward --model <file.npw> --input <image.npy> --out-dir <dir>
    """;

try
{
    switch (args)
    {
        case ["isa"]:
            Console.WriteLine($"vector widths: {Isa.Describe()}");
            Console.WriteLine($"kernels use:   {Isa.Best}");
            return 0;
        case ["info", .. var options]:
            var info = Options.Parse(options, "--model");
            var file = NpwFile.Load(info["--model"]);
            NetworkInfo.Write(file, PoseNetworks.Load(file, Isa.Best), Console.Out);
            return 0;
        case ["forward", .. var options]:
            var forward = Options.Parse(options, "--model", "--input", "--out-dir");
            foreach (string written in Forward.Run(forward["--model"], forward["--input"], forward["--out-dir"]))
                Console.WriteLine(written);
            return 0;
        case []:
            Console.Error.WriteLine(Usage);
            return 0;
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
catch (Exception e) when (e is UsageException or WeightFileException or InvalidDataException or ArgumentException
                          or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    if (e is UsageException) Console.Error.WriteLine(Usage);
    return 2;
}

/// <summary>A command line that does not parse.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary><c>--name value</c> pairs, each of the expected names exactly once.</summary>
internal static class Options
{
    public static Dictionary<string, string> Parse(string[] args, params string[] names)
    {
        var values = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!names.Contains(args[i])) throw new UsageException($"unknown option '{args[i]}'");
            if (i + 1 >= args.Length) throw new UsageException($"{args[i]} needs a value");
            if (!values.TryAdd(args[i], args[i + 1])) throw new UsageException($"{args[i]} is given twice");
        }
        foreach (string name in names)
            if (!values.ContainsKey(name)) throw new UsageException($"{name} is required");
        return values;
    }
}

/// <summary><c>forward</c>: the raw network on one NCHW float32 image; writes output0.npy, output1.npy, … (NCHW).</summary>
internal static class Forward
{
    public static IEnumerable<string> Run(string modelPath, string inputPath, string outDir)
    {
        var file = NpwFile.Load(modelPath);
        var input = Npy.Read(inputPath);
        int[] shape = input.Shape;
        if (input.DType != NpyDType.Float32 || shape.Length != 4 || shape[0] != 1)
            throw new InvalidDataException(
                $"{inputPath}: expected a 1×C×H×W float32 array, found {input.DType} ({string.Join("×", shape)})");
        var network = PoseNetworks.Load(file, Isa.Best, inputHeight: shape[2], inputWidth: shape[3]);
        if (shape[1] != network.InputChannels)
            throw new InvalidDataException($"{inputPath}: the model takes {network.InputChannels} channels, the array has {shape[1]}");

        var outputs = network.Forward(input.Data);
        Directory.CreateDirectory(outDir);
        var written = new List<string>();
        for (int i = 0; i < outputs.Count; i++)
        {
            var map = outputs[i];
            string path = Path.Combine(outDir, $"output{i}.npy");
            Npy.Write(path, [1, map.ChannelCount, map.Height, map.Width], map.ToNchw());
            written.Add(path);
        }
        return written;
    }
}
