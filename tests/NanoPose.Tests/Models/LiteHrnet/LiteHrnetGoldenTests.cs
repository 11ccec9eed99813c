using NanoPose.Kernels.Simd;

namespace NanoPose.Tests.Models.LiteHrnet;

/// <summary>
/// The four golden checkpoints, converted and run at 256×192, against the official code's outputs: the heatmaps, the
/// heatmaps of the horizontally flipped input, and the stem and every stage's branch outputs (taps). Prints the
/// largest absolute difference of each.
/// <para>
/// With these seeded random weights the LITE networks are numerically sensitive: moving one input value in 13 by one
/// ulp moves Lite-HRNet-18's heatmaps by 2e-3 and Lite-HRNet-30's by 15 (the naive ones by 5e-5), so no float32
/// implementation that rounds differently from PyTorch can stay within 1e-3 of them. Each comparison therefore also
/// measures that noise floor on the same input: the output's change under the one-ulp perturbation. Outputs whose
/// floor is at most <see cref="WellConditioned"/> must match within 1e-3. The others cannot be checked at float32
/// precision against these golden arrays, so they are reported (difference and floor) and not asserted. A test
/// that checks them with a bound wide enough to pass would be a check that cannot fail. Every variant must have its
/// stem and stage-0 taps in the checked set, and the naive variants both heatmaps too.
/// </para>
/// </summary>
public class LiteHrnetGoldenTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-3;
    /// <summary>An output this insensitive to one-ulp input changes can be held to <see cref="Tolerance"/>.</summary>
    private const double WellConditioned = 1e-4;

    public static TheoryData<string> Variants => [.. GoldenLiteHrnet.Models.Keys];

    [Theory, MemberData(nameof(Variants))]
    public void MatchesTheReferenceImplementation(string variant)
    {
        var network = GoldenLiteHrnet.Build(variant, Isa.Best);
        var input = GoldenLiteHrnet.Array(variant, "input").Data;
        var flipped = FlipWidth(input, 3, 256, 192);

        // The golden taps were recorded during the reference's last run, the one on the flipped input (they differ
        // from the unflipped run's by up to 10, from the flipped run's by 1e-4), so they are compared there.
        var outputs = Run(network, input, flipped);
        var nudged = Run(network, Nudge(input), Nudge(flipped));

        var rows = outputs.Keys.Select(name =>
        {
            double difference = GoldenLiteHrnet.MaxAbsDifference(GoldenLiteHrnet.Array(variant, name).Data, outputs[name]);
            double floor = GoldenLiteHrnet.MaxAbsDifference(outputs[name], nudged[name]);
            return (Name: name, Difference: difference, Floor: floor, Checked: floor <= WellConditioned);
        }).ToList();

        Assert.Equal(2 + 1 + 2 + 3 + 4, rows.Count); // heatmaps twice, the stem, then 2, 3 and 4 branches
        foreach (var r in rows)
            output.WriteLine($"{variant,-26} {r.Name,-28} max abs diff {r.Difference:E2}   noise floor {r.Floor:E2}   "
                + (r.Checked ? "checked" : "not checkable at float32 precision"));
        bool naive = variant.Contains("naive", StringComparison.Ordinal);
        var mustBeChecked = rows.Select(r => r.Name).Where(n => n == "stem" || n.StartsWith("stage0_", StringComparison.Ordinal)
            || (naive && n.StartsWith("heatmaps", StringComparison.Ordinal)));
        Assert.All(mustBeChecked, name => Assert.True(rows.Single(r => r.Name == name).Checked,
            $"{variant} {name}: noise floor {rows.Single(r => r.Name == name).Floor:E2} above {WellConditioned:E0}, expected a well-conditioned output"));
        Assert.All(rows.Where(r => r.Checked), r => Assert.True(r.Difference <= Tolerance,
            $"{variant} {r.Name}: max abs diff {r.Difference:E2} > {Tolerance:E0}"));
    }

    /// <summary>Heatmaps of both inputs and the taps of the flipped one, NCHW, by golden file name.</summary>
    private static Dictionary<string, float[]> Run(NanoPose.Models.LiteHrnet.LiteHrnetNetwork network, float[] input, float[] flipped)
    {
        var outputs = new Dictionary<string, float[]> { ["heatmaps"] = network.Run(input).ToNchw() };
        outputs["heatmaps_of_flipped_input"] = network.Run(flipped, (name, map) => outputs[name] = map.ToNchw()).ToNchw();
        return outputs;
    }

    /// <summary>One value in 13 moved up by one ulp.</summary>
    private static float[] Nudge(float[] values) => [.. values.Select((v, i) => i % 13 == 0 ? MathF.BitIncrement(v) : v)];

    private static float[] FlipWidth(float[] nchw, int channels, int height, int width)
    {
        var flipped = new float[nchw.Length];
        NanoPose.Pipelines.TopDown.FlipTest.FlipHorizontally(nchw, channels, height, width, flipped);
        return flipped;
    }
}
