using System.Runtime.CompilerServices;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Elementwise;

/// <summary>A binary elementwise operation in scalar and vector form.</summary>
internal interface IBinaryOp
{
    static abstract float Apply(float a, float b);
    static abstract TVec Apply<TOps, TVec>(TVec a, TVec b) where TOps : struct, IVec<TVec> where TVec : struct;
}

internal readonly struct AddOp : IBinaryOp
{
    public static float Apply(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TOps, TVec>(TVec a, TVec b) where TOps : struct, IVec<TVec> where TVec : struct => TOps.Add(a, b);
}

internal readonly struct MultiplyOp : IBinaryOp
{
    public static float Apply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TOps, TVec>(TVec a, TVec b) where TOps : struct, IVec<TVec> where TVec : struct => TOps.Multiply(a, b);
}

/// <summary>An activation fixed at compile time, so the JIT folds <see cref="Activations.Apply(float, Activation)"/>'s switch.</summary>
internal interface IActivationKind
{
    static abstract Activation Kind { get; }
}

internal readonly struct ReluKind : IActivationKind { public static Activation Kind => Activation.ReLU; }
internal readonly struct SigmoidKind : IActivationKind { public static Activation Kind => Activation.Sigmoid; }
internal readonly struct SiluKind : IActivationKind { public static Activation Kind => Activation.SiLU; }
internal readonly struct HardSwishKind : IActivationKind { public static Activation Kind => Activation.HardSwish; }
internal readonly struct HardSigmoidKind : IActivationKind { public static Activation Kind => Activation.HardSigmoid; }

/// <summary>
/// The channel loops of the elementwise kernels over a run of pixels, each operand with its own pixel stride
/// (0 broadcasts one pixel, e.g. a per-channel scale). Per pixel: whole vectors, then one vector overlapping the
/// previous one for the channel tail. The tail is computed before any store of that pixel, so an output that is
/// exactly an input (in place) still reads original values. Fewer channels than lanes (EfficientHRNet H−4's 14 at
/// V512) use one masked vector per pixel.
/// </summary>
internal static class PixelLoops
{
    public static void Binary<TOps, TVec, TOp>(ref float a, int aStride, ref float b, int bStride, ref float output, int outputStride, int pixels, int channels)
        where TOps : struct, IVec<TVec> where TVec : struct where TOp : struct, IBinaryOp
    {
        int lanes = TOps.Count, last = channels - lanes;
        for (int p = 0; p < pixels; p++)
        {
            ref float pa = ref Unsafe.Add(ref a, (nint)p * aStride);
            ref float pb = ref Unsafe.Add(ref b, (nint)p * bStride);
            ref float po = ref Unsafe.Add(ref output, (nint)p * outputStride);
            if (channels < lanes)
            {
                TOps.StoreFirst(TOp.Apply<TOps, TVec>(TOps.LoadFirst(ref pa, channels), TOps.LoadFirst(ref pb, channels)), ref po, channels);
                continue;
            }
            TVec tail = TOp.Apply<TOps, TVec>(TOps.Load(ref Unsafe.Add(ref pa, last)), TOps.Load(ref Unsafe.Add(ref pb, last)));
            for (int c = 0; c < last; c += lanes)
                TOps.Store(TOp.Apply<TOps, TVec>(TOps.Load(ref Unsafe.Add(ref pa, c)), TOps.Load(ref Unsafe.Add(ref pb, c))), ref Unsafe.Add(ref po, c));
            TOps.Store(tail, ref Unsafe.Add(ref po, last));
        }
    }

    public static void ActivateInPlace<TOps, TVec, TAct>(ref float data, int stride, int pixels, int channels)
        where TOps : struct, IVec<TVec> where TVec : struct where TAct : struct, IActivationKind
    {
        if (stride == channels)
        {
            // Dense: the pixels form one block.
            channels *= pixels;
            pixels = 1;
        }
        int lanes = TOps.Count, last = channels - lanes;
        for (int p = 0; p < pixels; p++)
        {
            ref float pixel = ref Unsafe.Add(ref data, (nint)p * stride);
            if (channels < lanes)
            {
                TOps.StoreFirst(Activations.Apply<TOps, TVec>(TOps.LoadFirst(ref pixel, channels), TAct.Kind), ref pixel, channels);
                continue;
            }
            TVec tail = Activations.Apply<TOps, TVec>(TOps.Load(ref Unsafe.Add(ref pixel, last)), TAct.Kind);
            for (int c = 0; c < last; c += lanes)
                TOps.Store(Activations.Apply<TOps, TVec>(TOps.Load(ref Unsafe.Add(ref pixel, c)), TAct.Kind), ref Unsafe.Add(ref pixel, c));
            TOps.Store(tail, ref Unsafe.Add(ref pixel, last));
        }
    }
}
