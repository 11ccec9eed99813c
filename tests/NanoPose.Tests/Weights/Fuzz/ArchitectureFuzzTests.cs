using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.Weights.Fuzz;

/// <summary>
/// A .npw file whose checksum is right but whose architecture description is hostile: every property of every
/// family removed, given the wrong kind, or set to values that overflow an int, are negative, zero, not multiples
/// of 32 or over the size limit; unknown families. Loading must end in a <see cref="WeightFileException"/> naming the
/// file (the description is refused, or the first weight it asks for is missing: the files hold no tensors).
/// </summary>
public class ArchitectureFuzzTests
{
    private const int Seed = 31_337;

    /// <summary>Building a network allocates its input buffer before asking for weights: up to
    /// <see cref="LiteHrnetConfig.MaxInputSide"/>² × 3 floats for a description at the limit. The hostile values here
    /// stay under 4096 × 192, so a few megabytes bound every case.</summary>
    private static long AllowedAllocation(long length) => 16 * length + (16 << 20);

    private static IEnumerable<ModelArchitecture> Architectures() =>
    [
        .. LiteHrnetConfig.Known.Values.Select(c => c.ToArchitecture()),
        EfficientHrnetConfig.FromScale(-4).ToArchitecture(),
        EfficientHrnetConfig.FromScale(0).ToArchitecture(),
    ];

    private static readonly ArchitectureValue[] HostileValues =
    [
        ArchitectureValue.Of(0), ArchitectureValue.Of(-1), ArchitectureValue.Of(3), ArchitectureValue.Of(4128),
        ArchitectureValue.Of(int.MaxValue), ArchitectureValue.Of(1L << 31), ArchitectureValue.Of(long.MaxValue), ArchitectureValue.Of(long.MinValue),
        ArchitectureValue.Of(double.NaN), ArchitectureValue.Of(double.PositiveInfinity), ArchitectureValue.Of(-1.0), ArchitectureValue.Of(0.0),
        ArchitectureValue.Of(""), ArchitectureValue.Of("FANCY"),
        ArchitectureValue.Of([]), ArchitectureValue.Of([-1L, -1, -1]), ArchitectureValue.Of([long.MaxValue, 1, 1]),
        ArchitectureValue.Of([1L << 31, 2, 2, 2, 2, 2, 2]), ArchitectureValue.Of([0L, 0, 0, 0, 0, 0, 0, 0, 0]),
    ];

    /// <summary>The description with <paramref name="key"/> set to <paramref name="value"/> (null: removed).</summary>
    private static ModelArchitecture With(ModelArchitecture original, string key, ArchitectureValue? value)
    {
        var changed = new ModelArchitecture(original.Family, original.Variant);
        foreach (var (k, v) in original.Properties)
            if (k != key) changed.Set(k, v);
            else if (value is not null) changed.Set(k, value);
        return changed;
    }

    private static void Load(byte[] npw)
    {
        var file = NpwFile.Parse(npw, FuzzFamily.Source);
        PoseNetworks.Load(file, Isa.Best);
    }

    [Fact]
    public void HostileArchitectureValuesAreBadWeightFiles()
    {
        var family = new FuzzFamily("hostile .npw architectures", Seed, typeof(WeightFileException)) { AllowedAllocation = AllowedAllocation };
        foreach (var architecture in Architectures())
            foreach (var (key, _) in architecture.Properties)
                foreach (var value in HostileValues.Append(null))
                {
                    byte[] npw = new NpwWriter(With(architecture, key, value)).ToBytes();
                    family.Run($"{architecture.Variant} {key} = {value?.ToString() ?? "(removed)"}", npw, Load);
                }
        family.Finish(1000, TimeSpan.FromSeconds(20));
        Assert.Equal(family.Cases, family.Outcomes[nameof(WeightFileException)]);
    }

    [Fact]
    public void EveryDescriptionReadsBackWhenUntouched()
    {
        // The base of the hostile cases is valid: it fails only on its first (missing) weight.
        foreach (var architecture in Architectures())
        {
            var file = NpwFile.Parse(new NpwWriter(architecture).ToBytes(), "arch.npw");
            var error = Assert.Throws<WeightFileException>(() => PoseNetworks.Load(file, Isa.Best));
            Assert.Contains("is missing", error.Message);
        }
    }

    [Theory]
    [InlineData("resnet", "resnet-50")]
    [InlineData("LiteHRNet", "litehrnet-18")]
    public void UnknownFamiliesAreNamed(string family, string variant)
    {
        var architecture = new ModelArchitecture(family, variant);
        byte[] npw = new NpwWriter(architecture).ToBytes();
        var error = Assert.Throws<WeightFileException>(() => PoseNetworks.Load(NpwFile.Parse(npw, "odd.npw"), Isa.Best));
        Assert.Equal($"odd.npw: architecture family '{family}' is unknown (known: litehrnet, efficienthrnet, picodet)", error.Message);
        error = Assert.Throws<WeightFileException>(() => PoseEstimator.Load(npw, source: "odd.npw"));
        Assert.StartsWith($"odd.npw: architecture family '{family}' has no pose pipeline", error.Message);
    }
}
