using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// Channel-blocked depthwise 3×3, stride 1, padding 1, plus bias, with the block = one vector: NCHWc8 for
/// Vector256, NCHWc16 for Vector512. Activations are [⌈C/B⌉][H][W][B], weights [⌈C/B⌉][9][B], bias [⌈C/B⌉·B]
/// (see <see cref="ChannelBlocks"/>; padded channels are zero and cost full lanes: 20 channels use 24 or 32).
/// Every pixel is one vector, so any width works with no scalar tail. Borders are handled by clipping taps,
/// never by copying: rows at the top and bottom skip a kernel row, the first and last pixel of a row skip a
/// kernel column. Interior pixels go 4 at a time, each input vector loaded once and used by up to 3 outputs.
/// </summary>
public static class NchwcDepthwise3x3
{
    public static void Run<TOps, TVec>(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, int channels, int height, int width)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int n = TOps.Count;
        Guard.Positive(channels, nameof(channels));
        Guard.Positive(height, nameof(height));
        Guard.Positive(width, nameof(width));
        int blocks = ChannelBlocks.BlockCount(channels, n);
        int blockLength = height * width * n;
        Guard.Length(input, blocks * blockLength, nameof(input));
        Guard.Length(weights, blocks * 9 * n, nameof(weights));
        Guard.Length(bias, blocks * n, nameof(bias));
        Guard.Length(output, blocks * blockLength, nameof(output));

        ref float inRef = ref MemoryMarshal.GetReference(input);
        ref float wRef = ref MemoryMarshal.GetReference(weights);
        ref float outRef = ref MemoryMarshal.GetReference(output);
        for (int b = 0; b < blocks; b++)
        {
            ref float src = ref Unsafe.Add(ref inRef, (nint)b * blockLength);
            ref float dst = ref Unsafe.Add(ref outRef, (nint)b * blockLength);
            ref float w = ref Unsafe.Add(ref wRef, (nint)b * 9 * n);
            TVec bv = TOps.Load(ref Unsafe.Add(ref MemoryMarshal.GetReference(bias), (nint)b * n));
            for (int y = 0; y < height; y++)
            {
                // Kernel rows [ky0, ky1) fall inside the image.
                int ky0 = y == 0 ? 1 : 0, ky1 = y == height - 1 ? 2 : 3;
                ref float outRow = ref Unsafe.Add(ref dst, (nint)y * width * n);
                Pixel<TOps, TVec>(ref src, ref w, bv, ref outRow, width, y, 0, ky0, ky1);
                int x = 1;
                for (; x + 4 < width; x += 4)
                    Interior4<TOps, TVec>(ref src, ref w, bv, ref outRow, width, y, x, ky0, ky1);
                for (; x < width; x++)
                    Pixel<TOps, TVec>(ref src, ref w, bv, ref outRow, width, y, x, ky0, ky1);
            }
        }
    }

    /// <summary>One output pixel with the kernel clipped to the image.</summary>
    static void Pixel<TOps, TVec>(ref float block, ref float w, TVec bias, ref float outRow, int width, int y, int x, int ky0, int ky1)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        nint n = TOps.Count;
        int kx0 = x == 0 ? 1 : 0, kx1 = x == width - 1 ? 2 : 3;
        TVec acc = bias;
        for (int ky = ky0; ky < ky1; ky++)
        {
            for (int kx = kx0; kx < kx1; kx++)
                acc = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref w, (ky * 3 + kx) * n)),
                    TOps.Load(ref Unsafe.Add(ref block, ((nint)(y + ky - 1) * width + x + kx - 1) * n)), acc);
        }
        TOps.Store(acc, ref Unsafe.Add(ref outRow, x * n));
    }

    /// <summary>Output pixels x..x+3, all with both horizontal neighbours inside the row.</summary>
    static void Interior4<TOps, TVec>(ref float block, ref float w, TVec bias, ref float outRow, int width, int y, int x, int ky0, int ky1)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        nint n = TOps.Count;
        TVec a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int ky = ky0; ky < ky1; ky++)
        {
            ref float row = ref Unsafe.Add(ref block, ((nint)(y + ky - 1) * width + x - 1) * n);
            ref float k = ref Unsafe.Add(ref w, ky * 3 * n);
            TVec v0 = TOps.Load(ref row), v1 = TOps.Load(ref Unsafe.Add(ref row, n)), v2 = TOps.Load(ref Unsafe.Add(ref row, 2 * n));
            TVec v3 = TOps.Load(ref Unsafe.Add(ref row, 3 * n)), v4 = TOps.Load(ref Unsafe.Add(ref row, 4 * n)), v5 = TOps.Load(ref Unsafe.Add(ref row, 5 * n));
            TVec k0 = TOps.Load(ref k), k1 = TOps.Load(ref Unsafe.Add(ref k, n)), k2 = TOps.Load(ref Unsafe.Add(ref k, 2 * n));
            a0 = TOps.MultiplyAdd(k0, v0, a0); a1 = TOps.MultiplyAdd(k0, v1, a1); a2 = TOps.MultiplyAdd(k0, v2, a2); a3 = TOps.MultiplyAdd(k0, v3, a3);
            a0 = TOps.MultiplyAdd(k1, v1, a0); a1 = TOps.MultiplyAdd(k1, v2, a1); a2 = TOps.MultiplyAdd(k1, v3, a2); a3 = TOps.MultiplyAdd(k1, v4, a3);
            a0 = TOps.MultiplyAdd(k2, v2, a0); a1 = TOps.MultiplyAdd(k2, v3, a1); a2 = TOps.MultiplyAdd(k2, v4, a2); a3 = TOps.MultiplyAdd(k2, v5, a3);
        }
        ref float d = ref Unsafe.Add(ref outRow, x * n);
        TOps.Store(a0, ref d);
        TOps.Store(a1, ref Unsafe.Add(ref d, n));
        TOps.Store(a2, ref Unsafe.Add(ref d, 2 * n));
        TOps.Store(a3, ref Unsafe.Add(ref d, 3 * n));
    }
}
