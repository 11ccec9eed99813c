using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Tests.Infrastructure;

public static class TestData
{
    /// <summary>Seeded uniform values in [-scale, scale].</summary>
    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return data;
    }

    /// <summary>Every vector width, accelerated or not: without hardware support .NET runs the same generic
    /// body in software, so even the scalar-only CI leg checks each width's algorithm.</summary>
    public static TheoryData<VectorWidth> VectorWidths => new(VectorWidth.V128, VectorWidth.V256, VectorWidth.V512);
}

public static class Tolerance
{
    /// <summary>
    /// Compares against the scalar reference with a bound that grows with the reduction length
    /// (summation order differs between bodies): |e − a| ≤ 2e-6·(K + 4)·max(1, |e|), plus NaN checks.
    /// Any real arithmetic mistake is orders of magnitude larger.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, int reductionLength, string context)
    {
        if (expected.Length != actual.Length)
            throw new Xunit.Sdk.XunitException($"{context}: length {actual.Length}, expected {expected.Length}");
        double k = Math.Max(1, reductionLength) + 4;
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            double bound = 2e-6 * k * Math.Max(1.0, Math.Abs(e));
            if (float.IsNaN(a) != float.IsNaN(e) || Math.Abs(e - a) > bound)
                throw new Xunit.Sdk.XunitException(
                    $"{context}: element {i} is {a}, reference {e} (|diff| {Math.Abs(e - a):g3} > bound {bound:g3}, K={reductionLength})");
        }
    }

    /// <summary>Bit-for-bit equality, for kernels that only move data.</summary>
    public static void AssertExact(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
    {
        if (expected.Length != actual.Length)
            throw new Xunit.Sdk.XunitException($"{context}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                throw new Xunit.Sdk.XunitException($"{context}: element {i} is {actual[i]}, expected {expected[i]}");
    }
}
