namespace NanoPose.Pipelines.TopDown;

/// <summary>
/// A 2×3 affine map, OpenCV's layout: (x, y) ↦ (M00·x + M01·y + M02, M10·x + M11·y + M12). Doubles, as
/// <c>cv2.getAffineTransform</c> returns them.
/// </summary>
public readonly record struct AffineTransform(double M00, double M01, double M02, double M10, double M11, double M12)
{
    public (double X, double Y) Map(double x, double y) => (M00 * x + M01 * y + M02, M10 * x + M11 * y + M12);

    /// <summary>The inverse map, computed as <c>cv2.warpAffine</c> inverts its matrix; throws when it is singular.</summary>
    public AffineTransform Invert()
    {
        double det = M00 * M11 - M01 * M10;
        if (det == 0 || !double.IsFinite(det)) throw new InvalidOperationException($"the affine map {this} is not invertible");
        double r = 1 / det;
        double a = M11 * r, b = M01 * -r, c = M10 * -r, d = M00 * r;
        return new AffineTransform(a, b, -a * M02 - b * M12, c, d, -c * M02 - d * M12);
    }

    /// <summary>
    /// mmpose 0.x <c>get_affine_transform(center, scale, rot=0, output_size)</c>: the map from image pixels to the
    /// <paramref name="outputWidth"/>×<paramref name="outputHeight"/> crop that sends the centre to the crop centre
    /// and the box width (scale_x·200) to the crop width. mmpose builds three point pairs in float32 — the centre,
    /// the point half a box width above it, and that offset turned 90° — and solves for the exact affine map
    /// through them (<c>cv2.getAffineTransform</c>); the same points are built here.
    /// </summary>
    public static AffineTransform FromCenterScale(CenterScale box, int outputWidth, int outputHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputHeight);
        float srcWidth = box.ScaleX * CenterScale.PixelStd;
        var src0 = (X: box.CenterX, Y: box.CenterY);
        var src1 = (X: box.CenterX, Y: box.CenterY + srcWidth * -0.5f);
        var src2 = ThirdPoint(src0, src1);
        var dst0 = (X: outputWidth * 0.5f, Y: outputHeight * 0.5f);
        var dst1 = (X: dst0.X, Y: dst0.Y + outputWidth * -0.5f);
        var dst2 = ThirdPoint(dst0, dst1);
        return ThroughPoints(src0, src1, src2, dst0, dst1, dst2);
    }

    /// <summary>mmpose <c>_get_3rd_point</c>: b plus (a − b) turned 90° anticlockwise, in float32.</summary>
    private static (float X, float Y) ThirdPoint((float X, float Y) a, (float X, float Y) b)
    {
        float dx = a.X - b.X, dy = a.Y - b.Y;
        return (b.X - dy, b.Y + dx);
    }

    /// <summary>
    /// <c>cv2.getAffineTransform</c>: the map sending s0, s1, s2 to d0, d1, d2, found by solving OpenCV's 6×6 system
    /// with OpenCV's LU (partial pivoting, reciprocal pivots) in OpenCV's order of operations, so the doubles agree with
    /// OpenCV's to the last bits (golden matrices: within 6e-14). That matters: the warp rounds positions to 1/1024
    /// pixel, and an exact tie there is decided by the last bits of the matrix (a closed-form solve missed 252 values
    /// of the golden crops by 1 or 2; this solve matches all of them).
    /// </summary>
    private static AffineTransform ThroughPoints((float X, float Y) s0, (float X, float Y) s1, (float X, float Y) s2,
        (float X, float Y) d0, (float X, float Y) d1, (float X, float Y) d2)
    {
        const int n = 6;
        Span<double> a = stackalloc double[n * n];
        Span<double> b = stackalloc double[n];
        a.Clear();
        ReadOnlySpan<(float X, float Y)> src = [s0, s1, s2], dst = [d0, d1, d2];
        for (int i = 0; i < 3; i++)
        {
            // Row 2i: [x y 1 0 0 0]·m = x'; row 2i+1: [0 0 0 x y 1]·m = y'.
            int j = i * 12, k = i * 12 + 6;
            a[j] = a[k + 3] = src[i].X;
            a[j + 1] = a[k + 4] = src[i].Y;
            a[j + 2] = a[k + 5] = 1;
            b[i * 2] = dst[i].X;
            b[i * 2 + 1] = dst[i].Y;
        }
        if (!SolveLu(a, b, n)) throw new ArgumentException("the three source points are collinear");
        return new AffineTransform(b[0], b[1], b[2], b[3], b[4], b[5]);
    }

    /// <summary>OpenCV's <c>LUImpl</c> (hal, double): solves a·x = b in place (x in b); false when singular.</summary>
    private const double LuEpsilon = 2.220446049250313e-16 * 100;   // OpenCV: DBL_EPSILON * 100

    private static bool SolveLu(Span<double> a, Span<double> b, int n)
    {
        for (int i = 0; i < n; i++)
        {
            int pivot = i;
            for (int j = i + 1; j < n; j++)
                if (Math.Abs(a[j * n + i]) > Math.Abs(a[pivot * n + i])) pivot = j;
            if (!(Math.Abs(a[pivot * n + i]) >= LuEpsilon)) return false;
            if (pivot != i)
            {
                for (int j = i; j < n; j++) (a[i * n + j], a[pivot * n + j]) = (a[pivot * n + j], a[i * n + j]);
                (b[i], b[pivot]) = (b[pivot], b[i]);
            }
            double d = -1 / a[i * n + i];
            for (int j = i + 1; j < n; j++)
            {
                double alpha = a[j * n + i] * d;
                for (int k = i + 1; k < n; k++) a[j * n + k] += alpha * a[i * n + k];
                b[j] += alpha * b[i];
            }
            a[i * n + i] = -d;
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= a[i * n + k] * b[k];
            b[i] = s * a[i * n + i];
        }
        return true;
    }
}
