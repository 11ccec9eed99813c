using System.Globalization;

namespace NanoPose.Weights;

public enum ArchitectureValueKind : byte { Int = 1, Float = 2, String = 3, IntList = 4 }

/// <summary>One value of the architecture description: an integer, a float, a string or a list of integers.</summary>
public sealed class ArchitectureValue
{
    private readonly long _int;
    private readonly double _float;
    private readonly string? _string;
    private readonly long[]? _ints;

    private ArchitectureValue(ArchitectureValueKind kind, long i, double f, string? s, long[]? ints)
        => (Kind, _int, _float, _string, _ints) = (kind, i, f, s, ints);

    public ArchitectureValueKind Kind { get; }

    public static ArchitectureValue Of(long value) => new(ArchitectureValueKind.Int, value, 0, null, null);
    public static ArchitectureValue Of(double value) => new(ArchitectureValueKind.Float, 0, value, null, null);
    public static ArchitectureValue Of(string value) => new(ArchitectureValueKind.String, 0, 0, value, null);
    public static ArchitectureValue Of(ReadOnlySpan<long> values) => new(ArchitectureValueKind.IntList, 0, 0, null, values.ToArray());

    public long AsInt => Kind == ArchitectureValueKind.Int ? _int : throw WrongKind(ArchitectureValueKind.Int);
    public double AsFloat => Kind == ArchitectureValueKind.Float ? _float : throw WrongKind(ArchitectureValueKind.Float);
    public string AsString => _string ?? throw WrongKind(ArchitectureValueKind.String);
    public IReadOnlyList<long> AsIntList => _ints ?? throw WrongKind(ArchitectureValueKind.IntList);

    private InvalidOperationException WrongKind(ArchitectureValueKind wanted) => new($"value {this} is of kind {Kind}, not {wanted}");

    public override string ToString() => Kind switch
    {
        ArchitectureValueKind.Int => _int.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ArchitectureValueKind.Float => _float.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ArchitectureValueKind.String => $"\"{_string}\"",
        _ => $"[{string.Join(", ", _ints!)}]",
    };
}

/// <summary>
/// What a weight file says about the network it belongs to: the family (e.g. <c>litehrnet</c>), the variant
/// (e.g. <c>litehrnet-18</c>) and every number needed to rebuild the graph as ordered key=value properties.
/// The format stays generic: each model family decides its own keys.
/// </summary>
public sealed class ModelArchitecture
{
    private readonly List<KeyValuePair<string, ArchitectureValue>> _properties = [];
    // Key → position in _properties: a file's description may hold thousands of keys, and every lookup and every
    // added key must cost O(1), not a scan (a scan per key made reading 200 000 keys quadratic).
    private readonly Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);

    public ModelArchitecture(string family, string variant)
    {
        ArgumentException.ThrowIfNullOrEmpty(family);
        ArgumentException.ThrowIfNullOrEmpty(variant);
        (Family, Variant) = (family, variant);
    }

    public string Family { get; }
    public string Variant { get; }
    public IReadOnlyList<KeyValuePair<string, ArchitectureValue>> Properties => _properties;

    public ModelArchitecture Set(string key, long value) => Set(key, ArchitectureValue.Of(value));
    public ModelArchitecture Set(string key, double value) => Set(key, ArchitectureValue.Of(value));
    public ModelArchitecture Set(string key, string value) => Set(key, ArchitectureValue.Of(value));
    public ModelArchitecture Set(string key, ReadOnlySpan<long> values) => Set(key, ArchitectureValue.Of(values));

    /// <summary>Adds a property, or replaces the value of an existing key in place.</summary>
    public ModelArchitecture Set(string key, ArchitectureValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (_indexOf.TryGetValue(key, out int index)) _properties[index] = new(key, value);
        else
        {
            _indexOf.Add(key, _properties.Count);
            _properties.Add(new(key, value));
        }
        return this;
    }

    public bool TryGet(string key, out ArchitectureValue value)
    {
        bool found = _indexOf.TryGetValue(key, out int index);
        value = found ? _properties[index].Value : null!;
        return found;
    }

    public ArchitectureValue this[string key]
        => TryGet(key, out var value) ? value : throw new KeyNotFoundException($"architecture {Variant} has no property '{key}'");

    // Typed reads for the model families: every problem (missing, wrong kind, out of range) is an ArgumentException
    // naming the key and the value found, so a bad file never ends in a bare "Arithmetic operation resulted in an overflow".

    /// <summary>An integer property within <paramref name="min"/>…<paramref name="max"/>.</summary>
    public int GetInt(string key, int min, int max) => InRange(key, Required(key, ArchitectureValueKind.Int).AsInt, min, max, null);

    /// <summary>A list of exactly <paramref name="count"/> integers, each within <paramref name="min"/>…<paramref name="max"/>.</summary>
    public int[] GetInts(string key, int count, int min, int max)
    {
        var values = Required(key, ArchitectureValueKind.IntList).AsIntList;
        if (values.Count != count) throw new ArgumentException($"architecture {Variant}: '{key}' has {values.Count} values, expected {count}");
        var result = new int[count];
        for (int i = 0; i < count; i++) result[i] = InRange(key, values[i], min, max, i);
        return result;
    }

    /// <summary>A finite float property within <paramref name="min"/>…<paramref name="max"/>.</summary>
    public double GetFloat(string key, double min, double max)
    {
        double value = Required(key, ArchitectureValueKind.Float).AsFloat;
        if (!(value >= min && value <= max))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"architecture {Variant}: '{key}' is {value:R}, expected {min}…{max}"));
        return value;
    }

    /// <summary>A string property.</summary>
    public string GetString(string key) => Required(key, ArchitectureValueKind.String).AsString;

    private ArchitectureValue Required(string key, ArchitectureValueKind kind)
    {
        if (!TryGet(key, out var value)) throw new ArgumentException($"architecture {Variant} has no '{key}'");
        if (value.Kind != kind) throw new ArgumentException($"architecture {Variant}: '{key}' is {value} ({Describe(value.Kind)}), expected {Describe(kind)}");
        return value;
    }

    private int InRange(string key, long value, int min, int max, int? index) => value >= min && value <= max ? (int)value
        : throw new ArgumentException($"architecture {Variant}: '{key}'{(index is int i ? $"[{i}]" : "")} is {value}, expected {min}…{max}");

    private static string Describe(ArchitectureValueKind kind) => kind switch
    {
        ArchitectureValueKind.Int => "an integer",
        ArchitectureValueKind.Float => "a float",
        ArchitectureValueKind.String => "a string",
        _ => "a list of integers",
    };
}
