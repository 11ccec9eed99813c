using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Resize;

/// <summary>
/// <c>F.interpolate(x, size=(outH, outW), mode='bilinear', align_corners=…)</c> on an NHWC view: Lite-HRNet's
/// IterativeHead (align_corners=True, ×2) and EfficientHRNet's heatmap aggregation (align_corners=False).
/// <para>
/// The reference is bit-identical to PyTorch 1.13.1 (the version that made the golden outputs) on contiguous NCHW float
/// tensors, checked over many sizes in both modes: indices and weights as <see cref="BilinearAxis"/>, and each output
/// blended in the order of ATen's separable <c>Interpolate</c>, t0·w0 + t1·w1 per axis, width inside height, which
/// its AVX2 build contracts to fma(t0, w0, t1·w1): top = fma(v00, wx0, v01·wx1), bottom likewise,
/// out = fma(top, wy0, bottom·wy1). The vector bodies use <c>MultiplyAdd</c> in the same places, so they are
/// bit-identical to the reference where the hardware has FMA and within a rounding or two elsewhere.
/// PyTorch's channels-last kernel (also taken for 1-channel tensors) blends with four product weights instead, so its
/// last bits differ.
/// </para>
/// Output must not overlap the input.
/// </summary>
public static class BilinearResize
{
    public static void Resize(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, bool alignCorners, VectorWidth width)
    {
        inputView.Validate(input.Length, nameof(input));
        outputView.Validate(output.Length, nameof(output));
        NearestResize.RequireResizable(inputView, outputView);
        ViewChecks.RequireDisjoint(input, output, nameof(output));
        if (outputView.Channels == 0) return;
        switch (width)
        {
            case VectorWidth.Scalar: ResizeReference(input, inputView, output, outputView, alignCorners); break;
            case VectorWidth.V128: Body<V128, Vector128<float>>(input, inputView, output, outputView, alignCorners); break;
            case VectorWidth.V256: Body<V256, Vector256<float>>(input, inputView, output, outputView, alignCorners); break;
            case VectorWidth.V512: Body<V512, Vector512<float>>(input, inputView, output, outputView, alignCorners); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    /// <summary>The definition, one float at a time.</summary>
    public static void ResizeReference(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, bool alignCorners)
    {
        var rows = new BilinearAxis(inputView.Height, outputView.Height, alignCorners);
        var columns = new BilinearAxis(inputView.Width, outputView.Width, alignCorners);
        for (int y = 0; y < outputView.Height; y++)
        {
            rows.Source(y, out int y0, out int y1, out float wy0, out float wy1);
            for (int x = 0; x < outputView.Width; x++)
            {
                columns.Source(x, out int x0, out int x1, out float wx0, out float wx1);
                for (int c = 0; c < outputView.Channels; c++)
                    output[outputView.Offset(y, x) + c] = Blend(
                        input[inputView.Offset(y0, x0) + c], input[inputView.Offset(y0, x1) + c],
                        input[inputView.Offset(y1, x0) + c], input[inputView.Offset(y1, x1) + c], wx0, wx1, wy0, wy1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Blend(float v00, float v01, float v10, float v11, float wx0, float wx1, float wy0, float wy1) =>
        MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(v00, wx0, v01 * wx1), wy0, MathF.FusedMultiplyAdd(v10, wx0, v11 * wx1) * wy1);

    static void Body<TOps, TVec>(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, bool alignCorners)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        ref float source = ref MemoryMarshal.GetReference(input);
        ref float destination = ref MemoryMarshal.GetReference(output);
        var rows = new BilinearAxis(inputView.Height, outputView.Height, alignCorners);
        var columns = new BilinearAxis(inputView.Width, outputView.Width, alignCorners);
        int channels = outputView.Channels, lanes = TOps.Count, inStride = inputView.PixelStride;
        int last = channels - lanes;
        for (int y = 0; y < outputView.Height; y++)
        {
            rows.Source(y, out int y0, out int y1, out float wy0, out float wy1);
            ref float row0 = ref Unsafe.Add(ref source, inputView.Offset(y0, 0));
            ref float row1 = ref Unsafe.Add(ref source, inputView.Offset(y1, 0));
            for (int x = 0; x < outputView.Width; x++)
            {
                columns.Source(x, out int x0, out int x1, out float wx0, out float wx1);
                ref float p00 = ref Unsafe.Add(ref row0, (nint)x0 * inStride);
                ref float p01 = ref Unsafe.Add(ref row0, (nint)x1 * inStride);
                ref float p10 = ref Unsafe.Add(ref row1, (nint)x0 * inStride);
                ref float p11 = ref Unsafe.Add(ref row1, (nint)x1 * inStride);
                ref float o = ref Unsafe.Add(ref destination, outputView.Offset(y, x));
                if (channels < lanes)
                {
                    for (int c = 0; c < channels; c++)
                        Unsafe.Add(ref o, c) = Blend(Unsafe.Add(ref p00, c), Unsafe.Add(ref p01, c), Unsafe.Add(ref p10, c), Unsafe.Add(ref p11, c), wx0, wx1, wy0, wy1);
                    continue;
                }
                TVec vx0 = TOps.Splat(wx0), vx1 = TOps.Splat(wx1), vy0 = TOps.Splat(wy0), vy1 = TOps.Splat(wy1);
                // Whole vectors, then one overlapping the previous for the tail (rewrites equal values).
                for (int c = 0; ; c += lanes)
                {
                    c = Math.Min(c, last);
                    TVec top = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref p00, c)), vx0, TOps.Multiply(TOps.Load(ref Unsafe.Add(ref p01, c)), vx1));
                    TVec bottom = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref p10, c)), vx0, TOps.Multiply(TOps.Load(ref Unsafe.Add(ref p11, c)), vx1));
                    TOps.Store(TOps.MultiplyAdd(top, vy0, TOps.Multiply(bottom, vy1)), ref Unsafe.Add(ref o, c));
                    if (c == last) break;
                }
            }
        }
    }
}
