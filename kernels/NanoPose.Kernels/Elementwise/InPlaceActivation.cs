using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Elementwise;

/// <summary>
/// ReLU, Sigmoid or SiLU applied in place to an NHWC view (for when no producing kernel's <see cref="Epilogue"/> can
/// fuse it), with the same math as the epilogues (<see cref="Activations"/>); a dense view runs as one long row. Not
/// TensorPrimitives: past 256 KB it stores non-temporally, evicting the map the next layer reads.
/// </summary>
public static class InPlaceActivation
{
    public static void Apply(Span<float> data, Nhwc view, Activation activation, VectorWidth width)
    {
        view.Validate(data.Length, nameof(data));
        int length = view.RequiredLength;
        if (length == 0 || activation == Activation.None) return;
        if (width == VectorWidth.Scalar)
        {
            ApplyReference(data, view, activation);
            return;
        }
        if (width is not (VectorWidth.V128 or VectorWidth.V256 or VectorWidth.V512))
            throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        switch (activation)
        {
            case Activation.ReLU: Run<ReluKind>(data, view, width); break;
            case Activation.Sigmoid: Run<SigmoidKind>(data, view, width); break;
            case Activation.SiLU: Run<SiluKind>(data, view, width); break;
            case Activation.HardSwish: Run<HardSwishKind>(data, view, width); break;
            case Activation.HardSigmoid: Run<HardSigmoidKind>(data, view, width); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
        }
    }

    /// <summary>The definition: <see cref="Activations.Apply(float, Activation)"/> on every element of the view.</summary>
    public static void ApplyReference(Span<float> data, Nhwc view, Activation activation)
    {
        for (int y = 0; y < view.Height; y++)
            for (int x = 0; x < view.Width; x++)
                for (int c = 0; c < view.Channels; c++)
                    data[view.Offset(y, x) + c] = Activations.Apply(data[view.Offset(y, x) + c], activation);
    }

    static void Run<TAct>(Span<float> data, Nhwc view, VectorWidth width) where TAct : struct, IActivationKind
    {
        ref float start = ref MemoryMarshal.GetReference(data);
        switch (width)
        {
            case VectorWidth.V128: PixelLoops.ActivateInPlace<V128, Vector128<float>, TAct>(ref start, view.PixelStride, view.Pixels, view.Channels); break;
            case VectorWidth.V256: PixelLoops.ActivateInPlace<V256, Vector256<float>, TAct>(ref start, view.PixelStride, view.Pixels, view.Channels); break;
            default: PixelLoops.ActivateInPlace<V512, Vector512<float>, TAct>(ref start, view.PixelStride, view.Pixels, view.Channels); break;
        }
    }
}
