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
    /// <summary>x·min(max(x + 3, 0), 6)/6 (MobileNetV3; PicoDet everywhere).</summary>
    HardSwish,
    /// <summary>min(max(<see cref="Activations.HardSigmoidSlope"/>·x + 0.5, 0), 1) (PicoDet's backbone squeeze-excite).</summary>
    HardSigmoid,
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
    /// <summary>
    /// The hard-sigmoid slope: fp16's nearest value to 1/6, which is what PicoDet's exported graph multiplies by (its
    /// source says 1/6; MODELS.md G.12: 1/6 would move boxes by up to 0.18 px). Converters check a model's constant
    /// against it.
    /// </summary>
    public const float HardSigmoidSlope = 0.1666259765625f;
    public const float HardSigmoidOffset = 0.5f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x, Activation activation) => activation switch
    {
        Activation.ReLU => x > 0f ? x : 0f,
        Activation.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        Activation.SiLU => x / (1f + MathF.Exp(-x)),
        Activation.HardSwish => x * Math.Min(Math.Max(x + 3f, 0f), 6f) / 6f,
        Activation.HardSigmoid => Math.Min(Math.Max(HardSigmoidSlope * x + HardSigmoidOffset, 0f), 1f),
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
            // Written as the scalar form is, operation for operation (no fused multiply-add), so both round alike.
            Activation.HardSwish => TOps.Divide(TOps.Multiply(x,
                TOps.Min(TOps.Max(TOps.Add(x, TOps.Splat(3f)), TOps.Zero), TOps.Splat(6f))), TOps.Splat(6f)),
            Activation.HardSigmoid => TOps.Min(TOps.Max(
                TOps.Add(TOps.Multiply(TOps.Splat(HardSigmoidSlope), x), TOps.Splat(HardSigmoidOffset)), TOps.Zero), TOps.Splat(1f)),
            _ => x,
        };
}
