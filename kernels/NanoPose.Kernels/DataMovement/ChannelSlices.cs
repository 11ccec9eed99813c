using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.DataMovement;

/// <summary>
/// Split (<c>torch.chunk</c>/<c>split</c> on channels) and concat (<c>torch.cat</c> on channels) as copies.
/// <para>
/// In NHWC these usually need no copy at all: channels [s, s+n) of a view (H, W, C, stride) are the view
/// (H, W, n, stride) starting at float s, so a producer can write straight into its slice of a concat output and a
/// consumer can read its slice of a split input. Copy only when a consumer needs a dense tensor or the two tensors
/// must live in different buffers.
/// </para>
/// </summary>
public static class ChannelSlices
{
    /// <summary>output[y, x, c] = input[y, x, c]: same height, width and channels; pixel strides may differ. The
    /// general view-to-view copy that split and concat are made of. Buffers must not overlap.</summary>
    public static void Copy(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, VectorWidth width)
    {
        inputView.Validate(input.Length, nameof(input));
        outputView.Validate(output.Length, nameof(output));
        ViewChecks.RequireSameShape(inputView, outputView, nameof(outputView));
        ViewChecks.RequireDisjoint(input, output, nameof(output));
        if (inputView.RequiredLength == 0) return;
        ref float source = ref MemoryMarshal.GetReference(input);
        ref float destination = ref MemoryMarshal.GetReference(output);
        int pixels = inputView.Pixels, channels = inputView.Channels;
        switch (width)
        {
            case VectorWidth.Scalar: CopyReference(input, inputView, output, outputView); break;
            case VectorWidth.V128: PixelCopy.Run<V128, Vector128<float>>(ref source, inputView.PixelStride, ref destination, outputView.PixelStride, pixels, channels); break;
            case VectorWidth.V256: PixelCopy.Run<V256, Vector256<float>>(ref source, inputView.PixelStride, ref destination, outputView.PixelStride, pixels, channels); break;
            case VectorWidth.V512: PixelCopy.Run<V512, Vector512<float>>(ref source, inputView.PixelStride, ref destination, outputView.PixelStride, pixels, channels); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    /// <summary>Split: output[y, x, c] = input[y, x, channelStart + c] for c &lt; output channels.</summary>
    public static void Split(ReadOnlySpan<float> input, Nhwc inputView, int channelStart, Span<float> output, Nhwc outputView, VectorWidth width)
    {
        inputView.Validate(input.Length, nameof(input));
        RequireSlice(inputView, channelStart, outputView.Channels, nameof(channelStart));
        if (inputView.Pixels == 0) return;
        Copy(input[channelStart..], inputView with { Channels = outputView.Channels }, output, outputView, width);
    }

    /// <summary>One input of a concat: output[y, x, channelStart + c] = input[y, x, c]. A concat of n tensors is n
    /// calls with increasing <paramref name="channelStart"/>.</summary>
    public static void CopyInto(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, int channelStart, VectorWidth width)
    {
        outputView.Validate(output.Length, nameof(output));
        RequireSlice(outputView, channelStart, inputView.Channels, nameof(channelStart));
        if (outputView.Pixels == 0) return;
        Copy(input, inputView, output[channelStart..], outputView with { Channels = inputView.Channels }, width);
    }

    /// <summary>Concat of two tensors on channels: output = [first, second].</summary>
    public static void Concat(ReadOnlySpan<float> first, Nhwc firstView, ReadOnlySpan<float> second, Nhwc secondView,
        Span<float> output, Nhwc outputView, VectorWidth width)
    {
        if (outputView.Channels != firstView.Channels + secondView.Channels)
            throw new ArgumentException(
                $"{nameof(outputView)}: has {outputView.Channels} channels, expected {firstView.Channels} + {secondView.Channels}.", nameof(outputView));
        CopyInto(first, firstView, output, outputView, 0, width);
        CopyInto(second, secondView, output, outputView, firstView.Channels, width);
    }

    /// <summary>The definition, one float at a time.</summary>
    public static void CopyReference(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView)
    {
        for (int y = 0; y < inputView.Height; y++)
            for (int x = 0; x < inputView.Width; x++)
                for (int c = 0; c < inputView.Channels; c++)
                    output[outputView.Offset(y, x) + c] = input[inputView.Offset(y, x) + c];
    }

    static void RequireSlice(Nhwc whole, int channelStart, int channels, string name)
    {
        if (channelStart < 0 || channels < 0 || channelStart + channels > whole.Channels)
            throw new ArgumentException(
                $"{name}: channels [{channelStart}, {channelStart + channels}) do not fit in the {whole.Channels} channels of {whole}.", name);
    }
}
