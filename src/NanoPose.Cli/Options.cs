using System.CommandLine;
using System.Globalization;

namespace NanoPose.Cli;

/// <summary>A command line that does not parse.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// One command's parsed arguments, read by option name. System.CommandLine has parsed them (<see cref="CommandLine"/>
/// declares every command and option); the values stay text here, so that each command checks them with its own
/// messages ("--threads must be a whole number from 1 to 64, not '0'"). An option's default is declared once, for
/// the help: <see cref="Value"/> returns it, and <see cref="IntInRange"/> and <see cref="FloatInRange"/> refuse to
/// run when the caller's fallback and the help disagree.
/// </summary>
internal sealed class Options(ParseResult parse, Command command)
{
    /// <summary>The command's bare arguments (images, folders, globs, or the video input).</summary>
    public IReadOnlyList<string> Positionals =>
        command.Arguments is [Argument<string[]> inputs, ..] ? parse.GetValue(inputs) ?? [] : [];

    /// <summary>The value given on the command line; null when the option was not given.</summary>
    public string? Optional(string name) =>
        parse.GetResult(Valued(name)) is { Implicit: false } given ? given.GetValueOrDefault<string>() : null;

    /// <summary>The value given, else the default the help shows.</summary>
    public string? Value(string name) => parse.GetValue(Valued(name));

    /// <summary>The value of an option System.CommandLine requires (it reports a missing one before any command runs).</summary>
    public string Required(string name) => Optional(name) ?? throw new UsageException($"{name} is required");

    public bool Flag(string name) => parse.GetValue(Find<bool>(name));

    /// <summary>An optional whole-number option within [min, max]; <paramref name="fallback"/> must be the help's default.</summary>
    public int IntInRange(string name, int fallback, int min, int max)
    {
        if (Optional(name) is not { } text) return HelpDefault(name, fallback, fallback.ToString(CultureInfo.InvariantCulture));
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} must be a whole number from {min} to {max}, not '{text}'");
    }

    /// <summary>An optional number option within [min, max]; <paramref name="fallback"/> must be the help's default.</summary>
    public float FloatInRange(string name, float fallback, float min, float max)
    {
        if (Optional(name) is not { } text) return HelpDefault(name, fallback, fallback.ToString(CultureInfo.InvariantCulture));
        return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} must be a number from {min} to {max}, not '{text}'");
    }

    /// <summary>The help text and the code may not disagree on a default: an internal error (exit 1) the tests meet.</summary>
    private T HelpDefault<T>(string name, T fallback, string fallbackText) => Value(name) == fallbackText ? fallback
        : throw new InvalidOperationException($"{name}: the help says the default is '{Value(name)}' but the command uses '{fallbackText}'");

    private Option<string> Valued(string name) => Find<string>(name);

    private Option<T> Find<T>(string name) =>
        command.Options.OfType<Option<T>>().FirstOrDefault(o => o.Name == name)
            ?? throw new InvalidOperationException($"'{command.Name}' declares no {typeof(T).Name} option {name}");
}
