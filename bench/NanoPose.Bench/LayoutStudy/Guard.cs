namespace NanoPose.Bench.LayoutStudy;

/// <summary>Up-front argument checks shared by the layout candidates; each names the argument, expected and found.</summary>
static class Guard
{
    public static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name}: expected > 0, found {value}.", name);
    }

    public static void AtLeast(int value, int minimum, string name)
    {
        if (value < minimum) throw new ArgumentException($"{name}: expected >= {minimum}, found {value}.", name);
    }

    public static void Length(ReadOnlySpan<float> span, int required, string name)
    {
        if (span.Length < required) throw new ArgumentException($"{name}: expected >= {required} floats, found {span.Length}.", name);
    }
}
