using System.Text.RegularExpressions;
using NanoPose.IO;
using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary><c>forward</c>: the raw network on one NCHW float32 image; writes output0.npy, output1.npy, … (NCHW),
/// each through a temporary file. The output folder is made and checked before the network runs, and a command whose
/// outputs would replace its input array or model is refused.</summary>
internal static partial class Forward
{
    /// <summary>The largest input array read: a 3×4096×4096 float32 image is 192 MiB.</summary>
    public const long MaxInputBytes = 1L << 28;

    /// <param name="modelPath">The model's file (null: built in), only to refuse writing over it.</param>
    public static IEnumerable<string> Run(NpwFile file, string inputPath, string outDir, string? modelPath = null)
    {
        // An output is outDir/output<k>.npy; an input that is (or links to) such a file would be replaced.
        string folder = FilePaths.Resolve(outDir);
        foreach (string named in new[] { inputPath, modelPath }.OfType<string>())
            if (new[] { FilePaths.Resolve(Path.GetDirectoryName(Path.GetFullPath(named))!) + Path.DirectorySeparatorChar + Path.GetFileName(named), FilePaths.Resolve(named) }
                .Any(path => OutputName().IsMatch(Path.GetFileName(path)) && FilePaths.Comparer.Equals(Path.GetDirectoryName(path), folder)))
                throw new OutputException($"--out-dir {Printable.Text(outDir)} would have output files written over the input {Printable.Text(named)}; nothing was run: choose another folder");
        OutputFiles.PrepareFolder(outDir, "--out-dir");
        var input = Npy.Parse(InputFile.ReadAllBytes(inputPath, MaxInputBytes, "input array"), inputPath);
        int[] shape = input.Shape;
        if (input.DType != NpyDType.Float32 || shape.Length != 4 || shape[0] != 1)
            throw new InvalidDataException(
                $"{inputPath}: expected a 1×C×H×W float32 array, found {input.DType} ({string.Join("×", shape)})");
        var network = PoseNetworks.Load(file, Isa.Best, inputHeight: shape[2], inputWidth: shape[3]);
        if (shape[1] != network.InputChannels)
            throw new InvalidDataException($"{inputPath}: the model takes {network.InputChannels} channels, the array has {shape[1]}");

        var outputs = network.Forward(input.Data);
        var written = new List<string>();
        for (int i = 0; i < outputs.Count; i++)
        {
            var map = outputs[i];
            string path = Path.Combine(outDir, $"output{i}.npy");
            ResultFile.Write(path, "--out-dir", Npy.Encode([1, map.ChannelCount, map.Height, map.Width], map.ToNchw()));
            written.Add(path);
        }
        return written;
    }

    [GeneratedRegex(@"^output[0-9]+\.npy$")]
    private static partial Regex OutputName();
}
