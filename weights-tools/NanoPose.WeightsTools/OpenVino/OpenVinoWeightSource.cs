using System.Globalization;
using NanoPose.Layers;

namespace NanoPose.WeightsTools.OpenVino;

/// <summary>
/// Serves a network's convolution requests from an OpenVINO IR whose BatchNorms are folded (every conv is
/// "conv + per-channel bias"), such as the PicoDet detector (<see cref="PicoDetIrLayout"/>).
/// <para>On construction the graph is checked against the layout: the IR has exactly the layout's convolutions, and
/// each has the expected type (GroupConvolution = depthwise), weight shape, strides, symmetric padding and no
/// dilation; its weight reaches port 1 from the named <c>Const</c> (through a <c>Convert</c> to f32); its only
/// consumer is the named bias <c>Add</c>, whose other input is a <c>[1, O, 1, 1]</c> <c>Const</c>; and the op after
/// the bias is the expected activation. The graph's no-op <c>Div_k</c> multiplies must multiply by exactly 1.0 and
/// its HardSigmoids must use exactly <see cref="HardSigmoidSlope"/> and <see cref="HardSigmoidOffset"/>, the numbers
/// NanoPose's kernel computes with: anything else would run a different function than the IR describes.</para>
/// <para>Requests are answered by NanoPose name, in any order, with the weights in PyTorch layout and the bias;
/// <see cref="ThrowIfIncomplete"/> names the IR convolutions never asked for.</para>
/// </summary>
public sealed class OpenVinoWeightSource : IWeightSource
{
    /// <summary>α of the IR's HardSigmoid: 1/6 rounded to fp16 (not 1/6; MODELS.md G.12 point 1 shows it matters).</summary>
    public const float HardSigmoidSlope = NanoPose.Kernels.Common.Activations.HardSigmoidSlope;
    /// <summary>β of the IR's HardSigmoid.</summary>
    public const float HardSigmoidOffset = NanoPose.Kernels.Common.Activations.HardSigmoidOffset;
    /// <summary>The name prefix of the Multiply-by-1.0 layers left by hard-swish fusion (MODELS.md G.2).</summary>
    public const string NoOpMultiplyPrefix = "Div_";

    private readonly OpenVinoIrFile _ir;
    private readonly Dictionary<string, Entry> _byName = new(StringComparer.Ordinal);
    private readonly List<Entry> _entries = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly HashSet<int> _noOps = [];

    private sealed record Entry(IrConvolution Expected, OpenVinoLayer Layer, OpenVinoLayer Weight, OpenVinoLayer Bias);

    public OpenVinoWeightSource(OpenVinoIrFile ir, IReadOnlyList<IrConvolution> layout)
    {
        _ir = ir;
        foreach (var layer in ir.Layers)
        {
            if (layer.Type == "Multiply" && layer.Name.StartsWith(NoOpMultiplyPrefix, StringComparison.Ordinal))
            {
                CheckNoOpMultiply(layer);
                _noOps.Add(layer.Id);
            }
            else if (layer.Type == "HardSigmoid") CheckHardSigmoid(layer);
        }
        foreach (var expected in layout)
        {
            var layer = ir.LayerNamed(expected.IrLayer)
                ?? throw new OpenVinoException(ir.Source, $"has no layer '{expected.IrLayer}', the convolution {expected}");
            var entry = Check(expected, layer);
            if (!_byName.TryAdd(expected.Name, entry)) throw new ArgumentException($"the layout names {expected.Name} twice");
            _entries.Add(entry);
        }
        var mapped = _entries.Select(e => e.Layer.Id).ToHashSet();
        var extra = ir.Layers.Where(l => l.Type is "Convolution" or "GroupConvolution" && !mapped.Contains(l.Id)).ToList();
        if (extra.Count > 0)
            throw extra[0].Error($"is a convolution the layout does not have ({extra.Count} such: {string.Join(", ", extra.Take(10).Select(l => l.Name))}{(extra.Count > 10 ? ", …" : "")})");
        if (mapped.Count != _entries.Count) throw new OpenVinoException(ir.Source, "the layout maps two of its convolutions to the same IR layer");
        InputSize = ReadInputSize(ir);
    }

    /// <summary>Loads <paramref name="xmlPath"/> and the .bin beside it as the PicoDet detector.</summary>
    public static OpenVinoWeightSource Load(string xmlPath) => new(OpenVinoIrFile.Load(xmlPath), PicoDetIrLayout.Convolutions);

    public OpenVinoIrFile Ir => _ir;

    /// <summary>The input size (H, W) declared by the IR's Parameter. The weights also run at other multiples of 32.</summary>
    public (int Height, int Width) InputSize { get; }

    /// <summary>The shape of a tensor <c>&lt;conv&gt;.weight</c> (PyTorch layout) or <c>&lt;conv&gt;.bias</c>, or null.</summary>
    public int[]? ShapeOf(string tensor)
    {
        int dot = tensor.LastIndexOf('.');
        if (dot < 0 || !_byName.TryGetValue(tensor[..dot], out var entry)) return null;
        return tensor[(dot + 1)..] switch
        {
            "weight" => entry.Expected.WeightShape,
            "bias" => [entry.Expected.OutChannels],
            _ => null,
        };
    }

    public ConvWeights Conv(ConvRequest request)
    {
        if (!_byName.TryGetValue(request.Name, out var entry))
            throw new OpenVinoException(_ir.Source, $"the network asks for {request.Name} [{string.Join(", ", request.WeightShape)}], which no IR convolution corresponds to");
        var expected = entry.Expected;
        if (request.Transposed || !request.WeightShape.AsSpan().SequenceEqual(expected.WeightShape))
            throw entry.Layer.Error($"the network asks for {request.Name} with weight shape [{string.Join(", ", request.WeightShape)}]{(request.Transposed ? " (transposed)" : "")}, " +
                                    $"but this IR layer's is [{string.Join(", ", expected.WeightShape)}] (stored as [{string.Join(", ", expected.IrWeightShape)}])");
        if (request.BatchNorm is not null)
            throw entry.Layer.Error($"the network asks to fold BatchNorm {request.BatchNorm} into {request.Name}, but the IR's BatchNorms are already folded");
        if (!request.HasBias)
            throw entry.Layer.Error($"the network asks for {request.Name} without a bias, but every IR convolution has one ({expected.BiasAdd})");
        if (!_used.Add(request.Name)) throw entry.Layer.Error($"the network asks for {request.Name} twice");
        return new ConvWeights(_ir.ReadFloats(entry.Weight), _ir.ReadFloats(entry.Bias));
    }

    /// <summary>Throws naming every IR convolution the network did not ask for.</summary>
    public void ThrowIfIncomplete()
    {
        var unused = _entries.Where(e => !_used.Contains(e.Expected.Name)).ToList();
        if (unused.Count == 0) return;
        throw new OpenVinoException(_ir.Source, $"{unused.Count} IR convolution(s) were not used by the network: " +
            string.Join(", ", unused.Take(20).Select(e => $"{e.Layer.Name} ({e.Expected.Name})")) + (unused.Count > 20 ? ", …" : ""));
    }

    private Entry Check(IrConvolution expected, OpenVinoLayer layer)
    {
        string type = expected.Depthwise ? "GroupConvolution" : "Convolution";
        if (layer.Type != type) throw layer.Error($"should be a {type} for {expected}");
        RequirePair(layer, "strides", expected.Stride, expected);
        RequirePair(layer, "dilations", 1, expected);
        RequirePair(layer, "pads_begin", expected.Pad, expected);
        RequirePair(layer, "pads_end", expected.Pad, expected);
        if (layer.Attribute("auto_pad") is { } autoPad && autoPad != "explicit")
            throw layer.Error($"auto_pad '{OpenVinoIrFile.Truncate(autoPad)}' is not explicit; expected the padding of {expected}");

        var weight = ConstBehind(layer, 1, "its weight");
        if (weight.Name != expected.WeightConst) throw layer.Error($"takes its weight from {weight.Name}, not {expected.WeightConst} ({expected})");
        if (!weight.Const!.Shape.SequenceEqual(expected.IrWeightShape.Select(d => (long)d)))
            throw weight.Error($"weight shape [{string.Join(", ", weight.Const.Shape)}] is not [{string.Join(", ", expected.IrWeightShape)}] of {expected}");
        long inChannels = expected.Depthwise ? expected.OutChannels : expected.InChannelsPerGroup;
        if (layer.InputPort(0) is not { Dims: [1, var cin, _, _] } || cin != inChannels)
            throw layer.Error($"data input {layer.InputPort(0)} is not [1, {inChannels}, H, W] for {expected}");
        if (layer.Outputs[0].Dims is not [1, var cout, _, _] || cout != expected.OutChannels)
            throw layer.Error($"output {layer.Outputs[0]} is not [1, {expected.OutChannels}, H, W] for {expected}");

        var consumers = _ir.Consumers(layer);
        if (consumers.Count != 1 || consumers[0].Layer.Type != "Add" || consumers[0].Layer.Name != expected.BiasAdd)
            throw layer.Error($"should feed only its bias Add {expected.BiasAdd}, but feeds {Describe(consumers)}");
        var (add, addPort) = consumers[0];
        if (add.Attribute("auto_broadcast") is { } broadcast && broadcast != "numpy")
            throw add.Error($"auto_broadcast '{OpenVinoIrFile.Truncate(broadcast)}' is not numpy");
        var bias = ConstBehind(add, 1 - addPort, "the bias");
        if (bias.Name != expected.BiasConst) throw add.Error($"takes its bias from {bias.Name}, not {expected.BiasConst} ({expected})");
        if (!bias.Const!.Shape.SequenceEqual([1L, expected.OutChannels, 1, 1]))
            throw bias.Error($"bias shape [{string.Join(", ", bias.Const.Shape)}] is not [1, {expected.OutChannels}, 1, 1] of {expected}");

        CheckActivation(expected, add);
        return new Entry(expected, layer, weight, bias);
    }

    /// <summary>The op after the bias, looking through no-op multiplies.</summary>
    private void CheckActivation(IrConvolution expected, OpenVinoLayer add)
    {
        var consumers = _ir.Consumers(add);
        for (int hop = 0; consumers.Count == 1 && _noOps.Contains(consumers[0].Layer.Id); hop++)
        {
            var only = consumers[0].Layer;
            if (hop == 8) throw only.Error("is one of more than 8 chained no-op multiplies");
            consumers = _ir.Consumers(only);
        }
        if (expected.Then == IrActivation.None)
        {
            if (consumers.FirstOrDefault(c => ActivationOf(c.Layer.Type) is not null) is { Layer: { } activation })
                throw activation.Error($"follows the bias {add.Name}, where {expected} has no activation");
            return;
        }
        if (consumers.Count != 1 || consumers[0].Port != 0 || ActivationOf(consumers[0].Layer.Type) != expected.Then)
            throw add.Error($"should feed only a {OpType(expected.Then)} (input 0) for {expected}, but feeds {Describe(consumers)}");
    }

    private static IrActivation? ActivationOf(string type) => type switch
    {
        "HSwish" => IrActivation.HSwish,
        "ReLU" => IrActivation.Relu,
        "HardSigmoid" => IrActivation.HardSigmoid,
        "Sigmoid" => IrActivation.Sigmoid,
        _ => null,
    };

    private static string OpType(IrActivation activation) => activation switch
    {
        IrActivation.HSwish => "HSwish",
        IrActivation.Relu => "ReLU",
        IrActivation.HardSigmoid => "HardSigmoid",
        IrActivation.Sigmoid => "Sigmoid",
        _ => "nothing",
    };

    private static string Describe(IReadOnlyList<(OpenVinoLayer Layer, int Port)> consumers) => consumers.Count == 0 ? "nothing"
        : string.Join(", ", consumers.Take(5).Select(c => $"{c.Layer.Type} {c.Layer.Name} (input {c.Port})")) + (consumers.Count > 5 ? ", …" : "");

    /// <summary>The f16/f32 Const feeding <paramref name="port"/> of <paramref name="layer"/>, directly or through a Convert to f32.</summary>
    private OpenVinoLayer ConstBehind(OpenVinoLayer layer, int port, string what)
    {
        var (source, _) = _ir.Producer(layer, port);
        if (source.Type == "Convert")
        {
            if (source.Attribute("destination_type") != "f32")
                throw source.Error($"converts {what} of {layer.Name} to '{source.Attribute("destination_type")}', not f32");
            (source, _) = _ir.Producer(source, 0);
        }
        if (source.Const is not { } data)
            throw layer.Error($"{what} (input {port}) does not come from a Const (through a Convert) but from {source.Location}");
        if (data.ElementType is not (OpenVinoElementType.F16 or OpenVinoElementType.F32))
            throw source.Error($"{what} of {layer.Name} holds {OpenVinoIrFile.Name(data.ElementType)} values, not f16 or f32");
        return source;
    }

    /// <summary>A <c>Div_k</c> Multiply must multiply its data by a Const of ones that broadcasts without growing it.</summary>
    private void CheckNoOpMultiply(OpenVinoLayer layer)
    {
        for (int port = 0; port < 2; port++)
        {
            var (source, _) = _ir.Producer(layer, port);
            if (source.Type is not ("Const" or "Convert")) continue;
            var constant = ConstBehind(layer, port, "the factor");
            var data = layer.InputPort(1 - port) ?? throw layer.Error($"has no input port {1 - port} for the data it should pass through");
            if (!layer.Outputs[0].Dims.AsSpan().SequenceEqual(data.Dims) || constant.Const!.ElementCount != 1)
                throw layer.Error($"should be a no-op: its factor {constant.Name} [{string.Join(", ", constant.Const!.Shape)}] must be one value and keep the data's shape {data}");
            float factor = _ir.ReadFloats(constant)[0];
            if (factor != 1.0f)
                throw layer.Error($"is named like a no-op ({NoOpMultiplyPrefix}k) but multiplies by {factor.ToString("R", CultureInfo.InvariantCulture)} ({constant.Name}), not 1.0");
            return;
        }
        throw layer.Error($"is named like a no-op ({NoOpMultiplyPrefix}k) but neither input is a constant 1.0");
    }

    private void CheckHardSigmoid(OpenVinoLayer layer)
    {
        foreach (var (port, want, what) in new[] { (1, HardSigmoidSlope, "alpha"), (2, HardSigmoidOffset, "beta") })
        {
            var constant = ConstBehind(layer, port, what);
            float[] values = _ir.ReadFloats(constant);
            if (values.Length != 1 || values[0] != want)
                throw layer.Error($"{what} ({constant.Name}) is [{string.Join(", ", values.Take(4).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}], " +
                                  $"not exactly {want.ToString("R", CultureInfo.InvariantCulture)}, the value NanoPose's hard-sigmoid uses");
        }
    }

    private static void RequirePair(OpenVinoLayer layer, string key, int value, IrConvolution expected)
    {
        string? text = layer.Attribute(key);
        string[] parts = text?.Split(',') ?? [];
        if (parts.Length != 2 || parts.Any(p => !int.TryParse(p.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v != value))
            throw layer.Error($"{key} '{OpenVinoIrFile.Truncate(text ?? "(missing)")}' should be '{value}, {value}' for {expected}");
    }

    private static (int Height, int Width) ReadInputSize(OpenVinoIrFile ir)
    {
        var parameters = ir.Layers.Where(l => l.Type == "Parameter").ToList();
        if (parameters.Count != 1) throw new OpenVinoException(ir.Source, $"has {parameters.Count} Parameter layers; the detector takes one image");
        if (parameters[0].Outputs[0].Dims is not [1, 3, var height, var width])
            throw parameters[0].Error($"input {parameters[0].Outputs[0]} is not [1, 3, H, W]");
        return ((int)height, (int)width);   // dims are bounded by int.MaxValue when read
    }
}
