namespace NanoPose.Kernels.Convolution;

/// <summary>
/// The scalar twin of <see cref="Winograd"/> (its <see cref="Simd.VectorWidth.Scalar"/> body): the same algorithm as
/// plain loops over the matrices of <see cref="WinogradMatrices"/>, one tile at a time. Weights are the transformed
/// [position][Cout][Cin] matrices <see cref="Winograd.PackWeights"/> writes for the scalar width.
/// </summary>
internal static class WinogradReference
{
    public static void Run(WinogradTile tile, in WinogradArguments a)
    {
        var (_, bt, at) = WinogradMatrices.For(tile);
        int m = (int)tile, t = m + 2, positions = t * t;
        var inShape = a.InputShape;
        var outShape = a.OutputShape;
        int cin = inShape.Channels, cout = outShape.Channels;
        var transformed = a.Scratch[..(positions * cin)];                    // [position][Cin]
        var products = a.Scratch.Slice(positions * cin, positions * cout);   // [position][Cout]
        var half = a.Scratch.Slice(positions * (cin + cout), positions);     // one channel's tile after one pass
        int tilesX = ConvArguments.CeilDiv(outShape.Width, m);
        for (int ty = a.RowStart / m; ty < ConvArguments.CeilDiv(a.RowEnd, m); ty++)
            for (int tx = 0; tx < tilesX; tx++)
            {
                int iy0 = ty * m - a.Padding.Top, ix0 = tx * m - a.Padding.Left;
                for (int c = 0; c < cin; c++)
                {
                    // d·B, then Bᵀ·(d·B).
                    for (int r = 0; r < t; r++)
                        for (int k2 = 0; k2 < t; k2++)
                        {
                            float sum = 0f;
                            for (int k = 0; k < t; k++)
                            {
                                int iy = iy0 + r, ix = ix0 + k;
                                if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue;
                                sum += bt[k2, k] * a.Input[inShape.Offset(iy, ix) + c];
                            }
                            half[r * t + k2] = sum;
                        }
                    for (int r2 = 0; r2 < t; r2++)
                        for (int k2 = 0; k2 < t; k2++)
                        {
                            float sum = 0f;
                            for (int r = 0; r < t; r++) sum += bt[r2, r] * half[r * t + k2];
                            transformed[(r2 * t + k2) * cin + c] = sum;
                        }
                }
                for (int p = 0; p < positions; p++)
                    for (int o = 0; o < cout; o++)
                    {
                        float sum = 0f;
                        for (int i = 0; i < cin; i++) sum += a.PackedWeights[(p * cout + o) * cin + i] * transformed[p * cin + i];
                        products[p * cout + o] = sum;
                    }
                for (int o = 0; o < cout; o++)
                {
                    // M·A, then Aᵀ·(M·A), and the epilogue of the outputs inside the map and the row range.
                    for (int r = 0; r < t; r++)
                        for (int x = 0; x < m; x++)
                        {
                            float sum = 0f;
                            for (int k = 0; k < t; k++) sum += at[x, k] * products[(r * t + k) * cout + o];
                            half[r * m + x] = sum;
                        }
                    for (int y = 0; y < m; y++)
                    {
                        int oy = ty * m + y;
                        if (oy < a.RowStart || oy >= a.RowEnd) continue;
                        for (int x = 0; x < m && tx * m + x < outShape.Width; x++)
                        {
                            float sum = 0f;
                            for (int r = 0; r < t; r++) sum += at[y, r] * half[r * m + x];
                            ConvReference.Store(sum, a.Output, outShape, oy, tx * m + x, o, a.Epilogue);
                        }
                    }
                }
            }
    }
}
