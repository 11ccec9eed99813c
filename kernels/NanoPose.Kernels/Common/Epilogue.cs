using System.Runtime.CompilerServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Common;

public enum Activation
{
    None,
    ReLU,
    Sigmoid,
    /// <summary>x·sigmoid(x), also called Swish.</summary>
    SiLU,
}

/// <summary>
/// What a producing kernel applies to its accumulator before the store:
/// <c>y = act(acc + bias[c] + residual[p, c])</c>. BatchNorm is folded into the weights and bias at load,
/// so a conv + BN + ReLU (+ skip connection) is one pass over memory.
/// </summary>
public readonly ref struct Epilogue
{
    /// <summary>Per output channel; empty means no bias.</summary>
    public ReadOnlySpan<float> Bias { get; init; }
    public Activation Activation { get; init; }
    /// <summary>Added before the activation (ResNet's relu(conv + x)); empty means none. Laid out like the output.</summary>
    public ReadOnlySpan<float> Residual { get; init; }
    /// <summary>Pixel stride of <see cref="Residual"/>; the residual has the output's height, width and channels.</summary>
    public int ResidualPixelStride { get; init; }

    public static Epilogue None => default;

    public static Epilogue With(ReadOnlySpan<float> bias, Activation activation = Activation.None) =>
        new() { Bias = bias, Activation = activation };
}

/// <summary>Activation functions in scalar and vector form; the scalar one is the reference.</summary>
public static class Activations
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x, Activation activation) => activation switch
    {
        Activation.ReLU => x > 0f ? x : 0f,
        Activation.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        Activation.SiLU => x / (1f + MathF.Exp(-x)),
        _ => x,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TOps, TVec>(TVec x, Activation activation)
        where TOps : struct, IVec<TVec> where TVec : struct => activation switch
        {
            Activation.ReLU => TOps.Max(x, TOps.Zero),
            // Below −87 the true sigmoid is subnormal, and a division with a subnormal result costs ~4× the whole
            // sigmoid on Zen 5 (11.8 against 3.2 ns per 16 lanes): it stops at 1/(1 + e^87) ≈ 1.6e-38 instead. x is the
            // second operand of the max so that a NaN passes through (x86 maxps returns its second operand then).
            Activation.Sigmoid => TOps.Divide(TOps.Splat(1f), TOps.Add(TOps.Splat(1f), TOps.Exp(TOps.Subtract(TOps.Zero, TOps.Max(TOps.Splat(-87f), x))))),
            Activation.SiLU => TOps.Divide(x, TOps.Add(TOps.Splat(1f), TOps.Exp(TOps.Subtract(TOps.Zero, x)))),
            _ => x,
        };
}
