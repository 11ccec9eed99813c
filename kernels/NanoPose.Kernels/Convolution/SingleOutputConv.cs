using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// A dense convolution with one output channel (PicoDet's 5×5 96→1 alignment conv in each head). The general kernel
/// (<see cref="ConvCore"/>) spreads output channels over the vector lanes, so here it would fill one lane in sixteen
/// (2.3 GFLOP/s, 11 % of the 320 detector); this one spreads the input channels instead: per output pixel, one dot
/// product over every tap's input pixel, two accumulators, the lanes summed in order at the end.
/// Weights are packed tap-major, [kh·kw][Cin], so each tap's weights are one contiguous run like its input pixel.
/// </summary>
internal static class SingleOutputConv
{
    public static bool Applies(VectorWidth width, ConvGeometry geometry, int outChannels) =>
        width != VectorWidth.Scalar && outChannels == 1 && geometry.Groups == 1 && !geometry.IsPointwise;

    /// <summary>PyTorch weights [1, Cin, kh, kw] → [kh·kw][Cin].</summary>
    public static void Pack(ReadOnlySpan<float> weights, int inChannels, int taps, Span<float> packed)
    {
        for (int c = 0; c < inChannels; c++)
            for (int t = 0; t < taps; t++)
                packed[t * inChannels + c] = weights[c * taps + t];
    }

    public static void RunRows(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        switch (width)
        {
            case VectorWidth.V128: Run<V128, Vector128<float>>(input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd); break;
            case VectorWidth.V256: Run<V256, Vector256<float>>(input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd); break;
            case VectorWidth.V512: Run<V512, Vector512<float>>(input, inputShape, packedWeights, geometry, output, outputShape, epilogue, rowStart, rowEnd); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "a vector width");
        }
    }

    private static void Run<TOps, TVec>(
        ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, ConvGeometry geometry,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int cin = inputShape.Channels, n = TOps.Count, full = cin / n * n, tail = cin - full;
        int kh = geometry.KernelHeight, kw = geometry.KernelWidth;
        ref float x0 = ref MemoryMarshal.GetReference(input);
        ref float w0 = ref MemoryMarshal.GetReference(packedWeights);
        float bias = epilogue.Bias.IsEmpty ? 0f : epilogue.Bias[0];
        Span<float> lanes = stackalloc float[Vector512<float>.Count];
        for (int oy = rowStart; oy < rowEnd; oy++)
            for (int ox = 0; ox < outputShape.Width; ox++)
            {
                TVec even = TOps.Zero, odd = TOps.Zero;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * geometry.StrideY - geometry.Padding.Top + ky;
                    if ((uint)iy >= (uint)inputShape.Height) continue;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int ix = ox * geometry.StrideX - geometry.Padding.Left + kx;
                        if ((uint)ix >= (uint)inputShape.Width) continue;
                        ref float x = ref Unsafe.Add(ref x0, inputShape.Offset(iy, ix));
                        ref float w = ref Unsafe.Add(ref w0, (ky * kw + kx) * cin);
                        int c = 0;
                        for (; c + 2 * n <= full; c += 2 * n)
                        {
                            even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref x, c)), TOps.Load(ref Unsafe.Add(ref w, c)), even);
                            odd = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref x, c + n)), TOps.Load(ref Unsafe.Add(ref w, c + n)), odd);
                        }
                        if (c < full)
                        {
                            even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref x, c)), TOps.Load(ref Unsafe.Add(ref w, c)), even);
                            c += n;
                        }
                        if (tail > 0)
                            odd = TOps.MultiplyAdd(TOps.LoadFirst(ref Unsafe.Add(ref x, c), tail), TOps.LoadFirst(ref Unsafe.Add(ref w, c), tail), odd);
                    }
                }
                TOps.Store(TOps.Add(even, odd), ref lanes[0]);
                float sum = 0f;
                for (int lane = 0; lane < n; lane++) sum += lanes[lane];
                sum += bias;
                if (!epilogue.Residual.IsEmpty) sum += epilogue.Residual[(oy * outputShape.Width + ox) * epilogue.ResidualPixelStride];
                output[outputShape.Offset(oy, ox)] = Activations.Apply(sum, epilogue.Activation);
            }
    }
}
