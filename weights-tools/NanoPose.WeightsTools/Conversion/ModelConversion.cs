using System.Globalization;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Models.PicoDet;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Ncnn;
using NanoPose.WeightsTools.OpenVino;

namespace NanoPose.WeightsTools.Conversion;

/// <summary>
/// <c>convert</c>: builds the named architecture from a checkpoint, an ncnn model or an OpenVINO IR — so the network itself asks for
/// every tensor it needs, BatchNorm folded in — refuses the source if any tensor is missing, mis-shaped or unused,
/// and writes the requested convolutions with the architecture description as a .npw file.
/// </summary>
public static class ModelConversion
{
    /// <summary>Builds one architecture from <paramref name="weights"/> and describes it. <paramref name="shapeOf"/>
    /// gives the shape of a source tensor by name (null if unknown), for sizes a configuration leaves open;
    /// <paramref name="inputSize"/> is the input size the source was made for, if it says.</summary>
    public delegate ModelArchitecture ArchitectureBuilder(IWeightSource weights, Func<string, int[]?> shapeOf, (int Height, int Width)? inputSize);

    /// <summary>The architectures <c>convert --arch</c> knows, by name.</summary>
    public static IReadOnlyDictionary<string, ArchitectureBuilder> Architectures { get; } = new Dictionary<string, ArchitectureBuilder>
    {
        ["litehrnet-18"] = LiteHrnetVariant("litehrnet-18"),
        ["litehrnet-30"] = LiteHrnetVariant("litehrnet-30"),
        ["naive-litehrnet-18"] = LiteHrnetVariant("naive-litehrnet-18"),
        ["wider-naive-litehrnet-18"] = LiteHrnetVariant("wider-naive-litehrnet-18"),
        [EfficientHrnetConfig.VariantName(0)] = EfficientHrnetVariant(0),
        [EfficientHrnetConfig.VariantName(-1)] = EfficientHrnetVariant(-1),
        [EfficientHrnetConfig.VariantName(-2)] = EfficientHrnetVariant(-2),
        [EfficientHrnetConfig.VariantName(-3)] = EfficientHrnetVariant(-3),
        [EfficientHrnetConfig.VariantName(-4)] = EfficientHrnetVariant(-4),
        [PicoDetConfig.DefaultVariant] = PicoDet,
    };

    /// <summary>The architecture a checkpoint's tensor shapes identify (for <c>convert</c> without <c>--arch</c>), or null.
    /// Today: the EfficientHRNet variants, whose first HRNet branch width differs for every φ.</summary>
    public static string? Detect(Checkpoint checkpoint) => EfficientHrnetConfig.Detect(new CheckpointWeightSource(checkpoint).ShapeOf)?.Variant;

    /// <summary>The .npw file of <paramref name="checkpoint"/> as <paramref name="architecture"/>; weights stored as
    /// <paramref name="storeAs"/> (biases stay float32).</summary>
    public static byte[] Convert(Checkpoint checkpoint, string architecture, WeightDType storeAs = WeightDType.Float32)
    {
        var build = Builder(architecture);
        var source = new CheckpointWeightSource(checkpoint);
        var recording = new RecordingWeightSource(source);
        return Write(recording, build(recording, source.ShapeOf, null), source.ThrowIfIncomplete, storeAs, checkpoint.Source);
    }

    /// <summary>The .npw file of the ncnn model <paramref name="paramPath"/> (its .bin beside it) as
    /// <paramref name="architecture"/>, for the input size the ncnn graph was exported for.</summary>
    public static byte[] ConvertNcnn(string paramPath, string architecture, WeightDType storeAs = WeightDType.Float32)
    {
        var build = Builder(architecture);
        var source = NcnnWeightSource.Load(paramPath, architecture);
        var recording = new RecordingWeightSource(source);
        return Write(recording, build(recording, source.ShapeOf, source.InputSize), source.ThrowIfIncomplete, storeAs, paramPath);
    }

    /// <summary>The .npw file of the OpenVINO IR <paramref name="xmlPath"/> (its .bin beside it) as
    /// <paramref name="architecture"/>, for the input size the IR declares. The IR is read with the PicoDet layout
    /// (<see cref="PicoDetIrLayout"/>), the only IR network there is today.</summary>
    public static byte[] ConvertOpenVino(string xmlPath, string architecture, WeightDType storeAs = WeightDType.Float32)
    {
        var build = Builder(architecture);
        var source = OpenVinoWeightSource.Load(xmlPath);
        var recording = new RecordingWeightSource(source);
        return Write(recording, build(recording, source.ShapeOf, source.InputSize), source.ThrowIfIncomplete, storeAs, xmlPath);
    }

    private static ArchitectureBuilder Builder(string architecture) => Architectures.TryGetValue(architecture, out var build) ? build
        : throw new ArgumentException($"unknown architecture '{architecture}' (known: {string.Join(", ", Architectures.Keys)})");

    /// <summary>The .npw bytes of what the network took from the source, once the source confirms it was all used.</summary>
    private static byte[] Write(RecordingWeightSource recording, ModelArchitecture description, Action throwIfIncomplete, WeightDType storeAs, string source)
    {
        throwIfIncomplete();
        ThrowIfUnrepresentable(recording, storeAs, source);
        var writer = new NpwWriter(description);
        recording.WriteTo(writer, storeAs);
        return writer.ToBytes();
    }

    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or null.</summary>
    internal static int? FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return null;
    }

    /// <summary>
    /// Refuses, naming the tensor, weights that are not finite as they would be written — from the source, or made by
    /// folding a BatchNorm (a tiny variance under a large weight) — and, stored as float16, values beyond ±65504,
    /// which would become infinities.
    /// </summary>
    private static void ThrowIfUnrepresentable(RecordingWeightSource recording, WeightDType storeAs, string source)
    {
        foreach (var (request, weights) in recording.Recorded)
        {
            foreach (var (suffix, values) in new[] { ("weight", weights.Weight), ("bias", weights.Bias) })
            {
                if (FirstNonFinite(values) is int at)
                    throw new WeightFileException(source, $"{request.Name}.{suffix}[{at}] is {values[at].ToString(CultureInfo.InvariantCulture)}{(request.BatchNorm is null ? "" : $" after folding in {request.BatchNorm}")}; a weight must be finite");
                if (suffix == "weight" && storeAs == WeightDType.Float16)
                {
                    int beyond = values.AsSpan().IndexOfAnyExceptInRange((float)-Half.MaxValue, (float)Half.MaxValue);
                    if (beyond >= 0)
                        throw new WeightFileException(source, $"{request.Name}.weight[{beyond}] is {values[beyond].ToString(CultureInfo.InvariantCulture)}, beyond float16's ±65504; convert without --fp16");
                }
            }
        }
    }

    private static ArchitectureBuilder LiteHrnetVariant(string variant) => (weights, shapeOf, inputSize) =>
    {
        var config = LiteHrnetConfig.Known[variant];
        if (inputSize is { } size) config = config with { InputHeight = size.Height, InputWidth = size.Width };
        // The final layer's shape [keypoints, in, 1, 1] settles the head (Naive-18's config says 40 input channels
        // where its backbone gives 30). An input width the backbone cannot give is left to be reported as mis-shaped.
        if (shapeOf("keypoint_head.final_layer.weight") is [int keypoints, int inChannels, 1, 1])
            config = config with
            {
                HeadOutChannels = keypoints,
                HeadInChannels = inChannels == config.Stages[^1].Channels[0] ? inChannels : config.HeadInChannels,
            };
        LiteHrnetNetwork.Build(config, weights, Isa.Best);
        return config.ToArchitecture();
    };

    /// <summary>PicoDet-S LCNet, at the input size the IR declares.</summary>
    private static ModelArchitecture PicoDet(IWeightSource weights, Func<string, int[]?> shapeOf, (int Height, int Width)? inputSize)
    {
        var config = new PicoDetConfig();
        if (inputSize is { } size) config = config with { InputHeight = size.Height, InputWidth = size.Width };
        PicoDetNetwork.Build(config, weights, VectorWidth.Scalar);   // asks for every tensor
        return config.ToArchitecture();
    }

    private static ArchitectureBuilder EfficientHrnetVariant(int scale) => (weights, shapeOf, inputSize) =>   // runs at any inputSize (multiples of 32)
    {
        // The R/2 head predicts 17 heatmaps in the Example Configs, 34 (with tags) when trained with AE loss there too.
        var config = EfficientHrnetConfig.FromScale(scale, shapeOf("final_layers.1.weight") is [34, ..] ? 34 : 17);
        _ = new EfficientHrnetModel(config, weights, VectorWidth.Scalar);   // asks for every tensor; scalar packing is a copy
        return config.ToArchitecture();
    };
}
