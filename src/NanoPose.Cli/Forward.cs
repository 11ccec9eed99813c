using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary><c>forward</c>: the raw network on one NCHW float32 image; writes output0.npy, output1.npy, … (NCHW).</summary>
internal static class Forward
{
    public static IEnumerable<string> Run(NpwFile file, string inputPath, string outDir)
    {
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
