using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Resize;

/// <summary>
/// Nearest-neighbour resize of an NHWC view: every output pixel is a copy of one input pixel's channels, so all
/// widths are bit-identical to the reference. Output must not overlap the input.
/// </summary>
public static class NearestResize
{
    /// <summary>Upsampling by integer factors (HRNet fuse layers, <c>nn.Upsample(scale_factor=f, mode='nearest')</c>):
    /// output (y, x) = input (y / factorY, x / factorX). The output view must be exactly factor times the input.</summary>
    public static void UpsampleByFactor(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView,
        int factorY, int factorX, VectorWidth width)
    {
        if (factorY < 1 || factorX < 1)
            throw new ArgumentException($"factors must be at least 1, found {factorY}x{factorX}.", nameof(factorY));
        ViewChecks.RequireSameShape(
            inputView with { Height = inputView.Height * factorY, Width = inputView.Width * factorX }, outputView, nameof(outputView));
        Run(input, inputView, output, outputView, new IntegerFactorRule(factorY), new IntegerFactorRule(factorX), width);
    }

    /// <summary><c>F.interpolate(x, size=(outH, outW), mode='nearest')</c> with PyTorch's legacy float32 index rule
    /// (see <see cref="LegacyNearestRule"/>); any input and output sizes of at least 1.</summary>
    public static void ResizeToSize(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, VectorWidth width)
    {
        RequireResizable(inputView, outputView);
        Run(input, inputView, output, outputView,
            new LegacyNearestRule(inputView.Height, outputView.Height), new LegacyNearestRule(inputView.Width, outputView.Width), width);
    }

    /// <summary>The integer-factor definition, one float at a time.</summary>
    public static void UpsampleByFactorReference(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, int factorY, int factorX) =>
        Reference(input, inputView, output, outputView, new IntegerFactorRule(factorY), new IntegerFactorRule(factorX));

    /// <summary>The PyTorch legacy-nearest definition, one float at a time.</summary>
    public static void ResizeToSizeReference(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView) =>
        Reference(input, inputView, output, outputView,
            new LegacyNearestRule(inputView.Height, outputView.Height), new LegacyNearestRule(inputView.Width, outputView.Width));

    static void Reference<TRule>(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, TRule rows, TRule columns)
        where TRule : struct, INearestRule
    {
        for (int y = 0; y < outputView.Height; y++)
            for (int x = 0; x < outputView.Width; x++)
                for (int c = 0; c < outputView.Channels; c++)
                    output[outputView.Offset(y, x) + c] = input[inputView.Offset(rows.Source(y), columns.Source(x)) + c];
    }

    /// <summary>Both sizes at least 1 on each axis and the same channel count (shared with the bilinear resize).</summary>
    internal static void RequireResizable(Nhwc inputView, Nhwc outputView)
    {
        if (inputView.Height < 1 || inputView.Width < 1 || outputView.Height < 1 || outputView.Width < 1)
            throw new ArgumentException($"resize needs sizes of at least 1x1, found {inputView} -> {outputView}.", nameof(outputView));
        if (inputView.Channels != outputView.Channels)
            throw new ArgumentException($"{nameof(outputView)}: has {outputView.Channels} channels, expected {inputView.Channels}.", nameof(outputView));
    }

    static void Run<TRule>(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, TRule rows, TRule columns, VectorWidth width)
        where TRule : struct, INearestRule
    {
        inputView.Validate(input.Length, nameof(input));
        outputView.Validate(output.Length, nameof(output));
        ViewChecks.RequireDisjoint(input, output, nameof(output));
        if (outputView.RequiredLength == 0) return;
        switch (width)
        {
            case VectorWidth.Scalar: Reference(input, inputView, output, outputView, rows, columns); break;
            case VectorWidth.V128: Body<V128, Vector128<float>, TRule>(input, inputView, output, outputView, rows, columns); break;
            case VectorWidth.V256: Body<V256, Vector256<float>, TRule>(input, inputView, output, outputView, rows, columns); break;
            case VectorWidth.V512: Body<V512, Vector512<float>, TRule>(input, inputView, output, outputView, rows, columns); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    static void Body<TOps, TVec, TRule>(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, TRule rows, TRule columns)
        where TOps : struct, IVec<TVec> where TVec : struct where TRule : struct, INearestRule
    {
        ref float source = ref MemoryMarshal.GetReference(input);
        ref float destination = ref MemoryMarshal.GetReference(output);
        int channels = outputView.Channels, inStride = inputView.PixelStride, outStride = outputView.PixelStride;
        int previousSourceRow = -1;
        for (int y = 0; y < outputView.Height; y++)
        {
            int sourceRow = rows.Source(y);
            ref float outRow = ref Unsafe.Add(ref destination, outputView.Offset(y, 0));
            if (sourceRow == previousSourceRow)
            {
                // Same input row as the output row above: copy that one (one block when the output is dense).
                PixelCopy.Run<TOps, TVec>(ref Unsafe.Add(ref destination, outputView.Offset(y - 1, 0)), outStride, ref outRow, outStride, outputView.Width, channels);
                continue;
            }
            ref float inRow = ref Unsafe.Add(ref source, inputView.Offset(sourceRow, 0));
            for (int x = 0; x < outputView.Width; x++)
                PixelCopy.Channels<TOps, TVec>(ref Unsafe.Add(ref inRow, (nint)columns.Source(x) * inStride), ref Unsafe.Add(ref outRow, (nint)x * outStride), channels);
            previousSourceRow = sourceRow;
        }
    }
}
