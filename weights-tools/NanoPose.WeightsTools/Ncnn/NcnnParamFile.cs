using System.Globalization;

namespace NanoPose.WeightsTools.Ncnn;

/// <summary>One <c>key=value</c> of a layer line: a scalar or (key ≤ −23300) an array, of integers or floats.
/// ncnn reads a token as a float when it contains '.', 'e' or 'E'.</summary>
public sealed record NcnnParamValue(bool IsArray, bool IsFloat, double[] Values);

/// <summary>One layer line of a .param file: <c>Type name n_in n_out in_blob… out_blob… key=value…</c>.</summary>
public sealed class NcnnLayer(string type, string name, int line, string[] inputs, string[] outputs,
    Dictionary<int, NcnnParamValue> parameters, string location)
{
    public string Type { get; } = type;
    public string Name { get; } = name;
    /// <summary>1-based line number in the .param file.</summary>
    public int Line { get; } = line;
    public IReadOnlyList<string> Inputs { get; } = inputs;
    public IReadOnlyList<string> Outputs { get; } = outputs;
    /// <summary>Keys as written; an array key −23300−k is stored under −23300−k.</summary>
    public IReadOnlyDictionary<int, NcnnParamValue> Parameters { get; } = parameters;
    /// <summary>"file:line (Type name)", the prefix of every error about this layer.</summary>
    public string Location { get; } = location;

    public NcnnException Error(string problem) => new(Location, problem);

    /// <summary>Refuses keys the reader does not understand: for these a silent default could misread the weights.</summary>
    public void RequireKnownKeys(params int[] known)
    {
        foreach (int key in Parameters.Keys)
            if (Array.IndexOf(known, key) < 0)
                throw Error($"unsupported parameter {key} (this reader understands {string.Join(", ", known)})");
    }

    public int Int(int key, int defaultValue)
    {
        if (!Parameters.TryGetValue(key, out var value)) return defaultValue;
        if (value.IsArray || value.IsFloat) throw Error($"parameter {key} must be one integer, found {Describe(value)}");
        return (int)value.Values[0];
    }

    public double Float(int key, double defaultValue)
    {
        if (!Parameters.TryGetValue(key, out var value)) return defaultValue;
        if (value.IsArray) throw Error($"parameter {key} must be one number, found {Describe(value)}");
        return value.Values[0];
    }

    public int[]? IntArray(int key)
    {
        if (!Parameters.TryGetValue(key, out var value)) return null;
        if (!value.IsArray || value.IsFloat) throw Error($"parameter {key} must be an integer array, found {Describe(value)}");
        return value.Values.Select(v => (int)v).ToArray();
    }

    /// <summary>An integer parameter that must lie in [min, max].</summary>
    public int IntInRange(int key, int defaultValue, int min, int max, string meaning)
    {
        int value = Int(key, defaultValue);
        if (value < min || value > max) throw Error($"{meaning} ({key}={value}) must be in [{min}, {max}]");
        return value;
    }

    static string Describe(NcnnParamValue value) =>
        (value.IsArray ? "array " : "") + string.Join(",", value.Values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>
/// Parses the text .param file of ncnn: line 1 the magic 7767517, line 2 <c>layer_count blob_count</c>, then one
/// layer a line. Strict: counts must match the lines and the blobs, every input blob must have been produced by an
/// earlier layer and be consumed once (ncnn inserts Split layers for fan-out), blob names are produced once, and
/// every token must parse. Errors name the file, the line and the layer.
/// <para>Memory: the text is read a line at a time, and each limit below is checked before what it bounds is built —
/// the header's counts before any layer, a line's token count before its tokens, an array's count before its
/// values — so what a file makes the reader keep is proportional to what it validly holds, within these limits.
/// PP-TinyPose's .param (78 KB) has 1 000-odd layers of under 20 tokens and no array above 4 values.</para>
/// </summary>
public static class NcnnParamFile
{
    public const int Magic = 7767517;
    /// <summary>Array parameters are written under −23300 − key.</summary>
    public const int ArrayKeyBase = -23300;
    /// <summary>ncnn's own limit (NCNN_MAX_PARAM_COUNT): parameter ids are 0…31, arrays −23300…−23331.</summary>
    public const int MaxParameterId = 31;
    /// <summary>Layers and blobs a header may announce: 30× PP-TinyPose; each layer costs well under 1 KB.</summary>
    public const int MaxLayers = 32_768, MaxBlobs = 65_536;
    /// <summary>Input or output blobs of one layer (Split, Concat and Slice fan out; real files use a handful).</summary>
    public const int MaxBlobsPerLayer = 256;
    /// <summary>Values of one array parameter (Slice points, shapes): real files use a few.</summary>
    public const int MaxArrayValues = 1_024;
    private const int MaxTokensPerLine = 4 + 2 * MaxBlobsPerLayer + 2 * (MaxParameterId + 1);

    public static IReadOnlyList<NcnnLayer> Parse(string text, string source)
    {
        int lineStart = 0, lineIndex = 0;
        bool HasLine() => lineStart <= text.Length && !(lineStart == text.Length && lineIndex > 0);
        string NextLine()
        {
            if (!HasLine()) throw new NcnnException($"{source}:{lineIndex + 1}", "unexpected end of file");
            int end = text.IndexOf('\n', lineStart);
            if (end < 0) end = text.Length;
            string line = text[lineStart..end].TrimEnd('\r');
            (lineStart, lineIndex) = (end + 1, lineIndex + 1);
            return line;
        }

        string magic = NextLine().Trim();
        if (magic != Magic.ToString(CultureInfo.InvariantCulture))
            throw new NcnnException($"{source}:1", $"bad magic: expected {Magic}, found '{Truncate(magic)}'");

        string[] counts = Tokens(NextLine(), 2, source);
        if (counts.Length != 2 || !TryCount(counts[0], MaxLayers, out int layerCount) || !TryCount(counts[1], MaxBlobs, out int blobCount))
            throw new NcnnException($"{source}:2", $"expected 'layer_count blob_count' (at most {MaxLayers} layers and {MaxBlobs} blobs), found '{Truncate(string.Join(' ', counts))}'");

        var layers = new List<NcnnLayer>(Math.Min(layerCount, 1024));
        var producedBy = new Dictionary<string, string>(StringComparer.Ordinal); // blob → producing layer
        var consumedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        var layerNames = new HashSet<string>(StringComparer.Ordinal);
        while (HasLine())
        {
            int lineNumber = lineIndex + 1;
            string[] tokens = Tokens(NextLine(), lineNumber, source);
            if (tokens.Length == 0) continue;
            if (layers.Count == layerCount)
                throw new NcnnException($"{source}:{lineNumber}", $"more layers than the {layerCount} the header announces");
            var layer = ParseLayer(tokens, lineNumber, source);
            if (!layerNames.Add(layer.Name)) throw layer.Error($"layer name '{layer.Name}' is used twice");
            foreach (string input in layer.Inputs)
            {
                if (!producedBy.ContainsKey(input)) throw layer.Error($"input blob '{input}' is not produced by any earlier layer");
                if (consumedBy.TryGetValue(input, out string? other))
                    throw layer.Error($"input blob '{input}' is already consumed by layer {other} (ncnn needs a Split for fan-out)");
                consumedBy[input] = layer.Name;
            }
            foreach (string output in layer.Outputs)
                if (!producedBy.TryAdd(output, layer.Name))
                    throw layer.Error($"output blob '{output}' is already produced by layer {producedBy[output]}");
            if (producedBy.Count > blobCount)
                throw layer.Error($"the layers so far produce {producedBy.Count} blobs, more than the {blobCount} the header announces");
            layers.Add(layer);
        }
        if (layers.Count != layerCount)
            throw new NcnnException(source, $"the header announces {layerCount} layers, the file has {layers.Count}");
        if (producedBy.Count != blobCount)
            throw new NcnnException(source, $"the header announces {blobCount} blobs, the layers produce {producedBy.Count}");
        return layers;
    }

    static NcnnLayer ParseLayer(string[] tokens, int lineNumber, string source)
    {
        string where = $"{source}:{lineNumber}";
        if (tokens.Length < 4) throw new NcnnException(where, $"expected 'Type name n_in n_out …', found '{Truncate(string.Join(' ', tokens))}'");
        string type = tokens[0], name = tokens[1];
        string location = $"{where} ({type} {name})";
        if (!int.TryParse(tokens[2], NumberStyles.None, CultureInfo.InvariantCulture, out int inputCount)
            || !int.TryParse(tokens[3], NumberStyles.None, CultureInfo.InvariantCulture, out int outputCount))
            throw new NcnnException(location, $"blob counts must be non-negative integers, found '{Truncate(tokens[2])}' and '{Truncate(tokens[3])}'");
        if (inputCount > MaxBlobsPerLayer || outputCount > MaxBlobsPerLayer)
            throw new NcnnException(location, $"announces {inputCount} input and {outputCount} output blobs; a layer may have at most {MaxBlobsPerLayer} of each");
        if ((long)inputCount + outputCount > tokens.Length - 4)
            throw new NcnnException(location, $"announces {inputCount} input and {outputCount} output blobs, the line names only {tokens.Length - 4} more tokens");
        string[] inputs = tokens[4..(4 + inputCount)];
        string[] outputs = tokens[(4 + inputCount)..(4 + inputCount + outputCount)];

        var parameters = new Dictionary<int, NcnnParamValue>();
        foreach (string token in tokens.AsSpan(4 + inputCount + outputCount))
        {
            int equals = token.IndexOf('=');
            if (equals <= 0 || !int.TryParse(token.AsSpan(0, equals), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int key))
                throw new NcnnException(location, $"expected key=value, found '{Truncate(token)}'");
            if (key is < 0 or > MaxParameterId && key is > ArrayKeyBase or < ArrayKeyBase - MaxParameterId)
                throw new NcnnException(location, $"parameter id {key} is outside ncnn's 0…{MaxParameterId} (arrays {ArrayKeyBase}…{ArrayKeyBase - MaxParameterId})");
            string valueText = token[(equals + 1)..];
            var value = key <= ArrayKeyBase ? ParseArray(valueText, key, location) : new NcnnParamValue(false, IsFloat(valueText), [ParseNumber(valueText, key, location)]);
            if (!parameters.TryAdd(key, value)) throw new NcnnException(location, $"parameter {key} is given twice");
        }
        return new NcnnLayer(type, name, lineNumber, inputs, outputs, parameters, location);
    }

    static NcnnParamValue ParseArray(string text, int key, string location)
    {
        int found = text.AsSpan().Count(',');
        if (found > MaxArrayValues)
            throw new NcnnException(location, $"array parameter {key} holds {found} values; at most {MaxArrayValues} are accepted");
        string[] parts = text.Split(',');
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count != parts.Length - 1)
            throw new NcnnException(location, $"array parameter {key} must be 'n,v1,…,vn'; found {parts.Length - 1} values after a count of '{Truncate(parts[0])}'");
        var values = new double[count];
        bool isFloat = false;
        for (int i = 0; i < count; i++)
        {
            values[i] = ParseNumber(parts[i + 1], key, location);
            isFloat |= IsFloat(parts[i + 1]);
        }
        return new NcnnParamValue(true, isFloat, values);
    }

    static bool IsFloat(string text) => text.AsSpan().IndexOfAny('.', 'e', 'E') >= 0;

    static double ParseNumber(string text, int key, string location)
    {
        if (IsFloat(text))
        {
            if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f)) return f;
        }
        else if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i)) return i;
        throw new NcnnException(location, $"parameter {key}: '{Truncate(text)}' is not a number");
    }

    static bool TryCount(string text, int max, out int count) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count <= max;

    /// <summary>The line's tokens, counted before any is made into a string.</summary>
    static string[] Tokens(string line, int lineNumber, string source)
    {
        int count = 0;
        for (int i = 0; i < line.Length; i++)
            if (line[i] is not (' ' or '\t') && (i == 0 || line[i - 1] is ' ' or '\t')) count++;
        if (count > MaxTokensPerLine)
            throw new NcnnException($"{source}:{lineNumber}", $"{count} tokens on one line; a layer line has at most {MaxTokensPerLine} ({MaxBlobsPerLayer} input and output blobs each, {MaxParameterId + 1} parameters)");
        return line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
    }

    static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
