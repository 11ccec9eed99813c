using NanoPose.Layers;
using NanoPose.Models.LiteHrnet;

namespace NanoPose.WeightsTools.Ncnn;

/// <summary>
/// Serves a network's convolution requests from an ncnn model whose BatchNorms are already folded.
/// <para>Matching: on construction every ncnn convolution, in file order, is paired with the entry of the layout
/// (<see cref="NaiveLiteHrnetNcnnLayout"/>) at the same position, and the pair must agree in everything ncnn
/// records — depthwise or not, output and per-group input channels, kernel, stride, padding (kernel/2), dilation 1
/// and the fused activation (ReLU or none). So the ncnn order is verified once, layer by layer, against the
/// architecture, and a file in another order is refused, naming the first layer that does not fit.</para>
/// <para>Requests are then answered by PyTorch module name, so the model may ask in any order; each request's
/// shape must equal the ncnn layer's. <see cref="ThrowIfIncomplete"/> names the ncnn convolutions never asked for.</para>
/// </summary>
public sealed class NcnnWeightSource : IWeightSource
{
    private readonly Dictionary<string, (ExpectedConvolution Expected, NcnnConvolution Ncnn)> _byName = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<(ExpectedConvolution Expected, NcnnConvolution Ncnn)> _pairs = [];
    private readonly string _source;

    public NcnnWeightSource(NcnnModel model, NaiveLiteHrnetNcnnLayout layout, string source)
    {
        _source = source;
        var expected = layout.Convolutions();
        if (expected.Count != model.Convolutions.Count)
            throw new NcnnException(source, $"has {model.Convolutions.Count} convolutions; the architecture has {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            var (want, have) = (expected[i], model.Convolutions[i]);
            if (Disagreement(want, have) is string problem)
                throw have.Layer.Error($"convolution #{i} should be {want}, but {problem}; found {have.Describe()}");
            _pairs.Add((want, have));
            _byName.Add(want.Name, (want, have));
        }
        var heatmaps = model.Convolutions[^1];
        if (heatmaps.OutputHeight > 0 && heatmaps.OutputWidth > 0)
            InputSize = (heatmaps.OutputHeight * NaiveLiteHrnetNcnnLayout.HeatmapStride, heatmaps.OutputWidth * NaiveLiteHrnetNcnnLayout.HeatmapStride);
    }

    /// <summary>The input size the ncnn graph was exported for, from the heatmaps' size its layers fix (Reshape and
    /// Interp carry sizes), or null when the graph leaves it open. The network itself works at any size.</summary>
    public (int Height, int Width)? InputSize { get; }

    /// <summary>The shape of a PyTorch tensor <c>&lt;conv&gt;.weight</c> or <c>&lt;conv&gt;.bias</c> the ncnn file holds, or null.</summary>
    public int[]? ShapeOf(string tensor)
    {
        int dot = tensor.LastIndexOf('.');
        if (dot < 0 || !_byName.TryGetValue(tensor[..dot], out var pair)) return null;
        var ncnn = pair.Ncnn;
        return tensor[(dot + 1)..] switch
        {
            "weight" => [ncnn.OutChannels, ncnn.InChannelsPerGroup, ncnn.KernelHeight, ncnn.KernelWidth],
            "bias" => [ncnn.OutChannels],
            _ => null,
        };
    }

    /// <summary>Loads <paramref name="paramPath"/> (and the .bin beside it) for the layout of <paramref name="architecture"/>.</summary>
    public static NcnnWeightSource Load(string paramPath, string architecture)
    {
        var naive = LiteHrnetConfig.Known.Values.Where(c => c.ModuleType == LiteHrnetModuleType.Naive).Select(c => c.Variant).ToList();
        if (!naive.Contains(architecture))
            throw new NcnnException(paramPath, $"ncnn conversion supports the naive Lite-HRNet architectures ({string.Join(", ", naive)}; PP-TinyPose is wider-naive-litehrnet-18), not '{architecture}'");
        return new NcnnWeightSource(NcnnModel.Load(paramPath), NaiveLiteHrnetNcnnLayout.For(LiteHrnetConfig.Known[architecture]), paramPath);
    }

    public ConvWeights Conv(ConvRequest request)
    {
        if (!_byName.TryGetValue(request.Name, out var pair))
            throw new NcnnException(_source, $"the network asks for {request.Name} [{string.Join(", ", request.WeightShape)}], which no ncnn convolution corresponds to");
        var ncnn = pair.Ncnn;
        if (request.Transposed || request.OutChannels != ncnn.OutChannels || request.InChannelsPerGroup != ncnn.InChannelsPerGroup
            || request.KernelHeight != ncnn.KernelHeight || request.KernelWidth != ncnn.KernelWidth)
            throw ncnn.Layer.Error($"the network asks for {request.Name} with weight shape [{string.Join(", ", request.WeightShape)}]{(request.Transposed ? " (transposed)" : "")}, " +
                                   $"but the ncnn layer for it is [{ncnn.OutChannels}, {ncnn.InChannelsPerGroup}, {ncnn.KernelHeight}, {ncnn.KernelWidth}]");
        if (!_used.Add(request.Name))
            throw ncnn.Layer.Error($"the network asks for {request.Name} twice");
        return new ConvWeights(ncnn.Weight, ncnn.Bias.Length == 0 ? new float[ncnn.OutChannels] : ncnn.Bias);
    }

    /// <summary>Throws naming every ncnn convolution the network did not ask for.</summary>
    public void ThrowIfIncomplete()
    {
        var unused = _pairs.Where(p => !_used.Contains(p.Expected.Name)).ToList();
        if (unused.Count == 0) return;
        throw new NcnnException(_source, $"{unused.Count} ncnn convolution(s) were not used by the network: " +
            string.Join(", ", unused.Take(20).Select(p => $"{p.Ncnn.Layer.Name} ({p.Expected.Name})")) + (unused.Count > 20 ? ", …" : ""));
    }

    /// <summary>What about the ncnn layer contradicts the architecture, or null.</summary>
    private static string? Disagreement(ExpectedConvolution want, NcnnConvolution have)
    {
        if (want.Depthwise != have.Depthwise) return want.Depthwise ? "it is not depthwise" : "it is depthwise";
        if (want.Depthwise && (have.Groups != have.OutChannels || have.InChannels != have.OutChannels))
            return $"its {have.Groups} groups do not make it depthwise over {have.InChannels}→{have.OutChannels} channels";
        if (have.OutChannels != want.OutChannels || have.InChannelsPerGroup != want.InChannelsPerGroup
            || have.KernelHeight != want.Kernel || have.KernelWidth != want.Kernel)
            return "the weight shape differs";
        if (have.StrideHeight != want.Stride || have.StrideWidth != want.Stride) return "the stride differs";
        int pad = want.Kernel / 2;
        if (have.PadTop != pad || have.PadLeft != pad || have.PadBottom != pad || have.PadRight != pad) return $"the padding is not {pad}";
        if (have.DilationHeight != 1 || have.DilationWidth != 1) return "it is dilated";
        if ((have.Activation == NcnnActivation.Relu) != want.Relu) return want.Relu ? "it has no fused ReLU" : "it has a fused ReLU";
        return null;
    }
}
