using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Tests;

/// <summary>
/// Each CI leg says which vector widths it expects (NANOPOSE_EXPECT_WIDTHS, e.g. "512,256,128" or "none"),
/// so a renamed runtime knob can never make two legs silently test the same machine code.
/// </summary>
public class IsaLegTests
{
    [Fact]
    public void AcceleratedWidthsAreThoseTheLegExpects()
    {
        var expected = Environment.GetEnvironmentVariable("NANOPOSE_EXPECT_WIDTHS");
        var actual = Isa.Supported.Where(w => w != VectorWidth.Scalar).Select(w => ((int)w).ToString()).ToArray();
        if (string.IsNullOrEmpty(expected))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") is null,
                "CI must tell each leg the widths it expects (NANOPOSE_EXPECT_WIDTHS).");
            // Outside CI: at least the best width must be one the process reports as accelerated.
            Assert.Contains(Isa.Best, Isa.Supported);
            return;
        }
        var want = expected == "none" ? [] : expected.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(want.OrderBy(s => s), actual.OrderBy(s => s));
    }
}
