using NanoPose.Pipelines.TopDown;

namespace NanoPose.Drawing;

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct RgbColor(byte R, byte G, byte B);

/// <summary>How <see cref="SkeletonPainter"/> draws; the defaults suit photos of any size.</summary>
public sealed record SkeletonStyle
{
    /// <summary>Joints scoring below this are hidden, along with every limb touching them.</summary>
    public float MinScore { get; init; } = 0.3f;

    /// <summary>Limb thickness in pixels; null: max(2, min(width, height) / 200).</summary>
    public float? LineWidth { get; init; }

    /// <summary>Joint disc radius in pixels; null: 1.5 × the default line width, so discs stand out on their limbs.</summary>
    public float? JointRadius { get; init; }

    /// <summary>The person's left joints and limbs (mmpose's colours).</summary>
    public RgbColor LeftColor { get; init; } = new(0, 255, 0);

    public RgbColor RightColor { get; init; } = new(255, 128, 0);

    /// <summary>The nose and the limbs joining the two sides (eyes, shoulders, hips, nose to eyes).</summary>
    public RgbColor CentreColor { get; init; } = new(51, 153, 255);

    /// <summary>Draw each person's box (thin, under the skeleton) with its detector score, when the person has one.</summary>
    public bool DrawBoxes { get; init; } = true;
    public RgbColor BoxColor { get; init; } = new(255, 255, 0);
}

/// <summary>
/// Draws detected skeletons onto RGB24 pixels: the COCO limbs as anti-aliased round-capped lines, then the joints
/// as anti-aliased discs. Pixel (x, y) has its centre at coordinate (x, y), as for the keypoints. A pixel's coverage
/// falls linearly from 1 to 0 over the last pixel of a shape's edge (1 − distance past the edge + ½), and the colour is
/// blended over the pixel by that coverage. Only pixels inside the image are read or written, and a shape costs at most
/// its bounding box clipped to the image. A joint at NaN, infinity or over 2³¹ pixels away is hidden like a low-scoring
/// one; a limb towards a point that is far but plausible is drawn up to the border.
/// </summary>
public static class SkeletonPainter
{
    private static readonly SkeletonStyle DefaultStyle = new();

    /// <param name="rgb"><paramref name="height"/> rows of <paramref name="width"/> (R, G, B) pixels,
    /// <paramref name="stride"/> bytes apart; bytes between rows are left alone.</param>
    /// <param name="people">Keypoints in image pixels, in <see cref="CocoKeypoints"/> order.</param>
    public static void Draw(Span<byte> rgb, int width, int height, int stride, IReadOnlyList<EstimatedPerson> people, SkeletonStyle? style = null)
    {
        _ = new RgbImage(rgb, width, height, stride);   // checks the sizes against the bytes
        ArgumentNullException.ThrowIfNull(people);
        style ??= DefaultStyle;
        if (float.IsNaN(style.MinScore)) throw new ArgumentException("SkeletonStyle.MinScore is NaN", nameof(style));
        float defaultWidth = Math.Max(2f, Math.Min(width, height) / 200f);
        double halfLine = CheckedSize(style.LineWidth ?? defaultWidth, nameof(style.LineWidth)) / 2;
        double jointRadius = CheckedSize(style.JointRadius ?? 1.5f * defaultWidth, nameof(style.JointRadius));
        var canvas = new Canvas(rgb, width, height, stride);

        if (style.DrawBoxes)
        {
            double boxHalfLine = Math.Max(0.5, halfLine / 2);
            int digitScale = Math.Max(1, (int)Math.Round(defaultWidth / 1.5));
            foreach (var person in people)
                if (person.Box is { } box) canvas.DrawBox(box, boxHalfLine, digitScale, style.BoxColor);
        }

        Span<bool> shown = stackalloc bool[CocoKeypoints.Count];
        for (int p = 0; p < people.Count; p++)
        {
            var keypoints = people[p].Keypoints;
            if (keypoints.Count != CocoKeypoints.Count)
                throw new ArgumentException($"person {p} has {keypoints.Count} keypoints, expected {CocoKeypoints.Count} (COCO)", nameof(people));
            for (int j = 0; j < shown.Length; j++)
                shown[j] = keypoints[j].Score >= style.MinScore && IsPlausible(keypoints[j].X) && IsPlausible(keypoints[j].Y);
            foreach (var (from, to) in CocoKeypoints.Skeleton)
                if (shown[from] && shown[to])
                {
                    var color = SideOf(from) == SideOf(to) ? ColorOf(SideOf(from), style) : style.CentreColor;
                    canvas.FillCapsule(keypoints[from], keypoints[to], halfLine, color);
                }
            for (int j = 0; j < shown.Length; j++)
                if (shown[j]) canvas.FillCapsule(keypoints[j], keypoints[j], jointRadius, ColorOf(SideOf(j), style));
        }
    }

    /// <summary>
    /// A label of digits (and points) in black on a filled rectangle of <paramref name="color"/>, its top-left corner at
    /// (<paramref name="left"/>, <paramref name="top"/>), each glyph pixel a <paramref name="scale"/>-sided square; the
    /// same glyphs as the box scores. Other characters are left blank; only pixels inside the image are written.
    /// </summary>
    public static void DrawLabel(Span<byte> rgb, int width, int height, int stride, int left, int top, string text, RgbColor color, int scale = 2)
    {
        _ = new RgbImage(rgb, width, height, stride);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        if (left >= width || top >= height || scale > height) return;
        (left, top) = (Math.Max(left, -width * 8), Math.Max(top, -height * 8));   // no overflow past the image's far side
        new Canvas(rgb, width, height, stride).DrawLabel(left, top, text, scale, color);
    }

    /// <summary>Beyond ±2³¹ no pixel can be (and doubles would lose sub-pixel precision on the limbs' geometry).</summary>
    private static bool IsPlausible(float coordinate) => Math.Abs(coordinate) < FarthestCoordinate;   // false for NaN

    private const float FarthestCoordinate = 2_147_483_648f;

    private enum Side { Centre, Left, Right }

    private static Side SideOf(int joint) => CocoKeypoints.Names[joint] switch
    {
        var name when name.StartsWith("left_", StringComparison.Ordinal) => Side.Left,
        var name when name.StartsWith("right_", StringComparison.Ordinal) => Side.Right,
        _ => Side.Centre,
    };

    private static RgbColor ColorOf(Side side, SkeletonStyle style) =>
        side switch { Side.Left => style.LeftColor, Side.Right => style.RightColor, _ => style.CentreColor };

    private static double CheckedSize(float value, string name) =>
        float.IsFinite(value) && value > 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(SkeletonStyle) + "." + name, value, "expected a finite size above 0 pixels");

    private readonly ref struct Canvas(Span<byte> rgb, int width, int height, int stride)
    {
        private readonly Span<byte> _rgb = rgb;

        /// <summary>Every pixel within <paramref name="halfWidth"/> of the segment a–b (a disc when a = b).</summary>
        public void FillCapsule(Keypoint a, Keypoint b, double halfWidth, RgbColor color)
        {
            double reach = halfWidth + 0.5;   // coverage is zero from here on
            var (x0, y0, x1, y1) = ((double)a.X, (double)a.Y, (double)b.X, (double)b.Y);
            double dx = x1 - x0, dy = y1 - y0, lengthSquared = dx * dx + dy * dy;
            int top = (int)Math.Max(0, Math.Ceiling(Math.Min(y0, y1) - reach));
            int bottom = (int)Math.Min(height - 1, Math.Floor(Math.Max(y0, y1) + reach));
            for (int y = top; y <= bottom; y++)
            {
                // A pixel of this row within reach of the segment is within reach of a segment point whose y is.
                double tFrom = 0, tTo = 1;
                if (dy != 0)
                {
                    double t0 = (y - reach - y0) / dy, t1 = (y + reach - y0) / dy;
                    (tFrom, tTo) = (Math.Max(0, Math.Min(t0, t1)), Math.Min(1, Math.Max(t0, t1)));
                    if (tFrom > tTo) continue;
                }
                double xFrom = x0 + tFrom * dx, xTo = x0 + tTo * dx;
                int left = (int)Math.Max(0, Math.Ceiling(Math.Min(xFrom, xTo) - reach));
                int right = (int)Math.Min(width - 1, Math.Floor(Math.Max(xFrom, xTo) + reach));
                var row = _rgb.Slice(y * stride);
                for (int x = left; x <= right; x++)
                {
                    double t = lengthSquared > 0 ? Math.Clamp(((x - x0) * dx + (y - y0) * dy) / lengthSquared, 0, 1) : 0;
                    double ex = x - x0 - t * dx, ey = y - y0 - t * dy;
                    double coverage = Math.Min(1, reach - Math.Sqrt(ex * ex + ey * ey));
                    if (coverage > 0) Blend(row.Slice(3 * x, 3), color, coverage);
                }
            }
        }

        /// <summary>The box's outline and, in a label at its top-left corner, its score with two decimals.</summary>
        public void DrawBox(Pipelines.TopDown.PersonBox box, double halfWidth, int digitScale, RgbColor color)
        {
            if (!(double.IsFinite(box.X) && double.IsFinite(box.Y) && double.IsFinite(box.Width) && double.IsFinite(box.Height))) return;
            float x0 = (float)Math.Clamp(box.X, -1, width), y0 = (float)Math.Clamp(box.Y, -1, height);
            float x1 = (float)Math.Clamp(box.X + box.Width, -1, width), y1 = (float)Math.Clamp(box.Y + box.Height, -1, height);
            Keypoint Corner(float x, float y) => new(x, y, 1);
            FillCapsule(Corner(x0, y0), Corner(x1, y0), halfWidth, color);
            FillCapsule(Corner(x1, y0), Corner(x1, y1), halfWidth, color);
            FillCapsule(Corner(x1, y1), Corner(x0, y1), halfWidth, color);
            FillCapsule(Corner(x0, y1), Corner(x0, y0), halfWidth, color);
            if (!(box.Score is >= 0 and <= 1)) return;
            string text = box.Score.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
            DrawLabel((int)Math.Max(0, x0), (int)Math.Max(0, y0), text, digitScale, color);
        }

        /// <summary>Black glyphs on a filled rectangle of <paramref name="color"/>.</summary>
        public void DrawLabel(int left, int top, string text, int digitScale, RgbColor color)
        {
            int labelWidth = (text.Length * 4 + 1) * digitScale, labelHeight = 7 * digitScale;
            FillRectangle(left, top, labelWidth, labelHeight, color);
            for (int i = 0; i < text.Length; i++)
                DrawGlyph(text[i], left + (1 + 4 * i) * digitScale, top + digitScale, digitScale, new RgbColor(0, 0, 0));
        }

        private void FillRectangle(int left, int top, int w, int h, RgbColor color)
        {
            for (int y = Math.Max(0, top); y < Math.Min(height, top + h); y++)
                for (int x = Math.Max(0, left); x < Math.Min(width, left + w); x++) Blend(_rgb.Slice(y * stride + 3 * x, 3), color, 1);
        }

        /// <summary>A 3×5 pixel glyph (digits and the point), each pixel a <paramref name="scale"/>-sided square.</summary>
        private void DrawGlyph(char c, int left, int top, int scale, RgbColor color)
        {
            int glyph = c == '.' ? 10 : c - '0';
            if (glyph is < 0 or > 10) return;
            for (int row = 0; row < 5; row++)
                for (int column = 0; column < 3; column++)
                    if ((Glyphs[glyph * 5 + row] >> (2 - column) & 1) != 0) FillRectangle(left + column * scale, top + row * scale, scale, scale, color);
        }

        /// <summary>Rows of 3 bits for 0–9 and '.', top row first.</summary>
        private static ReadOnlySpan<byte> Glyphs =>
        [
            7, 5, 5, 5, 7,  2, 6, 2, 2, 7,  7, 1, 7, 4, 7,  7, 1, 7, 1, 7,  5, 5, 7, 1, 1,
            7, 4, 7, 1, 7,  7, 4, 7, 5, 7,  7, 1, 1, 1, 1,  7, 5, 7, 5, 7,  7, 5, 7, 1, 7,
            0, 0, 0, 0, 2,
        ];

        private static void Blend(Span<byte> pixel, RgbColor color, double coverage)
        {
            pixel[0] = Mix(pixel[0], color.R, coverage);
            pixel[1] = Mix(pixel[1], color.G, coverage);
            pixel[2] = Mix(pixel[2], color.B, coverage);
        }

        private static byte Mix(byte background, byte paint, double coverage) => (byte)(background + (paint - background) * coverage + 0.5);
    }
}
