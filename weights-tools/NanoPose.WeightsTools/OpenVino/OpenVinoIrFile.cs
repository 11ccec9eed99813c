using System.Buffers.Binary;
using System.Globalization;
using System.Xml;
using NanoPose.IO;

namespace NanoPose.WeightsTools.OpenVino;

/// <summary>The element types a <c>Const</c> may have. Only f16 and f32 hold weights; i64 and u64 are the shape
/// and index constants (Reshape targets, axes, ranges) every exported graph carries.</summary>
public enum OpenVinoElementType { F16, F32, I64, U64 }

/// <summary>One input or output port of a layer, with its static shape.</summary>
public sealed record OpenVinoPort(int Id, string? Precision, long[] Dims)
{
    public override string ToString() => $"port {Id} [{string.Join(", ", Dims)}]";
}

/// <summary>Where a <c>Const</c> layer's data lies in the .bin (already checked to lie inside it).</summary>
public sealed record OpenVinoConst(OpenVinoElementType ElementType, long[] Shape, long Offset, long Size)
{
    public long ElementCount => Size / OpenVinoIrFile.ElementSize(ElementType);
}

/// <summary>One <c>&lt;layer&gt;</c> of the xml: its identity, its <c>&lt;data&gt;</c> attributes and its ports.</summary>
public sealed class OpenVinoLayer(int id, string name, string type, string version, int line,
    IReadOnlyDictionary<string, string> data, IReadOnlyList<OpenVinoPort> inputs, IReadOnlyList<OpenVinoPort> outputs, string location)
{
    public int Id { get; } = id;
    public string Name { get; } = name;
    public string Type { get; } = type;
    public string Version { get; } = version;
    /// <summary>1-based line of the <c>&lt;layer&gt;</c> element in the xml.</summary>
    public int Line { get; } = line;
    public IReadOnlyDictionary<string, string> Data { get; } = data;
    public IReadOnlyList<OpenVinoPort> Inputs { get; } = inputs;
    public IReadOnlyList<OpenVinoPort> Outputs { get; } = outputs;
    /// <summary>Set for <c>Const</c> layers.</summary>
    public OpenVinoConst? Const { get; internal set; }
    /// <summary>"file:line (layer Type 'name' id N)", the prefix of every error about this layer.</summary>
    public string Location { get; } = location;

    public OpenVinoException Error(string problem) => new(Location, problem);

    public string? Attribute(string key) => Data.TryGetValue(key, out string? value) ? value : null;

    public OpenVinoPort? InputPort(int id) => Inputs.FirstOrDefault(p => p.Id == id);
}

/// <summary>One <c>&lt;edge&gt;</c>: an output port feeding an input port.</summary>
public sealed record OpenVinoEdge(int FromLayer, int FromPort, int ToLayer, int ToPort);

/// <summary>The number of input and output ports an op type has in the graphs this reader accepts.</summary>
public sealed record OpenVinoOpSignature(string Version, int MinInputs, int MaxInputs, int MinOutputs, int MaxOutputs);

/// <summary>
/// An OpenVINO IR (v11) read strictly. The xml goes through an <see cref="XmlReader"/> that refuses any DTD (so no
/// entity can be declared, let alone expanded, and nothing external is ever fetched) and stops at
/// <see cref="MaxXmlBytes"/>; layers, edges, ports and dims are bounded. Only the op types of the PicoDet graphs are
/// accepted, each with the opset version and port counts seen there: an op we do not know might compute something
/// the network builder does not, so it is refused by name rather than ignored. Every edge must join an existing
/// output port to an existing input port with the same shape, every input port is fed exactly once, and the graph
/// is acyclic. Every <c>Const</c> is checked against the .bin: known element type, positive dims, size equal to
/// elements × element size, and offset + size inside the file (in long arithmetic, so nothing wraps).
/// </summary>
public sealed class OpenVinoIrFile
{
    /// <summary>The PicoDet xml is 0.7 MB; a much larger one is not a model we can use.</summary>
    public const long MaxXmlBytes = 16 << 20;
    /// <summary>The PicoDet .bin is 2.3 MB; this leaves room for far larger networks.</summary>
    public const long MaxBinBytes = 512 << 20;
    public const int MaxLayers = 100_000, MaxEdges = 400_000, MaxPortsPerLayer = 64, MaxRank = 8;

    /// <summary>Op types the two PicoDet IR files use (with opset and port counts); anything else is refused.</summary>
    public static IReadOnlyDictionary<string, OpenVinoOpSignature> KnownOps { get; } = new Dictionary<string, OpenVinoOpSignature>(StringComparer.Ordinal)
    {
        ["Parameter"] = new("opset1", 0, 0, 1, 1),
        ["Const"] = new("opset1", 0, 0, 1, 1),
        ["Result"] = new("opset1", 1, 1, 0, 0),
        ["Convert"] = new("opset1", 1, 1, 1, 1),
        ["Convolution"] = new("opset1", 2, 2, 1, 1),
        ["GroupConvolution"] = new("opset1", 2, 2, 1, 1),
        ["Add"] = new("opset1", 2, 2, 1, 1),
        ["Subtract"] = new("opset1", 2, 2, 1, 1),
        ["Multiply"] = new("opset1", 2, 2, 1, 1),
        ["MatMul"] = new("opset1", 2, 2, 1, 1),
        ["HSwish"] = new("opset4", 1, 1, 1, 1),
        ["HardSigmoid"] = new("opset1", 3, 3, 1, 1),
        ["ReLU"] = new("opset1", 1, 1, 1, 1),
        ["Sigmoid"] = new("opset1", 1, 1, 1, 1),
        ["Sqrt"] = new("opset1", 1, 1, 1, 1),
        ["SoftMax"] = new("opset8", 1, 1, 1, 1),
        ["ReduceMean"] = new("opset1", 2, 2, 1, 1),
        ["Interpolate"] = new("opset4", 3, 4, 1, 1),
        ["Concat"] = new("opset1", 1, MaxPortsPerLayer, 1, 1),
        ["Split"] = new("opset1", 2, 2, 1, MaxPortsPerLayer),
        ["Transpose"] = new("opset1", 2, 2, 1, 1),
        ["Reshape"] = new("opset1", 2, 2, 1, 1),
        ["Squeeze"] = new("opset1", 1, 2, 1, 1),
        ["Unsqueeze"] = new("opset1", 2, 2, 1, 1),
        ["ShapeOf"] = new("opset3", 1, 1, 1, 1),
        ["Broadcast"] = new("opset3", 2, 3, 1, 1),
        ["Range"] = new("opset4", 3, 3, 1, 1),
        ["Gather"] = new("opset1", 3, 3, 1, 1),
        ["StridedSlice"] = new("opset1", 3, 4, 1, 1),
    };

    private readonly byte[] _bin;
    private readonly Dictionary<int, OpenVinoLayer> _byId;
    private readonly Dictionary<string, OpenVinoLayer> _byName;
    private readonly Dictionary<(int Layer, int Port), (OpenVinoLayer Layer, int Port)> _producer;
    private readonly Dictionary<int, List<(OpenVinoLayer Layer, int Port)>> _consumers;

    private OpenVinoIrFile(string source, string binSource, IReadOnlyList<OpenVinoLayer> layers, IReadOnlyList<OpenVinoEdge> edges, byte[] bin,
        Dictionary<int, OpenVinoLayer> byId, Dictionary<string, OpenVinoLayer> byName,
        Dictionary<(int, int), (OpenVinoLayer, int)> producer, Dictionary<int, List<(OpenVinoLayer, int)>> consumers)
    {
        (Source, BinSource, Layers, Edges, _bin, _byId, _byName, _producer, _consumers) = (source, binSource, layers, edges, bin, byId, byName, producer, consumers);
    }

    public string Source { get; }
    public string BinSource { get; }
    /// <summary>In xml order.</summary>
    public IReadOnlyList<OpenVinoLayer> Layers { get; }
    public IReadOnlyList<OpenVinoEdge> Edges { get; }
    public long BinLength => _bin.Length;

    public static int ElementSize(OpenVinoElementType type) => type switch
    {
        OpenVinoElementType.F16 => 2,
        OpenVinoElementType.F32 => 4,
        _ => 8,
    };

    public OpenVinoLayer? LayerNamed(string name) => _byName.GetValueOrDefault(name);
    public OpenVinoLayer? LayerWithId(int id) => _byId.GetValueOrDefault(id);

    /// <summary>The layer and output port feeding input port <paramref name="port"/> of <paramref name="layer"/>.</summary>
    public (OpenVinoLayer Layer, int Port) Producer(OpenVinoLayer layer, int port) =>
        _producer.TryGetValue((layer.Id, port), out var from) ? from : throw layer.Error($"has no input port {port}");

    /// <summary>The layers (and their input ports) fed by any output of <paramref name="layer"/>.</summary>
    public IReadOnlyList<(OpenVinoLayer Layer, int Port)> Consumers(OpenVinoLayer layer) =>
        _consumers.TryGetValue(layer.Id, out var list) ? list : [];

    /// <summary>The values of an f16 or f32 <c>Const</c>, as float32 (f16 converts exactly).</summary>
    public float[] ReadFloats(OpenVinoLayer layer)
    {
        if (layer.Const is not { } data) throw layer.Error("is not a Const, so it holds no data");
        var span = _bin.AsSpan((int)data.Offset, (int)data.Size);   // inside the .bin: checked when the file was read
        var values = new float[data.ElementCount];
        switch (data.ElementType)
        {
            case OpenVinoElementType.F16:
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span[(2 * i)..]);
                break;
            case OpenVinoElementType.F32:
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]);
                break;
            default:
                throw layer.Error($"holds {Name(data.ElementType)} values, not floating-point weights (f16 or f32)");
        }
        return values;
    }

    /// <summary>Reads <paramref name="xmlPath"/> and its weights, by default the .bin beside it.</summary>
    public static OpenVinoIrFile Load(string xmlPath, string? binPath = null)
    {
        binPath ??= Path.ChangeExtension(xmlPath, ".bin");
        // Regular files only, with a cap that holds whatever length the file system reports (see InputFile).
        return Parse(InputFile.ReadAllBytes(xmlPath, MaxXmlBytes, "OpenVINO IR .xml"), InputFile.ReadAllBytes(binPath, MaxBinBytes, "OpenVINO IR .bin"), xmlPath, binPath);
    }

    public static OpenVinoIrFile Parse(byte[] xml, byte[] bin, string source, string binSource)
    {
        if (xml.LongLength > MaxXmlBytes) throw new OpenVinoException(source, $"{xml.LongLength} bytes is more than the {MaxXmlBytes} this reader accepts for an IR xml");
        if (bin.LongLength > MaxBinBytes) throw new OpenVinoException(binSource, $"{bin.LongLength} bytes is more than the {MaxBinBytes} this reader accepts for an IR .bin");
        var (layers, edges) = new XmlPass(source).Read(xml);
        return Link(layers, edges, bin, source, binSource);
    }

    /// <summary>Checks each layer on its own (type, ports, constants), then the edges and the graph they make.</summary>
    private static OpenVinoIrFile Link(List<OpenVinoLayer> layers, List<OpenVinoEdge> edges, byte[] bin, string source, string binSource)
    {
        // Layer ids come from the file: hash them with a per-process seed so chosen ids cannot all share a bucket.
        var byId = new Dictionary<int, OpenVinoLayer>(SeededIntComparer.Instance);
        var byName = new Dictionary<string, OpenVinoLayer>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            if (!byId.TryAdd(layer.Id, layer)) throw layer.Error($"layer id {layer.Id} is also used by {byId[layer.Id].Location}");
            if (!byName.TryAdd(layer.Name, layer)) throw layer.Error($"layer name '{layer.Name}' is also used by {byName[layer.Name].Location}");
            CheckLayer(layer, bin, binSource);
        }

        var producer = new Dictionary<(int, int), (OpenVinoLayer, int)>();
        var consumers = new Dictionary<int, List<(OpenVinoLayer, int)>>(SeededIntComparer.Instance);
        foreach (var edge in edges)
        {
            string what = $"edge {edge.FromLayer}:{edge.FromPort} → {edge.ToLayer}:{edge.ToPort}";
            if (!byId.TryGetValue(edge.FromLayer, out var from)) throw new OpenVinoException(source, $"{what} starts at layer {edge.FromLayer}, which does not exist");
            if (!byId.TryGetValue(edge.ToLayer, out var to)) throw new OpenVinoException(source, $"{what} ends at layer {edge.ToLayer}, which does not exist");
            var output = from.Outputs.FirstOrDefault(p => p.Id == edge.FromPort) ?? throw from.Error($"{what} starts at output port {edge.FromPort}, which this layer does not have");
            var input = to.InputPort(edge.ToPort) ?? throw to.Error($"{what} ends at input port {edge.ToPort}, which this layer does not have");
            if (!output.Dims.AsSpan().SequenceEqual(input.Dims))
                throw to.Error($"{what}: input port {input.Id} is [{string.Join(", ", input.Dims)}], but {from.Location} gives [{string.Join(", ", output.Dims)}]");
            if (!producer.TryAdd((to.Id, input.Id), (from, output.Id)))
                throw to.Error($"{what}: input port {input.Id} is already fed by {producer[(to.Id, input.Id)].Item1.Location}");
            if (!consumers.TryGetValue(from.Id, out var list)) consumers[from.Id] = list = [];
            list.Add((to, input.Id));
        }
        foreach (var layer in layers)
            foreach (var port in layer.Inputs)
                if (!producer.ContainsKey((layer.Id, port.Id))) throw layer.Error($"input port {port.Id} is not fed by any edge");

        RequireAcyclic(layers, consumers, source);
        return new OpenVinoIrFile(source, binSource, layers, edges, bin, byId, byName, producer, consumers);
    }

    private static void CheckLayer(OpenVinoLayer layer, byte[] bin, string binSource)
    {
        if (!KnownOps.TryGetValue(layer.Type, out var op))
            throw layer.Error($"op type '{layer.Type}' is not supported (this reader knows {string.Join(", ", KnownOps.Keys)})");
        if (layer.Version != op.Version) throw layer.Error($"{layer.Type} version '{layer.Version}' is not supported (only {op.Version})");
        if (layer.Inputs.Count < op.MinInputs || layer.Inputs.Count > op.MaxInputs || layer.Outputs.Count < op.MinOutputs || layer.Outputs.Count > op.MaxOutputs)
            throw layer.Error($"has {layer.Inputs.Count} input and {layer.Outputs.Count} output ports; {layer.Type} takes {Range(op.MinInputs, op.MaxInputs)} and {Range(op.MinOutputs, op.MaxOutputs)}");
        var ports = new HashSet<int>();
        foreach (var port in layer.Inputs.Concat(layer.Outputs))
            if (!ports.Add(port.Id)) throw layer.Error($"port id {port.Id} is used twice");

        if (layer.Type == "Parameter")
        {
            if (layer.Attribute("element_type") != "f32") throw layer.Error($"input element_type '{layer.Attribute("element_type")}' is not f32");
            RequireOutputShape(layer, Shape(layer, "shape"));
        }
        else if (layer.Type == "Const")
            layer.Const = ReadConst(layer, bin, binSource);
    }

    private static OpenVinoConst ReadConst(OpenVinoLayer layer, byte[] bin, string binSource)
    {
        string typeName = layer.Attribute("element_type") ?? throw layer.Error("has no element_type");
        OpenVinoElementType type = typeName switch
        {
            "f16" => OpenVinoElementType.F16,
            "f32" => OpenVinoElementType.F32,
            "i64" => OpenVinoElementType.I64,
            "u64" => OpenVinoElementType.U64,
            _ => throw layer.Error($"element_type '{Truncate(typeName)}' is not supported (f16 or f32 for weights; i64 or u64 for shapes and indices)"),
        };
        long[] shape = Shape(layer, "shape");
        long offset = NonNegative(layer, "offset"), size = NonNegative(layer, "size");
        // Elements, counted so they cannot overflow: each dim is ≥ 1, and we stop once past the .bin's length.
        long elements = 1;
        foreach (long dim in shape)
        {
            if (dim > bin.LongLength || elements > bin.LongLength / dim)
                throw layer.Error($"shape [{string.Join(", ", shape)}] has more elements than the .bin has bytes ({bin.LongLength})");
            elements *= dim;
        }
        long expected = elements * ElementSize(type);   // elements ≤ bin length ≤ 2^29, so no overflow
        if (size != expected)
            throw layer.Error($"size {size} does not match shape [{string.Join(", ", shape)}] of {typeName} ({elements} × {ElementSize(type)} = {expected} bytes)");
        if (offset > bin.LongLength || size > bin.LongLength - offset)
            throw layer.Error($"data at offset {offset}, size {size} lies past the end of {binSource} ({bin.LongLength} bytes)");
        RequireOutputShape(layer, shape);
        return new OpenVinoConst(type, shape, offset, size);
    }

    private static void RequireOutputShape(OpenVinoLayer layer, long[] shape)
    {
        if (!layer.Outputs[0].Dims.AsSpan().SequenceEqual(shape))
            throw layer.Error($"shape [{string.Join(", ", shape)}] differs from its output {layer.Outputs[0]}");
    }

    /// <summary>A shape attribute: "" (a scalar) or comma-separated positive dims, at most <see cref="MaxRank"/>.</summary>
    private static long[] Shape(OpenVinoLayer layer, string key)
    {
        string text = layer.Attribute(key) ?? throw layer.Error($"has no {key}");
        if (text.Trim().Length == 0) return [];
        string[] parts = text.Split(',');
        if (parts.Length > MaxRank) throw layer.Error($"{key} '{Truncate(text)}' has more than {MaxRank} dims");
        var dims = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!long.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] < 1 || dims[i] > int.MaxValue)
                throw layer.Error($"{key} '{Truncate(text)}': dim {i} is not an integer in [1, {int.MaxValue}]");
        return dims;
    }

    private static long NonNegative(OpenVinoLayer layer, string key)
    {
        string text = layer.Attribute(key) ?? throw layer.Error($"has no {key}");
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            throw layer.Error($"{key} '{Truncate(text)}' is not a non-negative integer that fits in 64 bits");
        return value;
    }

    /// <summary>Kahn's algorithm: a cycle would make "the op after a conv" walks and any later evaluation meaningless.</summary>
    private static void RequireAcyclic(List<OpenVinoLayer> layers, Dictionary<int, List<(OpenVinoLayer Layer, int Port)>> consumers, string source)
    {
        var waiting = layers.ToDictionary(l => l.Id, l => l.Inputs.Count);
        var ready = new Queue<int>(layers.Where(l => l.Inputs.Count == 0).Select(l => l.Id));
        int done = 0;
        while (ready.TryDequeue(out int id))
        {
            done++;
            if (consumers.TryGetValue(id, out var list))
                foreach (var (to, _) in list)
                    if (--waiting[to.Id] == 0) ready.Enqueue(to.Id);
        }
        if (done != layers.Count)
        {
            var stuck = layers.First(l => waiting[l.Id] > 0);
            throw stuck.Error($"the graph has a cycle: {layers.Count - done} layers, this one among them, are never reached from the inputs");
        }
    }

    internal static string Name(OpenVinoElementType type) => type.ToString().ToLowerInvariant();
    private static string Range(int min, int max) => min == max ? $"{min}" : $"{min} to {max}";
    internal static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";

    /// <summary>The xml walk: collects layers and edges, refusing anything that is not the IR's structure.</summary>
    private sealed class XmlPass(string source)
    {
        private readonly List<OpenVinoLayer> _layers = [];
        private readonly List<OpenVinoEdge> _edges = [];
        private IXmlLineInfo? _lines;

        public (List<OpenVinoLayer>, List<OpenVinoEdge>) Read(byte[] xml)
        {
            var settings = new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,   // a <!DOCTYPE> is an error: no entity is ever declared or expanded
                XmlResolver = null,                       // and nothing outside the file is ever opened
                MaxCharactersInDocument = MaxXmlBytes,
                MaxCharactersFromEntities = 1024,
                IgnoreComments = true,
                IgnoreProcessingInstructions = true,
                IgnoreWhitespace = true,
            };
            try
            {
                using var reader = XmlReader.Create(new MemoryStream(xml, writable: false), settings);
                _lines = reader as IXmlLineInfo;
                if (reader.MoveToContent() != XmlNodeType.Element || reader.Name != "net")
                    throw Error("the document element is not <net>");
                string? version = reader.GetAttribute("version");
                if (version != "11") throw Error($"IR version '{Truncate(version ?? "")}' is not supported (only 11)");
                bool sawLayers = false, sawEdges = false;
                Children(reader, child =>
                {
                    switch (child)
                    {
                        case "layers" when !sawLayers:
                            sawLayers = true;
                            Children(reader, c => Expect(c, "layer", "<layers>", () => ReadLayer(reader)));
                            break;
                        case "edges" when !sawEdges:
                            sawEdges = true;
                            Children(reader, c => Expect(c, "edge", "<edges>", () => ReadEdge(reader)));
                            break;
                        case "meta_data" or "rt_info" or "quantization_info":
                            reader.Skip();   // conversion notes; nothing the weights depend on
                            break;
                        default:
                            throw Error($"unexpected <{Truncate(child)}> in <net>");
                    }
                });
                while (reader.Read()) { }   // the reader itself checks that nothing but whitespace or comments follows
                if (!sawLayers) throw Error("has no <layers>");
                if (!sawEdges) throw Error("has no <edges>");
            }
            catch (XmlException e)
            {
                throw new OpenVinoException($"{source}:{e.LineNumber}", $"not a valid IR xml: {e.Message}");
            }
            return (_layers, _edges);
        }

        private OpenVinoException Error(string problem) => new($"{source}:{_lines?.LineNumber ?? 0}", problem);

        private void Expect(string child, string expected, string parent, Action read)
        {
            if (child != expected) throw Error($"unexpected <{Truncate(child)}> in {parent}");
            read();
        }

        /// <summary>Calls <paramref name="onChild"/> for each child element of the current element; it must read
        /// the child to its end. Text is refused: the IR has none outside <c>&lt;dim&gt;</c>.</summary>
        private void Children(XmlReader reader, Action<string> onChild)
        {
            if (reader.IsEmptyElement)
            {
                reader.Read();
                return;
            }
            int depth = reader.Depth;
            reader.Read();
            while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.Element:
                        onChild(reader.Name);
                        break;
                    case XmlNodeType.Text or XmlNodeType.CDATA:
                        throw Error($"unexpected text '{Truncate(reader.Value.Trim())}'");
                    case XmlNodeType.None:
                        throw Error("unexpected end of the document");
                    default:
                        reader.Read();
                        break;
                }
            }
            reader.Read();
        }

        private void ReadLayer(XmlReader reader)
        {
            if (_layers.Count == MaxLayers) throw Error($"more than {MaxLayers} layers");
            int line = _lines?.LineNumber ?? 0;
            int id = Int(reader, "id");
            string name = Required(reader, "name"), type = Required(reader, "type"), version = Required(reader, "version");
            string location = $"{source}:{line} (layer {Truncate(type)} '{Truncate(name)}' id {id})";
            Dictionary<string, string>? data = null;
            List<OpenVinoPort>? inputs = null, outputs = null;
            Children(reader, child =>
            {
                switch (child)
                {
                    case "data" when data is null:
                        data = new Dictionary<string, string>(StringComparer.Ordinal);
                        while (reader.MoveToNextAttribute()) data[reader.Name] = reader.Value;
                        reader.MoveToElement();
                        Children(reader, c => throw Error($"unexpected <{Truncate(c)}> in <data>"));
                        break;
                    case "input" when inputs is null:
                        inputs = ReadPorts(reader, location);
                        break;
                    case "output" when outputs is null:
                        outputs = ReadPorts(reader, location);
                        break;
                    case "rt_info":
                        reader.Skip();   // fused names and conversion hints
                        break;
                    default:
                        throw new OpenVinoException(location, $"unexpected or repeated <{Truncate(child)}>");
                }
            });
            _layers.Add(new OpenVinoLayer(id, name, type, version, line, data ?? [], inputs ?? [], outputs ?? [], location));
        }

        private List<OpenVinoPort> ReadPorts(XmlReader reader, string location)
        {
            var ports = new List<OpenVinoPort>();
            Children(reader, child =>
            {
                if (child != "port") throw new OpenVinoException(location, $"unexpected <{Truncate(child)}> among ports");
                if (ports.Count == MaxPortsPerLayer) throw new OpenVinoException(location, $"more than {MaxPortsPerLayer} ports");
                int id = Int(reader, "id");
                string? precision = reader.GetAttribute("precision");
                var dims = new List<long>();
                Children(reader, c =>
                {
                    if (c == "rt_info")
                    {
                        reader.Skip();
                        return;
                    }
                    if (c != "dim") throw new OpenVinoException(location, $"port {id}: unexpected <{Truncate(c)}>");
                    if (dims.Count == MaxRank) throw new OpenVinoException(location, $"port {id} has more than {MaxRank} dims");
                    string text = reader.ReadElementContentAsString();
                    // Dynamic (-1) and empty (0) dims are refused: every shape in the PicoDet graphs is static.
                    if (!long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long dim) || dim < 1 || dim > int.MaxValue)
                        throw new OpenVinoException(location, $"port {id}: dim '{Truncate(text)}' is not an integer in [1, {int.MaxValue}]");
                    dims.Add(dim);
                });
                ports.Add(new OpenVinoPort(id, precision, [.. dims]));
            });
            return ports;
        }

        private void ReadEdge(XmlReader reader)
        {
            if (_edges.Count == MaxEdges) throw Error($"more than {MaxEdges} edges");
            var edge = new OpenVinoEdge(Int(reader, "from-layer"), Int(reader, "from-port"), Int(reader, "to-layer"), Int(reader, "to-port"));
            Children(reader, c => throw Error($"unexpected <{Truncate(c)}> in <edge>"));
            _edges.Add(edge);
        }

        private string Required(XmlReader reader, string attribute) =>
            reader.GetAttribute(attribute) is { Length: > 0 } value ? value : throw Error($"<{reader.Name}> has no {attribute}");

        private int Int(XmlReader reader, string attribute)
        {
            string text = Required(reader, attribute);
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value
                : throw Error($"<{reader.Name}> {attribute} '{Truncate(text)}' is not a non-negative 32-bit integer");
        }
    }
}

/// <summary>int keys hashed through <see cref="HashCode"/>, whose seed is random per process (int's own hash is the
/// value, so ids chosen as multiples of a table size would collide).</summary>
internal sealed class SeededIntComparer : IEqualityComparer<int>
{
    public static readonly SeededIntComparer Instance = new();
    public bool Equals(int x, int y) => x == y;
    public int GetHashCode(int value) => HashCode.Combine(value);
}
