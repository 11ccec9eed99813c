using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// 1×1 convolution as a GEMM over pixels: out[P, Cout] = in[P, Cin] · W + epilogue, the most common op of both
/// networks. Weights are packed with <see cref="Conv2d.PackWeights"/> and <see cref="ConvGeometry.Pointwise"/>
/// (a <c>[Cin][Cout]</c> panel run by <see cref="PointwiseCore"/> when a group's outputs fill a vector).
/// Works on any pixel range, so threads can split even an 8×6 map evenly.
/// </summary>
public static class Pointwise
{
    public static void Run(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue) =>
        RunPixels(width, input, inputShape, packedWeights, output, outputShape, epilogue, 0, outputShape.Pixels);

    /// <summary>Computes output pixels [<paramref name="pixelStart"/>, <paramref name="pixelEnd"/>) in row-major order only.</summary>
    public static void RunPixels(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int pixelStart, int pixelEnd)
    {
        var geometry = ConvGeometry.Pointwise();
        ConvArguments.Convolution(input.Length, inputShape, packedWeights.Length,
            Conv2d.PackedWeightsLength(width, outputShape.Channels, inputShape.Channels, geometry), geometry,
            output.Length, outputShape, epilogue, 0, outputShape.Height);
        if (pixelStart < 0 || pixelEnd > outputShape.Pixels || pixelStart > pixelEnd)
            throw new ArgumentException(
                $"pixels: expected 0 <= pixelStart <= pixelEnd <= {outputShape.Pixels}, found [{pixelStart}, {pixelEnd}).", nameof(pixelStart));
        RunFlat(width, input, inputShape, packedWeights, 1, output, outputShape, epilogue, pixelStart, pixelEnd);
    }

    /// <summary>Views pixels [start, end) of each tensor as a single row and runs the convolution on it.</summary>
    internal static void RunFlat(
        VectorWidth width, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, int groups,
        Span<float> output, Nhwc outputShape, in Epilogue epilogue, int pixelStart, int pixelEnd)
    {
        if (pixelStart == pixelEnd) return;
        int count = pixelEnd - pixelStart;
        var flatInput = new Nhwc(1, count, inputShape.Channels, inputShape.PixelStride);
        var flatOutput = new Nhwc(1, count, outputShape.Channels, outputShape.PixelStride);
        var flatEpilogue = epilogue with
        {
            Residual = epilogue.Residual.IsEmpty ? default : epilogue.Residual[(pixelStart * epilogue.ResidualPixelStride)..],
        };
        var geometry = ConvGeometry.Pointwise(groups);
        var inputSlice = input[(pixelStart * inputShape.PixelStride)..];
        var outputSlice = output[(pixelStart * outputShape.PixelStride)..];
        if (width == VectorWidth.Scalar)
            ConvReference.Conv2d(inputSlice, flatInput, packedWeights, geometry, outputSlice, flatOutput, flatEpilogue, 0, 1);
        else
            Conv2d.RunGroups(width, inputSlice, flatInput, packedWeights, geometry, outputSlice, flatOutput, flatEpilogue, 0, 1);
    }
}
