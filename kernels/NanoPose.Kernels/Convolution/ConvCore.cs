using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>Register tile of the microkernel: <see cref="Rows"/> output pixels × <see cref="Vectors"/> vectors of output channels.</summary>
internal interface ITile
{
    static abstract int Rows { get; }
    static abstract int Vectors { get; }
    /// <summary>A one-vector tile that also uses the second accumulator column, for odd input channels (see <see cref="Tile8x1Paired"/>).</summary>
    static virtual bool Paired => false;
}

internal readonly struct Tile8x2 : ITile { public static int Rows => 8; public static int Vectors => 2; }
internal readonly struct Tile6x2 : ITile { public static int Rows => 6; public static int Vectors => 2; }
internal readonly struct Tile8x1 : ITile { public static int Rows => 8; public static int Vectors => 1; }
/// <summary>
/// 8 pixels × 1 vector with two accumulators per pixel, one for even and one for odd input channels, summed at the
/// end. Eight chains alone leave two FMA pipes with 4-cycle latency no slack (3×3 14→14 ran at 47% of peak); sixteen
/// do. The sum is in another order than the reference's, so it is close to it, not identical.
/// </summary>
internal readonly struct Tile8x1Paired : ITile { public static int Rows => 8; public static int Vectors => 1; public static bool Paired => true; }
/// <summary>The accumulators <see cref="ColumnReuseCore"/> hands to <see cref="ConvCore.EmitTile"/>.</summary>
internal readonly struct Tile16x1 : ITile { public static int Rows => 16; public static int Vectors => 1; }
internal readonly struct Tile1x2 : ITile { public static int Rows => 1; public static int Vectors => 2; }
internal readonly struct Tile1x1 : ITile { public static int Rows => 1; public static int Vectors => 1; }

/// <summary>
/// One group of a convolution over strided planes: element (y, x, c) of a plane is at
/// <c>y·RowStride + x·PixelStride + c</c>. Plain NHWC views have RowStride = Width·PixelStride; a transposed-conv
/// parity class writes every second pixel of every second row.
/// </summary>
internal ref struct ConvPlane
{
    public ref float Input;
    public int InputHeight, InputWidth, InputRowStride, InputPixelStride, InputChannels;
    /// <summary>Packed as <see cref="ConvPacking"/> describes, this group only.</summary>
    public ref float Weights;
    public int KernelHeight, KernelWidth, StrideY, StrideX, PadTop, PadLeft;
    public ref float Output;
    public int OutputWidth, OutputRowStride, OutputPixelStride, OutputChannels;
    /// <summary>This group's bias, or empty.</summary>
    public ReadOnlySpan<float> Bias;
    /// <summary>A null ref when there is no residual.</summary>
    public ref float Residual;
    public int ResidualRowStride, ResidualPixelStride;
    public Activation Activation;
}

/// <summary>
/// The dense convolution engine behind <see cref="Conv2d"/>, <see cref="Deconv4x4Stride2"/> and the <see cref="Pointwise"/>
/// groups whose outputs fill less than one vector (the others run <see cref="PointwiseCore"/>):
/// per output row and block of NR output channels, tiles of MR pixels accumulate in registers over taps × input
/// channels (broadcast an input scalar, multiply-add a packed weight vector), starting from zero; the bias,
/// residual and activation are applied at the store (from memory, after the hot loop). Tiles of pixels whose
/// windows lie inside the input in x run without checks; a tile holding a border pixel checks each pixel's
/// column per tap and reads a zero row for the padding (above 1024 input channels border pixels run alone
/// over their valid taps). Rows outside the input are skipped per row. Measured on Zen 5 (V512, one thread):
/// 3×3 32→32 at 128×128 and 1×1 256→256 at 16×16 both near 190 GFLOP/s.
/// </summary>
internal static class ConvCore
{
    /// <summary>32 vector registers (AVX-512 also widens the file for V128/V256; arm64) hold an 8×2 tile; 16 hold 6×2.
    /// Rows 6·k pixels wide that are not 8·k wide (12×12 maps of EfficientHRNet H−4) also take 6×2 tiles: 8-pixel tiles
    /// would spend a third of a 12-pixel row's work on repeated pixels.</summary>
    static readonly bool WideRegisterFile = Avx512F.IsSupported || AdvSimd.Arm64.IsSupported;

    /// <summary>Output columns computed for all channel blocks before moving on; a multiple of every tile's rows.</summary>
    const int ColumnChunk = 96;

    /// <summary>Weights beyond this many floats (512 KB) no longer sit in L2 next to the input rows.</summary>
    const long L2Floats = 128 * 1024;

    /// <summary>What a guarded tile reads for a tap that falls in the zero padding (Cin floats at most).</summary>
    static readonly float[] ZeroRow = new float[1024];

    public static void Run(VectorWidth width, scoped ref ConvPlane plane, int rowStart, int rowEnd)
    {
        switch (width)
        {
            case VectorWidth.V128: Run<V128, Vector128<float>>(ref plane, rowStart, rowEnd); break;
            case VectorWidth.V256: Run<V256, Vector256<float>>(ref plane, rowStart, rowEnd); break;
            case VectorWidth.V512: Run<V512, Vector512<float>>(ref plane, rowStart, rowEnd); break;
            default: throw new ArgumentException($"width: expected a vector width, found {width}.", nameof(width));
        }
    }

    static void Run<TOps, TVec>(scoped ref ConvPlane plane, int rowStart, int rowEnd)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        if (ConvPacking.VectorsPerBlock(TOps.Count, plane.OutputChannels) == 1)
        {
            if (ColumnReuseCore.Applies(ref plane, TOps.Count, WideRegisterFile)) ColumnReuseCore.Run<TOps, TVec>(ref plane, rowStart, rowEnd);
            else if (WideRegisterFile) Rows<TOps, TVec, Tile8x1Paired, Tile1x1>(ref plane, rowStart, rowEnd);
            else Rows<TOps, TVec, Tile8x1, Tile1x1>(ref plane, rowStart, rowEnd);
        }
        else if (WideRegisterFile && (plane.OutputWidth % 8 == 0 || plane.OutputWidth % 6 != 0))
            Rows<TOps, TVec, Tile8x2, Tile1x2>(ref plane, rowStart, rowEnd);
        else
            Rows<TOps, TVec, Tile6x2, Tile1x2>(ref plane, rowStart, rowEnd);
    }

    static void Rows<TOps, TVec, TMain, TEdge>(scoped ref ConvPlane p, int rowStart, int rowEnd)
        where TOps : struct, IVec<TVec> where TVec : struct where TMain : ITile where TEdge : ITile
    {
        int nr = TOps.Count * TMain.Vectors;
        Span<float> bias = stackalloc float[2 * TOps.Count];
        Span<float> tile = stackalloc float[TMain.Rows * TMain.Vectors * TOps.Count];
        // Loop order by memory traffic: rows outside re-read all weights per strip of columns (fine while they
        // sit in L2); blocks outside re-read the input once per block (better for 3×3 256→256 at 16×16).
        long weights = (long)ConvArguments.CeilDiv(p.OutputChannels, nr) * p.KernelHeight * p.KernelWidth * p.InputChannels * nr;
        long input = (long)p.InputHeight * p.InputRowStride, blocks = ConvArguments.CeilDiv(p.OutputChannels, nr);
        long strips = (long)(rowEnd - rowStart) * ConvArguments.CeilDiv(p.OutputWidth, ColumnChunk);
        if (weights > L2Floats && weights + blocks * input < input + strips * weights)
        {
            for (int n0 = 0; n0 < p.OutputChannels; n0 += nr)
                for (int oy = rowStart; oy < rowEnd; oy++)
                    for (int x0 = 0; x0 < p.OutputWidth; x0 += ColumnChunk)
                        Strip<TOps, TVec, TMain, TEdge>(ref p, oy, x0, n0, bias, tile);
        }
        else
        {
            for (int oy = rowStart; oy < rowEnd; oy++)
                for (int x0 = 0; x0 < p.OutputWidth; x0 += ColumnChunk)
                    for (int n0 = 0; n0 < p.OutputChannels; n0 += nr)
                        Strip<TOps, TVec, TMain, TEdge>(ref p, oy, x0, n0, bias, tile);
        }
    }

    /// <summary>Output row <paramref name="oy"/>, one chunk of columns from <paramref name="chunkStart"/>, one block of channels from <paramref name="n0"/>.</summary>
    static void Strip<TOps, TVec, TMain, TEdge>(scoped ref ConvPlane p, int oy, int chunkStart, int n0, scoped Span<float> bias, scoped Span<float> tile)
        where TOps : struct, IVec<TVec> where TVec : struct where TMain : ITile where TEdge : ITile
    {
        int nr = TOps.Count * TMain.Vectors;
        int kw = p.KernelWidth, sx = p.StrideX, outWidth = p.OutputWidth;
        // Output columns whose whole window lies inside the input in x.
        int interiorStart = Math.Min(outWidth, ConvArguments.CeilDiv(p.PadLeft, sx));
        int lastWindow = p.InputWidth - kw + p.PadLeft;
        int interiorEnd = lastWindow < 0 ? interiorStart : Math.Clamp(lastWindow / sx + 1, interiorStart, outWidth);
        int chunkEnd = Math.Min(outWidth, chunkStart + ColumnChunk);
        bool hasResidual = !Unsafe.IsNullRef(ref p.Residual), zeroPadding = p.InputChannels <= ZeroRow.Length;

        int iy = oy * p.StrideY - p.PadTop;
        int ky0 = Math.Max(0, -iy), ky1 = Math.Min(p.KernelHeight, p.InputHeight - iy);
        ref float outputRow = ref Unsafe.Add(ref p.Output, (nint)oy * p.OutputRowStride + n0);
        ref float residualRow = ref hasResidual ? ref Unsafe.Add(ref p.Residual, (nint)oy * p.ResidualRowStride + n0) : ref p.Residual;
        int lanes = Math.Min(nr, p.OutputChannels - n0);
        bias.Clear();
        if (!p.Bias.IsEmpty) p.Bias.Slice(n0, lanes).CopyTo(bias);
        ref float biasRef = ref MemoryMarshal.GetReference(bias);
        ref float tileRef = ref MemoryMarshal.GetReference(tile);
        ref float weights = ref Unsafe.Add(ref p.Weights, (nint)(n0 / nr) * p.KernelHeight * kw * p.InputChannels * nr);

        for (int ox = chunkStart; ox < chunkEnd; )
        {
            ref float output = ref Unsafe.Add(ref outputRow, (nint)ox * p.OutputPixelStride);
            ref float residual = ref hasResidual ? ref Unsafe.Add(ref residualRow, (nint)ox * p.ResidualPixelStride) : ref residualRow;
            int ix = ox * sx - p.PadLeft;
            if (zeroPadding || (ox >= interiorStart && ox < interiorEnd))
            {
                // Full tiles; one with a pixel outside the interior reads its missing taps from zeros.
                int valid = Math.Min(TMain.Rows, (zeroPadding ? chunkEnd : Math.Min(interiorEnd, chunkEnd)) - ox);
                bool guarded = ox < interiorStart || ox + valid > interiorEnd;
                Tile<TOps, TVec, TMain>(ref p, ref weights, ref tileRef, valid, iy, ky0, ky1, ix, 0, kw, guarded);
                EmitTile<TOps, TVec, TMain>(ref p, ref tileRef, ref biasRef, ref output, ref residual, hasResidual, lanes, valid);
                ox += valid;
            }
            else
            {
                // Too many channels for the zero row: a border pixel alone, over its valid taps only.
                Tile<TOps, TVec, TEdge>(ref p, ref weights, ref tileRef, 1, iy, ky0, ky1, ix,
                    Math.Max(0, -ix), Math.Min(kw, p.InputWidth - ix), false);
                EmitTile<TOps, TVec, TEdge>(ref p, ref tileRef, ref biasRef, ref output, ref residual, hasResidual, lanes, 1);
                ox++;
            }
        }
    }

    /// <summary>
    /// Computes <paramref name="valid"/> ≤ Rows adjacent output pixels (rows past <paramref name="valid"/> repeat the
    /// last pixel and are not stored) for one block of output channels, over taps [ky0, ky1) × [kx0, kx1).
    /// A <paramref name="guarded"/> tile has pixels whose window leaves the input in x: each tap checks each
    /// pixel's column and reads <see cref="ZeroRow"/> outside.
    /// </summary>
    static void Tile<TOps, TVec, TTile>(
        scoped ref ConvPlane p, ref float weights, ref float accumulators,
        int valid, int iy, int ky0, int ky1, int ix, int kx0, int kx1, bool guarded)
        where TOps : struct, IVec<TVec> where TVec : struct where TTile : ITile
    {
        int cin = p.InputChannels, kw = p.KernelWidth;
        nint nr = TOps.Count * TTile.Vectors;
        nint rowStride = p.InputRowStride, pixelStride = p.InputPixelStride, step = p.StrideX * pixelStride;
        nint d1 = Math.Min(1, valid - 1) * step, d2 = Math.Min(2, valid - 1) * step, d3 = Math.Min(3, valid - 1) * step;
        nint d4 = Math.Min(4, valid - 1) * step, d5 = Math.Min(5, valid - 1) * step, d6 = Math.Min(6, valid - 1) * step;
        nint d7 = Math.Min(7, valid - 1) * step;

        // From zero: the bias is added at the store (EmitTile), after the products, as the reference does. A large bias
        // taken as the starting value absorbs the low bits of every small product (PicoDet's boxes: 3e-3 against 8e-4 px).
        TVec c00 = TOps.Zero, c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00, c60 = c00, c70 = c00;
        TVec c01 = c00, c11 = c00, c21 = c00, c31 = c00, c41 = c00, c51 = c00, c61 = c00, c71 = c00;

        // Runs of consecutive input floats against consecutive packed weights: one per tap, or, when pixels are
        // dense (PixelStride = Cin), one per kernel row covering its taps [kx0, kx1) at once (the stem's 3×3×3).
        bool dense = !guarded && pixelStride == cin;
        int inputWidth = p.InputWidth, sx = p.StrideX;
        ref float zero = ref MemoryMarshal.GetArrayDataReference(ZeroRow);
        int runsPerRow = dense ? 1 : Math.Max(0, kx1 - kx0), runLength = dense ? Math.Max(0, kx1 - kx0) * cin : cin;
        // One loop over all runs, not nested ones over ky and kx.
        int runs = Math.Max(0, ky1 - ky0) * runsPerRow;
        for (int run = 0, ky = ky0, kx = kx0; run < runs; run++)
        {
            ref float a0 = ref Unsafe.Add(ref p.Input, (iy + ky) * rowStride + (ix + kx) * pixelStride);
            ref float a1 = ref Unsafe.Add(ref a0, d1);
            ref float a2 = ref Unsafe.Add(ref a0, d2);
            ref float a3 = ref Unsafe.Add(ref a0, d3);
            ref float a4 = ref Unsafe.Add(ref a0, d4);
            ref float a5 = ref Unsafe.Add(ref a0, d5);
            ref float a6 = ref Unsafe.Add(ref a0, d6);
            ref float a7 = ref Unsafe.Add(ref a0, d7);
            if (guarded)
            {
                ref float row = ref Unsafe.Add(ref p.Input, (iy + ky) * rowStride);
                int x = ix + kx;
                a0 = ref Column(ref row, x, inputWidth, pixelStride, ref zero);
                a1 = ref Column(ref row, x + Math.Min(1, valid - 1) * sx, inputWidth, pixelStride, ref zero);
                a2 = ref Column(ref row, x + Math.Min(2, valid - 1) * sx, inputWidth, pixelStride, ref zero);
                a3 = ref Column(ref row, x + Math.Min(3, valid - 1) * sx, inputWidth, pixelStride, ref zero);
                a4 = ref Column(ref row, x + Math.Min(4, valid - 1) * sx, inputWidth, pixelStride, ref zero);
                a5 = ref Column(ref row, x + Math.Min(5, valid - 1) * sx, inputWidth, pixelStride, ref zero);
                a6 = ref Column(ref row, x + Math.Min(6, valid - 1) * sx, inputWidth, pixelStride, ref zero);
                a7 = ref Column(ref row, x + Math.Min(7, valid - 1) * sx, inputWidth, pixelStride, ref zero);
            }
            ref float w = ref Unsafe.Add(ref weights, (nint)((ky * kw + kx) * cin) * nr);
            int c = 0;
            if (TTile.Paired)
            {
                // Input channels two at a time: even ones into c·0, odd ones into c·1 (summed after the loop).
                for (; c + 1 < runLength; c += 2)
                {
                    TVec even = TOps.Load(ref w), odd = TOps.Load(ref Unsafe.Add(ref w, nr));
                    w = ref Unsafe.Add(ref w, 2 * nr);
                    c00 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a0, c)), even, c00);
                    c10 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a1, c)), even, c10);
                    c20 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a2, c)), even, c20);
                    c30 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a3, c)), even, c30);
                    c40 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a4, c)), even, c40);
                    c50 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a5, c)), even, c50);
                    c60 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a6, c)), even, c60);
                    c70 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a7, c)), even, c70);
                    c01 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a0, c + 1)), odd, c01);
                    c11 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a1, c + 1)), odd, c11);
                    c21 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a2, c + 1)), odd, c21);
                    c31 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a3, c + 1)), odd, c31);
                    c41 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a4, c + 1)), odd, c41);
                    c51 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a5, c + 1)), odd, c51);
                    c61 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a6, c + 1)), odd, c61);
                    c71 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a7, c + 1)), odd, c71);
                }
            }
            for (; c < runLength; c++)
            {
                TVec w0 = TOps.Load(ref w);
                TVec w1 = TTile.Vectors > 1 ? TOps.Load(ref Unsafe.Add(ref w, TOps.Count)) : TOps.Zero;
                w = ref Unsafe.Add(ref w, nr);
                TVec a = TOps.Splat(Unsafe.Add(ref a0, c));
                c00 = TOps.MultiplyAdd(a, w0, c00);
                if (TTile.Vectors > 1) c01 = TOps.MultiplyAdd(a, w1, c01);
                if (TTile.Rows > 1)
                {
                    a = TOps.Splat(Unsafe.Add(ref a1, c));
                    c10 = TOps.MultiplyAdd(a, w0, c10);
                    if (TTile.Vectors > 1) c11 = TOps.MultiplyAdd(a, w1, c11);
                    a = TOps.Splat(Unsafe.Add(ref a2, c));
                    c20 = TOps.MultiplyAdd(a, w0, c20);
                    if (TTile.Vectors > 1) c21 = TOps.MultiplyAdd(a, w1, c21);
                    a = TOps.Splat(Unsafe.Add(ref a3, c));
                    c30 = TOps.MultiplyAdd(a, w0, c30);
                    if (TTile.Vectors > 1) c31 = TOps.MultiplyAdd(a, w1, c31);
                    a = TOps.Splat(Unsafe.Add(ref a4, c));
                    c40 = TOps.MultiplyAdd(a, w0, c40);
                    if (TTile.Vectors > 1) c41 = TOps.MultiplyAdd(a, w1, c41);
                    a = TOps.Splat(Unsafe.Add(ref a5, c));
                    c50 = TOps.MultiplyAdd(a, w0, c50);
                    if (TTile.Vectors > 1) c51 = TOps.MultiplyAdd(a, w1, c51);
                }
                if (TTile.Rows > 6)
                {
                    a = TOps.Splat(Unsafe.Add(ref a6, c));
                    c60 = TOps.MultiplyAdd(a, w0, c60);
                    if (TTile.Vectors > 1) c61 = TOps.MultiplyAdd(a, w1, c61);
                    a = TOps.Splat(Unsafe.Add(ref a7, c));
                    c70 = TOps.MultiplyAdd(a, w0, c70);
                    if (TTile.Vectors > 1) c71 = TOps.MultiplyAdd(a, w1, c71);
                }
            }
            if (dense || ++kx == kx1)
            {
                kx = kx0;
                ky++;
            }
        }

        if (TTile.Paired)
        {
            c00 = TOps.Add(c00, c01); c10 = TOps.Add(c10, c11); c20 = TOps.Add(c20, c21); c30 = TOps.Add(c30, c31);
            c40 = TOps.Add(c40, c41); c50 = TOps.Add(c50, c51); c60 = TOps.Add(c60, c61); c70 = TOps.Add(c70, c71);
        }
        int count = TOps.Count, vectors = TTile.Vectors;
        ref float t = ref accumulators;
        TOps.Store(c00, ref t);
        if (TTile.Vectors > 1) TOps.Store(c01, ref Unsafe.Add(ref t, count));
        if (TTile.Rows > 1)
        {
            TOps.Store(c10, ref Unsafe.Add(ref t, (1 * vectors + 0) * count));
            TOps.Store(c20, ref Unsafe.Add(ref t, (2 * vectors + 0) * count));
            TOps.Store(c30, ref Unsafe.Add(ref t, (3 * vectors + 0) * count));
            TOps.Store(c40, ref Unsafe.Add(ref t, (4 * vectors + 0) * count));
            TOps.Store(c50, ref Unsafe.Add(ref t, (5 * vectors + 0) * count));
            if (TTile.Vectors > 1)
            {
                TOps.Store(c11, ref Unsafe.Add(ref t, (1 * vectors + 1) * count));
                TOps.Store(c21, ref Unsafe.Add(ref t, (2 * vectors + 1) * count));
                TOps.Store(c31, ref Unsafe.Add(ref t, (3 * vectors + 1) * count));
                TOps.Store(c41, ref Unsafe.Add(ref t, (4 * vectors + 1) * count));
                TOps.Store(c51, ref Unsafe.Add(ref t, (5 * vectors + 1) * count));
            }
        }
        if (TTile.Rows > 6)
        {
            TOps.Store(c60, ref Unsafe.Add(ref t, (6 * vectors + 0) * count));
            TOps.Store(c70, ref Unsafe.Add(ref t, (7 * vectors + 0) * count));
            if (TTile.Vectors > 1)
            {
                TOps.Store(c61, ref Unsafe.Add(ref t, (6 * vectors + 1) * count));
                TOps.Store(c71, ref Unsafe.Add(ref t, (7 * vectors + 1) * count));
            }
        }
    }

    /// <summary>Pixel <paramref name="x"/> of an input row, or the zero row when <paramref name="x"/> is in the padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ref float Column(ref float row, int x, int width, nint pixelStride, ref float zero) =>
        ref (uint)x < (uint)width ? ref Unsafe.Add(ref row, x * pixelStride) : ref zero;

    /// <summary>
    /// The epilogue of a tile, kept out of <see cref="Tile"/>: its calls (Exp, the channel tail) next to live
    /// accumulators would make the JIT spill them inside the hot loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void EmitTile<TOps, TVec, TTile>(
        scoped ref ConvPlane p, ref float accumulators, ref float bias, ref float output, ref float residual, bool hasResidual, int lanes, int valid)
        where TOps : struct, IVec<TVec> where TVec : struct where TTile : ITile
    {
        nint outStep = p.OutputPixelStride, resStep = hasResidual ? p.ResidualPixelStride : 0;
        for (int r = 0; r < valid; r++)
            Emit<TOps, TVec, TTile>(ref Unsafe.Add(ref accumulators, r * TTile.Vectors * TOps.Count), ref bias, ref Unsafe.Add(ref output, r * outStep),
                ref Unsafe.Add(ref residual, r * resStep), hasResidual, lanes, p.Activation);
    }

    /// <summary>
    /// Epilogue of one output pixel from its accumulators in memory: + bias (zeros when the layer has none), + residual,
    /// activation, store of the block's
    /// valid lanes. A channel tail is read and written with masked loads and stores (<see cref="IVec{TVec}.StoreFirst"/>),
    /// so no lane past the tensor's channels is touched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Emit<TOps, TVec, TTile>(ref float accumulators, ref float bias, ref float output, ref float residual, bool hasResidual, int lanes,
        Activation act)
        where TOps : struct, IVec<TVec> where TVec : struct where TTile : ITile
    {
        for (int v = 0; v < TTile.Vectors; v++)
        {
            int offset = v * TOps.Count, count = Math.Min(TOps.Count, lanes - offset);
            if (count <= 0) return;
            ref float acc = ref Unsafe.Add(ref accumulators, offset);
            ref float dst = ref Unsafe.Add(ref output, offset);
            if (count == TOps.Count)
            {
                TVec x = TOps.Add(TOps.Load(ref acc), TOps.Load(ref Unsafe.Add(ref bias, offset)));
                if (hasResidual) x = TOps.Add(x, TOps.Load(ref Unsafe.Add(ref residual, offset)));
                TOps.Store(Activations.Apply<TOps, TVec>(x, act), ref dst);
                continue;
            }
            TVec tail = TOps.Add(TOps.Load(ref acc), TOps.Load(ref Unsafe.Add(ref bias, offset)));
            if (hasResidual) tail = TOps.Add(tail, TOps.LoadFirst(ref Unsafe.Add(ref residual, offset), count));
            TOps.StoreFirst(Activations.Apply<TOps, TVec>(tail, act), ref dst, count);
        }
    }
}
