using NanoPose.Kernels.Common;

namespace NanoPose.Kernels.Convolution;

/// <summary>Argument checks shared by the convolution entry points and their reference twins.</summary>
internal static class ConvArguments
{
    public static void Convolution(
        int inputLength, Nhwc inputShape, int weightsLength, int expectedWeightsLength, ConvGeometry geometry,
        int outputLength, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd)
    {
        inputShape.Validate(inputLength, "input");
        geometry.Validate(inputShape, outputShape.Channels, "geometry");
        int height = geometry.OutputHeight(inputShape.Height), width = geometry.OutputWidth(inputShape.Width);
        if (outputShape.Height != height || outputShape.Width != width)
            throw new ArgumentException(
                $"outputShape: expected {height}×{width} for input {inputShape.Height}×{inputShape.Width} and {geometry}, found {outputShape.Height}×{outputShape.Width}.",
                nameof(outputShape));
        Output(weightsLength, expectedWeightsLength, outputLength, outputShape, epilogue, rowStart, rowEnd);
    }

    public static void Output(
        int weightsLength, int expectedWeightsLength, int outputLength, Nhwc outputShape, in Epilogue epilogue,
        int rowStart, int rowEnd)
    {
        if (weightsLength != expectedWeightsLength)
            throw new ArgumentException($"weights: expected {expectedWeightsLength} floats, found {weightsLength}.", "weights");
        outputShape.Validate(outputLength, "output");
        if (!epilogue.Bias.IsEmpty && epilogue.Bias.Length != outputShape.Channels)
            throw new ArgumentException(
                $"epilogue: bias has {epilogue.Bias.Length} values, expected {outputShape.Channels} (or none).", nameof(epilogue));
        if (!epilogue.Residual.IsEmpty)
            (outputShape with { PixelStride = epilogue.ResidualPixelStride }).Validate(epilogue.Residual.Length, "epilogue.Residual");
        if (rowStart < 0 || rowEnd > outputShape.Height || rowStart > rowEnd)
            throw new ArgumentException(
                $"rows: expected 0 <= rowStart <= rowEnd <= {outputShape.Height}, found [{rowStart}, {rowEnd}).", nameof(rowStart));
    }

    public static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
