using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// Dense 3×3 stride-1 convolution by Winograd's minimal filtering F(m×m, 3×3), NHWC, any per-side padding, any
/// channel counts, with the <see cref="Epilogue"/> of <see cref="Conv2d"/>. Per chunk of tiles (m × m outputs each,
/// read from (m + 2)² inputs): the input transform Bᵀ d B, vectorised over input channels, into one [tile][Cin] matrix
/// per tile position; then per position the GEMM with the transformed weights G g Gᵀ over channels, which is the 1×1
/// convolution's GEMM (<see cref="Conv2d.RunGroups"/> on a flat row of tiles), or <see cref="OneVectorGemm"/> when the
/// outputs fit one vector; then the output transform Aᵀ M A and the
/// epilogue, vectorised over output channels. The weights are transformed and packed once at load
/// (<see cref="PackWeights"/>). A chunk's two matrices are sized to stay in L2 (<see cref="ChunkTiles"/>).
/// The caller passes the working memory (<see cref="ScratchLength"/>), one buffer per thread; nothing is allocated.
/// Results differ from the direct convolution by the rounding of the transforms (F(4×4) more than F(2×2); the
/// kernel tests state the bounds).
/// </summary>
public static class Winograd
{
    /// <summary>Whether <paramref name="geometry"/> is one Winograd F(m×m, 3×3) runs: 3×3, stride 1, one group.</summary>
    public static bool Supports(ConvGeometry geometry) =>
        geometry is { KernelHeight: 3, KernelWidth: 3, StrideY: 1, StrideX: 1, Groups: 1 } && geometry.Padding.IsValid;

    /// <summary>Floats <see cref="PackWeights"/> writes: one 1×1 GEMM weight block per tile position.</summary>
    public static int PackedWeightsLength(VectorWidth width, WinogradTile tile, int outChannels, int inChannels) =>
        Positions(tile) * Conv2d.PackedWeightsLength(width, GemmOutChannels(width, outChannels), inChannels, ConvGeometry.Pointwise());

    /// <summary>
    /// The output channels of each position's GEMM: fewer than one vector (H−4's 14) are padded with zero weights to a
    /// whole vector, so the GEMM runs whole-vector register tiles (<see cref="OneVectorGemm"/>) instead of the general
    /// kernel, whose per-call and masked-tail costs made F(4×4) slower than the direct convolution on 14 → 14. The padded
    /// products land in the lanes the output transform never reads.
    /// </summary>
    static int GemmOutChannels(VectorWidth width, int outChannels) =>
        width == VectorWidth.Scalar ? outChannels : Math.Max(outChannels, ConvPacking.Lanes(width));

    /// <summary>
    /// Transforms PyTorch weights [Cout, Cin, 3, 3] to G g Gᵀ (in double, rounded once to float) and packs each tile
    /// position's [Cout][Cin] matrix as the 1×1 GEMM of <paramref name="width"/> takes it (<see cref="Conv2d.PackWeights"/>;
    /// for <see cref="VectorWidth.Scalar"/> the [Cout][Cin] matrix itself).
    /// </summary>
    public static void PackWeights(
        VectorWidth width, WinogradTile tile, ReadOnlySpan<float> weights, int outChannels, int inChannels, Span<float> packed)
    {
        if (outChannels < 1 || inChannels < 1)
            throw new ArgumentException($"channels: expected at least 1 in and out, found {inChannels}→{outChannels}.", nameof(outChannels));
        if (weights.Length != outChannels * inChannels * 9)
            throw new ArgumentException($"weights: expected {outChannels * inChannels * 9} floats, found {weights.Length}.", nameof(weights));
        int length = PackedWeightsLength(width, tile, outChannels, inChannels);
        if (packed.Length != length)
            throw new ArgumentException($"packed: expected {length} floats, found {packed.Length}.", nameof(packed));
        var (g, _, _) = WinogradMatrices.For(tile);
        int t = WinogradMatrices.TileSide(tile), positionLength = length / (t * t), pairs = outChannels * inChannels;
        int gemmOut = GemmOutChannels(width, outChannels);
        // One position at a time, so the only memory besides the packed weights is one [Cout][Cin] matrix (its rows past
        // Cout, the GEMM's padding, stay zero).
        double[] gFlat = new double[t * 3];
        for (int row = 0; row < t; row++)
            for (int k = 0; k < 3; k++) gFlat[row * 3 + k] = g[row, k];
        var matrix = new float[gemmOut * inChannels];
        for (int a = 0; a < t; a++)
            for (int b = 0; b < t; b++)
            {
                double ga0 = gFlat[a * 3], ga1 = gFlat[a * 3 + 1], ga2 = gFlat[a * 3 + 2];
                double gb0 = gFlat[b * 3], gb1 = gFlat[b * 3 + 1], gb2 = gFlat[b * 3 + 2];
                for (int pair = 0; pair < pairs; pair++)
                {
                    var f = weights.Slice(pair * 9, 9);
                    double row0 = f[0] * gb0 + f[1] * gb1 + f[2] * gb2;
                    double row1 = f[3] * gb0 + f[4] * gb1 + f[5] * gb2;
                    double row2 = f[6] * gb0 + f[7] * gb1 + f[8] * gb2;
                    matrix[pair] = (float)(ga0 * row0 + ga1 * row1 + ga2 * row2);
                }
                Conv2d.PackWeights(width, matrix, gemmOut, inChannels, ConvGeometry.Pointwise(),
                    packed.Slice((a * t + b) * positionLength, positionLength));
            }
    }

    /// <summary>Floats of working memory one call needs (per thread); independent of the map size.</summary>
    public static int ScratchLength(VectorWidth width, WinogradTile tile, int outChannels, int inChannels)
    {
        int positions = Positions(tile);
        if (width == VectorWidth.Scalar) return positions * (inChannels + outChannels) + 2 * positions;
        int lanes = ConvPacking.Lanes(width), cinP = RoundUp(inChannels, lanes), coutP = RoundUp(outChannels, lanes);
        int chunk = ChunkTiles(positions, cinP, coutP);
        return positions * (PositionStride(chunk, cinP) + PositionStride(chunk, coutP)) + coutP + 3 * positions * lanes;
    }

    public static void Run(
        VectorWidth width, WinogradTile tile, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        ConvGeometry geometry, Span<float> output, Nhwc outputShape, in Epilogue epilogue, Span<float> scratch) =>
        RunRows(width, tile, input, inputShape, packedWeights, geometry, output, outputShape, epilogue, 0, outputShape.Height, scratch);

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) only (a thread's share). Tiles across the
    /// range's ends are computed whole and stored in part, so every value is the same as in a whole run.
    /// </summary>
    public static void RunRows(
        VectorWidth width, WinogradTile tile, ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights,
        ConvGeometry geometry, Span<float> output, Nhwc outputShape, in Epilogue epilogue, int rowStart, int rowEnd, Span<float> scratch)
    {
        if (!Supports(geometry))
            throw new ArgumentException($"geometry: Winograd runs 3×3 stride-1 convolutions with one group, found {geometry}.", nameof(geometry));
        int cin = inputShape.Channels, cout = outputShape.Channels;
        ConvArguments.Convolution(input.Length, inputShape, packedWeights.Length,
            PackedWeightsLength(width, tile, cout, Math.Max(1, cin)), geometry, output.Length, outputShape, epilogue, rowStart, rowEnd);
        if (cin < 1 || cout < 1)
            throw new ArgumentException($"channels: expected at least 1 in and out, found {cin}→{cout}.", nameof(inputShape));
        int needed = ScratchLength(width, tile, cout, cin);
        if (scratch.Length < needed)
            throw new ArgumentException($"scratch: expected at least {needed} floats, found {scratch.Length}.", nameof(scratch));
        if (rowStart == rowEnd || outputShape.Width == 0) return;
        var args = new WinogradArguments(input, inputShape, packedWeights, geometry.Padding, output, outputShape, epilogue, rowStart, rowEnd, scratch);
        switch (width, tile)
        {
            case (VectorWidth.Scalar, _): WinogradReference.Run(tile, args); break;
            case (VectorWidth.V128, WinogradTile.F2x2): Run<V128, Vector128<float>, WinogradF2>(args); break;
            case (VectorWidth.V128, WinogradTile.F4x4): Run<V128, Vector128<float>, WinogradF4>(args); break;
            case (VectorWidth.V256, WinogradTile.F2x2): Run<V256, Vector256<float>, WinogradF2>(args); break;
            case (VectorWidth.V256, WinogradTile.F4x4): Run<V256, Vector256<float>, WinogradF4>(args); break;
            case (VectorWidth.V512, WinogradTile.F2x2): Run<V512, Vector512<float>, WinogradF2>(args); break;
            case (VectorWidth.V512, WinogradTile.F4x4): Run<V512, Vector512<float>, WinogradF4>(args); break;
            default: throw new ArgumentException($"width, tile: expected a vector width and F2x2 or F4x4, found {width}, {tile}.", nameof(width));
        }
    }

    static int Positions(WinogradTile tile) => WinogradMatrices.TileSide(tile) * WinogradMatrices.TileSide(tile);

    static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// Floats from one tile position's matrix to the next: the matrix plus one cache line, so that a tile's positions
    /// are not a power of two apart (16 KB apart, a transform's 16 or 36 stores all fell in one L1 set: F(2×2) on 3×3
    /// 32→32 at 128×128 ran at 132 GFLOP/s against 279 for F(4×4), whose stride was 7 KB).
    /// </summary>
    static int PositionStride(int chunk, int channelsPadded) => chunk * channelsPadded + 16;

    /// <summary>
    /// Tiles per chunk: the transformed inputs and the GEMM outputs of a chunk take about 512 KB, so the output
    /// transform finds them in L2; at least 8 (one GEMM register tile of pixels), a multiple of 8.
    /// </summary>
    static int ChunkTiles(int positions, int cinP, int coutP) =>
        Math.Clamp(128 * 1024 / (positions * (cinP + coutP)) / 8 * 8, 8, 256);

    static void Run<TOps, TVec, TW>(in WinogradArguments a)
        where TOps : struct, IVec<TVec> where TVec : struct where TW : IWinogradTransform
    {
        int m = TW.M, t = m + 2, positions = t * t, lanes = TOps.Count;
        int cin = a.InputShape.Channels, cout = a.OutputShape.Channels;
        int cinP = RoundUp(cin, lanes), coutP = RoundUp(cout, lanes), chunk = ChunkTiles(positions, cinP, coutP);
        int tilesX = ConvArguments.CeilDiv(a.OutputShape.Width, m);
        int firstTile = a.RowStart / m * tilesX, endTile = ConvArguments.CeilDiv(a.RowEnd, m) * tilesX;
        int positionWeights = a.PackedWeights.Length / positions;

        var scratch = a.Scratch;
        int inStride = PositionStride(chunk, cinP), outStride = PositionStride(chunk, coutP);
        var transformed = scratch[..(positions * inStride)];
        var products = scratch.Slice(transformed.Length, positions * outStride);
        var bias = scratch.Slice(transformed.Length + products.Length, coutP);
        var tileBuffer = scratch.Slice(transformed.Length + products.Length + coutP, 3 * positions * lanes);
        bias.Clear();
        if (!a.Epilogue.Bias.IsEmpty) a.Epilogue.Bias.CopyTo(bias);

        for (int tile0 = firstTile; tile0 < endTile; tile0 += chunk)
        {
            int count = Math.Min(chunk, endTile - tile0);
            for (int j = 0; j < count; j++)
                InputTile<TOps, TVec, TW>(a, (tile0 + j) / tilesX * m, (tile0 + j) % tilesX * m,
                    ref Unsafe.Add(ref MemoryMarshal.GetReference(transformed), j * cinP), inStride, tileBuffer);
            var gemmInput = new Nhwc(1, count, cin, cinP);
            var gemmOutput = new Nhwc(1, count, GemmOutChannels(TOps.Width, cout), coutP);
            for (int position = 0; position < positions; position++)
                if (coutP == lanes)
                    OneVectorGemm<TOps, TVec>(ref Unsafe.Add(ref MemoryMarshal.GetReference(transformed), position * inStride), cinP, cin,
                        ref Unsafe.Add(ref MemoryMarshal.GetReference(a.PackedWeights), position * positionWeights),
                        ref Unsafe.Add(ref MemoryMarshal.GetReference(products), position * outStride), count);
                else
                    Conv2d.RunGroups(TOps.Width, transformed.Slice(position * inStride, count * cinP), gemmInput,
                        a.PackedWeights.Slice(position * positionWeights, positionWeights), ConvGeometry.Pointwise(),
                        products.Slice(position * outStride, count * coutP), gemmOutput, Epilogue.None, 0, 1);
            for (int j = 0; j < count; j++)
                OutputTile<TOps, TVec, TW>(a, (tile0 + j) / tilesX * m, (tile0 + j) % tilesX * m,
                    ref Unsafe.Add(ref MemoryMarshal.GetReference(products), j * coutP), outStride, bias, tileBuffer);
        }
    }

    /// <summary>
    /// One tile position's GEMM when the outputs fit one vector: products[j] = Σ_k input[j·inputStride + k]·weights[k]
    /// for <paramref name="tiles"/> tiles, the weights the [Cin][lanes] panel (zero past Cout). Eight tiles at a time in
    /// registers, with none of the 1×1 kernel's epilogue: these GEMMs are 14 × 16 products, too short to carry it.
    /// </summary>
    static void OneVectorGemm<TOps, TVec>(ref float input, nint inputStride, int cin, ref float weights, ref float products, int tiles)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        nint lanes = TOps.Count;
        int j = 0;
        for (; j + 8 <= tiles; j += 8)
        {
            ref float a0 = ref Unsafe.Add(ref input, j * inputStride);
            ref float a1 = ref Unsafe.Add(ref a0, inputStride);
            ref float a2 = ref Unsafe.Add(ref a0, 2 * inputStride);
            ref float a3 = ref Unsafe.Add(ref a0, 3 * inputStride);
            ref float a4 = ref Unsafe.Add(ref a0, 4 * inputStride);
            ref float a5 = ref Unsafe.Add(ref a0, 5 * inputStride);
            ref float a6 = ref Unsafe.Add(ref a0, 6 * inputStride);
            ref float a7 = ref Unsafe.Add(ref a0, 7 * inputStride);
            TVec c0 = TOps.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            ref float w = ref weights;
            for (int k = 0; k < cin; k++)
            {
                TVec wk = TOps.Load(ref w);
                w = ref Unsafe.Add(ref w, lanes);
                c0 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a0, k)), wk, c0);
                c1 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a1, k)), wk, c1);
                c2 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a2, k)), wk, c2);
                c3 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a3, k)), wk, c3);
                c4 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a4, k)), wk, c4);
                c5 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a5, k)), wk, c5);
                c6 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a6, k)), wk, c6);
                c7 = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a7, k)), wk, c7);
            }
            ref float o = ref Unsafe.Add(ref products, j * lanes);
            TOps.Store(c0, ref o);
            TOps.Store(c1, ref Unsafe.Add(ref o, lanes));
            TOps.Store(c2, ref Unsafe.Add(ref o, 2 * lanes));
            TOps.Store(c3, ref Unsafe.Add(ref o, 3 * lanes));
            TOps.Store(c4, ref Unsafe.Add(ref o, 4 * lanes));
            TOps.Store(c5, ref Unsafe.Add(ref o, 5 * lanes));
            TOps.Store(c6, ref Unsafe.Add(ref o, 6 * lanes));
            TOps.Store(c7, ref Unsafe.Add(ref o, 7 * lanes));
        }
        for (; j < tiles; j++)
        {
            ref float a = ref Unsafe.Add(ref input, j * inputStride);
            TVec c = TOps.Zero;
            for (int k = 0; k < cin; k++) c = TOps.MultiplyAdd(TOps.Splat(Unsafe.Add(ref a, k)), TOps.Load(ref Unsafe.Add(ref weights, k * lanes)), c);
            TOps.Store(c, ref Unsafe.Add(ref products, j * lanes));
        }
    }

    /// <summary>
    /// Bᵀ d B of the tile whose first output is (<paramref name="oy"/>, <paramref name="ox"/>), every input channel,
    /// into <paramref name="destination"/>: position ξ of channel c at <c>ξ·positionStride + c</c>. Pixels outside the
    /// input (padding, or past the map where a last tile overhangs) read as zero.
    /// </summary>
    static void InputTile<TOps, TVec, TW>(in WinogradArguments a, int oy, int ox, ref float destination, nint positionStride, Span<float> buffer)
        where TOps : struct, IVec<TVec> where TVec : struct where TW : IWinogradTransform
    {
        int m = TW.M, t = m + 2, lanes = TOps.Count;
        var shape = a.InputShape;
        int iy0 = oy - a.Padding.Top, ix0 = ox - a.Padding.Left;
        bool interior = iy0 >= 0 && ix0 >= 0 && iy0 + t <= shape.Height && ix0 + t <= shape.Width;
        int lastPixel = interior ? shape.Offset(iy0 + t - 1, ix0 + t - 1) : 0;
        nint pixelStride = shape.PixelStride;
        ref float input = ref MemoryMarshal.GetReference(a.Input);
        ref float rows = ref MemoryMarshal.GetReference(buffer);                 // d·B: [t][t] vectors
        ref float gathered = ref Unsafe.Add(ref rows, t * t * lanes);           // d with zeros: [t][t] vectors
        for (int c0 = 0; c0 < shape.Channels; c0 += lanes)
        {
            int count = Math.Min(lanes, shape.Channels - c0);
            // Inside the map a channel tail is loaded as a whole vector too: the lanes past the channels read the next
            // pixel (garbage the GEMM never reads), unless that would run past the end of the input.
            if (interior && (count == lanes || lastPixel + c0 + lanes <= a.Input.Length))
            {
                for (int r = 0; r < t; r++)
                    TW.Input<TOps, TVec>(ref Unsafe.Add(ref input, (nint)shape.Offset(iy0 + r, ix0) + c0), pixelStride,
                        ref Unsafe.Add(ref rows, r * t * lanes), lanes);
            }
            else
            {
                for (int r = 0; r < t; r++)
                    for (int k = 0; k < t; k++)
                    {
                        int iy = iy0 + r, ix = ix0 + k;
                        TVec value = TOps.Zero;
                        if ((uint)iy < (uint)shape.Height && (uint)ix < (uint)shape.Width)
                        {
                            ref float pixel = ref Unsafe.Add(ref input, (nint)shape.Offset(iy, ix) + c0);
                            value = count == lanes ? TOps.Load(ref pixel) : TOps.LoadFirst(ref pixel, count);
                        }
                        TOps.Store(value, ref Unsafe.Add(ref gathered, (r * t + k) * lanes));
                    }
                for (int r = 0; r < t; r++)
                    TW.Input<TOps, TVec>(ref Unsafe.Add(ref gathered, r * t * lanes), lanes, ref Unsafe.Add(ref rows, r * t * lanes), lanes);
            }
            // Columns: position (r, k) of this channel block goes to (r·t + k)·positionStride + c0.
            for (int k = 0; k < t; k++)
                TW.Input<TOps, TVec>(ref Unsafe.Add(ref rows, k * lanes), t * lanes,
                    ref Unsafe.Add(ref destination, k * positionStride + c0), t * positionStride);
        }
    }

    /// <summary>Aᵀ M A of one tile's GEMM outputs (position ξ of channel c at <c>ξ·positionStride + c</c>), then the
    /// epilogue into the outputs of rows [RowStart, RowEnd) inside the map.</summary>
    static void OutputTile<TOps, TVec, TW>(in WinogradArguments a, int oy, int ox, ref float source, nint positionStride,
        Span<float> bias, Span<float> buffer)
        where TOps : struct, IVec<TVec> where TVec : struct where TW : IWinogradTransform
    {
        int m = TW.M, t = m + 2, lanes = TOps.Count;
        var shape = a.OutputShape;
        int rowsEnd = Math.Min(m, a.RowEnd - oy), columnsEnd = Math.Min(m, shape.Width - ox), rowsStart = Math.Max(0, a.RowStart - oy);
        bool hasResidual = !a.Epilogue.Residual.IsEmpty;
        ref float rows = ref MemoryMarshal.GetReference(buffer);                 // M·A: [t][m] vectors
        ref float tile = ref Unsafe.Add(ref rows, t * t * lanes);               // Aᵀ M A: [m][m] vectors
        ref float output = ref MemoryMarshal.GetReference(a.Output);
        ref float residual = ref hasResidual ? ref MemoryMarshal.GetReference(a.Epilogue.Residual) : ref Unsafe.NullRef<float>();
        for (int c0 = 0; c0 < shape.Channels; c0 += lanes)
        {
            int count = Math.Min(lanes, shape.Channels - c0);
            for (int r = 0; r < t; r++)
                TW.Output<TOps, TVec>(ref Unsafe.Add(ref source, r * t * positionStride + c0), positionStride,
                    ref Unsafe.Add(ref rows, r * m * lanes), lanes);
            for (int x = 0; x < m; x++)
                TW.Output<TOps, TVec>(ref Unsafe.Add(ref rows, x * lanes), m * lanes, ref Unsafe.Add(ref tile, x * lanes), m * lanes);
            for (int y = rowsStart; y < rowsEnd; y++)
                for (int x = 0; x < columnsEnd; x++)
                {
                    int pixel = (oy + y) * shape.Width + ox + x;
                    ConvCore.Emit<TOps, TVec, Tile1x1>(ref Unsafe.Add(ref tile, (y * m + x) * lanes), ref bias[c0],
                        ref Unsafe.Add(ref output, (nint)pixel * shape.PixelStride + c0),
                        ref hasResidual ? ref Unsafe.Add(ref residual, (nint)pixel * a.Epilogue.ResidualPixelStride + c0) : ref residual,
                        hasResidual, count, a.Epilogue.Activation);
                }
        }
    }
}

/// <summary>A Winograd call's validated arguments, handed to the bodies as one value.</summary>
internal readonly ref struct WinogradArguments(
    ReadOnlySpan<float> input, Nhwc inputShape, ReadOnlySpan<float> packedWeights, Padding2d padding,
    Span<float> output, Nhwc outputShape, Epilogue epilogue, int rowStart, int rowEnd, Span<float> scratch)
{
    public ReadOnlySpan<float> Input { get; } = input;
    public Nhwc InputShape { get; } = inputShape;
    public ReadOnlySpan<float> PackedWeights { get; } = packedWeights;
    public Padding2d Padding { get; } = padding;
    public Span<float> Output { get; } = output;
    public Nhwc OutputShape { get; } = outputShape;
    public Epilogue Epilogue { get; } = epilogue;
    public int RowStart { get; } = rowStart;
    public int RowEnd { get; } = rowEnd;
    public Span<float> Scratch { get; } = scratch;
}
