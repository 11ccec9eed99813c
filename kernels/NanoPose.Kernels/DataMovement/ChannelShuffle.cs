using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.DataMovement;

/// <summary>
/// ShuffleNet's channel shuffle with 2 groups, as PyTorch/mmpose <c>channel_shuffle(x, 2)</c> (view (2, C/2),
/// transpose, flatten): output channel j = input channel (j % 2)·(C/2) + j / 2, i.e. the two halves interleaved.
/// Lite-HRNet always shuffles right after concatenating two halves, so <see cref="ConcatShuffle2"/> does both in one pass.
/// Not in place: output must not overlap the inputs.
/// </summary>
public static class ChannelShuffle
{
    /// <summary>channel_shuffle(input, 2); the channel count must be even.</summary>
    public static void Shuffle2(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView, VectorWidth width)
    {
        inputView.Validate(input.Length, nameof(input));
        if (inputView.Channels % 2 != 0)
            throw new ArgumentException($"{nameof(inputView)}: channel shuffle with 2 groups needs an even channel count, found {inputView.Channels}.", nameof(inputView));
        var half = inputView with { Channels = inputView.Channels / 2 };
        ConcatShuffle2(input, half, inputView.Pixels == 0 ? input : input[half.Channels..], half, output, outputView, width);
    }

    /// <summary>channel_shuffle(cat([first, second]), 2) without the intermediate: output channel 2k = first[k],
    /// 2k + 1 = second[k]. Both inputs have the same shape; the output has twice their channels. With
    /// <paramref name="secondScale"/> (one factor per channel), 2k + 1 = second[k] · secondScale[k]: Lite-HRNet's
    /// spatial weighting of the second half, done in the same pass.</summary>
    public static void ConcatShuffle2(ReadOnlySpan<float> first, Nhwc firstView, ReadOnlySpan<float> second, Nhwc secondView,
        Span<float> output, Nhwc outputView, VectorWidth width, ReadOnlySpan<float> secondScale = default)
    {
        firstView.Validate(first.Length, nameof(first));
        secondView.Validate(second.Length, nameof(second));
        outputView.Validate(output.Length, nameof(output));
        ViewChecks.RequireSameShape(firstView, secondView, nameof(secondView));
        ViewChecks.RequireSameShape(firstView with { Channels = 2 * firstView.Channels }, outputView, nameof(outputView));
        ViewChecks.RequireDisjoint(first, output, nameof(output));
        ViewChecks.RequireDisjoint(second, output, nameof(output));
        if (!secondScale.IsEmpty && secondScale.Length != secondView.Channels)
            throw new ArgumentException($"{nameof(secondScale)}: expected {secondView.Channels} floats (one per channel), found {secondScale.Length}.", nameof(secondScale));
        if (outputView.RequiredLength == 0) return;
        switch (width)
        {
            case VectorWidth.Scalar: ConcatShuffle2Reference(first, firstView, second, secondView, output, outputView, secondScale); break;
            case VectorWidth.V128: Body<V128, Vector128<float>>(first, firstView, second, secondView, output, outputView, secondScale); break;
            // V512 runs the 256-bit body: 512-bit stores of a 20- or 40-channel pixel straddle cache lines and the
            // 512-bit zip is no cheaper per float (1.3–1.6× slower on Lite-HRNet's shapes on Zen 5, kernels/KERNELS.md).
            case VectorWidth.V256 or VectorWidth.V512: Body<V256, Vector256<float>>(first, firstView, second, secondView, output, outputView, secondScale); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    /// <summary>The PyTorch definition, one float at a time.</summary>
    public static void Shuffle2Reference(ReadOnlySpan<float> input, Nhwc inputView, Span<float> output, Nhwc outputView)
    {
        const int groups = 2;
        int perGroup = inputView.Channels / groups;
        for (int y = 0; y < inputView.Height; y++)
            for (int x = 0; x < inputView.Width; x++)
                for (int j = 0; j < inputView.Channels; j++)
                    output[outputView.Offset(y, x) + j] = input[inputView.Offset(y, x) + (j % groups) * perGroup + j / groups];
    }

    /// <summary>The definition of the fused op: shuffle of the virtual concat [first, second].</summary>
    public static void ConcatShuffle2Reference(ReadOnlySpan<float> first, Nhwc firstView, ReadOnlySpan<float> second, Nhwc secondView,
        Span<float> output, Nhwc outputView, ReadOnlySpan<float> secondScale = default)
    {
        int half = firstView.Channels;
        for (int y = 0; y < outputView.Height; y++)
            for (int x = 0; x < outputView.Width; x++)
                for (int j = 0; j < outputView.Channels; j++)
                {
                    int source = (j % 2) * half + j / 2;
                    output[outputView.Offset(y, x) + j] = source < half
                        ? first[firstView.Offset(y, x) + source]
                        : second[secondView.Offset(y, x) + source - half] * (secondScale.IsEmpty ? 1f : secondScale[source - half]);
                }
    }

    static void Body<TOps, TVec>(ReadOnlySpan<float> first, Nhwc firstView, ReadOnlySpan<float> second, Nhwc secondView,
        Span<float> output, Nhwc outputView, ReadOnlySpan<float> secondScale)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        bool scaled = !secondScale.IsEmpty;
        ref float scale = ref MemoryMarshal.GetReference(secondScale);
        ref float a = ref MemoryMarshal.GetReference(first);
        ref float b = ref MemoryMarshal.GetReference(second);
        ref float o = ref MemoryMarshal.GetReference(output);
        int half = firstView.Channels, lanes = TOps.Count;
        for (int p = 0; p < outputView.Pixels; p++)
        {
            ref float pa = ref Unsafe.Add(ref a, (nint)p * firstView.PixelStride);
            ref float pb = ref Unsafe.Add(ref b, (nint)p * secondView.PixelStride);
            ref float po = ref Unsafe.Add(ref o, (nint)p * outputView.PixelStride);
            if (half < lanes)
            {
                for (int k = 0; k < half; k++)
                {
                    Unsafe.Add(ref po, 2 * k) = Unsafe.Add(ref pa, k);
                    Unsafe.Add(ref po, 2 * k + 1) = scaled ? Unsafe.Add(ref pb, k) * Unsafe.Add(ref scale, k) : Unsafe.Add(ref pb, k);
                }
                continue;
            }
            // Whole vectors of each half, then one overlapping the previous for the tail (rewrites equal values).
            int last = half - lanes;
            for (int k = 0; ; k += lanes)
            {
                k = Math.Min(k, last);
                TVec secondLanes = TOps.Load(ref Unsafe.Add(ref pb, k));
                if (scaled) secondLanes = TOps.Multiply(secondLanes, TOps.Load(ref Unsafe.Add(ref scale, k)));
                Interleave.Zip(TOps.Load(ref Unsafe.Add(ref pa, k)), secondLanes, out TVec lo, out TVec hi);
                TOps.Store(lo, ref Unsafe.Add(ref po, 2 * k));
                TOps.Store(hi, ref Unsafe.Add(ref po, 2 * k + lanes));
                if (k == last) break;
            }
        }
    }
}
