using System.Runtime.InteropServices;
using NanoPose.Layers;

namespace NanoPose.WeightsTools.Onnx;

/// <summary>A tensor of the graph: its name and its shape 1 × C × H × W.</summary>
public readonly record struct OnnxValue(string Name, int Channels, int Height, int Width)
{
    public override string ToString() => $"{Name} [1, {Channels}, {Height}, {Width}]";
}

/// <summary>Zero padding of a convolution: rows added on top and bottom, columns on the left and right.</summary>
public readonly record struct ConvPadding(int Top, int Left, int Bottom, int Right)
{
    public static ConvPadding Uniform(int padding) => new(padding, padding, padding, padding);
}

/// <summary>
/// Builds an ONNX graph (float32, batch 1, NCHW) with the operators pose networks need, tracking every tensor's shape,
/// and serialises it as an ONNX model. Convolution weights are asked of an <see cref="IWeightSource"/> by name, as the
/// engine asks for them: <c>name.weight</c> becomes the Conv's W and <c>name.bias</c> its B (BatchNorm is already folded).
/// </summary>
public sealed class OnnxGraph(string name, IWeightSource weights)
{
    /// <summary>Operator set 17 (ONNX 1.12), which needs IR version 8.</summary>
    public const int Opset = 17;
    private const int IrVersion = 8;

    // TensorProto.DataType and AttributeProto.AttributeType values (onnx/onnx, onnx/onnx.proto).
    private const int FloatType = 1, Int64Type = 7;
    private const int FloatAttribute = 1, IntAttribute = 2, StringAttribute = 3, IntsAttribute = 7;

    private sealed record Node(string OpType, string[] Inputs, string[] Outputs, (string Name, object Value)[] Attributes);
    private sealed record Initializer(string Name, int DataType, long[] Dims, byte[] Data);

    private readonly List<Node> _nodes = [];
    private readonly List<Initializer> _initializers = [];
    private readonly List<OnnxValue> _inputs = [], _outputs = [];
    private int _nextId;

    /// <summary>Adds the graph input <paramref name="inputName"/>, 1 × C × H × W float32.</summary>
    public OnnxValue Input(string inputName, int channels, int height, int width)
    {
        var value = new OnnxValue(inputName, channels, height, width);
        _inputs.Add(value);
        return value;
    }

    /// <summary>Makes <paramref name="value"/> a graph output named <paramref name="outputName"/>.</summary>
    public void Output(OnnxValue value, string outputName)
    {
        var output = value with { Name = outputName };
        Emit("Identity", [value.Name], output);
        _outputs.Add(output);
    }

    /// <summary>A k×k convolution whose weight and bias are the source's <paramref name="weightName"/>.</summary>
    public OnnxValue Conv(OnnxValue x, string weightName, int outChannels, int kernel = 1, int stride = 1,
        ConvPadding? padding = null, int groups = 1)
    {
        if (x.Channels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{weightName}: {x.Channels} → {outChannels} channels do not split into {groups} groups");
        var pad = padding ?? ConvPadding.Uniform(kernel / 2);
        var (w, b) = Weights(new ConvRequest(weightName, outChannels, x.Channels / groups, kernel, kernel, HasBias: true, BatchNorm: null));
        var output = Value(outChannels,
            (x.Height + pad.Top + pad.Bottom - kernel) / stride + 1,
            (x.Width + pad.Left + pad.Right - kernel) / stride + 1);
        return Emit("Conv", [x.Name, w, b], output,
            ("kernel_shape", new long[] { kernel, kernel }), ("strides", new long[] { stride, stride }),
            ("pads", new long[] { pad.Top, pad.Left, pad.Bottom, pad.Right }), ("group", (long)groups));
    }

    /// <summary>A transposed convolution (weights [in, out, k, k]) with stride and padding on every side.</summary>
    public OnnxValue ConvTranspose(OnnxValue x, string weightName, int outChannels, int kernel, int stride, int padding)
    {
        var (w, b) = Weights(new ConvRequest(weightName, outChannels, x.Channels, kernel, kernel, HasBias: true, BatchNorm: null, Transposed: true));
        var output = Value(outChannels, (x.Height - 1) * stride - 2 * padding + kernel, (x.Width - 1) * stride - 2 * padding + kernel);
        return Emit("ConvTranspose", [x.Name, w, b], output,
            ("kernel_shape", new long[] { kernel, kernel }), ("strides", new long[] { stride, stride }),
            ("pads", new long[] { padding, padding, padding, padding }));
    }

    public OnnxValue Relu(OnnxValue x) => Emit("Relu", [x.Name], Like(x));
    public OnnxValue Sigmoid(OnnxValue x) => Emit("Sigmoid", [x.Name], Like(x));

    /// <summary>x · min(max(x + 3, 0), 6) / 6 (opset 14).</summary>
    public OnnxValue HardSwish(OnnxValue x) => Emit("HardSwish", [x.Name], Like(x));

    /// <summary>min(max(α·x + β, 0), 1).</summary>
    public OnnxValue HardSigmoid(OnnxValue x, float alpha, float beta) =>
        Emit("HardSigmoid", [x.Name], Like(x), ("alpha", alpha), ("beta", beta));

    /// <summary>Swish: x · sigmoid(x).</summary>
    public OnnxValue Silu(OnnxValue x) => Mul(x, Sigmoid(x));

    public OnnxValue Add(OnnxValue a, OnnxValue b) => Emit("Add", [a.Name, b.Name], Like(RequireSameShape(a, b)));

    /// <summary>a · b, where b may also be 1 × C × 1 × 1 (a factor per channel).</summary>
    public OnnxValue Mul(OnnxValue a, OnnxValue b)
    {
        if (b.Height != 1 || b.Width != 1 || b.Channels != a.Channels) RequireSameShape(a, b);
        return Emit("Mul", [a.Name, b.Name], Like(a));
    }

    /// <summary>Concatenation along channels.</summary>
    public OnnxValue Concat(params OnnxValue[] parts)
    {
        foreach (var part in parts)
            if (part.Height != parts[0].Height || part.Width != parts[0].Width)
                throw new ArgumentException($"cannot concatenate {part} with {parts[0]}: sizes differ");
        return Emit("Concat", [.. parts.Select(p => p.Name)], Value(parts.Sum(p => p.Channels), parts[0].Height, parts[0].Width), ("axis", 1L));
    }

    /// <summary>Splits along channels into parts of the given widths.</summary>
    public OnnxValue[] Split(OnnxValue x, params int[] channels)
    {
        if (channels.Sum() != x.Channels) throw new ArgumentException($"cannot split {x} into [{string.Join(", ", channels)}] channels");
        var outputs = channels.Select(c => Value(c, x.Height, x.Width)).ToArray();
        _nodes.Add(new Node("Split", [x.Name, Int64s([.. channels.Select(c => (long)c)])], [.. outputs.Select(o => o.Name)], [("axis", 1L)]));
        return outputs;
    }

    /// <summary>The first and second half of the channels.</summary>
    public (OnnxValue First, OnnxValue Second) Halves(OnnxValue x)
    {
        var parts = Split(x, x.Channels / 2, x.Channels - x.Channels / 2);
        return (parts[0], parts[1]);
    }

    /// <summary>channel_shuffle(x, 2): view as 2 × C/2, transpose, flatten — output channel 2k is input k, 2k + 1 is C/2 + k.</summary>
    public OnnxValue ChannelShuffle(OnnxValue x)
    {
        // The 5-D intermediates are only named here; their shapes are the constants given to Reshape.
        var grouped = Emit("Reshape", [x.Name, Int64s(1, 2, x.Channels / 2, x.Height, x.Width)], Like(x));
        var transposed = Emit("Transpose", [grouped.Name], Like(x), ("perm", new long[] { 0, 2, 1, 3, 4 }));
        return Emit("Reshape", [transposed.Name, Int64s(1, x.Channels, x.Height, x.Width)], Like(x));
    }

    public OnnxValue GlobalAveragePool(OnnxValue x) => Emit("GlobalAveragePool", [x.Name], Value(x.Channels, 1, 1));

    /// <summary>
    /// PyTorch's adaptive average pooling to height × width. Cell i covers input rows ⌊i·H/h⌋ … ⌈(i+1)·H/h⌉ − 1, which
    /// for sides that divide is a plain average pool with kernel = stride = H/h; other sizes are refused.
    /// </summary>
    public OnnxValue AdaptiveAveragePool(OnnxValue x, int height, int width)
    {
        if (x.Height == height && x.Width == width) return x;
        if (x.Height % height != 0 || x.Width % width != 0)
            throw new ArgumentException($"adaptive pooling of {x} to {height}×{width}: the sides do not divide, so the bins would overlap");
        long kh = x.Height / height, kw = x.Width / width;
        return Emit("AveragePool", [x.Name], Value(x.Channels, height, width),
            ("kernel_shape", new long[] { kh, kw }), ("strides", new long[] { kh, kw }));
    }

    /// <summary>PyTorch <c>nearest</c> to an explicit size: source index ⌊dst · in / out⌋ (ONNX asymmetric + floor).</summary>
    public OnnxValue ResizeNearest(OnnxValue x, int height, int width) =>
        Resize(x, height, width, ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));

    /// <summary>PyTorch <c>bilinear, align_corners=True</c>: source coordinate dst · (in − 1) / (out − 1).</summary>
    public OnnxValue ResizeBilinearAlignCorners(OnnxValue x, int height, int width) =>
        Resize(x, height, width, ("mode", "linear"), ("coordinate_transformation_mode", "align_corners"));

    private OnnxValue Resize(OnnxValue x, int height, int width, params (string, object)[] attributes) =>
        // Inputs X, roi, scales, sizes: roi and scales are left empty, the output size is given.
        Emit("Resize", [x.Name, "", "", Int64s(1, x.Channels, height, width)], Value(x.Channels, height, width), attributes);

    /// <summary>The serialised ONNX model (field numbers from onnx/onnx, onnx/onnx.proto).</summary>
    public byte[] ToModel(string producer)
    {
        var model = new ProtobufWriter();
        model.Int64(1, IrVersion);                       // ModelProto.ir_version
        model.String(2, producer);                       // ModelProto.producer_name
        model.Message(7, WriteGraph);                    // ModelProto.graph
        model.Message(8, opset => opset.Int64(2, Opset)); // ModelProto.opset_import: OperatorSetIdProto.version, default domain
        return model.ToArray();
    }

    private void WriteGraph(ProtobufWriter graph)
    {
        foreach (var node in _nodes) graph.Message(1, n => WriteNode(n, node));   // GraphProto.node
        graph.String(2, name);                                                     // GraphProto.name
        foreach (var tensor in _initializers)                                      // GraphProto.initializer: TensorProto
            graph.Message(5, t =>
            {
                foreach (long d in tensor.Dims) t.Int64(1, d);   // dims
                t.Int64(2, tensor.DataType);                     // data_type
                t.String(8, tensor.Name);                        // name
                t.Bytes(9, tensor.Data);                         // raw_data: little-endian values
            });
        foreach (var input in _inputs) graph.Message(11, v => WriteValueInfo(v, input));     // GraphProto.input
        foreach (var output in _outputs) graph.Message(12, v => WriteValueInfo(v, output));  // GraphProto.output
    }

    private static void WriteNode(ProtobufWriter n, Node node)
    {
        foreach (string input in node.Inputs) n.String(1, input);     // NodeProto.input
        foreach (string output in node.Outputs) n.String(2, output);  // NodeProto.output
        n.String(3, node.Outputs[0]);                                 // NodeProto.name
        n.String(4, node.OpType);                                     // NodeProto.op_type
        foreach (var (attributeName, value) in node.Attributes)       // NodeProto.attribute: AttributeProto
            n.Message(5, a =>
            {
                a.String(1, attributeName);                           // name
                switch (value)
                {
                    case float f: a.Int64(20, FloatAttribute); a.Float(2, f); break;       // type, f
                    case long i: a.Int64(20, IntAttribute); a.Int64(3, i); break;          // type, i
                    case string s: a.Int64(20, StringAttribute); a.String(4, s); break;    // type, s
                    case long[] ints: a.Int64(20, IntsAttribute); foreach (long i in ints) a.Int64(8, i); break;   // type, ints
                    default: throw new InvalidOperationException($"attribute {attributeName} of {node.OpType}: unsupported {value.GetType().Name}");
                }
            });
    }

    /// <summary>ValueInfoProto: name, TypeProto.tensor_type (elem_type float, shape 1 × C × H × W).</summary>
    private static void WriteValueInfo(ProtobufWriter v, OnnxValue value)
    {
        v.String(1, value.Name);
        v.Message(2, type => type.Message(1, tensor =>
        {
            tensor.Int64(1, FloatType);
            tensor.Message(2, shape =>
            {
                foreach (long d in (long[])[1, value.Channels, value.Height, value.Width])
                    shape.Message(1, dim => dim.Int64(1, d));   // TensorShapeProto.dim: Dimension.dim_value
            });
        }));
    }

    private (string Weight, string Bias) Weights(ConvRequest request)
    {
        var conv = weights.Conv(request);
        string weight = request.Name + ".weight", bias = request.Name + ".bias";
        _initializers.Add(new Initializer(weight, FloatType, [.. request.WeightShape.Select(d => (long)d)], Bytes(conv.Weight)));
        _initializers.Add(new Initializer(bias, FloatType, [request.OutChannels], Bytes(conv.Bias)));
        return (weight, bias);
    }

    /// <summary>A constant int64 vector (shapes, sizes, split widths).</summary>
    private string Int64s(params long[] values)
    {
        string constant = $"const{_nextId++}";
        _initializers.Add(new Initializer(constant, Int64Type, [values.Length], Bytes(values)));
        return constant;
    }

    private static byte[] Bytes<T>(T[] values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private OnnxValue Value(int channels, int height, int width)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"graph {name}: a tensor would be {channels}×{height}×{width}; the input is too small for this network");
        return new OnnxValue($"t{_nextId++}", channels, height, width);
    }

    private OnnxValue Like(OnnxValue x) => Value(x.Channels, x.Height, x.Width);

    private static OnnxValue RequireSameShape(OnnxValue a, OnnxValue b) =>
        (a.Channels, a.Height, a.Width) == (b.Channels, b.Height, b.Width) ? a : throw new ArgumentException($"shapes differ: {a} and {b}");

    private OnnxValue Emit(string opType, string[] inputs, OnnxValue output, params (string, object)[] attributes)
    {
        _nodes.Add(new Node(opType, inputs, [output.Name], attributes));
        return output;
    }
}
