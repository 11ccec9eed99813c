using NanoPose.Layers;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Models.PicoDet;
using NanoPose.Weights;

namespace NanoPose.WeightsTools.Onnx;

/// <summary>
/// <c>export-onnx</c>: the network a .npw file describes, with its weights, as an ONNX model (opset
/// <see cref="OnnxGraph.Opset"/>, float32, input <c>image</c> 1 × 3 × H × W, outputs as the engine's networks give
/// them). The graph is built from the architecture description alone (LiteHrnetOnnx, EfficientHrnetOnnx, PicoDetOnnx), not from
/// the engine's model code, and asks the file for each convolution by the name the engine uses; a file holding any
/// tensor the graph did not use is refused, naming them.
/// </summary>
public static class OnnxExport
{
    private const string Producer = "nanopose-weights";

    /// <summary>The ONNX model of <paramref name="file"/> for an input of the given size (null: the size the model was
    /// converted for — Lite-HRNet, PicoDet — or trained at — EfficientHRNet, 512 + 32φ).</summary>
    public static byte[] Export(NpwFile file, int? inputHeight = null, int? inputWidth = null)
    {
        var architecture = file.Architecture;
        var weights = new UsedWeights(new NpwWeightSource(file));
        var graph = new OnnxGraph(architecture.Variant, weights);
        switch (architecture.Family)
        {
            case LiteHrnetConfig.Family:
                var lite = ReadConfig(file, LiteHrnetConfig.FromArchitecture);
                var (h, w) = (inputHeight ?? lite.InputHeight, inputWidth ?? lite.InputWidth);
                RequireMultiple(architecture.Variant, h, w, lite.SizeMultiple);
                LiteHrnetOnnx.Build(graph, lite, h, w);
                break;
            case EfficientHrnetConfig.Family:
                var efficient = ReadConfig(file, EfficientHrnetConfig.FromArchitecture);
                int side = efficient.NativeInputSize;
                (h, w) = (inputHeight ?? side, inputWidth ?? side);
                RequireMultiple(architecture.Variant, h, w, 32);   // the branches halve the input five times
                EfficientHrnetOnnx.Build(graph, efficient, h, w);
                break;
            case PicoDetConfig.Family:
                var picoDet = ReadConfig(file, PicoDetConfig.FromArchitecture);
                (h, w) = (inputHeight ?? picoDet.InputHeight, inputWidth ?? picoDet.InputWidth);
                picoDet.RequireInputSize(h, w);
                PicoDetOnnx.Build(graph, picoDet, h, w);
                break;
            default:
                throw new WeightFileException(file.Source,
                    $"architecture family '{architecture.Family}' cannot be exported (known: {LiteHrnetConfig.Family}, {EfficientHrnetConfig.Family}, {PicoDetConfig.Family})");
        }
        var unused = file.Tensors.Select(t => t.Name).Where(n => !weights.Names.Contains(n)).ToList();
        if (unused.Count > 0)
            throw new WeightFileException(file.Source, $"{unused.Count} tensors are not part of the {architecture.Variant} graph: {string.Join(", ", unused.Take(10))}");
        return graph.ToModel(Producer);
    }

    /// <summary>Reads <c>HxW</c> (e.g. <c>256x192</c>).</summary>
    public static (int Height, int Width) ParseSize(string text)
    {
        string[] parts = text.Split('x', 'X', '×');
        if (parts.Length == 2 && int.TryParse(parts[0], out int h) && int.TryParse(parts[1], out int w) && h > 0 && w > 0) return (h, w);
        throw new ArgumentException($"input size '{text}' is not HxW with positive integers (e.g. 256x192)");
    }

    /// <summary>A family's configuration from the file's architecture description; a missing or wrong property is the file's fault.</summary>
    private static T ReadConfig<T>(NpwFile file, Func<ModelArchitecture, T> read)
    {
        try { return read(file.Architecture); }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw new WeightFileException(file.Source, $"bad architecture description: {e.Message}");
        }
    }

    private static void RequireMultiple(string variant, int height, int width, int multiple)
    {
        if (height <= 0 || width <= 0 || height % multiple != 0 || width % multiple != 0)
            throw new ArgumentException($"{variant}: input {height}×{width} must have sides that are positive multiples of {multiple}");
    }

    /// <summary>Remembers the tensor names the graph asked for.</summary>
    private sealed class UsedWeights(IWeightSource inner) : IWeightSource
    {
        public HashSet<string> Names { get; } = [];

        public ConvWeights Conv(ConvRequest request)
        {
            var weights = inner.Conv(request);
            Names.Add(request.Name + ".weight");
            Names.Add(request.Name + ".bias");
            return weights;
        }
    }
}
