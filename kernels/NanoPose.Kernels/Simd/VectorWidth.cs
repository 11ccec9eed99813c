using System.Runtime.Intrinsics;

namespace NanoPose.Kernels.Simd;

/// <summary>Which body of a kernel runs: the scalar reference or one of the vector widths.</summary>
public enum VectorWidth
{
    Scalar = 0,
    V128 = 128,
    V256 = 256,
    V512 = 512,
}

/// <summary>What the running process can execute. Read once; kernels are chosen at model load, never per call.</summary>
public static class Isa
{
    /// <summary>The widest accelerated width, or <see cref="VectorWidth.Scalar"/> when none is.</summary>
    public static VectorWidth Best { get; } =
        Vector512.IsHardwareAccelerated ? VectorWidth.V512
        : Vector256.IsHardwareAccelerated ? VectorWidth.V256
        : Vector128.IsHardwareAccelerated ? VectorWidth.V128
        : VectorWidth.Scalar;

    /// <summary>Every width this process can run, scalar first. Tests run each against the reference.</summary>
    public static IReadOnlyList<VectorWidth> Supported { get; } = BuildSupported();

    public static bool IsSupported(VectorWidth width) => Supported.Contains(width);

    /// <summary>Human-readable summary, e.g. "V512 V256 V128 (AVX-512F, FMA)".</summary>
    public static string Describe()
    {
        var widths = string.Join(' ', Supported.Where(w => w != VectorWidth.Scalar));
        var features = new List<string>();
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) features.Add("AVX-512F");
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) features.Add("AVX2");
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported) features.Add("FMA");
        if (System.Runtime.Intrinsics.X86.Sse41.IsSupported) features.Add("SSE4.1");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) features.Add("AdvSimd");
        return (widths.Length == 0 ? "scalar only" : widths) + (features.Count > 0 ? $" ({string.Join(", ", features)})" : "");
    }

    static VectorWidth[] BuildSupported()
    {
        var list = new List<VectorWidth> { VectorWidth.Scalar };
        if (Vector128.IsHardwareAccelerated) list.Add(VectorWidth.V128);
        if (Vector256.IsHardwareAccelerated) list.Add(VectorWidth.V256);
        if (Vector512.IsHardwareAccelerated) list.Add(VectorWidth.V512);
        return [.. list];
    }
}
