using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace NanoPose.TestSupport;

/// <summary>
/// Seeded mutations of a valid file. Case <c>i</c> of seed <c>s</c> always gives the same bytes (its own
/// <see cref="Random"/>, seeded from both), so a failing case is reproduced from the two numbers the report prints.
/// </summary>
public static class Mutations
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];
    private static readonly long[] InterestingIntegers =
        [0, 1, -1, 255, 65535, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, long.MaxValue, long.MinValue, 1L << 40];

    /// <summary>The random source of case <paramref name="caseIndex"/> under <paramref name="seed"/>.</summary>
    public static Random CaseRandom(int seed, int caseIndex) => new(unchecked(seed * 1_000_003 + caseIndex));

    /// <summary>One to three random edits of <paramref name="original"/> (bit flips, byte and integer overwrites,
    /// truncation, chunk duplication, deletion and insertion); the original is not changed.</summary>
    public static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(8))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)random.Next(256); break;
                case 2: bytes[at] = InterestingBytes[random.Next(InterestingBytes.Length)]; break;
                case 3:
                {
                    // A little-endian (or, half the time, big-endian) integer of 2, 4 or 8 bytes.
                    long value = InterestingIntegers[random.Next(InterestingIntegers.Length)];
                    int size = 2 << random.Next(3);
                    var encoded = new byte[8];
                    if (random.Next(2) == 0) BinaryPrimitives.WriteInt64LittleEndian(encoded, value);
                    else BinaryPrimitives.WriteInt64BigEndian(encoded, value << (64 - 8 * size));
                    for (int k = 0; k < size && at + k < bytes.Count; k++) bytes[at + k] = encoded[k];
                    break;
                }
                case 4: bytes.RemoveRange(at, bytes.Count - at); break;   // truncation
                case 5:
                {
                    int length = 1 + random.Next(Math.Min(64, bytes.Count - at));
                    bytes.InsertRange(random.Next(bytes.Count + 1), bytes.GetRange(at, length));   // duplicated chunk
                    break;
                }
                case 6: bytes.RemoveRange(at, 1 + random.Next(Math.Min(16, bytes.Count - at))); break;
                default:
                {
                    var inserted = new byte[1 + random.Next(8)];
                    random.NextBytes(inserted);
                    bytes.InsertRange(at, inserted);
                    break;
                }
            }
        }
        return [.. bytes];
    }

    /// <summary>Every prefix of <paramref name="bytes"/> shorter than the whole.</summary>
    public static IEnumerable<byte[]> Truncations(byte[] bytes)
    {
        for (int length = 0; length < bytes.Length; length++) yield return bytes[..length];
    }
}

/// <summary>
/// Runs one family of hostile inputs through a reader and checks the contract of every reader here: each case ends
/// in success or in one of the documented exception types whose message starts with the source name and says more;
/// never another exception type; each parse allocates at most what the input can justify; the family finishes in
/// its time bound. Reports the seed, the case count, every outcome and the time to the test output.
/// </summary>
public sealed class FuzzFamily(string name, int seed, params Type[] documented)
{
    /// <summary>The name passed to the reader as the file; every documented error message must start with it.</summary>
    public const string Source = "fuzz.input";

    private readonly Dictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private readonly Stopwatch _time = new();
    private long _worstAllocation, _worstAllocationInput;
    private TimeSpan _worstCase;
    private string _worstCaseLabel = "";

    public string Name { get; } = name;
    public int Seed { get; } = seed;
    public int Cases { get; private set; }

    /// <summary>Bytes one parse may allocate for an input of the given length; 16× the input plus 256 KiB by default.</summary>
    public Func<long, long> AllowedAllocation { get; init; } = length => 16 * length + (256 << 10);

    /// <summary>Cases by outcome: "success" or the exception's type name.</summary>
    public IReadOnlyDictionary<string, int> Outcomes => _outcomes;

    /// <summary>Runs <paramref name="read"/> on <paramref name="input"/> as case <paramref name="label"/>.</summary>
    public void Run(string label, byte[] input, Action<byte[]> read)
    {
        Cases++;
        var caseStart = _time.Elapsed;
        _time.Start();
        long before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try
        {
            read(input);
            outcome = "success";
        }
        catch (Exception e) when (documented.Any(t => t.IsInstanceOfType(e)))
        {
            outcome = e.GetType().Name;
            if (!e.Message.StartsWith(Source, StringComparison.Ordinal) || e.Message.Length < Source.Length + 8)
                Fail(label, input, $"{e.GetType().Name} does not name the file and the problem: '{e.Message}'");
        }
        catch (Exception e)
        {
            outcome = e.GetType().Name;
            Fail(label, input, $"undocumented {e.GetType().FullName}: {e.Message}\n{e.StackTrace}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        _time.Stop();
        if (_time.Elapsed - caseStart > _worstCase) (_worstCase, _worstCaseLabel) = (_time.Elapsed - caseStart, label);
        _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
        if (allocated > _worstAllocation) (_worstAllocation, _worstAllocationInput) = (allocated, input.Length);
        if (allocated > AllowedAllocation(input.Length))
            Fail(label, input, $"allocated {allocated:N0} bytes for a {input.Length:N0}-byte input (allowed {AllowedAllocation(input.Length):N0})");
    }

    /// <summary>Writes the report to the test's output and fails on any bad case, on fewer cases than <paramref name="minimumCases"/>, or
    /// when the family took longer than <paramref name="timeBound"/>.</summary>
    public void Finish(int minimumCases, TimeSpan timeBound)
    {
        timeBound = TimeBounds.ForThisLeg(timeBound);
        var output = TestContext.Current.TestOutputHelper;
        var report = new StringBuilder()
            .Append($"{Name}: seed {Seed}, {Cases} cases in {_time.Elapsed.TotalSeconds:F2} s; ")
            .Append(string.Join(", ", _outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")))
            .Append($"; most allocated by one parse {_worstAllocation:N0} bytes (input {_worstAllocationInput:N0} bytes)")
            .Append($"; slowest case {_worstCase.TotalMilliseconds:F1} ms ({_worstCaseLabel})");
        output?.WriteLine(report.ToString());
        foreach (string failure in _failures.Take(5)) output?.WriteLine(failure);
        Assert.True(_failures.Count == 0, $"{_failures.Count} bad cases; first: {_failures.FirstOrDefault()}\n{report}");
        Assert.True(Cases >= minimumCases, $"{Cases} cases, expected at least {minimumCases}");
        Assert.True(_time.Elapsed <= timeBound, $"{Name} took {_time.Elapsed.TotalSeconds:F1} s, bound {timeBound.TotalSeconds} s\n{report}");
    }

    private void Fail(string label, byte[] input, string problem)
    {
        if (_failures.Count < 100)
            _failures.Add($"{Name} case {label} (seed {Seed}, {input.Length} bytes, starts {Convert.ToHexString(input.AsSpan(0, Math.Min(32, input.Length)))}): {problem}");
    }
}
