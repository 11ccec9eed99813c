using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Tests;

/// <summary>
/// Each CI leg says which vector widths it expects (NANOPOSE_EXPECT_WIDTHS, e.g. "512,256,128" or "none"),
/// so a renamed runtime knob can never make two legs silently test the same machine code. A run that does not say
/// (a plain <c>dotnet test</c>, with or without CI set) is held to the runtime knobs it was started with instead: a
/// width a knob turns off must not be reported as accelerated.
/// </summary>
public class IsaLegTests
{
    [Fact]
    public void AcceleratedWidthsAreThoseTheLegExpects()
    {
        var expected = Environment.GetEnvironmentVariable("NANOPOSE_EXPECT_WIDTHS");
        var actual = Isa.Supported.Where(w => w != VectorWidth.Scalar).Select(w => ((int)w).ToString()).ToArray();
        if (!string.IsNullOrEmpty(expected))
        {
            var want = expected == "none" ? [] : expected.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(want.OrderBy(s => s), actual.OrderBy(s => s));
            return;
        }

        Assert.Contains(Isa.Best, Isa.Supported);
        static bool Off(string knob) => Environment.GetEnvironmentVariable("DOTNET_" + knob) == "0";
        if (Off("EnableHWIntrinsic")) Assert.Empty(actual);
        if (Off("EnableAVX2")) Assert.DoesNotContain("256", actual);
        if (Off("EnableAVX2") || Off("EnableAVX512")) Assert.DoesNotContain("512", actual);
    }
}
