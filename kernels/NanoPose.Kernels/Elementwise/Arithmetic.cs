using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Elementwise;

/// <summary>
/// Elementwise arithmetic on NHWC views. The output may be exactly one of the inputs (same span, same view: in place);
/// any other overlap is undefined. Dense views (pixel stride = channels) run as one long row; pixel-strided views
/// (channel slices, as in Lite-HRNet's split halves) pixel by pixel. One multiply or add per output, so every width is
/// bit-identical to the reference. Not TensorPrimitives: past 256 KB it stores non-temporally, which sends a
/// 64×48×40 map (480 KB) to DRAM just before the next layer reads it.
/// </summary>
public static class Arithmetic
{
    /// <summary>output = a + b (HRNet fuse sums, IterativeHead skip adds).</summary>
    public static void Add(ReadOnlySpan<float> a, Nhwc aView, ReadOnlySpan<float> b, Nhwc bView, Span<float> output, Nhwc outputView, VectorWidth width) =>
        Run<AddOp>(a, aView, b, bView, output, outputView, width);

    /// <summary>output = a · b.</summary>
    public static void Multiply(ReadOnlySpan<float> a, Nhwc aView, ReadOnlySpan<float> b, Nhwc bView, Span<float> output, Nhwc outputView, VectorWidth width) =>
        Run<MultiplyOp>(a, aView, b, bView, output, outputView, width);

    /// <summary>output[y, x, c] = input[y, x, c] · scale[c] (squeeze-excite, Lite-HRNet spatial weighting).</summary>
    public static void ScaleChannels(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> scale, Span<float> output, Nhwc outputView, VectorWidth width)
    {
        inputView.Validate(input.Length, nameof(input));
        outputView.Validate(output.Length, nameof(output));
        ViewChecks.RequireSameShape(inputView, outputView, nameof(outputView));
        if (scale.Length < inputView.Channels)
            throw new ArgumentException($"{nameof(scale)}: has {scale.Length} floats, expected {inputView.Channels} (one per channel).", nameof(scale));
        if (outputView.RequiredLength == 0) return;
        switch (width)
        {
            case VectorWidth.Scalar: ScaleChannelsReference(input, inputView, scale, output, outputView); break;
            case VectorWidth.V128: ScaleChannelsBody<V128, Vector128<float>>(input, inputView, scale, output, outputView); break;
            case VectorWidth.V256: ScaleChannelsBody<V256, Vector256<float>>(input, inputView, scale, output, outputView); break;
            case VectorWidth.V512: ScaleChannelsBody<V512, Vector512<float>>(input, inputView, scale, output, outputView); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    /// <summary>
    /// output[y, x, c] = input[y, x, c] · weights[sy, sx, c], where (sy, sx) is PyTorch's legacy nearest source of
    /// (y, x) for an explicit size: <c>x * F.interpolate(w, size=x.shape[-2:], mode='nearest')</c> without the upsampled
    /// intermediate (Lite-HRNet cross-resolution weighting, e.g. 8×6 weights on a 64×48 branch).
    /// </summary>
    public static void MultiplyByNearestUpsampled(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> weights, Nhwc weightsView,
        Span<float> output, Nhwc outputView, VectorWidth width) =>
        WithNearestUpsampled<MultiplyOp>(input, inputView, weights, weightsView, output, outputView, width);

    /// <summary>
    /// output = input + <c>nn.Upsample(scale_factor=f, mode='nearest')(low)</c> for the integer f = input size / low size
    /// (an HRNet fuse term) without the upsampled intermediate; output may be input. <see cref="UpsampledSum"/> with one term.
    /// </summary>
    public static void AddNearestUpsampled(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> low, Nhwc lowView,
        Span<float> output, Nhwc outputView, VectorWidth width) =>
        UpsampledSum.Run(input, inputView, new UpsampledTerms(low, lowView), output, outputView, width);

    static void WithNearestUpsampled<TOp>(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> weights, Nhwc weightsView,
        Span<float> output, Nhwc outputView, VectorWidth width)
        where TOp : struct, IBinaryOp
    {
        inputView.Validate(input.Length, nameof(input));
        weightsView.Validate(weights.Length, nameof(weights));
        outputView.Validate(output.Length, nameof(output));
        ViewChecks.RequireSameShape(inputView, outputView, nameof(outputView));
        if (weightsView.Channels != inputView.Channels || weightsView.Height < 1 || weightsView.Width < 1)
            throw new ArgumentException($"{nameof(weightsView)}: is {weightsView}, expected at least 1x1 with {inputView.Channels} channels.", nameof(weightsView));
        if (outputView.RequiredLength == 0) return;
        switch (width)
        {
            case VectorWidth.Scalar: UpsampledReference<TOp>(input, inputView, weights, weightsView, output, outputView); break;
            case VectorWidth.V128: UpsampledBody<V128, Vector128<float>, TOp>(input, inputView, weights, weightsView, output, outputView); break;
            case VectorWidth.V256: UpsampledBody<V256, Vector256<float>, TOp>(input, inputView, weights, weightsView, output, outputView); break;
            case VectorWidth.V512: UpsampledBody<V512, Vector512<float>, TOp>(input, inputView, weights, weightsView, output, outputView); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    public static void AddReference(ReadOnlySpan<float> a, Nhwc aView, ReadOnlySpan<float> b, Nhwc bView, Span<float> output, Nhwc outputView) =>
        Reference<AddOp>(a, aView, b, bView, output, outputView);

    public static void MultiplyReference(ReadOnlySpan<float> a, Nhwc aView, ReadOnlySpan<float> b, Nhwc bView, Span<float> output, Nhwc outputView) =>
        Reference<MultiplyOp>(a, aView, b, bView, output, outputView);

    public static void ScaleChannelsReference(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> scale, Span<float> output, Nhwc outputView)
    {
        for (int y = 0; y < inputView.Height; y++)
            for (int x = 0; x < inputView.Width; x++)
                for (int c = 0; c < inputView.Channels; c++)
                    output[outputView.Offset(y, x) + c] = input[inputView.Offset(y, x) + c] * scale[c];
    }

    public static void MultiplyByNearestUpsampledReference(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> weights, Nhwc weightsView,
        Span<float> output, Nhwc outputView) =>
        UpsampledReference<MultiplyOp>(input, inputView, weights, weightsView, output, outputView);

    static void UpsampledReference<TOp>(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> weights, Nhwc weightsView,
        Span<float> output, Nhwc outputView)
        where TOp : struct, IBinaryOp
    {
        var rows = new LegacyNearestRule(weightsView.Height, inputView.Height);
        var columns = new LegacyNearestRule(weightsView.Width, inputView.Width);
        for (int y = 0; y < inputView.Height; y++)
            for (int x = 0; x < inputView.Width; x++)
                for (int c = 0; c < inputView.Channels; c++)
                    output[outputView.Offset(y, x) + c] = TOp.Apply(input[inputView.Offset(y, x) + c], weights[weightsView.Offset(rows.Source(y), columns.Source(x)) + c]);
    }

    static void Reference<TOp>(ReadOnlySpan<float> a, Nhwc aView, ReadOnlySpan<float> b, Nhwc bView, Span<float> output, Nhwc outputView)
        where TOp : struct, IBinaryOp
    {
        for (int y = 0; y < aView.Height; y++)
            for (int x = 0; x < aView.Width; x++)
                for (int c = 0; c < aView.Channels; c++)
                    output[outputView.Offset(y, x) + c] = TOp.Apply(a[aView.Offset(y, x) + c], b[bView.Offset(y, x) + c]);
    }

    static void Run<TOp>(ReadOnlySpan<float> a, Nhwc aView, ReadOnlySpan<float> b, Nhwc bView, Span<float> output, Nhwc outputView, VectorWidth width)
        where TOp : struct, IBinaryOp
    {
        aView.Validate(a.Length, nameof(a));
        bView.Validate(b.Length, nameof(b));
        outputView.Validate(output.Length, nameof(output));
        ViewChecks.RequireSameShape(aView, bView, nameof(bView));
        ViewChecks.RequireSameShape(aView, outputView, nameof(outputView));
        int length = outputView.RequiredLength;
        if (length == 0) return;
        if (IsDense(aView) && IsDense(bView) && IsDense(outputView))
            aView = bView = outputView = new Nhwc(1, 1, length);   // one row: no channel tail per pixel
        switch (width)
        {
            case VectorWidth.Scalar: Reference<TOp>(a, aView, b, bView, output, outputView); break;
            case VectorWidth.V128: BinaryBody<V128, Vector128<float>, TOp>(a, aView, b, bView.PixelStride, output, outputView); break;
            case VectorWidth.V256: BinaryBody<V256, Vector256<float>, TOp>(a, aView, b, bView.PixelStride, output, outputView); break;
            case VectorWidth.V512: BinaryBody<V512, Vector512<float>, TOp>(a, aView, b, bView.PixelStride, output, outputView); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    static bool IsDense(Nhwc view) => view.PixelStride == view.Channels;

    static void BinaryBody<TOps, TVec, TOp>(ReadOnlySpan<float> a, Nhwc aView, ReadOnlySpan<float> b, int bStride, Span<float> output, Nhwc outputView)
        where TOps : struct, IVec<TVec> where TVec : struct where TOp : struct, IBinaryOp =>
        PixelLoops.Binary<TOps, TVec, TOp>(ref MemoryMarshal.GetReference(a), aView.PixelStride, ref MemoryMarshal.GetReference(b), bStride,
            ref MemoryMarshal.GetReference(output), outputView.PixelStride, outputView.Pixels, outputView.Channels);

    static void ScaleChannelsBody<TOps, TVec>(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> scale, Span<float> output, Nhwc outputView)
        where TOps : struct, IVec<TVec> where TVec : struct =>
        BinaryBody<TOps, TVec, MultiplyOp>(input, inputView, scale, 0, output, outputView);

    static void UpsampledBody<TOps, TVec, TOp>(ReadOnlySpan<float> input, Nhwc inputView, ReadOnlySpan<float> weights, Nhwc weightsView,
        Span<float> output, Nhwc outputView)
        where TOps : struct, IVec<TVec> where TVec : struct where TOp : struct, IBinaryOp
    {
        ref float source = ref MemoryMarshal.GetReference(input);
        ref float weight = ref MemoryMarshal.GetReference(weights);
        ref float destination = ref MemoryMarshal.GetReference(output);
        var rows = new LegacyNearestRule(weightsView.Height, inputView.Height);
        var columns = new LegacyNearestRule(weightsView.Width, inputView.Width);
        int width = inputView.Width;
        for (int y = 0; y < inputView.Height; y++)
        {
            int weightRow = rows.Source(y);
            for (int x = 0; x < width;)
            {
                // A run of output columns that share one weight pixel: a per-channel operand over the run.
                int weightColumn = columns.Source(x), end = x + 1;
                while (end < width && columns.Source(end) == weightColumn) end++;
                PixelLoops.Binary<TOps, TVec, TOp>(
                    ref Unsafe.Add(ref source, inputView.Offset(y, x)), inputView.PixelStride,
                    ref Unsafe.Add(ref weight, weightsView.Offset(weightRow, weightColumn)), 0,
                    ref Unsafe.Add(ref destination, outputView.Offset(y, x)), outputView.PixelStride, end - x, inputView.Channels);
                x = end;
            }
        }
    }
}
