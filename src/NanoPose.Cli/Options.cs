namespace NanoPose.Cli;

/// <summary>A command line that does not parse.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A command's arguments: <c>--name value</c> options (each at most once), <c>--flag</c> switches, and, for commands
/// that take them, positional arguments (anything not starting with <c>--</c>).
/// </summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = [];
    private readonly HashSet<string> _flags = [];

    public List<string> Positionals { get; } = [];

    /// <param name="valued">Options that take a value.</param>
    /// <param name="flags">Options that take none.</param>
    /// <param name="positionals">Whether bare arguments are allowed.</param>
    public static Options Parse(string[] args, string[] valued, string[]? flags = null, bool positionals = false)
    {
        var parsed = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (!positionals) throw new UsageException($"unexpected argument '{arg}'");
                parsed.Positionals.Add(arg);
            }
            else if (flags is not null && flags.Contains(arg))
            {
                if (!parsed._flags.Add(arg)) throw new UsageException($"{arg} is given twice");
            }
            else if (valued.Contains(arg))
            {
                if (i + 1 >= args.Length) throw new UsageException($"{arg} needs a value");
                if (!parsed._values.TryAdd(arg, args[++i])) throw new UsageException($"{arg} is given twice");
            }
            else throw new UsageException($"unknown option '{arg}'");
        }
        return parsed;
    }

    public string Required(string name) => _values.TryGetValue(name, out string? value) ? value : throw new UsageException($"{name} is required");

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public bool Flag(string name) => _flags.Contains(name);

    /// <summary>An optional whole-number option within [min, max].</summary>
    public int IntInRange(string name, int fallback, int min, int max)
    {
        if (Optional(name) is not { } text) return fallback;
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} must be a whole number from {min} to {max}, not '{text}'");
    }

    /// <summary>An optional number option within [min, max].</summary>
    public float FloatInRange(string name, float fallback, float min, float max)
    {
        if (Optional(name) is not { } text) return fallback;
        return float.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} must be a number from {min} to {max}, not '{text}'");
    }
}
