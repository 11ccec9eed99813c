using System.Runtime.Intrinsics;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Tests.Simd;

/// <summary>The vector e^x of the activation epilogues against double-precision Math.Exp, for every width.</summary>
public class FastExpTests
{
    [Fact]
    public void V128IsWithinTwoTenMillionthsOfExp() => CheckAccuracy<V128, Vector128<float>>();

    [Fact]
    public void V256IsWithinTwoTenMillionthsOfExp() => CheckAccuracy<V256, Vector256<float>>();

    [Fact]
    public void V512IsWithinTwoTenMillionthsOfExp() => CheckAccuracy<V512, Vector512<float>>();

    private static void CheckAccuracy<TOps, TVec>() where TOps : struct, IVec<TVec> where TVec : struct
    {
        var lanes = new float[TOps.Count];
        double worst = 0, worstAt = 0;
        // Every 1/1024 over the range where the result is a normal float, plus the range ends.
        for (double start = FastExp.Lowest; start <= FastExp.Highest; start += lanes.Length / 1024.0)
        {
            for (int i = 0; i < lanes.Length; i++) lanes[i] = (float)Math.Min(FastExp.Highest, start + i / 1024.0);
            TOps.Store(TOps.Exp(TOps.Load(ref lanes[0])), ref lanes[0]);
            for (int i = 0; i < lanes.Length; i++)
            {
                double x = (float)Math.Min(FastExp.Highest, start + i / 1024.0), exact = Math.Exp(x);
                double error = Math.Abs(lanes[i] - exact) / exact;
                if (error > worst) (worst, worstAt) = (error, x);
            }
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{TOps.Width}: largest relative error {worst:g3} at x = {worstAt}");
        Assert.True(worst < 2e-7, $"{TOps.Width}: relative error {worst:g3} at x = {worstAt}");
    }

    [Fact]
    public void OutsideTheNormalRangeTheResultIsClampedNotZeroOrInfinite()
    {
        var values = new float[] { -1000f, -88f, 89f, 1000f, float.NegativeInfinity, float.PositiveInfinity, 0f, 1f };
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = FastExp.Exp(Vector128.Create(values[i]))[0];
        Assert.Equal(MathF.Exp(FastExp.Lowest), result[0], 1e-44f);
        Assert.Equal(result[0], result[1]);
        Assert.True(result[2] == result[3] && float.IsFinite(result[3]) && result[3] > 2e38f, $"exp(89) = {result[2]}, exp(1000) = {result[3]}");
        Assert.Equal(result[0], result[4]);
        Assert.Equal(result[3], result[5]);
        Assert.Equal(1f, result[6]);
        Assert.Equal(MathF.E, result[7], 3e-7f);
    }
}
