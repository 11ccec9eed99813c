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

    private InvalidOperationException WrongKind(ArchitectureValueKind wanted) => new($"value is {Kind}, not {wanted}");

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
        int index = IndexOf(key);
        if (index >= 0) _properties[index] = new(key, value);
        else _properties.Add(new(key, value));
        return this;
    }

    public bool TryGet(string key, out ArchitectureValue value)
    {
        int index = IndexOf(key);
        value = index >= 0 ? _properties[index].Value : null!;
        return index >= 0;
    }

    public ArchitectureValue this[string key]
        => TryGet(key, out var value) ? value : throw new KeyNotFoundException($"architecture {Variant} has no property '{key}'");

    private int IndexOf(string key) => _properties.FindIndex(p => p.Key == key);
}
